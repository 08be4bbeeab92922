"""Tool calling through `ovllm serve` with the official `openai` client.

Qwen2.5-Coder-0.5B, greedy, `--enable-auto-tool-choice --tool-call-parser hermes`. A `tools`
request with tool_choice auto, required and a named function must give message.tool_calls
that the client parses, whose arguments validate (the `jsonschema` package) against the
function's parameters schema; the same requests streamed must assemble to the same calls.
Also: an unknown parser name stops `ovllm serve` at start-up with a one-line error. Exits
non-zero when a check failed; test tooling only. Environment: OVLLM_BINARY, OVLLM_MODELS_DIR.
"""
import concurrent.futures
import json
import os
import subprocess
import sys

import jsonschema
import openai

from serve_test_util import FAILURES, check, free_port, serve_command, start_serve

MODEL = "qwen"
BINARY = os.environ.get("OVLLM_BINARY", "build/ovllm")
MODEL_DIR = os.path.join(os.environ.get("OVLLM_MODELS_DIR", ".models"), "qwen2.5-coder-0.5b")

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"},
                           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a timezone",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}},
                       "required": ["timezone"]},
    },
}
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in (WEATHER, TIME)}
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]

# name -> (tools, tool_choice). Auto gets the weather tool alone: with two tools the 0.5B
# model writes a malformed call, which then comes back as content (as in vLLM).
CASES = {
    "auto": ([WEATHER], "auto"),
    "required": ([WEATHER, TIME], "required"),
    "named": ([WEATHER, TIME], {"type": "function", "function": {"name": "get_weather"}}),
}


def test_unknown_parser():
    result = subprocess.run([BINARY, "serve", MODEL_DIR, "--tool-call-parser", "nope"],
                            capture_output=True, text=True, timeout=60)
    lines = result.stderr.strip().splitlines()
    check(result.returncode != 0 and len(lines) == 1 and
          "--tool-call-parser nope is not known" in lines[0],
          f"unknown parser: one-line error at start-up, got {result.stderr!r}")


def ask(client, case):
    tools, choice = CASES[case]
    return client.chat.completions.create(model=MODEL, messages=QUESTION, tools=tools,
                                          tool_choice=choice, temperature=0, max_tokens=60)


def ask_streamed(client, case):
    """The calls a client assembles from the stream: {index: [id, name, arguments]}."""
    tools, choice = CASES[case]
    stream = client.chat.completions.create(model=MODEL, messages=QUESTION, tools=tools,
                                            tool_choice=choice, temperature=0, max_tokens=60,
                                            stream=True)
    calls, finish = {}, None
    for chunk in stream:
        for c in chunk.choices:
            finish = c.finish_reason or finish
            for delta in c.delta.tool_calls or []:
                if delta.index not in calls:
                    # The first delta of a call carries its id and name, no argument text.
                    check(delta.id and delta.function.name and not delta.function.arguments,
                          f"{case} stream: call {delta.index} opens with id and name")
                    calls[delta.index] = [delta.id, delta.function.name, ""]
                else:
                    check(delta.id is None and not delta.function.name,
                          f"{case} stream: later deltas carry arguments only")
                    calls[delta.index][2] += delta.function.arguments or ""
    return calls, finish


def check_calls(case, label, names_and_arguments):
    check(len(names_and_arguments) >= 1, f"{label}: at least one tool call")
    for name, arguments in names_and_arguments:
        check(name in [t["function"]["name"] for t in CASES[case][0]],
              f"{label}: {name} is one of the request's tools")
        try:
            jsonschema.validate(json.loads(arguments), SCHEMAS[name])
        except (json.JSONDecodeError, jsonschema.ValidationError, KeyError) as error:
            check(False, f"{label}: arguments {arguments!r} of {name}: {error}")


def main():
    test_unknown_parser()
    port = free_port()
    # The exact mode (serve_command): the free-form `auto` call does not depend on the CPU.
    server = start_serve(serve_command("qwen2.5-coder-0.5b", port, MODEL, "--kv-cache-space", "1",
                                       "--max-model-len", "2048", "--enable-auto-tool-choice",
                                       "--tool-call-parser", "hermes"), port, 300)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none")
        # All at once: the server batches them.
        with concurrent.futures.ThreadPoolExecutor(2 * len(CASES)) as pool:
            whole = {c: pool.submit(ask, client, c) for c in CASES}
            streamed = {c: pool.submit(ask_streamed, client, c) for c in CASES}
            for case in CASES:
                choice = whole[case].result().choices[0]
                calls = choice.message.tool_calls or []
                print(f"{case}: {[(c.function.name, c.function.arguments) for c in calls]}",
                      flush=True)
                check(choice.finish_reason == "tool_calls", f"{case}: finish_reason tool_calls")
                check(choice.message.content is None, f"{case}: content null with only calls")
                check(all(c.id.startswith("call_") and c.type == "function" for c in calls),
                      f"{case}: call ids and type")
                check_calls(case, case, [(c.function.name, c.function.arguments) for c in calls])
                stream_calls, finish = streamed[case].result()
                check(finish == "tool_calls", f"{case} stream: finish_reason tool_calls")
                assembled = [(name, args) for _, name, args in
                             (stream_calls[i] for i in sorted(stream_calls))]
                check_calls(case, case + " stream", assembled)
                check([(n, json.loads(a)) for n, a in assembled] ==
                      [(c.function.name, json.loads(c.function.arguments)) for c in calls],
                      f"{case}: the stream assembles to the same calls")
    finally:
        server.terminate()
        server.wait(timeout=60)
    if FAILURES:
        sys.exit(f"{len(FAILURES)} check(s) failed")
    print("all tool-calling checks passed")


if __name__ == "__main__":
    main()

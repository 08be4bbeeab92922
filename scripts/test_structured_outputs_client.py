"""Structured output through `ovllm serve` with the official `openai` client.

Qwen2.5-Coder-0.5B, greedy. Every schema of tests/structured_output/schemas.json goes as
response_format json_schema on /v1/chat/completions; each output must parse and validate
against its schema (the `jsonschema` package). Then regex, choice and an EBNF grammar in the
forms vLLM accepts (structured_outputs, guided_*), json_object, and a 400 in OpenAI's error
shape for an invalid schema. Exits non-zero when a check failed; test tooling only.
Environment: OVLLM_BINARY, OVLLM_MODELS_DIR.
"""
import concurrent.futures
import json
import os
import re
import sys
import urllib.request

import jsonschema
import openai

from serve_test_util import FAILURES, check, free_port, serve_command, start_serve

MODEL = "qwen"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_server(port):
    # The exact mode (serve_command): whether an output finishes within max_tokens does not
    # depend on the CPU's kernels.
    return start_serve(serve_command("qwen2.5-coder-0.5b", port, MODEL, "--kv-cache-space", "1",
                                     "--max-model-len", "2048"), port, 300)


def ask(client, text, **kwargs):
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": text}], temperature=0,
        max_tokens=200, **kwargs).choices[0]


def test_schemas(client):
    with open(os.path.join(ROOT, "tests/structured_output/schemas.json"), encoding="utf-8") as f:
        cases = json.load(f)

    def one(case):
        return ask(client, f"Reply with JSON only: {case['task']}.", response_format={
            "type": "json_schema",
            "json_schema": {"name": case["name"], "schema": case["schema"]}})

    # All at once: the server batches them, as a real client load would.
    with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
        choices = list(pool.map(one, cases))
    valid = 0
    for case, choice in zip(cases, choices):
        try:
            value = json.loads(choice.message.content)
            jsonschema.Draft202012Validator(
                case["schema"],
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(value)
            valid += 1
        except (json.JSONDecodeError, jsonschema.ValidationError) as error:
            check(False, f"{case['name']}: {error} -- {choice.message.content!r}")
        check(choice.finish_reason == "stop", f"{case['name']}: finish_reason stop")
    print(f"{valid}/{len(cases)} schema outputs valid", flush=True)
    check(len(cases) >= 30 and valid == len(cases), "every schema output validates")


def test_other_forms(client):
    phone = ask(client, "Give a phone extension.",
                extra_body={"structured_outputs": {"regex": "[0-9]{3}-[0-9]{4}"}})
    check(re.fullmatch(r"[0-9]{3}-[0-9]{4}", phone.message.content), "regex output matches")
    mood = ask(client, "Sentiment of 'I love it'?",
               extra_body={"guided_choice": ["positive", "negative"]})
    check(mood.message.content in ("positive", "negative"), "guided_choice output is a choice")
    grammar = 'root ::= "SELECT " col (", " col)* " FROM " ("users" | "items") ";"\ncol ::= "id" | "name"'
    sql = client.completions.create(model=MODEL, prompt="-- list user names\n", temperature=0,
                                    max_tokens=40, extra_body={"guided_grammar": grammar})
    check(re.fullmatch(r"SELECT (id|name)(, (id|name))* FROM (users|items);",
                       sql.choices[0].text), f"EBNF output matches: {sql.choices[0].text!r}")
    obj = ask(client, "Describe a cat in JSON.", response_format={"type": "json_object"})
    try:
        check(isinstance(json.loads(obj.message.content), dict), "json_object gives an object")
    except json.JSONDecodeError:
        check(False, f"json_object output parses: {obj.message.content!r}")


def test_invalid_schema(client):
    try:
        ask(client, "x", response_format={"type": "json_schema", "json_schema": {
            "name": "bad", "schema": {"type": "object", "properties": {
                "tags": {"type": "array", "uniqueItems": True}}}}})
        check(False, "an unsupported keyword is refused")
    except openai.BadRequestError as error:
        body = error.body or {}
        check(error.status_code == 400, "invalid schema: 400")
        check("$.properties.tags" in body.get("message", "") and
              "uniqueItems" in body.get("message", ""), f"message names path and keyword: {body}")
        check(body.get("param") == "response_format.json_schema.schema", f"param: {body}")
    try:
        ask(client, "x", extra_body={"structured_outputs": {"regex": "(ab"}})
        check(False, "an invalid regex is refused")
    except openai.BadRequestError as error:
        check("regex" in str(error.body), f"regex error named: {error.body}")


def main():
    port = free_port()
    server = start_server(port)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none",
                               max_retries=0, timeout=600)
        test_schemas(client)
        test_other_forms(client)
        test_invalid_schema(client)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("FAILED: " + "; ".join(FAILURES) if FAILURES else "all structured output checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())

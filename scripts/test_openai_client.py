"""The official `openai` Python client against a real `ovllm serve` (SmolLM2-135M, f32).

/metrics is read with the official Prometheus client's text parser, before and after the
requests, to check that the counters moved by what was asked.

Starts the server on a free loopback port, runs every check, stops the server and exits
non-zero when a check failed. Test tooling only: the server itself never runs Python.
Environment: OVLLM_BINARY (the ovllm program), OVLLM_MODELS_DIR (folder with smollm2-135m).
"""
import json
import sys
import urllib.request

import openai
from prometheus_client.parser import text_string_to_metric_families

from serve_test_util import check, exit_code, free_port, serve_command, start_serve, stop_serve

API_KEY = "client-test-key"
MODEL = "smollm2"
PROMPT = "The capital of France is"


def start_server(port):
    return start_serve(serve_command("smollm2-135m", port, MODEL, "--api-key", API_KEY,
                                     "--kv-cache-dtype", "f32", "--kv-cache-space", "0.5",
                                     "--max-model-len", "2048"), port)


def test_completions(client):
    whole = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=16, temperature=0)
    text = whole.choices[0].text
    check(len(text) > 0, "completion has text")
    check(whole.choices[0].finish_reason == "length", "completion finish_reason length")
    check(whole.usage.completion_tokens == 16, "completion usage counts 16 tokens")

    chunks = list(client.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=16, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    streamed = "".join(c.choices[0].text for c in chunks if c.choices)
    check(streamed == text, "streamed completion equals the whole one")
    check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 16,
          "include_usage adds a final usage chunk")

    two = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=8, n=2,
                                    temperature=1.0, seed=7)
    check(sorted(c.index for c in two.choices) == [0, 1], "n=2 gives choices 0 and 1")
    again = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=8, n=2,
                                      temperature=1.0, seed=7)
    check([c.text for c in two.choices] == [c.text for c in again.choices],
          "the same seed gives the same samples")

    stop = text[len(text) // 2:len(text) // 2 + 3]
    stopped = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=16,
                                        temperature=0, stop=[stop])
    check(stopped.choices[0].text == text[:text.find(stop)], "stop string cuts the output")
    check(stopped.choices[0].finish_reason == "stop", "stop gives finish_reason stop")

    with_logprobs = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=4,
                                              temperature=0, logprobs=2)
    lp = with_logprobs.choices[0].logprobs
    check(len(lp.tokens) == 4 and len(lp.token_logprobs) == 4, "logprobs for 4 tokens")
    check(all(v <= 0 for v in lp.token_logprobs), "logprobs are <= 0")
    check("".join(lp.tokens) == with_logprobs.choices[0].text, "logprob tokens spell the text")


def test_chat(client):
    messages = [{"role": "user", "content": "Name a color."}]
    whole = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12,
                                           temperature=0, logprobs=True, top_logprobs=2)
    content = whole.choices[0].message.content
    check(whole.choices[0].message.role == "assistant", "chat role is assistant")
    check(bool(content), "chat has content")
    check(len(whole.choices[0].logprobs.content) == whole.usage.completion_tokens,
          "chat logprobs per token")
    chunks = list(client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12,
                                                 temperature=0, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check(streamed == content, "streamed chat equals the whole one")


def test_errors(client, port):
    try:
        client.completions.create(model="no-such-model", prompt="hi", max_tokens=2)
        check(False, "unknown model raises")
    except openai.NotFoundError as error:
        check(error.status_code == 404, "unknown model is 404")
        check("does not exist" in error.message, "unknown model message")
    try:
        client.completions.create(model=MODEL, prompt=" hello" * 2100, max_tokens=10)
        check(False, "over-long prompt raises")
    except openai.BadRequestError as error:
        check(error.status_code == 400, "over-long prompt is 400")
        check("maximum context length is 2048 tokens" in error.message, "context length message")
    bad = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0)
    try:
        bad.models.list()
        check(False, "a wrong key raises")
    except openai.AuthenticationError as error:
        check(error.status_code == 401, "a wrong key is 401")
    try:
        client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=4, temperature=-1)
        check(False, "negative temperature raises")
    except openai.BadRequestError as error:
        check(error.status_code == 400, "negative temperature is 400")


def post_json(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_token_ids_and_prompt_logprobs(client, port):
    """vLLM's return_token_ids and prompt_logprobs, on the real model."""
    whole = client.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=6, temperature=0,
        extra_body={"return_token_ids": True, "prompt_logprobs": 2, "ignore_eos": True})
    choice = whole.choices[0]
    tokens = post_json(port, "/tokenize", {"prompt": PROMPT})["tokens"]
    check(choice.prompt_token_ids == tokens, "return_token_ids: prompt_token_ids are /tokenize's")
    check(len(choice.token_ids) == 6 == whole.usage.completion_tokens,
          "return_token_ids: one id per generated token")
    check(post_json(port, "/detokenize", {"tokens": choice.token_ids})["prompt"] == choice.text,
          "return_token_ids: the ids spell the text")
    prompt_logprobs = choice.prompt_logprobs
    check(len(prompt_logprobs) == len(tokens) and prompt_logprobs[0] is None,
          "prompt_logprobs: null for the first token, then one entry per prompt token")
    for i in range(1, len(tokens)):
        entry = prompt_logprobs[i]
        ranks = {v["rank"] for v in entry.values()}
        check(str(tokens[i]) in entry and len(entry) in (2, 3) and {1, 2} <= ranks,
              f"prompt_logprobs[{i}]: the prompt token and the top 2 ({entry})")
        check(all(v["logprob"] <= 0 for v in entry.values()), f"prompt_logprobs[{i}] <= 0")
    # Teacher forcing: position k's top token and logprob are what greedy decoding of the
    # first k tokens gives. Both are f32 runs of the same model over other batch shapes, so
    # kernels sum in other orders: ~1e-5 relative on logits below ~40, well under 1e-3.
    for k in (2, len(tokens) - 1):
        step = client.completions.create(model=MODEL, prompt=tokens[:k], max_tokens=1,
                                         temperature=0, logprobs=1,
                                         extra_body={"return_token_ids": True})
        top = min(prompt_logprobs[k].items(), key=lambda item: item[1]["rank"])
        check(int(top[0]) == step.choices[0].token_ids[0],
              f"prompt_logprobs[{k}] top token is the greedy next token")
        check(abs(top[1]["logprob"] - step.choices[0].logprobs.token_logprobs[0]) < 1e-3,
              f"prompt_logprobs[{k}] top logprob equals the generated token's")


def scrape(port):
    """{sample name with sorted labels: value} of every sample /metrics exposes."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())
                              if k != "model_name")
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_metrics(port, before, requests, completion_tokens):
    after = scrape(port)
    def moved(name):
        return after.get(name, 0.0) - before.get(name, 0.0)
    check(moved("vllm:generation_tokens_total{}") == completion_tokens,
          f"generation_tokens_total moved by {completion_tokens} "
          f"(moved {moved('vllm:generation_tokens_total{}')})")
    finished = sum(moved(n) for n in after if n.startswith("vllm:request_success_total{"))
    check(finished == requests, f"request_success_total moved by {requests} (moved {finished})")
    check(moved("vllm:e2e_request_latency_seconds_count{}") == requests,
          "e2e latency histogram counted every request")
    check(after.get("vllm:num_requests_running{}") == 0.0, "no request running afterwards")
    check(after.get("vllm:kv_cache_usage_perc{}") == 0.0, "KV cache empty afterwards")


def count_completion_tokens(client):
    """Two requests of known length: 5 + 7 generated tokens."""
    for max_tokens in (5, 7):
        client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=max_tokens,
                                  temperature=0, extra_body={"ignore_eos": True})
    return 2, 12


def main():
    port = free_port()
    server = start_server(port)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY,
                               max_retries=0, timeout=120)
        models = client.models.list()
        check([m.id for m in models.data] == [MODEL], "models lists the served name")
        test_completions(client)
        test_chat(client)
        test_errors(client, port)
        test_token_ids_and_prompt_logprobs(client, port)
        before = scrape(port)
        requests, tokens = count_completion_tokens(client)
        test_metrics(port, before, requests, tokens)
    finally:
        stop_serve(server)
    return exit_code()


if __name__ == "__main__":
    sys.exit(main())

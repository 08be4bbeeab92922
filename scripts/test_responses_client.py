"""The official `openai` client's Responses API against a real `ovllm serve` (SmolLM2-135M, f32).

`client.responses.create` (plain, and multi-turn with instructions) and
`client.responses.stream` (deltas and the final response). Each greedy response is compared
with /v1/chat/completions on the same messages: the Responses API is the same chat template
and the same engine, so in the exact f32 mode the text and the token counts are equal.

Starts the server on a free loopback port, runs every check, stops the server and exits
non-zero when a check failed. Test tooling only: the server itself never runs Python.
Environment: OVLLM_BINARY (the ovllm program), OVLLM_MODELS_DIR (folder with smollm2-135m).
"""
import sys

import openai

from serve_test_util import check, exit_code, free_port, serve_command, start_serve, stop_serve

MODEL = "smollm2"
STREAM_EVENTS = ["response.created", "response.in_progress", "response.output_item.added",
                 "response.content_part.added", "response.output_text.delta",
                 "response.output_text.done", "response.content_part.done",
                 "response.output_item.done", "response.completed"]


def start_server(port):
    return start_serve(serve_command("smollm2-135m", port, MODEL, "--kv-cache-space", "0.5",
                                     "--max-model-len", "2048"), port)


def chat_reference(client, messages, max_tokens):
    return client.chat.completions.create(model=MODEL, messages=messages, max_tokens=max_tokens,
                                          temperature=0)


def check_same_as_chat(response, chat, what):
    check(response.output_text == chat.choices[0].message.content,
          f"{what}: text equals the chat completion's ({response.output_text!r} vs "
          f"{chat.choices[0].message.content!r})")
    check(response.usage.input_tokens == chat.usage.prompt_tokens,
          f"{what}: input_tokens {response.usage.input_tokens} == prompt_tokens "
          f"{chat.usage.prompt_tokens}")
    check(response.usage.output_tokens == chat.usage.completion_tokens,
          f"{what}: output_tokens {response.usage.output_tokens} == completion_tokens "
          f"{chat.usage.completion_tokens}")
    check(response.usage.total_tokens
          == response.usage.input_tokens + response.usage.output_tokens,
          f"{what}: total_tokens is the sum")
    expected = "incomplete" if chat.choices[0].finish_reason == "length" else "completed"
    check(response.status == expected, f"{what}: status {response.status} == {expected}")


def test_plain(client):
    response = client.responses.create(model=MODEL, input="What is the capital of France?",
                                       max_output_tokens=24, temperature=0, store=False)
    check(response.object == "response" and response.id.startswith("resp_"),
          f"plain: a response object with a resp_ id ({response.id})")
    check(len(response.output_text) > 0, "plain: output_text is not empty")
    check(response.output[0].type == "message" and response.output[0].role == "assistant",
          "plain: the output is an assistant message")
    chat = chat_reference(client, [{"role": "user", "content": "What is the capital of France?"}],
                          24)
    check_same_as_chat(response, chat, "plain")
    return response


def test_multi_turn(client):
    instructions = "You are a helpful assistant who answers in one short sentence."
    turns = [
        {"role": "user", "content": "Name a fruit that is yellow."},
        {"role": "assistant", "content": [{"type": "output_text", "text": "A banana.",
                                           "annotations": []}]},
        {"role": "user", "content": [{"type": "input_text", "text": "And one that is red?"}]},
    ]
    response = client.responses.create(model=MODEL, input=turns, instructions=instructions,
                                       max_output_tokens=32, temperature=0)
    check(response.instructions == instructions, "multi-turn: instructions are echoed")
    chat = chat_reference(client, [
        {"role": "system", "content": instructions},
        {"role": "user", "content": "Name a fruit that is yellow."},
        {"role": "assistant", "content": "A banana."},
        {"role": "user", "content": "And one that is red?"},
    ], 32)
    check_same_as_chat(response, chat, "multi-turn")
    # Without instructions the input is the same conversation with no system message (the
    # template then puts in its own default system prompt).
    bare = client.responses.create(model=MODEL, input=turns, max_output_tokens=32, temperature=0)
    check_same_as_chat(bare, chat_reference(client, [
        {"role": "user", "content": "Name a fruit that is yellow."},
        {"role": "assistant", "content": "A banana."},
        {"role": "user", "content": "And one that is red?"},
    ], 32), "multi-turn without instructions")
    check(bare.usage.input_tokens != response.usage.input_tokens,
          "multi-turn: the instructions change the prompt")


def test_stream(client, plain):
    deltas, types, numbers = [], [], []
    with client.responses.stream(model=MODEL, input="What is the capital of France?",
                                 max_output_tokens=24, temperature=0) as stream:
        for event in stream:
            numbers.append(event.sequence_number)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
                if types and types[-1] == event.type:
                    continue
            types.append(event.type)
        final = stream.get_final_response()
    check(types == STREAM_EVENTS, f"stream: the event types in order ({types})")
    check(numbers == list(range(len(numbers))), "stream: sequence numbers count up from 0")
    check("".join(deltas) == final.output_text, "stream: the deltas spell the final text")
    check(final.output_text == plain.output_text, "stream: the same text as the plain response")
    check(final.usage is not None and final.usage.output_tokens == plain.usage.output_tokens,
          "stream: usage in the final response")
    check(final.status == plain.status, f"stream: status {final.status} == {plain.status}")


def test_logprobs(client):
    response = client.responses.create(model=MODEL, input="What is the capital of France?",
                                       max_output_tokens=8, temperature=0, top_logprobs=2,
                                       include=["message.output_text.logprobs"])
    logprobs = response.output[0].content[0].logprobs
    check(len(logprobs) == response.usage.output_tokens, "logprobs: one entry per output token")
    tokens = [entry.token for entry in logprobs]
    # SmolLM2's end-of-sequence token has an entry but no text (special tokens are skipped).
    shown = tokens[:-1] if tokens and tokens[-1] == "<|im_end|>" else tokens
    check("".join(shown) == response.output_text,
          f"logprobs: the tokens spell the output text ({tokens}, {response.output_text!r})")
    check(all(len(entry.top_logprobs) == 2 and entry.top_logprobs[0].logprob >= entry.logprob
              for entry in logprobs), "logprobs: greedy tokens are the top ones, 2 given")


def test_incomplete_and_errors(client):
    cut = client.responses.create(model=MODEL, input="Count from one to fifty in words.",
                                  max_output_tokens=4, temperature=0)
    check(cut.status == "incomplete", f"cut: status incomplete ({cut.status})")
    check(cut.incomplete_details is not None
          and cut.incomplete_details.reason == "max_output_tokens",
          "cut: incomplete_details names max_output_tokens")
    check(cut.usage.output_tokens == 4, "cut: 4 output tokens")
    try:
        client.responses.create(model=MODEL, input="Hi", previous_response_id=cut.id)
        check(False, "previous_response_id is refused")
    except openai.BadRequestError as error:
        check(error.param == "previous_response_id",
              f"previous_response_id is refused by name ({error.param})")
    try:
        client.responses.create(model=MODEL, input="Hi", tools=[
            {"type": "function", "name": "f", "parameters": {"type": "object"}}])
        check(False, "tools are refused")
    except openai.BadRequestError as error:
        check(error.param == "tools", f"tools are refused by name ({error.param})")


def main():
    port = free_port()
    server = start_server(port)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused",
                               max_retries=0, timeout=120)
        plain = test_plain(client)
        test_multi_turn(client)
        test_stream(client, plain)
        test_logprobs(client)
        test_incomplete_and_errors(client)
    finally:
        stop_serve(server)
    return exit_code()


if __name__ == "__main__":
    sys.exit(main())

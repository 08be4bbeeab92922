"""One timed run of each engine, for scripts/bench_peers.py.

Every function runs one engine once and returns a dict of figures (tokens/s, ms/token, ...)
or raises EngineError with the tail of the engine's output. Commands are logged on stderr.
"""
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

SCRIPTS = os.path.dirname(os.path.abspath(__file__))

# vLLM's benchmark line, which `ovllm bench throughput` and bench_genai.py print as well.
THROUGHPUT = re.compile(
    r"([\d.]+) requests/s, ([\d.]+) total tokens/s, ([\d.]+) output tokens/s")


class EngineError(RuntimeError):
    pass


def run(command: list[str], env: dict | None = None, timeout: float | None = None,
        stderr: list[str] | None = None) -> str:
    """stdout of the command (its stderr appended to `stderr` when given); EngineError with
    the last lines of its output if it fails."""
    shown = " ".join(shlex.quote(c) for c in command)
    extra = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    print(f"  $ {extra + ' ' if extra else ''}{shown}", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EngineError(f"timed out after {timeout:.0f} s: {shown}") from None
    except OSError as error:
        raise EngineError(f"{command[0]}: {error}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise EngineError(f"exit status {done.returncode}: {shown}\n{tail}")
    if stderr is not None:
        stderr.append(done.stderr)
    return done.stdout


def parse_throughput(text: str) -> dict:
    found = THROUGHPUT.findall(text)
    if not found:
        raise EngineError("no 'Throughput: ... total tokens/s' line in the output")
    requests, total, output = (float(x) for x in found[-1])
    return {"requests_per_s": requests, "total_tok_s": total, "output_tok_s": output}


def ovllm_throughput(ovllm: str, model: str, flags: list[str], shape: dict) -> dict:
    command = [ovllm, "bench", "throughput", "--model", model, "--dataset-name", "random",
               "--input-len", str(shape["input_len"]), "--output-len", str(shape["output_len"]),
               "--num-prompts", str(shape["num_prompts"]), *flags]
    return parse_throughput(run(command))


def genai_throughput(python: str, ir: str, kv_space_gb: float, shape: dict,
                     scheduler: dict | None) -> dict:
    """GenAI's ContinuousBatchingPipeline; scheduler None keeps GenAI's default SchedulerConfig."""
    with open(os.path.join(ir, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]
    command = [python, os.path.join(SCRIPTS, "bench_genai.py"), ir,
               "--input-len", str(shape["input_len"]), "--output-len", str(shape["output_len"]),
               "--num-prompts", str(shape["num_prompts"]), "--cache-size", str(kv_space_gb),
               "--kv-cache-precision", "u8", "--vocab-size", str(vocab)]
    if scheduler:
        command += ["--max-num-batched-tokens", str(scheduler["max_num_batched_tokens"]),
                    "--max-num-seqs", str(scheduler["max_num_seqs"])]
    text = run(command)
    settings = [l for l in text.splitlines() if l.startswith("GenAI scheduler:")]
    return {**parse_throughput(text), "scheduler": settings[0][17:] if settings else "?"}


def vllm_throughput(vllm: list[str], model: str, dummy: bool, kv_space_gb: float,
                    shape: dict) -> dict:
    """`vllm bench throughput` as a vLLM CPU user runs it: bf16, its default scheduler,
    temperature 1.0, every core for the model (none reserved for the front end)."""
    command = [*vllm, "bench", "throughput", "--model", model, "--dtype", "bfloat16",
               # 0.32 reads --random-input-len (default 1024) over --input-len
               "--dataset-name", "random", "--random-input-len", str(shape["input_len"]),
               "--random-output-len", str(shape["output_len"]),
               "--num-prompts", str(shape["num_prompts"])]
    if dummy:
        command += ["--load-format", "dummy"]
    env = {"VLLM_CPU_KVCACHE_SPACE": str(int(max(1, kv_space_gb))),
           "VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    return parse_throughput(run(command, env=env))


def bandwidth(probe: str, threads: int) -> float:
    """GB/s read by `threads` threads (scripts/bandwidth_probe.c)."""
    text = run([probe, str(threads)])
    match = re.search(r"([\d.]+) GB/s", text)
    if not match:
        raise EngineError(f"bandwidth probe printed no GB/s: {text.strip()}")
    return float(match.group(1))


def write_jsonl(records: list[dict]) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    with handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return handle.name


def ovllm_sequential(ovllm: str, ir: str, prompts: list[list[int]], max_tokens: int,
                     flags: list[str], stderr: list[str] | None = None) -> list[dict]:
    """`ovllm generate` with one sequence at a time (batch 1): its --output-json records."""
    prompt_file = write_jsonl([{"prompt_token_ids": p} for p in prompts])
    output = prompt_file + ".out"
    try:
        run([ovllm, "generate", "--model", ir, "--prompt-file", prompt_file,
             "--max-num-seqs", "1", "--max-tokens", str(max_tokens), "--temperature", "0",
             "--output-json", output, *flags], stderr=stderr)
        with open(output) as f:
            return [json.loads(line) for line in f if line.strip()]
    finally:
        for path in (prompt_file, output):
            if os.path.exists(path):
                os.remove(path)


def ovllm_decode(ovllm: str, ir: str, input_len: int, output_len: int, iters: int,
                 kv_space_gb: float) -> dict:
    """ms per output token after the first, batch 1, greedy, ignore_eos; the median over
    `iters` prompts after a warm-up one (different ids, so no prefix is reused)."""
    prompts = [[1000 + 97 * k + i for i in range(input_len)] for k in range(iters + 1)]
    records = ovllm_sequential(ovllm, ir, prompts, output_len,
                               ["--ignore-eos", "--kv-cache-space", str(kv_space_gb),
                                "--kv-cache-dtype", "u8"])
    per_token = []
    for record in records[1:]:
        metrics, tokens = record["metrics"], len(record["completions"][0]["token_ids"])
        per_token.append(1000 * (metrics["finished_time"] - metrics["first_token_time"])
                         / max(1, tokens - 1))
    return {"ms_per_token": statistics.median(per_token), "runs_ms_per_token": per_token}


def genai_decode(python: str, ir: str, input_len: int, output_len: int, iters: int) -> dict:
    text = run([python, os.path.join(SCRIPTS, "bench_genai_llm.py"), "decode", ir,
                "--input-len", str(input_len), "--output-len", str(output_len),
                "--iters", str(iters)])
    return json.loads(text.strip().splitlines()[-1])


def ovllm_lookup(ovllm: str, ir: str, prompts: list[list[int]], max_tokens: int,
                 flags: list[str]) -> dict:
    """Batch-1 greedy runs of the prompts one after another, stopping at EOS. With drafts
    (--speculative-config) the log's "SpecDecoding metrics" line gives acceptance_rate
    (accepted / drafted tokens) and tokens_per_step (each step keeps its accepted drafts and
    one token of its own)."""
    log: list[str] = []
    records = ovllm_sequential(ovllm, ir, prompts, max_tokens, flags, stderr=log)
    outputs = [r["completions"][0]["token_ids"] for r in records]
    start = min(r["metrics"]["arrival_time"] for r in records)
    seconds = max(r["metrics"]["finished_time"] for r in records) - start
    tokens = sum(len(o) for o in outputs)
    result = {"output_tok_s": tokens / seconds, "output_tokens": tokens, "seconds": seconds,
              "outputs": outputs}
    spec = re.search(r"SpecDecoding metrics: .*Accepted: (\d+) tokens, Drafted: (\d+) tokens",
                     "".join(log))
    if spec:
        accepted, drafted = int(spec.group(1)), int(spec.group(2))
        result["acceptance_rate"] = accepted / max(1, drafted)
        result["tokens_per_step"] = tokens / max(1, tokens - accepted)
    return result


def genai_lookup(python: str, ir: str, prompts: list[list[int]], max_tokens: int,
                 lookup: tuple[int, int] | None) -> dict:
    """GenAI's LLMPipeline, plain or with prompt-lookup decoding (K draft tokens from n-grams
    of up to N tokens). acceptance_rate = accepted drafts / proposed drafts, taking each step
    (one call of the model) to propose K and to keep (tokens of the step - 1)."""
    prompt_file = write_jsonl([{"prompt_token_ids": p} for p in prompts])
    command = [python, os.path.join(SCRIPTS, "bench_genai_llm.py"), "lookup", ir,
               "--prompts", prompt_file, "--max-new-tokens", str(max_tokens)]
    if lookup:
        command += ["--prompt-lookup", str(lookup[0]), str(lookup[1])]
    try:
        result = json.loads(run(command).strip().splitlines()[-1])
    finally:
        os.remove(prompt_file)
    result["output_tok_s"] = result["output_tokens"] / result["seconds"]
    if lookup and result["steps"]:
        accepted = result["output_tokens"] - result["steps"]
        result["acceptance_rate"] = accepted / (result["steps"] * lookup[0])
        result["tokens_per_step"] = result["output_tokens"] / result["steps"]
    return result

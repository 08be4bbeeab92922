"""The workloads of scripts/bench_peers.py: each becomes one or more cases, a case being a set
of engines (name -> function returning figures) that take turns, and the figure compared."""
import json
import os
import statistics
import subprocess
import sys

import peers_engines as engines
import peers_prompts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIRS = [os.path.join(ROOT, ".models"), os.path.join(ROOT, "..", "shared", "models")]
# Same-IR scheduler settings for both engines: vLLM's CPU budget and sequence limit.
SAME_SCHEDULER = {"max_num_batched_tokens": 8192, "max_num_seqs": 256}


class Context:
    """Paths and settings the workloads share; makes IR folders and helpers on first use."""

    def __init__(self, args, work: str, genai_python: str):
        self.args, self.work, self.genai = args, work, genai_python
        self.vllm: list[str] | None = None
        self.vllm_missing = "not selected" if args.no_vllm else ""
        self.models_used: dict[str, str] = {}
        self.gb = args.kv_space

    def hf_model(self, name: str, fallback: str | None = None) -> str:
        """A real model's HF folder from .models or ../shared/models (weights present)."""
        for candidate in (name, fallback):
            for base in MODEL_DIRS:
                folder = os.path.normpath(os.path.join(base, candidate or ""))
                if candidate and os.path.exists(os.path.join(folder, "model.safetensors")):
                    if candidate != name:
                        print(f"[models] {name} not found; using {candidate}", file=sys.stderr)
                    self.models_used[name] = folder
                    return folder
        raise SystemExit(f"bench_peers: no {name} model folder with model.safetensors in "
                         f"{' or '.join(MODEL_DIRS)} (scripts/setup.sh fetches them)")

    def ir(self, model: str, weight_format: str, dummy: bool = False) -> str:
        """The IR folder `ovllm convert` writes for the model, made once under .work/peers."""
        name = os.path.basename(model.rstrip("/"))
        folder = os.path.join(self.work, "peers", f"{name}-{weight_format}")
        if not os.path.exists(os.path.join(folder, "openvino_model.xml")):
            command = [self.args.ovllm, "convert", model, "--output", folder,
                       "--weight-format", weight_format]
            if dummy:
                command += ["--load-format", "dummy"]
            print(f"[convert] {' '.join(command)}", file=sys.stderr, flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return folder

    def opt_for_vllm(self) -> str:
        """An HF folder vLLM can load opt-125m's shape from without the Hub: the config that
        `ovllm convert` wrote, and a stand-in byte-level BPE tokenizer (SmolLM2's, 49152 ids,
        all below OPT's 50272) to draw the random prompts with; the weights are random."""
        folder = os.path.join(self.work, "peers", "opt-125m-hf")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(self.ir("facebook/opt-125m", "int8", dummy=True),
                               "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=1)
        tokenizer = self.hf_model("smollm2-135m")
        for name in ("tokenizer.json", "tokenizer_config.json"):
            with open(os.path.join(tokenizer, name), "rb") as src:
                with open(os.path.join(folder, name), "wb") as dst:
                    dst.write(src.read())
        return folder

    def help_lists(self, subcommand: list[str], flag: str) -> bool:
        text = subprocess.run([self.args.ovllm, *subcommand, "--help"], capture_output=True,
                              text=True).stdout
        return flag in text

    def tokenize(self, model: str, texts: list[str]) -> list[list[int]]:
        path = os.path.join(self.work, "peers", "texts.jsonl")
        with open(path, "w") as f:
            for text in texts:
                f.write(json.dumps({"text": text}) + "\n")
        out = engines.run([self.args.ovllm, "tokenize", "--model", model, "--jsonl", path])
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def shape(ctx: Context, input_len: int, output_len: int, num_prompts: int) -> dict:
    a = ctx.args
    return {"input_len": a.input_len or input_len, "output_len": a.output_len or output_len,
            "num_prompts": a.num_prompts or num_prompts}


def same_ir_flags(ctx: Context, scheduler: dict) -> list[str]:
    return ["--temperature", "0", "--kv-cache-dtype", "u8", "--kv-cache-space", str(ctx.gb),
            "--max-num-batched-tokens", str(scheduler["max_num_batched_tokens"]),
            "--max-num-seqs", str(scheduler["max_num_seqs"]), "--no-enable-prefix-caching"]


def throughput_case(ctx: Context, name: str, description: str, hf: str, fmt: str, dims: dict,
                    form: str, dummy: bool = False, vllm_model: str | None = None) -> dict:
    ir = ctx.ir(hf, fmt, dummy)
    o, g = ctx.args.ovllm, ctx.genai
    if form == "used":
        flags = ["--kv-cache-space", str(ctx.gb)] + (["--load-format", "dummy"] if dummy else [])
        flags += ["--weight-format", "int4"] if fmt == "int4" else []
        run = {"ovllm": lambda: engines.ovllm_throughput(o, hf, flags, dims),
               "genai": lambda: engines.genai_throughput(g, ir, ctx.gb, dims, None)}
        if vllm_model and ctx.vllm:
            run["vllm"] = lambda: engines.vllm_throughput(ctx.vllm, vllm_model, dummy, ctx.gb,
                                                          dims)
    else:
        run = {"ovllm": lambda: engines.ovllm_throughput(
                   o, ir, same_ir_flags(ctx, SAME_SCHEDULER), dims),
               "genai": lambda: engines.genai_throughput(g, ir, ctx.gb, dims, SAME_SCHEDULER)}
    return {"name": name, "description": description, "engines": run, "metric": "total_tok_s",
            "params": {**dims, "ir": ir, "form": form}}


def seed_case(ctx: Context, workload: str) -> dict:
    used = workload.endswith("-used")
    model = workload[:-len("-used")] if used else workload[:-len("-same-ir")]
    form = "used" if used else "same-ir"
    how = ("as used: ovllm's defaults (temperature 1.0), GenAI's default SchedulerConfig "
           "(greedy) on the IR" if used else
           "same IR: both on one IR folder, budget 8192, 256 sequences, greedy")
    kv = f"u8 KV {ctx.gb} GB, ignore_eos"
    if model == "opt":
        dims = shape(ctx, 128, 128, 500)
        return throughput_case(
            ctx, workload, f"opt-125m random weights int8, {how}, {kv}"
            + (", vLLM CPU bf16" if used else ""), "facebook/opt-125m", "int8", dims, form,
            dummy=True, vllm_model=ctx.opt_for_vllm() if used and ctx.vllm else None)
    if model == "qwen05":
        hf = ctx.hf_model("qwen2.5-coder-0.5b")
        return throughput_case(ctx, workload, f"Qwen2.5-Coder-0.5B int8, {how}, {kv}, "
                               "vLLM CPU bf16", hf, "int8", shape(ctx, 32, 32, 100), form,
                               vllm_model=hf)
    fmt = model.split("-")[1]
    hf = ctx.hf_model("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
    return throughput_case(ctx, workload, f"{os.path.basename(hf)} {fmt}, {how}, {kv}", hf, fmt,
                           shape(ctx, 32, 32, 100), form)


def weight_bytes(ir: str) -> int:
    """Bytes one decode step reads: the IR's weights less the embedding table, of which a
    step reads one row (unless it is tied to the lm_head; int8 in both of our formats)."""
    with open(os.path.join(ir, "config.json")) as f:
        config = json.load(f)
    size = os.path.getsize(os.path.join(ir, "openvino_model.bin"))
    if not config.get("tie_word_embeddings", False):
        size -= config["vocab_size"] * config["hidden_size"]
    return size


def probe_binary(ctx: Context) -> str:
    binary = os.path.join(ctx.work, "peers", "bandwidth_probe")
    source = os.path.join(ROOT, "scripts", "bandwidth_probe.c")
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        subprocess.run(["cc", "-O3", "-march=native", "-pthread", source, "-o", binary],
                       check=True)
    return binary


def decode_cases(ctx: Context) -> list[dict]:
    hf = ctx.hf_model("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
    probe, cores = probe_binary(ctx), os.cpu_count() or 1
    a, cases = ctx.args, []
    for fmt in ("int8", "int4"):
        ir = ctx.ir(hf, fmt)
        read = weight_bytes(ir)

        def finish(medians: dict, runs: dict, read=read) -> dict:
            probes = [r for r in runs["bandwidth"] if "gb_per_s_all" in r]
            if not probes:
                return {"notes": ["no bandwidth figure: the probe failed"]}
            one = statistics.median(r["gb_per_s_1t"] for r in probes)
            every = statistics.median(r["gb_per_s_all"] for r in probes)
            # The bound: the weights read at the fastest rate the probe saw (on a busy machine
            # one thread can beat all of them).
            bound = 1000 * read / (max(one, every) * 1e9)
            x = {n: round(m["ms_per_token"] / bound, 2) for n, m in medians.items()}
            return {"bandwidth_gb_s": {"1 thread": one, f"{cores} threads": every},
                    "weight_bytes": read, "bound_ms_per_token": bound, "x_bound": x,
                    "notes": [f"bandwidth {one:.1f} GB/s (1 thread), {every:.1f} GB/s "
                              f"({cores} threads); {read / 1e9:.2f} GB read per token: bound "
                              f"{bound:.1f} ms/token; x bound: " +
                              ", ".join(f"{n} {v}" for n, v in x.items())]}

        run = {
            "bandwidth": lambda: {"gb_per_s_1t": engines.bandwidth(probe, 1),
                                  "gb_per_s_all": engines.bandwidth(probe, cores)},
            "ovllm": lambda ir=ir: engines.ovllm_decode(a.ovllm, ir, 32, a.decode_tokens,
                                                        a.decode_iters, ctx.gb),
            "genai": lambda ir=ir: engines.genai_decode(ctx.genai, ir, 32, a.decode_tokens,
                                                        a.decode_iters),
        }
        cases.append({"name": f"decode-{fmt}", "metric": "ms_per_token", "lower_is_better": True,
                      "description": f"batch-1 decode, {os.path.basename(hf)} {fmt} IR, 32 "
                      f"prompt tokens, {a.decode_tokens} greedy ignore_eos, u8 KV",
                      "engines": run, "finish": finish, "params": {"ir": ir}})
    return cases


def lookup_case(ctx: Context) -> dict:
    hf = ctx.hf_model("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
    ir, a = ctx.ir(hf, "int8"), ctx.args
    k, n = (int(x) for x in a.lookup.split(","))
    prompts = ctx.tokenize(hf, peers_prompts.chat_prompts()[:a.lookup_prompts])
    base = ["--kv-cache-space", str(ctx.gb), "--kv-cache-dtype", "u8"]
    run = {"ovllm": lambda: engines.ovllm_lookup(a.ovllm, ir, prompts, a.lookup_max_tokens, base),
           "genai": lambda: engines.genai_lookup(ctx.genai, ir, prompts, a.lookup_max_tokens,
                                                 None),
           "genai+lookup": lambda: engines.genai_lookup(ctx.genai, ir, prompts,
                                                        a.lookup_max_tokens, (k, n))}
    if ctx.help_lists(["generate"], "--speculative-config"):
        # n-grams of n tokens down to 1, as GenAI's max_ngram_size matches them.
        spec = json.dumps({"method": "ngram", "num_speculative_tokens": k,
                           "prompt_lookup_max": n, "prompt_lookup_min": 1})
        run["ovllm+ngram"] = lambda: engines.ovllm_lookup(
            a.ovllm, ir, prompts, a.lookup_max_tokens, base + ["--speculative-config", spec])

    def finish(medians: dict, runs: dict) -> dict:
        out, notes = {}, []
        for x, y in (("ovllm", "genai"), ("genai+lookup", "genai"), ("ovllm+ngram", "ovllm"),
                     ("ovllm", "genai+lookup"), ("ovllm+ngram", "genai+lookup")):
            if x in medians and y in medians:
                ratio = medians[x]["output_tok_s"] / medians[y]["output_tok_s"]
                same = sum(p == q for p, q in zip(medians[x]["outputs"], medians[y]["outputs"]))
                out[f"{x}/{y}"] = {"speed": round(ratio, 3), "identical_outputs": same}
                notes.append(f"{x}/{y}: {ratio:.2f}x, {same}/{len(prompts)} outputs identical")
        for name in ("genai+lookup", "ovllm+ngram"):
            if name in medians and "acceptance_rate" in medians[name]:
                notes.append(f"{name}: acceptance {medians[name]['acceptance_rate']:.2f}, "
                             f"{medians[name]['tokens_per_step']:.2f} tokens/step")
        if "ovllm+ngram" not in run:
            notes.append("ovllm: no --speculative-config in `ovllm generate --help`; run plain")
        return {"comparisons": out, "notes": notes}

    return {"name": "prompt-lookup", "metric": "output_tok_s", "engines": run, "finish": finish,
            "description": f"{len(prompts)} code-editing prompts one at a time, "
            f"{os.path.basename(hf)} int8 IR, greedy to EOS (at most {a.lookup_max_tokens}), "
            f"prompt lookup K={k} draft tokens, n-grams up to {n}",
            "params": {"ir": ir, "k": k, "n": n}}


def concurrency_cases(ctx: Context) -> list[dict]:
    hf = ctx.hf_model("qwen2.5-coder-0.5b")
    input_len, output_len = (int(x) for x in ctx.args.concurrency_len.split(","))
    cases = []
    for c in (int(x) for x in ctx.args.concurrency.split(",")):
        dims = {"input_len": input_len, "output_len": output_len, "num_prompts": c}
        scheduler = {"max_num_batched_tokens": 8192, "max_num_seqs": c}
        ir = ctx.ir(hf, "int8")
        o, g = ctx.args.ovllm, ctx.genai
        cases.append({
            "name": f"concurrency-{c}", "metric": "total_tok_s",
            "description": f"{c} prompts at once, max-num-seqs {c}, {input_len}/{output_len}, "
            "same IR (Qwen2.5-Coder-0.5B int8), greedy",
            "params": {**dims, "concurrency": c, "ir": ir},
            "engines": {
                "ovllm": lambda d=dims, s=scheduler: engines.ovllm_throughput(
                    o, ir, same_ir_flags(ctx, s), d),
                "genai": lambda d=dims, s=scheduler: engines.genai_throughput(g, ir, ctx.gb, d, s),
            }})
    return cases


def cases(workload: str, ctx: Context) -> list[dict]:
    if workload == "decode":
        return decode_cases(ctx)
    if workload == "prompt-lookup":
        return [lookup_case(ctx)]
    if workload == "concurrency":
        return concurrency_cases(ctx)
    return [seed_case(ctx, workload)]

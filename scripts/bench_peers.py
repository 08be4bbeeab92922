#!/usr/bin/env python3
"""ovllm next to OpenVINO GenAI and vLLM CPU on this machine, in one command.

Workloads (--workloads picks a comma-separated subset; docs/benchmarks.md explains each):
  opt-used, opt-same-ir             opt-125m with random weights, 128/128 x 500
  qwen-int8-used, qwen-int8-same-ir Qwen2.5-Coder-1.5B int8, 32/32 x 100
  qwen-int4-used, qwen-int4-same-ir Qwen2.5-Coder-1.5B int4, 32/32 x 100
  qwen05-used                       Qwen2.5-Coder-0.5B, 32/32 x 100 (with vLLM CPU)
  decode                            batch-1 decode, int8 and int4, against a bandwidth probe
  prompt-lookup                     code-editing prompts, GenAI's prompt-lookup decoding
  concurrency                       tokens/s against concurrency on the 0.5B (for the plot)
"As used": each engine as its users run it (ovllm's defaults on the HF folder, GenAI's default
SchedulerConfig on the int8/int4 IR that `ovllm convert` writes, vLLM CPU in bf16). "Same IR":
ovllm and GenAI on the very same IR folder with identical scheduler settings, greedy.
With --rounds N the engines take turns N times per workload; medians and ratios are printed
and written to --json. Standard library only; the peers live in venvs under .work/.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers_engines as engines  # noqa: E402
import peers_setup  # noqa: E402
import peers_workloads  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_WORKLOADS = ["opt-used", "opt-same-ir", "qwen-int8-used", "qwen-int8-same-ir",
                 "qwen-int4-used", "qwen-int4-same-ir", "qwen05-used", "decode",
                 "prompt-lookup", "concurrency"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ovllm", default=os.environ.get("OVLLM", os.path.join(ROOT, "build/ovllm")),
                   help="the ovllm binary (env OVLLM; default build/ovllm)")
    p.add_argument("--workloads", default=",".join(ALL_WORKLOADS),
                   help="comma-separated subset of: " + ", ".join(ALL_WORKLOADS))
    p.add_argument("--rounds", type=int, default=3, help="turns each engine takes per workload")
    p.add_argument("--json", default=os.path.join(ROOT, ".work/peers/bench-peers.json"),
                   help="where to write the summary")
    p.add_argument("--kv-space", type=float,
                   default=float(os.environ.get("VLLM_OPENVINO_KVCACHE_SPACE", 8)),
                   help="KV cache GB for every engine (env VLLM_OPENVINO_KVCACHE_SPACE; 8)")
    p.add_argument("--num-prompts", type=int, help="override every throughput workload's count")
    p.add_argument("--input-len", type=int, help="override every throughput workload's prompt")
    p.add_argument("--output-len", type=int, help="override every throughput workload's output")
    p.add_argument("--decode-tokens", type=int, default=128, help="batch-1 decode output length")
    p.add_argument("--decode-iters", type=int, default=3, help="timed batch-1 runs per engine")
    p.add_argument("--lookup-prompts", type=int, help="use only the first N editing prompts")
    p.add_argument("--lookup-max-tokens", type=int, default=384)
    p.add_argument("--lookup", default="5,3", help="K,N: draft tokens per step, longest n-gram")
    p.add_argument("--concurrency", default="1,2,4,8,16,32,64",
                   help="sequences at once for the concurrency workload")
    p.add_argument("--concurrency-len", default="128,128", help="input,output tokens there")
    p.add_argument("--no-vllm", action="store_true", help="leave vLLM CPU out")
    p.add_argument("--smoke", action="store_true",
                   help="tiny shapes to check that every path runs (timings mean nothing)")
    args = p.parse_args()
    if args.smoke:
        args.num_prompts = args.num_prompts or 4
        args.input_len = args.input_len or 16
        args.output_len = args.output_len or 8
        args.decode_tokens, args.decode_iters = 8, 1
        args.lookup_prompts = args.lookup_prompts or 1
        args.lookup_max_tokens = 48
        args.concurrency, args.concurrency_len = "1,2", "16,8"
        args.rounds = 1
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.workloads if w not in ALL_WORKLOADS]
    if unknown:
        p.error(f"--workloads: unknown {', '.join(unknown)}; choose from {', '.join(ALL_WORKLOADS)}")
    if args.kv_space < 1 or args.kv_space != int(args.kv_space):
        p.error(f"--kv-space: {args.kv_space} GB; GenAI takes whole GB, so give 1, 2, ...")
    args.kv_space = int(args.kv_space)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if not os.access(args.ovllm, os.X_OK):
        p.error(f"--ovllm: {args.ovllm} is not an executable; build it (scripts/setup.sh)")
    return args


def machine() -> dict:
    """The CPU model and ISA (scripts/cpu-info.sh), cores and load: printed first."""
    info = subprocess.run(["bash", os.path.join(ROOT, "scripts/cpu-info.sh")],
                          capture_output=True, text=True).stdout.strip()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                  if l.startswith("Model name")), platform.processor())
    return {"cpu": model, "cpu_info": info, "cores": os.cpu_count(),
            "load_average_start": os.getloadavg()}


def run_case(case: dict, rounds: int) -> dict:
    """Let the case's engines take turns `rounds` times; keep every run and the median one."""
    runs: dict[str, list] = {name: [] for name in case["engines"]}
    for round_number in range(1, rounds + 1):
        for name, fn in case["engines"].items():
            print(f"[{case['name']}] round {round_number}: {name}", file=sys.stderr, flush=True)
            started = time.time()
            try:
                result = fn()
            except engines.EngineError as error:
                print(f"[{case['name']}] {name} failed: {error}", file=sys.stderr)
                result = {"error": str(error)}
            result["wall_s"] = round(time.time() - started, 1)
            runs[name].append(result)
    metric = case["metric"]
    medians = {}
    for name, results in runs.items():
        good = sorted((r for r in results if metric in r), key=lambda r: r[metric])
        if good:  # the run with the median figure (the lower one of an even count)
            medians[name] = good[(len(good) - 1) // 2]
    summary = {"description": case["description"], "metric": metric,
               "params": case.get("params", {}), "runs": runs,
               "median": {n: {k: v for k, v in r.items() if k != "outputs"}
                          for n, r in medians.items()}}
    if "finish" in case:
        summary.update(case["finish"](medians, runs))
    faster = (lambda a, b: b / a) if case.get("lower_is_better") else (lambda a, b: a / b)
    summary["ratios"] = {}
    for peer in ("genai", "vllm"):
        if "ovllm" in medians and peer in medians:
            summary["ratios"][f"ovllm/{peer}"] = round(
                faster(medians["ovllm"][metric], medians[peer][metric]), 3)
    return summary


def print_table(results: dict) -> None:
    print(f"\n{'workload':34} {'engine':14} {'median':>12} {'unit':12} {'ovllm/genai':>11} "
          f"{'ovllm/vllm':>10}")
    for name, r in results.items():
        unit = {"total_tok_s": "total tok/s", "output_tok_s": "output tok/s",
                "ms_per_token": "ms/token", "gb_per_s": "GB/s"}[r["metric"]]
        first = True
        for engine, m in r["median"].items():
            ratios = r["ratios"] if first else {}
            print(f"{name:34} {engine:14} {m[r['metric']]:12.2f} {unit:12} "
                  f"{ratios.get('ovllm/genai', ''):>11} {ratios.get('ovllm/vllm', ''):>10}")
            first = False
        for engine, runs in r["runs"].items():
            if engine not in r["median"] and runs and "error" in runs[-1]:
                print(f"{name:34} {engine:14} {'failed':>12}  {runs[-1]['error'].splitlines()[0]}")
        for line in r.get("notes", []):
            print(f"{'':34} {line}")


def main() -> int:
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # the table after the logs, not amid them
    facts = machine()
    started = time.time()
    print(facts["cpu_info"])
    print(f"[load] {' '.join(f'{x:.2f}' for x in facts['load_average_start'])} "
          f"(load average at the start; figures on a busy machine mean little)")
    work = os.path.join(ROOT, ".work")
    os.makedirs(os.path.join(work, "peers"), exist_ok=True)
    context = peers_workloads.Context(args, work, peers_setup.ensure_genai(work))
    wants_vllm = not args.no_vllm and any(w in ("opt-used", "qwen05-used")
                                           for w in args.workloads)
    if wants_vllm:
        context.vllm, context.vllm_missing = peers_setup.ensure_vllm(work)
        if not context.vllm:
            print(f"[vllm] skipped: {context.vllm_missing}", file=sys.stderr)
    results = {}
    for workload in args.workloads:
        for case in peers_workloads.cases(workload, context):
            results[case["name"]] = run_case(case, args.rounds)
    summary = {"machine": {**facts, "load_average_end": os.getloadavg()},
               "ovllm": args.ovllm, "command": sys.argv, "rounds": args.rounds,
               "elapsed_s": round(time.time() - started),
               "models": context.models_used, "vllm_skipped": context.vllm_missing,
               "workloads": results}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=1)
    print_table(results)
    if wants_vllm and not context.vllm:
        print(f"\nvLLM CPU skipped: {context.vllm_missing}")
    print(f"\nsummary: {args.json} ({summary['elapsed_s'] / 60:.0f} minutes; load average "
          f"{' '.join(f'{x:.2f}' for x in summary['machine']['load_average_end'])} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

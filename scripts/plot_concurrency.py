#!/usr/bin/env python3
"""Tokens/s against concurrency for ovllm and OpenVINO GenAI, from bench-peers.sh's JSON.

  scripts/bench-peers.sh --workloads concurrency --json .work/peers/concurrency.json
  .venv-tools/bin/python scripts/plot_concurrency.py .work/peers/concurrency.json out.png

Reads the `concurrency-C` entries (C sequences at once on the same IR, greedy), plots each
engine's median total tokens/s against C on a log2 axis, and writes a PNG. Needs matplotlib
(requirements-tools.txt).
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def series(summary: dict) -> dict[str, list[tuple[int, float]]]:
    """engine -> [(concurrency, median total tokens/s)], sorted by concurrency."""
    points: dict[str, list[tuple[int, float]]] = {}
    for name, workload in summary["workloads"].items():
        if not name.startswith("concurrency-"):
            continue
        concurrency = workload["params"]["concurrency"]
        for engine, median in workload["median"].items():
            points.setdefault(engine, []).append((concurrency, median["total_tok_s"]))
    return {engine: sorted(p) for engine, p in points.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("summary", help="JSON written by bench-peers.sh --json")
    parser.add_argument("png", help="the plot to write")
    args = parser.parse_args()
    with open(args.summary) as f:
        summary = json.load(f)
    lines = series(summary)
    if not lines:
        sys.exit(f"{args.summary}: no concurrency-* workloads; run bench-peers.sh "
                 "--workloads concurrency")
    figure, axes = plt.subplots(figsize=(7, 4.5))
    labels = {"ovllm": "ovllm", "genai": "OpenVINO GenAI (ContinuousBatchingPipeline)"}
    for engine, points in lines.items():
        x, y = zip(*points)
        axes.plot(x, y, marker="o", label=labels.get(engine, engine))
    first = next(iter(summary["workloads"][n] for n in summary["workloads"]
                      if n.startswith("concurrency-")))
    params = first["params"]
    axes.set_xscale("log", base=2)
    axes.set_xticks(sorted({c for p in lines.values() for c, _ in p}))
    axes.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axes.set_xlabel("concurrent sequences (prompts = max-num-seqs)")
    axes.set_ylabel("total tokens/s (median of rounds)")
    machine = summary["machine"]
    axes.set_title(f"Qwen2.5-Coder-0.5B int8 IR, {params['input_len']}/{params['output_len']} "
                   f"tokens, greedy\n{machine['cpu']}, {machine['cores']} cores", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(args.png, dpi=120)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

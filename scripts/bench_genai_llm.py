#!/usr/bin/env python3
"""Batch-1 runs of OpenVINO GenAI's LLMPipeline, for scripts/bench_peers.py.

  decode MODEL_DIR --input-len 32 --output-len 128 --iters 3
      One prompt of token ids at a time, greedy, ignore_eos; prints one JSON line with the
      median time per output token after the first (GenAI's TPOT, ms) over --iters runs
      after one warm-up run.
  lookup MODEL_DIR --prompts FILE.jsonl --max-new-tokens 256 [--prompt-lookup K N]
      The prompts ("prompt_token_ids" arrays: the IR folder need not hold a tokenizer IR) one
      at a time, greedy, stopping at the EOS of the folder's generation_config.json. With --prompt-lookup the pipeline is built with prompt-lookup
      decoding, K draft tokens per step from n-grams up to N tokens long found in the prompt.
      Prints one JSON line: total output tokens and seconds, generation steps, and every
      output's token ids (to check that greedy outputs match with and without lookup).
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import openvino as ov
import openvino_genai as ov_genai


def decode(args: argparse.Namespace) -> dict:
    pipe = ov_genai.LLMPipeline(args.model_dir, "CPU", KV_CACHE_PRECISION=args.kv_cache_precision)
    config = ov_genai.GenerationConfig()
    config.max_new_tokens = args.output_len
    config.min_new_tokens = args.output_len
    config.ignore_eos = True
    config.do_sample = False
    ids = ov.Tensor(np.array([[1000 + i for i in range(args.input_len)]], dtype=np.int64))
    tpots = []
    for iteration in range(args.iters + 1):
        result = pipe.generate(ids, config)
        if iteration > 0:  # the first run warms the caches and the kernels
            tpots.append(result.perf_metrics.get_tpot().mean)
    return {"ms_per_token": statistics.median(tpots), "runs_ms_per_token": tpots}


def lookup(args: argparse.Namespace) -> dict:
    properties = {"KV_CACHE_PRECISION": args.kv_cache_precision}
    if args.prompt_lookup:
        properties["prompt_lookup"] = True
    pipe = ov_genai.LLMPipeline(args.model_dir, "CPU", **properties)
    config = ov_genai.GenerationConfig()
    config.max_new_tokens = args.max_new_tokens
    config.do_sample = False
    if args.prompt_lookup:
        config.num_assistant_tokens, config.max_ngram_size = args.prompt_lookup
    with open(args.prompts) as f:
        prompts = [json.loads(line)["prompt_token_ids"] for line in f if line.strip()]
    outputs, tokens, steps, seconds = [], 0, 0, 0.0
    for prompt in prompts:
        ids = ov.Tensor(np.array([prompt], dtype=np.int64))
        start = time.perf_counter()
        result = pipe.generate(ids, config)
        seconds += time.perf_counter() - start
        ids = [int(t) for t in result.tokens[0]]
        outputs.append(ids)
        tokens += len(ids)
        # One entry per call of the main model: one token each without lookup, one or more
        # (the accepted drafts plus one) with it.
        steps += len(result.perf_metrics.raw_metrics.m_new_token_times)
    return {"output_tokens": tokens, "seconds": seconds, "steps": steps, "outputs": outputs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("decode", "lookup"):
        p = sub.add_parser(name)
        p.add_argument("model_dir", help="OpenVINO IR folder (openvino_model.xml + tokenizer IR)")
        p.add_argument("--kv-cache-precision", default="u8")
    p = sub.choices["decode"]
    p.add_argument("--input-len", type=int, default=32)
    p.add_argument("--output-len", type=int, default=128)
    p.add_argument("--iters", type=int, default=3)
    p = sub.choices["lookup"]
    p.add_argument("--prompts", required=True, help="JSONL, a \"prompt_token_ids\" array a line")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--prompt-lookup", type=int, nargs=2, metavar=("K", "N"))
    args = parser.parse_args()
    print(json.dumps(decode(args) if args.mode == "decode" else lookup(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

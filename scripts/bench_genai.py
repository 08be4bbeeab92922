#!/usr/bin/env python3
"""Throughput of OpenVINO GenAI's ContinuousBatchingPipeline on ovllm's random workload.

Test tooling for scripts/bench_peers.py: token-id prompts of --input-len tokens (a run of
consecutive ids from a random offset, as ovllm's random dataset), greedy, ignore_eos,
--output-len new tokens each, a u8 KV cache of --cache-size GB. --max-num-batched-tokens and
--max-num-seqs set the scheduler (prefix caching off); without them GenAI's default
SchedulerConfig is used as is, as a GenAI user runs it. Prints the scheduler settings, then
`GenAI throughput: X requests/s, Y total tokens/s, Z output tokens/s`.
"""
import argparse
import random
import sys
import time

import numpy as np
import openvino as ov
import openvino_genai as ov_genai


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model_dir", help="OpenVINO IR folder (openvino_model.xml + tokenizer IR)")
    parser.add_argument("--input-len", type=int, default=128)
    parser.add_argument("--output-len", type=int, default=128)
    parser.add_argument("--num-prompts", type=int, default=500)
    parser.add_argument("--cache-size", type=float, default=30.0, help="KV cache in GB")
    parser.add_argument("--kv-cache-precision", default="u8")
    parser.add_argument("--vocab-size", type=int, required=True)
    parser.add_argument("--max-num-batched-tokens", type=int, help="default: GenAI's")
    parser.add_argument("--max-num-seqs", type=int, help="default: GenAI's")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    prompts = []
    for _ in range(args.num_prompts):
        offset = rng.randrange(args.vocab_size)
        ids = [(offset + i) % args.vocab_size for i in range(args.input_len)]
        prompts.append(ov.Tensor(np.array([ids], dtype=np.int64)))

    scheduler = ov_genai.SchedulerConfig()
    scheduler.cache_size = int(args.cache_size)
    if args.max_num_batched_tokens is not None or args.max_num_seqs is not None:
        scheduler.max_num_batched_tokens = args.max_num_batched_tokens or 8192
        scheduler.max_num_seqs = args.max_num_seqs or 256
        scheduler.enable_prefix_caching = False
    print(
        f"GenAI scheduler: max_num_batched_tokens {scheduler.max_num_batched_tokens}, "
        f"max_num_seqs {scheduler.max_num_seqs}, cache_size {scheduler.cache_size} GB, "
        f"dynamic_split_fuse {scheduler.dynamic_split_fuse}, "
        f"enable_prefix_caching {scheduler.enable_prefix_caching}"
    )
    properties = {"KV_CACHE_PRECISION": args.kv_cache_precision}
    pipe = ov_genai.ContinuousBatchingPipeline(args.model_dir, scheduler, "CPU", properties)

    config = ov_genai.GenerationConfig()
    config.max_new_tokens = args.output_len
    config.min_new_tokens = args.output_len
    config.ignore_eos = True
    config.do_sample = False

    start = time.perf_counter()
    results = pipe.generate(prompts, [config] * len(prompts))
    elapsed = time.perf_counter() - start

    output_tokens = sum(len(r.m_generation_ids[0]) for r in results)
    prompt_tokens = args.num_prompts * args.input_len
    print(
        f"GenAI throughput: {args.num_prompts / elapsed:.2f} requests/s, "
        f"{(prompt_tokens + output_tokens) / elapsed:.2f} total tokens/s, "
        f"{output_tokens / elapsed:.2f} output tokens/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

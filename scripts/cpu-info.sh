#!/usr/bin/env bash
# Prints the CPU model and the instruction-set flags that change OpenVINO's kernels and
# numerics (AVX2, AVX-512, VNNI, BF16, FP16, AMX), so a test log says which machine it ran on.
model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
  grep -E '^(avx2|avx512f|avx512_vnni|avx512_bf16|avx512_fp16|avx_vnni|amx_bf16|amx_int8|amx_fp16)$' |
  tr '\n' ' ')
echo "[cpu] ${model:-unknown} | $(nproc) cores | ${flags:-no AVX2/AVX-512 flags}"

#!/usr/bin/env bash
# Encode speed of ovllm's tokenizer against Hugging Face `tokenizers` (one thread each) on the
# same ~1 MB corpus, plus tokenizer.json load times. Needs build/benchmarks/bench_tokenizer
# (cmake --build build --target bench_tokenizer); installs `tokenizers` into .work/hfvenv once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
golden="${OVLLM_SHARED_DIR:-$root/../shared}/golden"
venv="$root/.work/hfvenv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q tokenizers
fi
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
ours="$("$root/build/benchmarks/bench_tokenizer" --benchmark_filter='encode|load' --benchmark_format=json)"
theirs="$("$venv/bin/python" "$root/scripts/bench_tokenizer_hf.py" "$golden")"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = {b["name"].split("/iterations")[0]: b for b in json.loads(sys.argv[1])["benchmarks"]}
theirs = {r["name"]: r for r in map(json.loads, sys.argv[2].splitlines())}
print("encode MB/s, one thread; 'doc' = the ~1 MB corpus in one call, 'texts' = each case text in its own call")
print(f"{'tokenizer':10} {'doc ovllm':>10} {'doc HF':>8} {'ratio':>6} {'texts ovllm':>12} {'texts HF':>9} {'ratio':>6} {'load ovllm s':>13} {'load HF s':>10}")
for name, key in (("smollm2", "smollm2"), ("qwen2.5", "qwen2_5"), ("gemma3", "gemma3")):
    enc = ours[f"encode/{key}"]
    mbs = enc["bytes_per_second"] / 1e6
    load = ours.get(f"load/{key}")
    load_s = f"{load['cpu_time'] / 1e3:.3f}" if load else "-"
    hf = theirs[name]
    tmbs = ours[f"encode_texts/{key}"]["bytes_per_second"] / 1e6
    print(f"{name:10} {mbs:10.2f} {hf['mb_per_s']:8.2f} {mbs / hf['mb_per_s']:6.2f} {tmbs:12.2f} {hf['texts_mb_per_s']:9.2f} "
          f"{tmbs / hf['texts_mb_per_s']:6.2f} {load_s:>13} {hf['load_s']:10.3f}")
PY

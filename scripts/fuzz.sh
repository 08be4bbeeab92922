#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs them one after the
# other, each for SECONDS (default 900) at low priority:
#   scripts/fuzz.sh [target] [seconds]    target: tokenizer, openai_request, jinja, gguf,
#                                          safetensors, or all (the default)
# Seeds are cut from the real models at run time (fuzz/make_seeds.py) and joined with
# fuzz/corpus/<target>; what the fuzzer learns stays in build-fuzz/corpus/<target>. A finding
# is written to build-fuzz/findings/<target>/ and the script exits non-zero.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${OVLLM_SHARED_DIR:-$root/../shared}"
build="$root/build-fuzz"
which="${1:-all}"
seconds="${2:-900}"
targets=(openai_request jinja gguf safetensors tokenizer)
[[ "$which" != all ]] && targets=("$which")

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOVLLM_BUILD_FUZZERS=ON -DOVLLM_BUILD_TESTS=OFF -DOVLLM_BUILD_BENCHMARKS=OFF >/dev/null
nice cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}"
rm -rf "$build/seeds"
python3 "$root/fuzz/make_seeds.py" "$shared" "$root/.models" "$build/seeds"

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 OVLLM_SHARED_DIR="$shared"
for target in "${targets[@]}"; do
  name="fuzz_$target"
  corpus="$build/corpus/$name" findings="$build/findings/$name"
  mkdir -p "$corpus" "$findings" "$build/seeds/$name"
  options=()
  case "$target" in
    openai_request) options=(-dict="$root/fuzz/dict/json.dict") ;;
    gguf | safetensors) options=(-dict="$root/fuzz/dict/$target.dict") ;;
    # A template may loop or allocate without bound, as in Jinja2 itself; templates come from
    # the model or the operator, never from a request. So slow and huge renders are counted
    # (and saved), not fatal: fork mode runs on after them.
    jinja) options=(-dict="$root/fuzz/dict/jinja.dict" -fork=1 -ignore_timeouts=1 -ignore_ooms=1) ;;
  esac
  seeds=("$build/seeds/$name")
  [[ -d "$root/fuzz/corpus/$name" ]] && seeds+=("$root/fuzz/corpus/$name")
  echo "== $name: $seconds s"
  # -timeout: one input taking 10 s is a finding (a hang); -rss_limit_mb bounds memory.
  nice -n 19 "$build/fuzz/$name" "$corpus" "${seeds[@]}" "${options[@]}" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$findings/" 2>&1 | tee "$build/$name.log" | grep -v '^#[0-9].*\(NEW\|REDUCE\|pulse\)'
done

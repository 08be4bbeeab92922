#!/usr/bin/env python3
"""Encode speed of Hugging Face `tokenizers` (one thread) on the corpus bench_tokenizer uses.

The corpus: the texts of golden/tokenizers/smollm2/cases.jsonl joined by "\\n", repeated
(joined by "\\n") until at least 1,000,000 UTF-8 bytes. Prints one JSON object per tokenizer.
Run it in a venv with `pip install tokenizers`; RAYON_NUM_THREADS=1 and
TOKENIZERS_PARALLELISM=false keep it on one thread.
"""
import json
import os
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import Tokenizer  # noqa: E402


def corpus(golden: str) -> tuple[str, list[str]]:
    """The whole corpus as one string, and the same texts as a list (one encode call each)."""
    with open(os.path.join(golden, "tokenizers", "smollm2", "cases.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    unit = "\n".join(texts)
    out = unit
    pieces = list(texts)
    while len(out.encode("utf-8")) < 1_000_000:
        out += "\n" + unit
        pieces += texts
    return out, pieces


def main() -> None:
    golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "golden")
    text, pieces = corpus(golden)
    size = len(text.encode("utf-8"))
    for name in ("smollm2", "qwen2.5", "gemma3"):
        path = os.path.join(golden, "tokenizers", name, "tokenizer.json")
        start = time.perf_counter()
        tok = Tokenizer.from_file(path)
        load_s = time.perf_counter() - start
        tok.encode(text, add_special_tokens=False)  # warm-up (fills the word cache)
        best = float("inf")
        tokens = 0
        for _ in range(5):
            cpu = time.process_time()
            tokens = len(tok.encode(text, add_special_tokens=False).ids)
            best = min(best, time.process_time() - cpu)
        best_texts = float("inf")
        for _ in range(3):
            cpu = time.process_time()
            for piece in pieces:
                tok.encode(piece, add_special_tokens=False)
            best_texts = min(best_texts, time.process_time() - cpu)
        texts_bytes = sum(len(p.encode("utf-8")) for p in pieces)
        print(json.dumps({"name": name, "bytes": size, "tokens": tokens, "encode_s": best,
                          "mb_per_s": size / best / 1e6,
                          "texts_mb_per_s": texts_bytes / best_texts / 1e6, "load_s": load_s}), flush=True)


if __name__ == "__main__":
    main()

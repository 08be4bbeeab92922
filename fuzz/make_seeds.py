#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, cut down from real files so each seed is small:
   make_seeds.py <shared dir> <models dir> <out dir>   ->  <out dir>/<target>/<seed files>
GGUF seeds keep a real file's metadata (arrays cut to a few entries) with a few small tensors of
each block type; safetensors seeds keep real headers with small shapes; chat templates come
from the model folders; request bodies from the golden chat cases (plus fuzz/corpus/)."""
import json
import pathlib
import struct
import sys

shared, models, out = map(pathlib.Path, sys.argv[1:4])


def save(target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


# --- chat templates -> fuzz_jinja ---
templates = set()
for folder in [*(shared / "models").iterdir(), *(shared / "golden" / "tokenizers").iterdir()]:
    if (folder / "chat_template.jinja").exists():
        templates.add((folder / "chat_template.jinja").read_text())
    config = folder / "tokenizer_config.json"
    if config.exists():
        template = json.loads(config.read_text()).get("chat_template")
        for t in template if isinstance(template, list) else [template]:
            if isinstance(t, dict):
                t = t.get("template")
            if isinstance(t, str):
                templates.add(t)
for i, text in enumerate(sorted(templates)):
    save("fuzz_jinja", f"template{i}.jinja", text)

# --- request bodies -> fuzz_openai_request ---
for name in ("smollm2", "qwen2.5"):
    lines = (shared / "golden" / "chat" / f"{name}.jsonl").read_text().splitlines()
    for i, line in enumerate(lines[:12]):
        case = json.loads(line)
        body = {"model": "m", "messages": case["messages"], "max_tokens": 8,
                "add_generation_prompt": case["add_generation_prompt"],
                "continue_final_message": case["continue_final_message"]}
        save("fuzz_openai_request", f"{name}_chat{i}.json", json.dumps(body))

# --- safetensors: real headers, each tensor shrunk to at most 2 x 3 ---
for model in sorted((shared / "golden" / "models").iterdir()):
    raw = (model / "model.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    small, offset = {}, 0
    for key in list(header)[:6]:
        entry = header[key]
        if key == "__metadata__":
            small[key] = entry
            continue
        shape = [min(d, 3 - i) for i, d in enumerate(entry["shape"][:2])]
        size = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4}.get(entry["dtype"], 1)
        for d in shape:
            size *= d
        small[key] = {"dtype": entry["dtype"], "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(small).encode()
    save("fuzz_safetensors", f"{model.name}.safetensors",
         struct.pack("<Q", len(text)) + text + bytes(range(256)) * (offset // 256 + 1))


# --- GGUF: a real file's metadata, arrays cut to 4 entries, plus tiny tensors ---
class Reader:
    def __init__(self, f):
        self.f = f

    def get(self, fmt):
        return struct.unpack("<" + fmt, self.f.read(struct.calcsize(fmt)))[0]

    def string(self):
        return self.f.read(self.get("Q"))

    def value(self, kind):
        scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
        if kind in scalar:
            return struct.pack("<" + scalar[kind], self.get(scalar[kind]))
        if kind == 8:
            s = self.string()
            return struct.pack("<Q", len(s)) + s
        inner, count = self.get("I"), self.get("Q")
        items = [self.value(inner) for _ in range(min(count, 4))]
        for _ in range(count - len(items)):  # skip the rest
            self.value(inner)
        return struct.pack("<IQ", inner, len(items)) + b"".join(items)


def gguf_seed(path):
    with open(path, "rb") as f:
        r = Reader(f)
        magic, version, n_tensors, n_kv = r.get("I"), r.get("I"), r.get("Q"), r.get("Q")
        kv = []
        for _ in range(n_kv):
            key = r.string()
            kind = r.get("I")
            kv.append(struct.pack("<Q", len(key)) + key + struct.pack("<I", kind) + r.value(kind))
    # type id -> (elements, bytes) per block: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16
    blocks = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
              12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}
    infos, data, offset = b"", b"", 0
    for kind, (elements, nbytes) in blocks.items():
        name = f"blk.0.t{kind}.weight".encode()
        dims = [elements * 2, 2]
        infos += struct.pack("<Q", len(name)) + name + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", kind, offset)
        chunk = bytes((i * 37 + kind) % 251 for i in range(4 * nbytes))
        chunk += bytes(-len(chunk) % 32)
        data += chunk
        offset += len(chunk)
    head = struct.pack("<IIQQ", magic, version, len(blocks), len(kv)) + b"".join(kv) + infos
    return head + bytes(-len(head) % 32) + data


for gguf in sorted(models.glob("*.gguf")):
    save("fuzz_gguf", gguf.stem + ".gguf", gguf_seed(gguf))

"""Writes a tiny HF model folder as an AWQ or a GPTQ int4 checkpoint, and beside it the
same model with the dequantized weights in f32 (the reference).

Usage: pack_int4.py SRC_FOLDER OUT_FOLDER {awq,gptq} GROUP_SIZE
Writes OUT_FOLDER/packed/ (config.json with quantization_config + model.safetensors) and
OUT_FOLDER/dequantized/ (config.json + model.safetensors, f32).

Every decoder Linear (q/k/v/o, gate/up/down) is quantized asymmetrically per group of
GROUP_SIZE input channels (round to nearest):
    scale = f16((max - min) / 15), zero = clip(round(-min / scale), 1, 15),
    q = clip(round(w / scale) + zero, 0, 15),    dequantized w = (q - zero) * scale.
Zero points start at 1 so that GPTQ's v1 format (which stores zero - 1 in 4 bits) can hold
them. Packing follows the published layouts:
  AWQ (AutoAWQ WQLinear_GEMM): qweight int32 [in, out/8] packs 8 output columns per word in
    the order (0, 2, 4, 6, 1, 3, 5, 7): nibble k holds column 8c + order[k]; qzeros int32
    [in/group, out/8] the same way; scales f16 [in/group, out].
  GPTQ (AutoGPTQ QuantLinear.pack): qweight int32 [in/8, out] packs 8 input rows per word,
    nibble k = row 8r + k; qzeros int32 [in/group, out/8], nibble k = column 8c + k, each
    stored as zero - 1; scales f16 [in/group, out]; g_idx int32 [in] = i // group.
"""

import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)


def quantize(w, group):
    """w f32 [out, in] -> q uint8 [out, in], zero uint8 [out, in/group], scale f16 [out, in/group]."""
    out_features, in_features = w.shape
    grouped = w.reshape(out_features, in_features // group, group)
    lo = grouped.min(axis=2)
    hi = grouped.max(axis=2)
    scale = ((hi - lo) / 15.0).astype(np.float16)
    scale = np.where(scale == 0, np.float16(1e-3), scale)
    s32 = scale.astype(np.float32)
    zero = np.clip(np.round(-lo / s32), 1, 15).astype(np.uint8)
    q = np.clip(np.round(grouped / s32[:, :, None]) + zero[:, :, None], 0, 15).astype(np.uint8)
    return q.reshape(out_features, in_features), zero, scale


def dequantize(q, zero, scale, group):
    out_features, in_features = q.shape
    grouped = q.reshape(out_features, in_features // group, group).astype(np.float32)
    centered = grouped - zero[:, :, None].astype(np.float32)
    # (q - zero) is a small integer and scale an f16: the product is exact in f32.
    return (centered * scale.astype(np.float32)[:, :, None]).reshape(out_features, in_features)


def pack_columns(values, order):
    """uint8 [rows, cols] -> int32 [rows, cols/8]: nibble k of word c = column 8c + order[k]."""
    rows, cols = values.shape
    words = np.zeros((rows, cols // 8), dtype=np.uint32)
    for k, column in enumerate(order):
        words |= values[:, column::8].astype(np.uint32) << np.uint32(4 * k)
    return words.view(np.int32)


def pack_rows(values):
    """uint8 [rows, cols] -> int32 [rows/8, cols]: nibble k of word r = row 8r + k."""
    rows, cols = values.shape
    words = np.zeros((rows // 8, cols), dtype=np.uint32)
    for k in range(8):
        words |= values[k::8, :].astype(np.uint32) << np.uint32(4 * k)
    return words.view(np.int32)


def pack(method, q, zero, scale, group):
    """The tensors one Linear stores in place of `weight`."""
    in_features = q.shape[1]
    intweight = np.ascontiguousarray(q.T)  # [in, out]
    zeros = np.ascontiguousarray(zero.T)  # [in/group, out]
    scales = np.ascontiguousarray(scale.T)  # [in/group, out]
    if method == "awq":
        return {
            "qweight": pack_columns(intweight, AWQ_ORDER),
            "qzeros": pack_columns(zeros, AWQ_ORDER),
            "scales": scales,
        }
    return {
        "qweight": pack_rows(intweight),
        "qzeros": pack_columns(zeros - 1, range(8)),
        "scales": scales,
        "g_idx": (np.arange(in_features) // group).astype(np.int32),
    }


def quantization_config(method, group):
    if method == "awq":
        return {"quant_method": "awq", "bits": 4, "group_size": group, "zero_point": True,
                "version": "gemm"}
    return {"quant_method": "gptq", "bits": 4, "group_size": group, "desc_act": False,
            "sym": False, "checkpoint_format": "gptq"}


def main():
    src, out, method, group = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    tensors = load_file(str(src / "model.safetensors"))
    packed, dequantized = {}, {}
    for name, value in tensors.items():
        module = name[: -len(".weight")]
        if name.endswith(".weight") and module.rsplit(".", 1)[-1] in LINEARS:
            w = value.astype(np.float32)
            q, zero, scale = quantize(w, group)
            for suffix, tensor in pack(method, q, zero, scale, group).items():
                packed[f"{module}.{suffix}"] = tensor
            dequantized[name] = dequantize(q, zero, scale, group)
        else:
            packed[name] = value
            dequantized[name] = value
    config = json.loads((src / "config.json").read_text())
    for folder, weights, quant in (("packed", packed, quantization_config(method, group)),
                                   ("dequantized", dequantized, None)):
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        save_file(weights, str(target / "model.safetensors"))
        folder_config = dict(config)
        if quant:
            folder_config["quantization_config"] = quant
        (target / "config.json").write_text(json.dumps(folder_config, indent=2))
        generation = src / "generation_config.json"
        if generation.exists():
            (target / "generation_config.json").write_text(generation.read_text())


if __name__ == "__main__":
    main()

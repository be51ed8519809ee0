#!/usr/bin/python3
"""Write malformed GGUF files, one per kind of damage, plus the intact file they derive from.

  mkbad.py OUTDIR      -> OUTDIR/good.gguf and OUTDIR/bad_<kind>.gguf

Every bad file differs from good.gguf in one field (or its length), so a reader that accepts
good.gguf and rejects each of them checks exactly that field.
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import ggml_quants as Q  # noqa: E402
from gguf_writer import GGUFWriter, T_FLOAT32, T_INT32, T_STRING, _str  # noqa: E402

DIM, FFN, VOCAB = 64, 128, 300


def good_model(path):
    w = GGUFWriter(path)
    w.add("general.architecture", "llama")
    w.add("general.name", "badfile-base")
    w.add("general.alignment", 32)
    for k, v in (("context_length", 128), ("embedding_length", DIM), ("block_count", 1),
                 ("feed_forward_length", FFN), ("attention.head_count", 4), ("attention.head_count_kv", 2),
                 ("rope.dimension_count", DIM // 4)):
        w.add("llama." + k, v)
    w.add("llama.rope.freq_base", 10000.0)
    w.add("llama.attention.layer_norm_rms_epsilon", 1e-5)
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    toks += ["\u2581" + chr(ord("a") + i % 26) * (1 + i // 26) for i in range(VOCAB - len(toks))]
    w.add("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", T_STRING, toks)
    w.add_array("tokenizer.ggml.scores", T_FLOAT32, [0.0] * VOCAB)
    w.add_array("tokenizer.ggml.token_type", T_INT32, [2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259))
    w.add("tokenizer.ggml.bos_token_id", 1)
    w.add("tokenizer.ggml.eos_token_id", 2)
    rng = np.random.default_rng(0)

    def r(*shape):
        return lambda: rng.standard_normal(shape).astype(np.float32) * 0.1

    w.add_tensor("token_embd.weight", (VOCAB, DIM), Q.F32, r(VOCAB, DIM))
    p = "blk.0."
    for n, shp in (("attn_norm", (DIM,)), ("attn_q", (DIM, DIM)), ("attn_k", (DIM // 2, DIM)),
                   ("attn_v", (DIM // 2, DIM)), ("attn_output", (DIM, DIM)), ("ffn_norm", (DIM,)),
                   ("ffn_gate", (FFN, DIM)), ("ffn_up", (FFN, DIM)), ("ffn_down", (DIM, FFN))):
        w.add_tensor(p + n + ".weight", shp, Q.F32, r(*shp))
    w.add_tensor("output_norm.weight", (DIM,), Q.F32, r(DIM))
    w.write()
    with open(path, "rb") as f:
        return f.read(), w


def tensor_info_pos(data, name):
    """Offset just after the name of tensor `name` in the tensor-info section."""
    key = _str(name)
    i = data.rfind(key)   # tensor infos come after the metadata; names are unique there
    assert i > 0, name
    return i + len(key)


def kv_value_pos(data, key):
    """Offset of the value type tag of metadata `key`."""
    k = _str(key)
    i = data.find(k)
    assert i > 0, key
    return i + len(k)


def patch(data, pos, fmt, value):
    b = bytearray(data)
    struct.pack_into(fmt, b, pos, value)
    return bytes(b)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    good, w = good_model(os.path.join(out, "good.gguf"))
    head_len = len(w.header_bytes())
    q = tensor_info_pos(good, "blk.0.attn_q.weight")     # -> u32 n_dims, u64 ne0, u64 ne1, u32 type, u64 offset
    toks = kv_value_pos(good, "tokenizer.ggml.tokens")   # -> u32 9, u32 elem type, u64 count
    name = kv_value_pos(good, "general.name")            # -> u32 8, u64 length
    bad = {
        "empty": b"",
        "truncated_header": good[:head_len // 2],
        "truncated_data": good[:len(good) - 4096],
        "wrong_magic": b"GGUX" + good[4:],
        "bad_version": patch(good, 4, "<I", 99),
        "huge_tensor_count": patch(good, 8, "<Q", 1 << 60),
        "huge_kv_count": patch(good, 16, "<Q", 1 << 60),
        "absurd_dims": patch(good, q + 4 + 8, "<Q", 1 << 40),
        "dims_overflow": patch(patch(good, q + 4, "<Q", 1 << 33), q + 12, "<Q", 1 << 33),
        "too_many_dims": patch(good, q, "<I", 9),
        "zero_dim": patch(good, q + 4 + 8, "<Q", 0),
        "unknown_type": patch(good, q + 4 + 16, "<I", 99),
        "offset_past_end": patch(good, q + 4 + 16 + 4, "<Q", 1 << 40),
        "offset_misaligned": patch(good, q + 4 + 16 + 4, "<Q",
                                   struct.unpack_from("<Q", good, q + 24)[0] + 4),
        "array_length_overflow": patch(good, toks + 8, "<Q", (1 << 62) + 1),
        "string_length_overflow": patch(good, name + 4, "<Q", 1 << 63),
        "unknown_value_type": patch(good, name, "<I", 77),
    }
    for kind, data in bad.items():
        with open(os.path.join(out, "bad_%s.gguf" % kind), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

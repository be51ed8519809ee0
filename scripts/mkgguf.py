#!/usr/bin/python3
"""Write a synthetic GGUF model (arch llama or qwen2) with seeded random weights.

For parity tests and benchmarks: any shape and tensor type, a tokenizer section llama.cpp
accepts (llama: SentencePiece-style vocab; qwen2: GPT-2 byte-level BPE with merges), norm
weights and biases in F32 like llama.cpp's converters. Weight scales keep activations sane
over many layers: linear weights ~ N(0, 1/fan_in) (unit-variance outputs for unit-variance
inputs), embeddings ~ N(0, 1), norms ~ 1 +- 0.1, so the residual stream grows only ~sqrt(L);
the output matrix is scaled to give logits of standard deviation ~4, so greedy choices have
clear margins and continuations are not a single repeated token.

Examples:
  mkgguf.py -o out/m.gguf --arch llama --type Q4_K --dim 256 --ffn 512 --layers 2
  mkgguf.py -o out/1b.gguf --preset llama-1b --type Q4_0
"""
import argparse
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ggml_quants as Q  # noqa: E402
from gguf_writer import GGUFWriter, T_FLOAT32, T_INT32, T_STRING  # noqa: E402

PRESETS = {
    # Issue 5's bench shapes.
    "llama-1b": dict(arch="llama", dim=2048, ffn=8192, layers=16, heads=32, kv_heads=8, vocab=32000, ctx=2048),
    "qwen2-0.5b": dict(arch="qwen2", dim=896, ffn=4864, layers=24, heads=14, kv_heads=2, vocab=32000, ctx=2048),
    # Small shapes for parity tests (multiples of 256 so K-quants apply everywhere).
    "tiny-llama": dict(arch="llama", dim=256, ffn=512, layers=2, heads=4, kv_heads=2, vocab=512, ctx=512),
    "tiny-qwen2": dict(arch="qwen2", dim=256, ffn=768, layers=2, heads=4, kv_heads=2, vocab=600, ctx=512),
}

# llama.cpp's general.file_type (LLAMA_FTYPE_*) of an all-TYPE model.
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9,
             "Q4_K": 15, "Q5_K": 17, "Q6_K": 18, "BF16": 32}

TOK_NORMAL, TOK_UNKNOWN, TOK_CONTROL, TOK_BYTE = 1, 2, 3, 6
LETTERS = "etaoinshrdlucmfwypvbgkjqxz"


def _pieces(prefix_char, count):
    """Deterministic word pieces: letters, then 2- and 3-letter strings, each also with the
    word-start marker; every piece's prefix and last letter come first (valid BPE merges)."""
    out = [prefix_char]
    level = [""]
    while len(out) < count:
        level = [w + c for w in level for c in LETTERS]
        for w in level:
            out.append(prefix_char + w)
            out.append(w)
    return out[:count]


def spm_vocab(n_vocab):
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [TOK_UNKNOWN, TOK_CONTROL, TOK_CONTROL] + [TOK_BYTE] * 256
    if n_vocab < len(toks):
        raise SystemExit("vocab must be >= %d for a llama vocab" % len(toks))
    pieces = _pieces("\u2581", n_vocab - len(toks))
    scores = [0.0] * len(toks) + [-float(i) for i in range(len(pieces))]
    return toks + pieces, scores, types + [TOK_NORMAL] * len(pieces)


def _byte_chars():
    """GPT-2's reversible byte -> printable character map, in its id order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def bpe_vocab(n_vocab):
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    base = _byte_chars()
    if n_vocab < len(base) + len(specials):
        raise SystemExit("vocab must be >= %d for a qwen2 vocab" % (len(base) + len(specials)))
    have = set(base)
    pieces, merges = [], []
    for p in _pieces("\u0120", 10 * n_vocab):   # U+0120 'Ġ' is GPT-2's space
        if len(pieces) >= n_vocab - len(base) - len(specials):
            break
        if len(p) < 2 or p in have:
            continue
        left, right = p[:-1], p[-1]
        if left in have and right in have:
            merges.append(left + " " + right)
            pieces.append(p)
            have.add(p)
    toks = base + pieces + specials
    types = [TOK_NORMAL] * (len(base) + len(pieces)) + [TOK_CONTROL] * len(specials)
    return toks, types, merges, specials


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--arch", choices=["llama", "qwen2"])
    ap.add_argument("--type", default="F32", help="tensor type of the 2-D weights: " + ", ".join(Q.NAMES))
    ap.add_argument("--embd-type", help="type of token_embd (default: --type)")
    ap.add_argument("--output-type", help="type of output.weight (default: --type)")
    for k in ("dim", "ffn", "layers", "heads", "kv_heads", "vocab", "ctx"):
        ap.add_argument("--" + k.replace("_", "-"), type=int, dest=k)
    ap.add_argument("--tied", action="store_true", help="no output.weight: logits use token_embd")
    ap.add_argument("--rope-base", type=float, help="default 10000 (llama) / 1000000 (qwen2)")
    ap.add_argument("--eps", type=float, help="RMSNorm epsilon, default 1e-5 (llama) / 1e-6 (qwen2)")
    ap.add_argument("--logit-std", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chat-template", help="file whose text becomes tokenizer.chat_template")
    ap.add_argument("--roundtrip-f32", action="store_true",
                    help="store every tensor as F32 holding the values of its quantized form "
                         "(checks a quantized layout: same model, exact weights)")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()

    shape = dict(PRESETS[a.preset]) if a.preset else {}
    for k in ("arch", "dim", "ffn", "layers", "heads", "kv_heads", "vocab", "ctx"):
        if getattr(a, k) is not None:
            shape[k] = getattr(a, k)
    defaults = dict(arch="llama", dim=256, ffn=512, layers=2, heads=4, kv_heads=2, vocab=512, ctx=512)
    for k, v in defaults.items():
        shape.setdefault(k, v)
    arch, dim, ffn, L = shape["arch"], shape["dim"], shape["ffn"], shape["layers"]
    nh, nkv, vocab, ctx = shape["heads"], shape["kv_heads"], shape["vocab"], shape["ctx"]
    if dim % nh or nh % nkv:
        raise SystemExit("dim must be a multiple of heads, heads a multiple of kv_heads")
    hd = dim // nh
    if hd % 2:
        raise SystemExit("head size must be even (RoPE)")
    kv_dim = hd * nkv
    rope_base = a.rope_base or (10000.0 if arch == "llama" else 1000000.0)
    eps = a.eps or (1e-5 if arch == "llama" else 1e-6)

    warned = set()

    def pick_type(name, n_cols):
        t = Q.type_id(name)
        if n_cols % Q.BLOCK[t][0]:
            # Same spirit as llama.cpp's quantizer: rows a K-quant cannot split fall back.
            fb = Q.Q8_0 if n_cols % 32 == 0 else Q.F16
            if not a.quiet and (name, n_cols) not in warned:
                warned.add((name, n_cols))
                print("mkgguf: %s rows of %d do not fit %s blocks, using %s" %
                      (name, n_cols, name, Q.type_name(fb)), file=sys.stderr)
            return fb
        return t

    wtype = a.type.upper()
    if wtype not in FILE_TYPE:
        raise SystemExit("unknown type %s" % a.type)
    w = GGUFWriter(a.out)
    w.add("general.architecture", arch)
    w.add("general.name", "synthetic-%s-%s-d%d-l%d" % (arch, wtype, dim, L))
    w.add("general.file_type", FILE_TYPE[wtype])
    w.add("general.alignment", 32)
    w.add(arch + ".context_length", ctx)
    w.add(arch + ".embedding_length", dim)
    w.add(arch + ".block_count", L)
    w.add(arch + ".feed_forward_length", ffn)
    w.add(arch + ".attention.head_count", nh)
    w.add(arch + ".attention.head_count_kv", nkv)
    w.add(arch + ".rope.freq_base", float(rope_base))
    w.add(arch + ".attention.layer_norm_rms_epsilon", float(eps))
    if arch == "llama":
        w.add("llama.rope.dimension_count", hd)
        w.add("llama.vocab_size", vocab)
        toks, scores, types = spm_vocab(vocab)
        w.add("tokenizer.ggml.model", "llama")
        w.add("tokenizer.ggml.pre", "default")
        w.add_array("tokenizer.ggml.tokens", T_STRING, toks)
        w.add_array("tokenizer.ggml.scores", T_FLOAT32, scores)
        w.add_array("tokenizer.ggml.token_type", T_INT32, types)
        w.add("tokenizer.ggml.unknown_token_id", 0)
        w.add("tokenizer.ggml.bos_token_id", 1)
        w.add("tokenizer.ggml.eos_token_id", 2)
        w.add("tokenizer.ggml.add_bos_token", True)
        w.add("tokenizer.ggml.add_eos_token", False)
    else:
        toks, types, merges, specials = bpe_vocab(vocab)
        eot = toks.index(specials[0])
        w.add("tokenizer.ggml.model", "gpt2")
        w.add("tokenizer.ggml.pre", "qwen2")
        w.add_array("tokenizer.ggml.tokens", T_STRING, toks)
        w.add_array("tokenizer.ggml.token_type", T_INT32, types)
        w.add_array("tokenizer.ggml.merges", T_STRING, merges)
        w.add("tokenizer.ggml.bos_token_id", eot)
        w.add("tokenizer.ggml.eos_token_id", toks.index(specials[2]))
        w.add("tokenizer.ggml.padding_token_id", eot)
        w.add("tokenizer.ggml.add_bos_token", False)
    if a.chat_template:
        with open(a.chat_template, encoding="utf-8") as f:
            w.add("tokenizer.chat_template", f.read())

    def rand(name, shape_, std, mean=0.0):
        def produce():
            rng = np.random.default_rng([a.seed, zlib.crc32(name.encode())])
            x = rng.standard_normal(shape_, dtype=np.float32)
            x *= np.float32(std)
            if mean:
                x += np.float32(mean)
            return x
        return produce

    F32 = Q.F32
    et = pick_type((a.embd_type or wtype).upper(), dim)
    w.add_tensor("token_embd.weight", (vocab, dim), et, rand("token_embd.weight", (vocab, dim), 1.0))
    for i in range(L):
        p = "blk.%d." % i
        mats = [("attn_q", (dim, dim)), ("attn_k", (kv_dim, dim)), ("attn_v", (kv_dim, dim)),
                ("attn_output", (dim, dim)), ("ffn_gate", (ffn, dim)), ("ffn_up", (ffn, dim)),
                ("ffn_down", (dim, ffn))]
        w.add_tensor(p + "attn_norm.weight", (dim,), F32, rand(p + "attn_norm.weight", (dim,), 0.1, 1.0))
        for n, shp in mats[:3]:
            w.add_tensor(p + n + ".weight", shp, pick_type(wtype, shp[1]), rand(p + n + ".weight", shp, shp[1] ** -0.5))
            if arch == "qwen2":
                w.add_tensor(p + n + ".bias", (shp[0],), F32, rand(p + n + ".bias", (shp[0],), 0.1))
        for n, shp in mats[3:4]:
            w.add_tensor(p + n + ".weight", shp, pick_type(wtype, shp[1]), rand(p + n + ".weight", shp, shp[1] ** -0.5))
        w.add_tensor(p + "ffn_norm.weight", (dim,), F32, rand(p + "ffn_norm.weight", (dim,), 0.1, 1.0))
        for n, shp in mats[4:]:
            w.add_tensor(p + n + ".weight", shp, pick_type(wtype, shp[1]), rand(p + n + ".weight", shp, shp[1] ** -0.5))
    w.add_tensor("output_norm.weight", (dim,), F32, rand("output_norm.weight", (dim,), 0.1, 1.0))
    if not a.tied:
        ot = pick_type((a.output_type or wtype).upper(), dim)
        w.add_tensor("output.weight", (vocab, dim), ot, rand("output.weight", (vocab, dim), a.logit_std * dim ** -0.5))
    elif not a.quiet:
        print("mkgguf: tied output: logits use token_embd (std %.2f)" % (dim ** 0.5), file=sys.stderr)

    if a.roundtrip_f32:
        for t in w.tensors:
            def rt(qt=t.type, produce=t.produce):
                x = produce()
                return Q.dequantize(qt, Q.quantize(qt, x), x.shape[-1])
            t.produce, t.type = rt, Q.F32
            t.nbytes = 4 * int(np.prod(t.shape))
    tmp = a.out + ".tmp"
    w.path = tmp
    w.write()
    os.replace(tmp, a.out)
    if not a.quiet:
        print("mkgguf: wrote %s (%s, %s, %.1f MiB)" % (a.out, arch, wtype, os.path.getsize(a.out) / 2**20), file=sys.stderr)


if __name__ == "__main__":
    main()

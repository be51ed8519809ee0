#!/usr/bin/python3
"""Convert a llama2.c "legacy" checkpoint plus its tokenizer.bin into a llama-arch GGUF (F32).

  llama2c_to_gguf.py MODEL.bin TOKENIZER.bin OUT.gguf [--name NAME]

Checkpoint: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
vocab_size > 0 means the classifier is the token embedding), then float32 arrays in the order
read below, then a legacy RoPE table that is ignored.

wq/wk are written unpermuted: llama2.c checkpoints already rotate adjacent pairs (i, i+1)
within each head, which is llama.cpp's "normal" RoPE for arch llama. (llama.cpp's HF
converter permutes q/k because HF checkpoints rotate halves; doing that here would break the
model.) Verified: greedy output through llama.cpp reproduces stories260K.greedy200.txt.

Tokenizer: int32 max_token_length, then per token float32 score, int32 length, bytes. The
llama2.c export writes spaces for SentencePiece's U+2581 and "\\n<s>\\n" / "\\n</s>\\n" for
BOS/EOS; both are undone here so llama.cpp's SPM tokenizer sees the original pieces.
"""
import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ggml_quants as Q  # noqa: E402
from gguf_writer import GGUFWriter, T_FLOAT32, T_INT32, T_STRING  # noqa: E402

TOK_NORMAL, TOK_UNKNOWN, TOK_CONTROL, TOK_BYTE = 1, 2, 3, 6


def read_tokenizer(path, n_vocab):
    with open(path, "rb") as f:
        data = f.read()
    o = 4
    toks, scores, types = [], [], []
    for i in range(n_vocab):
        if o + 8 > len(data):
            raise SystemExit("%s: truncated at token %d" % (path, i))
        score, n = struct.unpack_from("<fi", data, o)
        o += 8
        if n < 0 or o + n > len(data):
            raise SystemExit("%s: bad length %d of token %d" % (path, n, i))
        piece = data[o:o + n].decode("utf-8")
        o += n
        if i == 0:
            piece, kind = "<unk>", TOK_UNKNOWN
        elif i in (1, 2):
            piece, kind = ("<s>", "</s>")[i - 1], TOK_CONTROL
        elif len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            kind = TOK_BYTE
        else:
            piece, kind = piece.replace(" ", "\u2581"), TOK_NORMAL
        toks.append(piece)
        scores.append(score)
        types.append(kind)
    return toks, scores, types


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("tokenizer")
    ap.add_argument("out")
    ap.add_argument("--name", default=None)
    a = ap.parse_args()

    raw = np.fromfile(a.model, dtype=np.uint8)
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("<7i", raw.tobytes()[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    if min(dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len) <= 0 or dim % n_heads or n_heads % n_kv:
        raise SystemExit("%s: implausible header %r" % (a.model, (dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len)))
    hd = dim // n_heads
    kv_dim = hd * n_kv
    floats = raw[28:28 + (raw.size - 28) // 4 * 4].view("<f4")
    pos = [0]

    def take(*shape):
        n = int(np.prod(shape))
        if pos[0] + n > floats.size:
            raise SystemExit("%s: truncated weights" % a.model)
        x = floats[pos[0]:pos[0] + n].reshape(shape)
        pos[0] += n
        return x

    emb = take(vocab, dim)
    att_norm = take(n_layers, dim)
    wq = take(n_layers, dim, dim)
    wk = take(n_layers, kv_dim, dim)
    wv = take(n_layers, kv_dim, dim)
    wo = take(n_layers, dim, dim)
    ffn_norm = take(n_layers, dim)
    w1 = take(n_layers, hidden, dim)
    w2 = take(n_layers, dim, hidden)
    w3 = take(n_layers, hidden, dim)
    final_norm = take(dim)
    take(seq_len * hd // 2)   # legacy freq_cis_real
    take(seq_len * hd // 2)   # legacy freq_cis_imag
    out_w = None if shared else take(vocab, dim)

    toks, scores, types = read_tokenizer(a.tokenizer, vocab)
    name = a.name or os.path.splitext(os.path.basename(a.model))[0]

    w = GGUFWriter(a.out + ".tmp")
    w.add("general.architecture", "llama")
    w.add("general.name", name)
    w.add("general.file_type", 0)
    w.add("general.alignment", 32)
    w.add("llama.context_length", seq_len)
    w.add("llama.embedding_length", dim)
    w.add("llama.block_count", n_layers)
    w.add("llama.feed_forward_length", hidden)
    w.add("llama.attention.head_count", n_heads)
    w.add("llama.attention.head_count_kv", n_kv)
    w.add("llama.rope.dimension_count", hd)
    w.add("llama.rope.freq_base", 10000.0)
    w.add("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add("llama.vocab_size", vocab)
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

    def const(x):
        return lambda: x

    w.add_tensor("token_embd.weight", emb.shape, Q.F32, const(emb))
    for i in range(n_layers):
        p = "blk.%d." % i
        for nm, arr in (("attn_norm", att_norm), ("attn_q", wq), ("attn_k", wk), ("attn_v", wv),
                        ("attn_output", wo), ("ffn_norm", ffn_norm), ("ffn_gate", w1), ("ffn_down", w2),
                        ("ffn_up", w3)):
            w.add_tensor(p + nm + ".weight", arr[i].shape, Q.F32, const(arr[i]))
    w.add_tensor("output_norm.weight", final_norm.shape, Q.F32, const(final_norm))
    if out_w is not None:
        w.add_tensor("output.weight", out_w.shape, Q.F32, const(out_w))
    w.write()
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()

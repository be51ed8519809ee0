"""Our own numpy quantizers for ggml's tensor types, byte-identical in layout to ggml's blocks.

The chosen quantized values need not match ggml's reference quantizer (both engines read the
same bytes); the block layouts must. Every function works on whole rows at once (vectorised):
x has shape (..., n) with n a multiple of the block size; the result is a uint8 array of
shape (..., row_bytes). dequantize() inverts each layout, for self-tests and debugging.
"""
import numpy as np

F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 = 0, 1, 2, 3, 6, 7, 8
Q4_K, Q5_K, Q6_K, BF16 = 12, 13, 14, 30

NAMES = {"F32": F32, "F16": F16, "BF16": BF16, "Q8_0": Q8_0, "Q4_0": Q4_0, "Q4_1": Q4_1,
         "Q5_0": Q5_0, "Q5_1": Q5_1, "Q4_K": Q4_K, "Q5_K": Q5_K, "Q6_K": Q6_K}
# type -> (elements per block, bytes per block)
BLOCK = {F32: (1, 4), F16: (1, 2), BF16: (1, 2), Q8_0: (32, 34), Q4_0: (32, 18), Q4_1: (32, 20),
         Q5_0: (32, 22), Q5_1: (32, 24), Q4_K: (256, 144), Q5_K: (256, 176), Q6_K: (256, 210)}
QK_K = 256


def type_id(name):
    return NAMES[name.upper()]


def type_name(t):
    return {v: k for k, v in NAMES.items()}[t]


def row_bytes(t, n):
    blk, size = BLOCK[t]
    if n % blk:
        raise ValueError("row of %d elements is not a multiple of %s's block (%d)" % (n, type_name(t), blk))
    return n // blk * size


def _f16_bytes(a):
    """(k,) float -> (k, 2) uint8 little-endian half floats (round to nearest even)."""
    return np.ascontiguousarray(a, dtype="<f2").view(np.uint8).reshape(a.shape + (2,))


def _f16_round(a):
    return a.astype(np.float16).astype(np.float32)


def _safe_inv(d):
    with np.errstate(divide="ignore"):
        return np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)


def _signed_absmax(b):
    """Per block: the element of largest magnitude, with its sign (ggml's `max`)."""
    idx = np.abs(b).argmax(axis=-1)
    return np.take_along_axis(b, idx[..., None], axis=-1)[..., 0]


def _pack_nibbles_halves(q):
    """(k, 32) values 0..15 -> (k, 16) bytes: element j low nibble, element j+16 high."""
    return (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)


def _high_bits_u32(q):
    """(k, 32) values 0..31 -> (k, 4) bytes: bit j of a little-endian u32 = bit 4 of element j."""
    bits = ((q >> 4) & 1).astype(np.uint32)
    word = (bits << np.arange(32, dtype=np.uint32)).sum(axis=1, dtype=np.uint64).astype("<u4")
    return word.view(np.uint8).reshape(-1, 4)


def _bf16(x):
    u = x.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    r[nan] = ((u[nan] >> 16) | 64).astype(np.uint16)  # keep NaNs quiet NaNs
    return r.astype("<u2")


def _q8_0(b):
    d = np.abs(b).max(axis=1) / 127
    q = np.rint(b * _safe_inv(d)[:, None])
    return np.hstack([_f16_bytes(d), np.clip(q, -127, 127).astype(np.int8).view(np.uint8)])


def _q4_0(b):
    d = _signed_absmax(b) / -8
    q = np.clip(np.floor(b * _safe_inv(d)[:, None] + 8.5), 0, 15).astype(np.uint8)
    return np.hstack([_f16_bytes(d), _pack_nibbles_halves(q)])


def _q4_1(b):
    lo, hi = b.min(axis=1), b.max(axis=1)
    d = (hi - lo) / 15
    q = np.clip(np.floor((b - lo[:, None]) * _safe_inv(d)[:, None] + 0.5), 0, 15).astype(np.uint8)
    return np.hstack([_f16_bytes(d), _f16_bytes(lo), _pack_nibbles_halves(q)])


def _q5_0(b):
    d = _signed_absmax(b) / -16
    q = np.clip(np.floor(b * _safe_inv(d)[:, None] + 16.5), 0, 31).astype(np.uint8)
    return np.hstack([_f16_bytes(d), _high_bits_u32(q), _pack_nibbles_halves(q & 15)])


def _q5_1(b):
    lo, hi = b.min(axis=1), b.max(axis=1)
    d = (hi - lo) / 31
    q = np.clip(np.floor((b - lo[:, None]) * _safe_inv(d)[:, None] + 0.5), 0, 31).astype(np.uint8)
    return np.hstack([_f16_bytes(d), _f16_bytes(lo), _high_bits_u32(q), _pack_nibbles_halves(q & 15)])


def _k_scales_mins(b, nmax):
    """Super-blocks (k, 8, 32) -> 6-bit sub-block scales/mins, fp16 d/dmin and the quants."""
    lo = np.minimum(b.min(axis=2), 0)
    hi = b.max(axis=2)
    scale = (hi - lo) / nmax            # (k, 8), >= 0
    mins = -lo                          # (k, 8), >= 0, dequant subtracts dmin*m
    d = scale.max(axis=1) / 63
    dmin = mins.max(axis=1) / 63
    ls = np.clip(np.rint(scale * _safe_inv(d)[:, None]), 0, 63)
    ls = np.where((ls == 0) & (scale > 0), 1, ls).astype(np.uint8)
    lm = np.clip(np.rint(mins * _safe_inv(dmin)[:, None]), 0, 63).astype(np.uint8)
    d16, dmin16 = _f16_round(d), _f16_round(dmin)
    step = d16[:, None] * ls                       # (k, 8)
    off = dmin16[:, None] * lm
    q = np.rint((b + off[:, :, None]) * _safe_inv(step)[:, :, None])
    q = np.clip(q, 0, nmax).astype(np.uint8).reshape(-1, QK_K)
    return d, dmin, ls, lm, q


def _pack_k_scales(ls, lm):
    """12 bytes: 6-bit scales and mins of 8 sub-blocks, ggml's get_scale_min_k4 layout."""
    s = np.zeros((ls.shape[0], 12), np.uint8)
    s[:, 0:4] = (ls[:, 0:4] & 63) | ((ls[:, 4:8] >> 4) << 6)
    s[:, 4:8] = (lm[:, 0:4] & 63) | ((lm[:, 4:8] >> 4) << 6)
    s[:, 8:12] = (ls[:, 4:8] & 15) | ((lm[:, 4:8] & 15) << 4)
    return s


def _q4_k(b):
    d, dmin, ls, lm, q = _k_scales_mins(b.reshape(-1, 8, 32), 15)
    q = q.reshape(-1, 4, 2, 32)                    # 64-element chunks: low nibble, high nibble
    qs = (q[:, :, 0] | (q[:, :, 1] << 4)).reshape(-1, 128)
    return np.hstack([_f16_bytes(d), _f16_bytes(dmin), _pack_k_scales(ls, lm), qs])


def _q5_k(b):
    d, dmin, ls, lm, q = _k_scales_mins(b.reshape(-1, 8, 32), 31)
    q = q.reshape(-1, 4, 2, 32)
    qs = ((q[:, :, 0] & 15) | ((q[:, :, 1] & 15) << 4)).reshape(-1, 128)
    hb = (q >> 4).astype(np.uint8)                 # (k, 4 chunks, 2 halves, 32)
    shifts = (np.arange(8, dtype=np.uint8).reshape(4, 2))[None, :, :, None]
    qh = (hb << shifts).sum(axis=(1, 2), dtype=np.uint32).astype(np.uint8)   # (k, 32)
    return np.hstack([_f16_bytes(d), _f16_bytes(dmin), _pack_k_scales(ls, lm), qh, qs])


def _q6_k(b):
    sub = b.reshape(-1, 16, 16)
    scale = _signed_absmax(sub) / -32              # (k, 16)
    mx = _signed_absmax(scale)                     # (k,) sub-block scale of largest magnitude
    d = mx / -128
    sc = np.clip(np.rint(scale * _safe_inv(d)[:, None]), -128, 127).astype(np.int8)
    step = _f16_round(d)[:, None] * sc
    q = np.clip(np.rint(sub * _safe_inv(step)[:, :, None]), -32, 31) + 32
    q = q.astype(np.uint8).reshape(-1, 2, 4, 32)   # halves of 128, quarters of 32
    ql = np.concatenate([(q[:, :, 0] & 15) | ((q[:, :, 2] & 15) << 4),
                         (q[:, :, 1] & 15) | ((q[:, :, 3] & 15) << 4)], axis=2).reshape(-1, 128)
    qh = ((q[:, :, 0] >> 4) | ((q[:, :, 1] >> 4) << 2) | ((q[:, :, 2] >> 4) << 4) |
          ((q[:, :, 3] >> 4) << 6)).reshape(-1, 64)
    return np.hstack([ql, qh, sc.view(np.uint8), _f16_bytes(d)])


_BLOCK_FN = {Q8_0: _q8_0, Q4_0: _q4_0, Q4_1: _q4_1, Q5_0: _q5_0, Q5_1: _q5_1,
             Q4_K: _q4_k, Q5_K: _q5_k, Q6_K: _q6_k}


def quantize(t, x, chunk_rows=4096):
    """float32 array (..., n) -> uint8 array (..., row_bytes(t, n))."""
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[-1]
    rb = row_bytes(t, n)
    rows = x.reshape(-1, n)
    if t == F32:
        out = rows.astype("<f4").view(np.uint8)
    elif t == F16:
        out = rows.astype("<f2").view(np.uint8)
    elif t == BF16:
        out = _bf16(rows).view(np.uint8)
    else:
        blk = BLOCK[t][0]
        out = np.empty((rows.shape[0], rb), np.uint8)
        for r0 in range(0, rows.shape[0], chunk_rows):   # bounded temporaries on big tensors
            part = rows[r0:r0 + chunk_rows]
            out[r0:r0 + part.shape[0]] = _BLOCK_FN[t](part.reshape(-1, blk)).reshape(part.shape[0], rb)
    return out.reshape(x.shape[:-1] + (rb,))


# ---------------------------------------------------------------- dequantization (self-tests)

def _f16(b):
    return np.ascontiguousarray(b).view("<f2").astype(np.float32)[..., 0]


def _unpack_halves(qs):
    return np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int32)


def _k_get_scales(s):
    ls = np.concatenate([s[:, 0:4] & 63, (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)], axis=1)
    lm = np.concatenate([s[:, 4:8] & 63, (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)], axis=1)
    return ls.astype(np.float32), lm.astype(np.float32)


def dequantize(t, data, n):
    """uint8 rows (..., row_bytes) -> float32 (..., n)."""
    data = np.asarray(data, np.uint8)
    lead = data.shape[:-1]
    if t == F32:
        return data.reshape(-1).view("<f4").astype(np.float32).reshape(lead + (n,))
    if t == F16:
        return data.reshape(-1).view("<f2").astype(np.float32).reshape(lead + (n,))
    if t == BF16:
        u = data.reshape(-1).view("<u2").astype(np.uint32) << 16
        return u.view(np.float32).reshape(lead + (n,))
    blk, size = BLOCK[t]
    b = data.reshape(-1, size)
    if t == Q8_0:
        y = _f16(b[:, 0:2])[:, None] * b[:, 2:].view(np.int8)
    elif t in (Q4_0, Q4_1):
        off = 2 if t == Q4_0 else 4
        q = _unpack_halves(b[:, off:])
        y = _f16(b[:, 0:2])[:, None] * (q - 8) if t == Q4_0 else \
            _f16(b[:, 0:2])[:, None] * q + _f16(b[:, 2:4])[:, None]
    elif t in (Q5_0, Q5_1):
        off = 2 if t == Q5_0 else 4
        qh = b[:, off:off + 4].copy().view("<u4")[:, 0]
        hi = ((qh[:, None] >> np.arange(32, dtype=np.uint32)) & 1).astype(np.int32) << 4
        q = _unpack_halves(b[:, off + 4:]) | hi
        y = _f16(b[:, 0:2])[:, None] * (q - 16) if t == Q5_0 else \
            _f16(b[:, 0:2])[:, None] * q + _f16(b[:, 2:4])[:, None]
    elif t in (Q4_K, Q5_K):
        d, dmin = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        ls, lm = _k_get_scales(b[:, 4:16])
        qs = b[:, 16:144] if t == Q4_K else b[:, 48:176]
        qs = qs.reshape(-1, 4, 32)
        q = np.stack([qs & 15, qs >> 4], axis=2).astype(np.int32)   # (k, 4, 2, 32)
        if t == Q5_K:
            qh = b[:, 16:48]
            sh = np.arange(8).reshape(4, 2)
            q |= (((qh[:, None, None, :] >> sh[None, :, :, None]) & 1) << 4).astype(np.int32)
        q = q.reshape(-1, 8, 32)
        y = d[:, None, None] * ls[:, :, None] * q - dmin[:, None, None] * lm[:, :, None]
    elif t == Q6_K:
        ql, qh, sc = b[:, 0:128].reshape(-1, 2, 64), b[:, 128:192].reshape(-1, 2, 32), b[:, 192:208].view(np.int8)
        d = _f16(b[:, 208:210])
        q = np.stack([(ql[:, :, :32] & 15) | (((qh >> 0) & 3) << 4),
                      (ql[:, :, 32:] & 15) | (((qh >> 2) & 3) << 4),
                      (ql[:, :, :32] >> 4) | (((qh >> 4) & 3) << 4),
                      (ql[:, :, 32:] >> 4) | (((qh >> 6) & 3) << 4)], axis=2).astype(np.int32) - 32
        y = d[:, None, None] * sc.reshape(-1, 16, 1).astype(np.float32) * q.reshape(-1, 16, 16)
    else:
        raise ValueError("type %d" % t)
    return y.astype(np.float32).reshape(lead + (n,))

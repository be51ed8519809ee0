"""Self-test of our quantizers: each layout decodes back close to its input (error bounded by
the format's step), sizes match ggml's block sizes, and hand-made blocks decode as ggml's do."""
import sys

import numpy as np

import ggml_quants as Q

# Max error relative to the row's absmax: half a step, or a whole step at the clipped end of
# the symmetric formats (Q4_0/Q5_0 map the opposite-sign extreme to -7/8 or -15/16 of it).
TOL = {"F32": 0, "F16": 1e-3, "BF16": 8e-3, "Q8_0": 0.005, "Q4_0": 0.13, "Q4_1": 0.08, "Q5_0": 0.065,
       "Q5_1": 0.04, "Q4_K": 0.1, "Q5_K": 0.05, "Q6_K": 0.03}


def main():
    rng = np.random.default_rng(1)
    ok = True
    x = rng.standard_normal((8, 512)).astype(np.float32)
    x[3] *= 0          # all-zero row
    x[4, :256] += 3    # offset sub-blocks (mins)
    for name, tol in TOL.items():
        t = Q.type_id(name)
        data = Q.quantize(t, x)
        y = Q.dequantize(t, data, 512)
        err = np.abs(y - x).max(axis=1) / np.maximum(np.abs(x).max(axis=1), 1e-9)
        good = data.shape == (8, Q.row_bytes(t, 512)) and err.max() <= tol and not np.isnan(y).any()
        print("%s quant_roundtrip_%s: max rel err %.4f (bound %g)" % ("PASS" if good else "FAIL", name, err.max(), tol))
        ok &= good
    # Hand-made Q4_0 block: d=0.5 (fp16 0x3800), nibbles 0..15 -> (q-8)*0.5
    blk = np.zeros(18, np.uint8)
    blk[0:2] = [0x00, 0x38]
    blk[2:] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    y = Q.dequantize(Q.Q4_0, blk, 32)
    want = np.concatenate([(np.arange(16) - 8) * 0.5, (np.arange(16)[::-1] - 8) * 0.5])
    good = np.array_equal(y, want)
    print("%s quant_q4_0_handmade" % ("PASS" if good else "FAIL"))
    ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

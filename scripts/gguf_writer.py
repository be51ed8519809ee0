"""Minimal GGUF v3 writer (metadata, tensor infos, aligned data), written for llmbox's tools.

Tensors are given with a producer callback so big models are generated, quantized and
written one tensor at a time (memory stays at one tensor). Layout of the file:
  magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, KV pairs, tensor infos,
  padding to `general.alignment` (32), tensor data (each tensor aligned).
Shapes are given the numpy way (rows, cols); GGUF stores dims innermost first.
"""
import struct

import numpy as np

import ggml_quants as Q

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# GGUF metadata value types.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, \
    T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)

_SCALAR_FMT = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I",
               T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q",
               T_FLOAT64: "<d"}
_ARRAY_DTYPE = {T_UINT8: "<u1", T_INT8: "<i1", T_UINT16: "<u2", T_INT16: "<i2", T_UINT32: "<u4",
                T_INT32: "<i4", T_FLOAT32: "<f4", T_BOOL: "<u1", T_UINT64: "<u8", T_INT64: "<i8",
                T_FLOAT64: "<f8"}


def _pad(n, align=ALIGNMENT):
    return (align - n % align) % align


def _str(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


class Val:
    """A typed metadata value: Val(T_UINT32, 5), Val(T_ARRAY, [..], elem=T_STRING)."""

    def __init__(self, vtype, value, elem=None):
        self.vtype, self.value, self.elem = vtype, value, elem


def _infer(value):
    if isinstance(value, Val):
        return value
    if isinstance(value, bool):
        return Val(T_BOOL, value)
    if isinstance(value, int):
        return Val(T_UINT32 if 0 <= value < 2**32 else T_INT64, value)
    if isinstance(value, float):
        return Val(T_FLOAT32, value)
    if isinstance(value, str):
        return Val(T_STRING, value)
    raise TypeError("cannot infer GGUF type of %r" % (value,))


def encode_value(v):
    """Bytes of a value without its type tag (the caller writes the tag)."""
    if v.vtype == T_STRING:
        return _str(v.value)
    if v.vtype == T_ARRAY:
        items = v.value
        head = struct.pack("<IQ", v.elem, len(items))
        if v.elem == T_STRING:
            return head + b"".join(_str(s) for s in items)
        if v.elem == T_ARRAY:
            raise ValueError("nested arrays are not written by this tool")
        return head + np.asarray(items).astype(_ARRAY_DTYPE[v.elem]).tobytes()
    return struct.pack(_SCALAR_FMT[v.vtype], v.value)


class Tensor:
    def __init__(self, name, shape, ggml_type, produce):
        """shape: numpy order (outer..inner); produce(): float32 array of that shape."""
        self.name, self.shape, self.type, self.produce = name, tuple(shape), ggml_type, produce
        self.nbytes = Q.row_bytes(ggml_type, self.shape[-1]) * int(np.prod(self.shape[:-1], dtype=np.int64))


class GGUFWriter:
    def __init__(self, path):
        self.path = path
        self.kv = []        # (key, Val)
        self.tensors = []   # Tensor

    def add(self, key, value):
        self.kv.append((key, _infer(value)))

    def add_array(self, key, elem, items):
        self.kv.append((key, Val(T_ARRAY, list(items), elem)))

    def add_tensor(self, name, shape, ggml_type, produce):
        self.tensors.append(Tensor(name, shape, ggml_type, produce))

    def header_bytes(self):
        out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))]
        for key, v in self.kv:
            out.append(_str(key) + struct.pack("<I", v.vtype) + encode_value(v))
        off = 0
        for t in self.tensors:
            dims = list(reversed(t.shape))
            out.append(_str(t.name) + struct.pack("<I", len(dims)) +
                       struct.pack("<%dQ" % len(dims), *dims) + struct.pack("<IQ", t.type, off))
            off += t.nbytes + _pad(t.nbytes)
        head = b"".join(out)
        return head + b"\0" * _pad(len(head))

    def write(self, progress=None):
        with open(self.path, "wb") as f:
            f.write(self.header_bytes())
            for t in self.tensors:
                data = Q.quantize(t.type, np.ascontiguousarray(t.produce(), dtype=np.float32))
                if data.nbytes != t.nbytes:
                    raise AssertionError("%s: %d bytes, expected %d" % (t.name, data.nbytes, t.nbytes))
                f.write(data.tobytes())
                f.write(b"\0" * _pad(t.nbytes))
                if progress:
                    progress(t)

"""Writes test fixtures as safetensors with numpy alone (independent of Discern's own writer)."""
import json, struct
import numpy as np

_DT = {np.float32: "F32", np.float64: "F64", np.int64: "I64", np.int32: "I32", np.uint8: "U8"}

def save(path, arrays, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        if a.dtype == np.float64 and not k.endswith(".f64"):
            a = a.astype(np.float32)
        dt = _DT[a.dtype.type]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)

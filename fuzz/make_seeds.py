#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<harness>/), each file a few KB at most.

Run with Debian's /usr/bin/python3 (PIL, numpy) from the repository root: `fuzz/make_seeds.py`.
Seeds are valid or nearly valid files of every shape the readers know, so mutations start deep inside
the parsers: copies of the committed weight/vision fixtures plus a few extra encodings made here.
"""
import io, json, os, shutil, struct
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
FIX = os.path.join(ROOT, "Tests", "Fixtures")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    assert len(data) <= 8192, (name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(harness, *paths):
    for p in paths:
        with open(os.path.join(FIX, p), "rb") as f:
            put(harness, os.path.basename(p), f.read())


def safetensors(tensors, metadata=None):
    """tensors: {name: (dtype string, shape, raw bytes)}; the layout of the safetensors spec."""
    header, blobs, off = {}, [], 0
    for k, (dt, shape, raw) in tensors.items():
        header[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def safetensor_seeds():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    yield "f32.safetensors", safetensors({"w": ("F32", [2, 3], a.tobytes())}, {"format": "pt"})
    yield "f16_bf16.safetensors", safetensors({
        "h": ("F16", [3], np.array([1, -2, 0.5], np.float16).tobytes()),
        "b": ("BF16", [2], (np.array([1.5, -3], np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes())})
    yield "ints.safetensors", safetensors({
        "l": ("I64", [2], np.array([7, -1], np.int64).tobytes()),
        "i": ("I32", [1, 2], np.array([3, 4], np.int32).tobytes()),
        "u": ("U8", [4], bytes([0, 1, 128, 255]))})
    yield "f64_scalar_empty.safetensors", safetensors({
        "d.f64": ("F64", [], np.array([3.25], np.float64).tobytes()),
        "e": ("F32", [0, 4], b"")})
    yield "header_only.safetensors", safetensors({}, {"k": "v"})


def image_seeds():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8), "RGB")
    b = io.BytesIO(); rgb.save(b, "JPEG", quality=80, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00")
    yield "exif.jpg", b.getvalue()
    b = io.BytesIO(); rgb.save(b, "JPEG", quality=50, subsampling=1, optimize=True)
    yield "rgb422_optimized.jpg", b.getvalue()
    b = io.BytesIO(); rgb.resize((20, 18)).save(b, "JPEG", quality=70, progressive=True, subsampling=2)
    yield "rgb420_progressive.jpg", b.getvalue()
    b = io.BytesIO(); rgb.save(b, "PNG", pnginfo=_text_chunk())
    yield "text_chunk.png", b.getvalue()
    b = io.BytesIO(); rgb.convert("P").save(b, "PNG", optimize=True)
    yield "palette8.png", b.getvalue()


def _text_chunk():
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "discern fuzz seed")
    info.add_itxt("Title", "seed", zip=True)
    return info


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    copy("weightfile", "weights/small_zip.pth", "weights/small_legacy.pth", "weights/small_expected.safetensors",
         "weights/nested_model_legacy.pth", "weights/short_storage_zip.pth", "weights/truncated_storage_legacy.pth",
         "weights/evil_system_legacy.pth")
    copy("safetensors", "weights/small_expected.safetensors")
    for n, d in safetensor_seeds():
        put("safetensors", n, d)
        put("weightfile", n, d)
    synth = sorted(os.listdir(os.path.join(FIX, "vision", "synthetic")))
    copy("image", *[os.path.join("vision", "synthetic", n) for n in synth])
    copy("image", "vision/bad/bad_crc.png", "vision/bad/truncated_scan.jpg", "vision/bad/huge.png")
    for n, d in image_seeds():
        put("image", n, d)
    for h in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, h))
        total = sum(os.path.getsize(os.path.join(OUT, h, f)) for f in files)
        print(f"{h}: {len(files)} seeds, {total} bytes")

#!/usr/bin/python3
"""16-bit PNG references, written with numpy + zlib (PIL cannot write 16-bit RGB).

Each file's expected image is numpy's `>> 8` of its 16-bit samples (libpng's png_set_strip_16: the high byte,
the 8-bit image a viewer shows), gray replicated to RGB, alpha dropped; the 8-bit files beside them (gray, RGB,
palette) expect their samples unchanged.

    /usr/bin/python3 tools/make_png16_fixtures.py
        writes Tests/Fixtures/vision/png16/*.png and Tests/Fixtures/vision/png16.safetensors (run from the repo root)
    /usr/bin/python3 tools/make_png16_fixtures.py --photo JPEG OUTDIR
        run by the tests: PIL's 8-bit decode of a real photo, written as 16-bit gray, gray+alpha, RGB and RGBA
        PNGs scaled by 257 (v * 257 = v in both bytes) and as v * 256 + a random low byte (only the high byte is
        v), and the 8-bit arrays in OUTDIR/photo.safetensors
"""
import os, struct, sys, zlib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = "Tests/Fixtures/vision"
COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}   # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(samples, interlace=False, palette=None):
    """samples: HxWxC uint8 or uint16 (C 1-4), or HxW palette indices with `palette` (Nx3 uint8)."""
    if palette is not None:
        h, w = samples.shape
        depth, ctype, raw = 8, 3, samples.astype(np.uint8)[..., None]
    else:
        h, w, c = samples.shape
        depth, ctype = (16, COLOR_TYPE[c]) if samples.dtype == np.uint16 else (8, COLOR_TYPE[c])
        raw = samples.astype(">u2" if depth == 16 else np.uint8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    rows = []
    for x0, y0, dx, dy in passes:
        sub = raw[y0::dy, x0::dx]
        if sub.size:
            rows += [b"\x00" + row.tobytes() for row in sub]   # filter type 0 (None) on every row
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace)))
    if palette is not None:
        out += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    return out + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")


def viewer_rgb(samples):
    """What the decoder must give: the high byte of 16-bit samples, gray as RGB, alpha dropped."""
    v = (samples >> 8).astype(np.uint8) if samples.dtype == np.uint16 else samples.astype(np.uint8)
    return np.repeat(v[..., :1], 3, axis=2) if v.shape[2] <= 2 else v[..., :3]


def fixtures():
    rng = np.random.RandomState(16)
    cases = {}
    for name, channels in [("gray16", 1), ("gray_alpha16", 2), ("rgb16", 3), ("rgba16", 4)]:
        v = rng.randint(0, 65536, (7, 13, channels)).astype(np.uint16)
        # The edges of each byte: 255 (high byte 0, what a low-byte decoder shows as white), 256, 65535, 0.
        v[0, :4, :] = np.array([255, 256, 65535, 0], np.uint16)[:, None]
        cases[name + ".png"] = (png(v), viewer_rgb(v))
    v = rng.randint(0, 65536, (11, 9, 3)).astype(np.uint16)
    cases["rgb16_interlaced.png"] = (png(v, interlace=True), viewer_rgb(v))
    g = rng.randint(0, 65536, (10, 10, 1)).astype(np.uint16)
    cases["gray16_interlaced.png"] = (png(g, interlace=True), viewer_rgb(g))
    # 8-bit files decode unchanged.
    for name, channels in [("gray8", 1), ("rgb8", 3), ("rgba8", 4)]:
        v = rng.randint(0, 256, (6, 5, channels)).astype(np.uint8)
        cases[name + ".png"] = (png(v), viewer_rgb(v))
    palette = rng.randint(0, 256, (7, 3)).astype(np.uint8)
    index = rng.randint(0, 7, (5, 8))
    cases["palette8.png"] = (png(index, palette=palette), palette[index])

    os.makedirs(f"{OUT}/png16", exist_ok=True)
    expected = {}
    for name, (data, want) in sorted(cases.items()):
        with open(f"{OUT}/png16/{name}", "wb") as f:
            f.write(data)
        expected[name] = want
        print(f"{name:24s} {len(data):5d} bytes -> {want.shape}")
    save(f"{OUT}/png16.safetensors", expected, {"rule": "numpy >> 8 of the 16-bit samples; gray -> RGB; alpha dropped"})


def photo(jpeg, out_dir):
    from PIL import Image
    im = Image.open(jpeg)
    rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    gray = np.asarray(im.convert("L"), dtype=np.uint8)[..., None]
    rng = np.random.RandomState(257)
    alpha = rng.randint(0, 65536, rgb.shape[:2] + (1,)).astype(np.uint16)
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    def noisy(v):
        return v.astype(np.uint16) * 256 + rng.randint(0, 256, v.shape).astype(np.uint16)
    for suffix, widen in [("", lambda v: v.astype(np.uint16) * 257), ("_low_noise", noisy)]:
        wide_rgb, wide_gray = widen(rgb), widen(gray)
        files.update({f"photo_gray16{suffix}.png": wide_gray,
                      f"photo_gray_alpha16{suffix}.png": np.concatenate([wide_gray, alpha], 2),
                      f"photo_rgb16{suffix}.png": wide_rgb,
                      f"photo_rgba16{suffix}.png": np.concatenate([wide_rgb, alpha], 2)})
    for name, samples in files.items():
        assert (viewer_rgb(samples) == (np.repeat(gray, 3, 2) if samples.shape[2] <= 2 else rgb)).all()
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(png(samples))
    save(os.path.join(out_dir, "photo.safetensors"), {"rgb": rgb, "gray": np.repeat(gray, 3, axis=2)},
         {"source": jpeg})


if __name__ == "__main__":
    if sys.argv[1:2] == ["--photo"]:
        photo(sys.argv[2], sys.argv[3])
    else:
        fixtures()

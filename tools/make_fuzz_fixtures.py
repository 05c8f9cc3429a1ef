#!/usr/bin/python3
"""Decoder edge cases for issue 9 item 3 not covered by Tests/Fixtures/vision/bad (truncation at every
stage, missing/extra trailers, zero-sized headers, corrupt deflate, the reverse wrong extension), each
with PIL's verdict: Tests/Fixtures/fuzz/image/* and image_verdicts.safetensors (metadata name -> "refused: <PIL
error>" or "decoded"; tensors name -> PIL's convert('RGB') pixels, HWC uint8).
Run with Debian's /usr/bin/python3 from the repository root."""
import io, os, struct, sys, zlib
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "Fixtures", "fuzz", "image")


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def png(w, h, rows, ihdr_wh=None):
    ihdr = struct.pack(">IIBBBBB", *(ihdr_wh or (w, h)), 8, 2, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + r.tobytes() for r in rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr), chunk(b"IDAT", idat), chunk(b"IEND", b"")


def cases():
    yy, xx = np.mgrid[0:6, 0:8]
    rgb = np.stack([xx * 30, yy * 40, (xx + yy) * 15], -1).astype(np.uint8)
    head, idat, iend = png(8, 6, rgb)
    good = head + idat + iend
    bad_zlib = bytearray(zlib.compress(b"".join(b"\x00" + r.tobytes() for r in rgb)))
    bad_zlib[len(bad_zlib) // 2] ^= 0xFF
    c = {
        "png_signature_only.png": good[:8],
        "png_cut_in_ihdr.png": good[:20],
        "png_header_only.png": head,
        "png_cut_in_idat.png": head + idat[: len(idat) // 2],
        "png_no_iend.png": head + idat,
        "png_trailing_junk.png": good + b"trailing bytes that are not a chunk",
        "png_corrupt_deflate.png": head + chunk(b"IDAT", bytes(bad_zlib)) + iend,
        "png_zero_width.png": png(8, 6, rgb, ihdr_wh=(0, 6))[0] + idat + iend,
        "text_named.png": b"just some text, saved with a .png name\n",
    }
    b = io.BytesIO(); Image.fromarray(rgb).save(b, "JPEG", quality=90); jpg = b.getvalue()
    b = io.BytesIO(); Image.fromarray(rgb).resize((24, 18)).save(b, "JPEG", quality=90, progressive=True); prog = b.getvalue()
    sof = jpg.index(b"\xff\xc0")
    c.update({
        "jpeg_soi_only.jpg": jpg[:2],
        "jpeg_cut_before_scan.jpg": jpg[: jpg.index(b"\xff\xda")],
        "jpeg_progressive_cut.jpg": prog[: len(prog) * 6 // 10],
        "jpeg_no_eoi.jpg": jpg[:-2],
        "jpeg_trailing_junk.jpg": jpg + b"\x00junk after the end-of-image marker",
        "jpeg_zero_height.jpg": jpg[: sof + 5] + struct.pack(">H", 0) + jpg[sof + 7:],
        "jpeg_named.png": jpg,
    })
    return c


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    verdicts, pixels = {}, {}
    for name, data in cases().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        try:
            a = np.asarray(Image.open(os.path.join(OUT, name)).convert("RGB"))
            verdicts[name], pixels[name] = "decoded", a
        except BaseException as e:
            verdicts[name] = f"refused: {type(e).__name__}: {e}".replace(os.path.join(OUT, name), name)
        print(f"{name:28s} {len(data):5d} B  PIL {verdicts[name]}")
    save(os.path.join(OUT, "image_verdicts.safetensors"), pixels, verdicts)

#!/usr/bin/python3
"""EXIF orientation fixtures from PIL 9.4 (run with /usr/bin/python3 from the repo root).

Writes Tests/Fixtures/vision/orientation/: one small non-square JPEG per EXIF orientation 1-8 (little-endian
EXIF as PIL writes it), the same orientations in big-endian EXIF with other tags before Orientation, a PNG with an
eXIf chunk, a JPEG whose EXIF block is cut short, a larger quarter-turned JPEG decoded at a quarter size, and orientation.safetensors holding what
`ImageOps.exif_transpose(Image.open(f)).convert('RGB')` gives for each file (the upright pixels).
"""
import io, os, struct, sys
import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import save

OUT = "Tests/Fixtures/vision/orientation"


def big_endian_exif(orientation):
    """A hand-written big-endian ("MM") TIFF block: ImageWidth (LONG), Make (ASCII, by offset), Orientation."""
    make = b"Discern\0"
    entries = [(0x0100, 4, 1, struct.pack(">I", 13)),
               (0x010F, 2, len(make), None),
               (0x0112, 3, 1, struct.pack(">HH", orientation, 0))]
    ifd_size = 2 + 12 * len(entries) + 4
    make_offset = 8 + ifd_size
    body = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        body += struct.pack(">HHI", tag, kind, count) + (value if value else struct.pack(">I", make_offset))
    body += struct.pack(">I", 0)
    return b"Exif\0\0" + b"MM\0\x2a" + struct.pack(">I", 8) + body + make


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    # Smooth enough that JPEG keeps it recognisable, asymmetric so every transpose differs.
    y, x = np.mgrid[0:9, 0:14]
    base = np.stack([x * 18, y * 28, (x * y) % 256], -1).astype(np.uint8)
    base = np.clip(base.astype(int) + rng.integers(0, 20, base.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(base)
    files = {}
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        buffer = io.BytesIO(); image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
        files[f"little_{orientation}.jpg"] = buffer.getvalue()
        buffer = io.BytesIO(); image.save(buffer, "JPEG", quality=95, exif=big_endian_exif(orientation))
        files[f"big_{orientation}.jpg"] = buffer.getvalue()
    exif = Image.Exif(); exif[0x0112] = 6
    buffer = io.BytesIO(); image.save(buffer, "PNG", exif=exif.tobytes())
    files["png_6.png"] = buffer.getvalue()
    # An EXIF block cut off inside its directory: PIL finds no orientation and leaves the image as stored.
    cut = big_endian_exif(6)[:6 + 8 + 2 + 12]
    buffer = io.BytesIO(); image.save(buffer, "JPEG", quality=95, exif=cut)
    files["cut_exif.jpg"] = buffer.getvalue()

    expected, meta = {}, {}
    for name, data in sorted(files.items()):
        open(f"{OUT}/{name}", "wb").write(data)
        opened = Image.open(f"{OUT}/{name}")
        meta[name] = str(opened.getexif().get(0x0112, 1))
        expected[name] = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"), dtype=np.uint8)
    # A larger photo-like image turned a quarter, for libjpeg's DCT-scaled decoding: PIL's draft() at a quarter of
    # the stored size, then the transpose (ImageCodec's minSize names the upright size).
    y, x = np.mgrid[0:240, 0:400]
    large = np.stack([(x * 255) // 400, (y * 255) // 240, ((x + y) * 3) % 256], -1).astype(np.uint8)
    exif = Image.Exif(); exif[0x0112] = 6
    Image.fromarray(large).save(f"{OUT}/large_6.jpg", "JPEG", quality=90, exif=exif.tobytes())
    draft = Image.open(f"{OUT}/large_6.jpg"); draft.draft("RGB", (100, 60))
    expected["large_6.jpg@draft"] = np.asarray(ImageOps.exif_transpose(draft).convert("RGB"), dtype=np.uint8)
    meta["large_6.jpg@draft"] = "upright minimum 60,100"
    save(f"{OUT}/../orientation.safetensors", expected, meta)
    print({k: (v.shape, meta[k]) for k, v in expected.items()})


if __name__ == "__main__":
    main()

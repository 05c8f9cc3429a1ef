#!/usr/bin/python3
"""Images in formats Discern does not decode, written by PIL 9.4 (run with /usr/bin/python3 from the repo root).

Writes Tests/Fixtures/vision/other/: one small picture saved by PIL as WebP, GIF, BMP and TIFF (both byte
orders), each file named for the format PIL wrote; PIL reopens each file and must name the same format."""
import os
import numpy as np
from PIL import Image

OUT = "Tests/Fixtures/vision/other"

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    picture = Image.fromarray((np.mgrid[0:8, 0:8, 0:3].sum(0) * 20).astype(np.uint8))
    # PIL writes TIFF little-endian ("II"); a 16-bit big-endian picture gives the other byte order ("MM").
    big_endian = Image.fromarray(np.asarray(picture.convert("L"), dtype=">u2") * 257, "I;16B")
    files = [("picture.webp", picture, "WEBP"), ("picture.gif", picture, "GIF"), ("picture.bmp", picture, "BMP"),
             ("picture-little-endian.tiff", picture, "TIFF"), ("picture-big-endian.tif", big_endian, "TIFF")]
    for name, image, format in files:
        path = os.path.join(OUT, name)
        image.save(path, format)
        reopened = Image.open(path)
        assert reopened.format == format, (name, reopened.format)
        print(name, reopened.format, open(path, "rb").read(4), os.path.getsize(path), "bytes")

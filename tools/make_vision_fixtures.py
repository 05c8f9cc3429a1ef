#!/usr/bin/python3
"""Vision fixtures from PIL 9.4 + torchvision 0.14 (run with /usr/bin/python3 from the repo root).

Writes Tests/Fixtures/vision/: photo_*.safetensors (real photos: PIL decode, Resize, random transforms with
the parameters torchvision sampled, Normalize), synthetic/ (odd formats + PIL's convert('RGB')),
bad/ (files PIL refuses) and fallback.safetensors (RandomResizedCrop's centre-crop fallback)."""
import io, os, struct, sys, zlib, glob
import numpy as np
import torch
from PIL import Image
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

sys.path.insert(0, os.path.dirname(__file__))
from data_paths import datasets
from fixture_io import save

OUT = "Tests/Fixtures/vision"
DATA = os.path.join(datasets(), "cats-and-dogs")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def arr(im):
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def pick_photos():
    """Six photos of different shapes: largest, smallest, most portrait, most landscape, odd×odd, square-ish."""
    files = sorted(glob.glob(f"{DATA}/*/*/*.jpg"))[:600]
    sizes = {f: Image.open(f).size for f in files}
    chosen = []
    def add(key, rev=False):
        for f in sorted(files, key=key, reverse=rev):
            if f not in chosen:
                chosen.append(f); return
    add(lambda f: sizes[f][0] * sizes[f][1], rev=True)
    add(lambda f: sizes[f][0] * sizes[f][1])
    add(lambda f: sizes[f][1] / sizes[f][0], rev=True)
    add(lambda f: sizes[f][0] / sizes[f][1], rev=True)
    add(lambda f: (sizes[f][0] % 2 == 0) + (sizes[f][1] % 2 == 0) + abs(sizes[f][0] - 400) / 1e4)
    add(lambda f: abs(sizes[f][0] / sizes[f][1] - 1.0))
    return chosen


def photo_fixture(idx, path, with_random):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    a = {"decoded_rows7": arr(im)[::7]}
    a["resize224"] = arr(F.resize(im, [224, 224], InterpolationMode.BILINEAR))
    meta = {"path": os.path.relpath(path, os.path.dirname(DATA)), "width": w, "height": h}
    if idx == 0:  # eval-style Resize(256) shorter side + CenterCrop(224), and odd CenterCrop sizes with padding
        r = F.resize(im, 256, InterpolationMode.BILINEAR)
        a["resize256"] = arr(r)[::5]
        meta["resize256_size"] = f"{r.size[0]},{r.size[1]}"
        a["center224"] = arr(F.center_crop(r, [224, 224]))[::4]
        a["center_pad"] = arr(F.center_crop(F.resize(im, [50, 61]), [57, 80]))
        # libjpeg DCT-scaled decoding through PIL's draft(): the reference for ImageCodec's minSize.
        d = Image.open(path); d.draft("RGB", (w // 4, h // 4))
        a["draft_quarter"] = arr(d)
        meta["draft_request"] = f"{w // 4},{h // 4}"
    if with_random:
        torch.manual_seed(1000 + idx)
        angle = T.RandomRotation.get_params([-20.0, 20.0])
        rot = F.rotate(im, angle, InterpolationMode.NEAREST, False, None, 0)
        a["rot_rows8"] = arr(rot)[::8]
        i, j, ch, cw = T.RandomResizedCrop.get_params(rot, scale=[0.8, 1.0], ratio=[3 / 4, 4 / 3])
        rrc = F.resized_crop(rot, i, j, ch, cw, [224, 224], InterpolationMode.BILINEAR)
        a["rrc_rows2"] = arr(rrc)[::2]
        flip = F.hflip(rrc)
        a["flip_rows4"] = arr(flip)[::4]
        ang, tr, sc, sh = T.RandomAffine.get_params([0.0, 0.0], None, [0.8, 1.2], [-10.0, 10.0], list(flip.size))
        aff = F.affine(flip, ang, list(tr), sc, list(sh), interpolation=InterpolationMode.NEAREST, fill=0)
        a["affine_rows2"] = arr(aff)[::2]
        # The affine step alone on the original photo too (non-square input, larger shear).
        aff2 = F.affine(im, 0.0, [0, 0], 0.9, [-9.5, 0.0], interpolation=InterpolationMode.NEAREST, fill=0)
        a["affine_full_rows8"] = arr(aff2)[::8]
        t = F.normalize(F.to_tensor(aff), MEAN, STD)
        a["normalized_rows0_16"] = t[:, :16, :].numpy().astype(np.float32)
        meta.update(angle=repr(angle), rrc=f"{i},{j},{ch},{cw}", affine_angle=repr(ang), affine_scale=repr(sc),
                    affine_shear=f"{sh[0]!r},{sh[1]!r}")
    save(f"{OUT}/photo_{idx}.safetensors", a, meta)
    print(path, im.size, {k: v.shape for k, v in a.items()})


def png_bytes(w, h, depth, ctype, raw_rows, crc_ok=True, interlace=0):
    """A PNG written by hand (PIL cannot write 16-bit RGB); crc_ok=False breaks the IHDR checksum."""
    def chunk(t, d, good=True):
        c = zlib.crc32(t + d) & 0xFFFFFFFF
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", c if good else c ^ 0x1)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    idat = zlib.compress(b"".join(b"\x00" + r for r in raw_rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr, crc_ok) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def ycck_jpeg(cmyk):
    """A YCCK JPEG (PIL cannot write one): TurboJPEG compresses CMYK pixels as YCCK, via ctypes."""
    import ctypes
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    h = tj.tjInitCompress()
    buf, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    src = np.ascontiguousarray(cmyk)
    TJPF_CMYK, TJSAMP_444 = 11, 0
    rc = tj.tjCompress2(ctypes.c_void_p(h), src.ctypes.data_as(ctypes.c_void_p), src.shape[1], 0, src.shape[0], TJPF_CMYK,
                        ctypes.byref(buf), ctypes.byref(size), TJSAMP_444, 92, 0)
    assert rc == 0
    data = bytes(buf[: size.value])
    tj.tjFree(buf); tj.tjDestroy(ctypes.c_void_p(h))
    return data


def synthetic():
    os.makedirs(f"{OUT}/synthetic", exist_ok=True)
    rng = np.random.RandomState(7)
    yy, xx = np.mgrid[0:37, 0:53]
    smooth = np.stack([(xx * 4) % 256, (yy * 6) % 256, (xx + yy) * 2 % 256], -1).astype(np.uint8)
    files = {}
    files["gray.jpg"] = ("JPEG", Image.fromarray(smooth[..., 0], "L"), {"quality": 90})
    files["rgb420_odd.jpg"] = ("JPEG", Image.fromarray(smooth), {"quality": 85})
    files["rgb444_progressive.jpg"] = ("JPEG", Image.fromarray(smooth), {"quality": 92, "subsampling": 0, "progressive": True})
    cmyk = np.concatenate([smooth, rng.randint(0, 256, (37, 53, 1)).astype(np.uint8)], -1)
    files["cmyk.jpg"] = ("JPEG", Image.fromarray(cmyk, "CMYK"), {"quality": 95})
    pal = Image.fromarray(smooth).quantize(16)
    pal.info["transparency"] = 3
    files["palette_trns.png"] = ("PNG", pal, {"transparency": 3})
    files["palette4bit.png"] = ("PNG", Image.fromarray(smooth).quantize(12), {"bits": 4})
    rgba = np.concatenate([smooth, rng.randint(0, 256, (37, 53, 1)).astype(np.uint8)], -1)
    files["rgba.png"] = ("PNG", Image.fromarray(rgba, "RGBA"), {})
    files["la.png"] = ("PNG", Image.fromarray(rgba[..., 1:3].copy(), "LA"), {})
    files["gray.png"] = ("PNG", Image.fromarray(smooth[..., 1], "L"), {})
    files["onebit.png"] = ("PNG", Image.fromarray(smooth[..., 0] > 100), {})
    files["one_pixel.jpg"] = ("JPEG", Image.fromarray(np.array([[[12, 200, 99]]], np.uint8)), {"quality": 90})
    files["one_pixel.png"] = ("PNG", Image.fromarray(np.array([[[12, 200, 99]]], np.uint8)), {})
    files["interlaced.png"] = ("PNG", Image.fromarray(smooth), {"interlace": 1})
    expected = {}
    for name, (fmt, im, kw) in files.items():
        b = io.BytesIO(); im.save(b, fmt, **kw); data = b.getvalue()
        open(f"{OUT}/synthetic/{name}", "wb").write(data)
    # 16-bit files PIL cannot write: raw PNGs built here (PIL reads them).
    v16 = (rng.randint(0, 65536, (9, 11, 3))).astype(">u2")
    open(f"{OUT}/synthetic/rgb16.png", "wb").write(png_bytes(11, 9, 16, 2, [r.tobytes() for r in v16]))
    g16 = np.concatenate([rng.randint(0, 300, (9, 5)), rng.randint(0, 65536, (9, 6))], 1).astype(">u2")
    open(f"{OUT}/synthetic/gray16.png", "wb").write(png_bytes(11, 9, 16, 0, [r.tobytes() for r in g16]))
    la16 = rng.randint(0, 65536, (9, 11, 2)).astype(">u2")
    open(f"{OUT}/synthetic/la16.png", "wb").write(png_bytes(11, 9, 16, 4, [r.tobytes() for r in la16]))
    rgba16 = rng.randint(0, 65536, (9, 11, 4)).astype(">u2")
    open(f"{OUT}/synthetic/rgba16.png", "wb").write(png_bytes(11, 9, 16, 6, [r.tobytes() for r in rgba16]))
    open(f"{OUT}/synthetic/ycck.jpg", "wb").write(ycck_jpeg(cmyk))
    meta = {}
    for f in sorted(os.listdir(f"{OUT}/synthetic")):
        im = Image.open(f"{OUT}/synthetic/{f}")
        expected[f] = arr(im)
        meta[f] = im.mode
        print(f, im.mode, im.size)
    save(f"{OUT}/synthetic.safetensors", expected, meta)


def bad():
    os.makedirs(f"{OUT}/bad", exist_ok=True)
    smooth = (np.mgrid[0:64, 0:64][0] * 3).astype(np.uint8)
    b = io.BytesIO(); Image.fromarray(np.stack([smooth] * 3, -1)).save(b, "JPEG", quality=90); jpg = b.getvalue()
    row = bytes(range(30)) * 1
    files = {
        "empty.jpg": b"",
        "truncated.jpg": jpg[: len(jpg) // 2],
        "truncated_scan.jpg": jpg[: len(jpg) * 9 // 10],
        "text.jpg": b"this is a text file, not a picture\n",
        "bad_crc.png": png_bytes(10, 1, 8, 2, [row], crc_ok=False),
        "huge.png": png_bytes(100000, 100000, 8, 2, [b""], crc_ok=True)[:-12],
        "huge.jpg": jpg.replace(struct.pack(">HH", 64, 64), struct.pack(">HH", 60000, 60000), 1),
    }
    reasons = {}
    for name, data in files.items():
        open(f"{OUT}/bad/{name}", "wb").write(data)
        try:
            Image.open(f"{OUT}/bad/{name}").convert("RGB"); reasons[name] = "PIL decoded it"
        except BaseException as e:
            reasons[name] = f"{type(e).__name__}: {e}"
        print(name, reasons[name])
    assert all(r != "PIL decoded it" for r in reasons.values())
    save(f"{OUT}/bad_reasons.safetensors", {"dummy": np.zeros(1, np.uint8)}, reasons)


def geometry():
    """PIL rotate/affine edge paths on a small synthetic image: transposes (0/90/180/270°, square and not),
    negative and >360° angles, and the pure-scaling affine engine (shear 0)."""
    im = Image.open(f"{OUT}/synthetic/interlaced.png").convert("RGB")
    sq = im.crop((0, 0, 37, 37))
    a = {}
    for name, img in [("rect", im), ("square", sq)]:
        for ang in [0.0, 90.0, 180.0, 270.0, -33.3, 401.5]:
            a[f"rotate_{name}_{ang}"] = arr(F.rotate(img, ang, InterpolationMode.NEAREST, False, None, 0))
        a[f"affine_scale_{name}"] = arr(F.affine(img, 0.0, [0, 0], 1.37, [0.0, 0.0], interpolation=InterpolationMode.NEAREST, fill=0))
        a[f"affine_shrink_{name}"] = arr(F.affine(img, 0.0, [0, 0], 0.61, [0.0, 0.0], interpolation=InterpolationMode.NEAREST, fill=0))
    save(f"{OUT}/geometry.safetensors", a)


def fallback():
    """RandomResizedCrop's deterministic fallback: with scale (2, 3) every try fails."""
    sizes = [(500, 375), (375, 500), (1000, 200), (200, 1000), (333, 331), (7, 3)]
    out = []
    for w, h in sizes:
        i, j, ch, cw = T.RandomResizedCrop.get_params(Image.new("RGB", (w, h)), scale=[2.0, 3.0], ratio=[3 / 4, 4 / 3])
        out.append([w, h, i, j, ch, cw])
    save(f"{OUT}/fallback.safetensors", {"cases": np.array(out, np.int64)})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for k, p in enumerate(pick_photos()):
        photo_fixture(k, p, with_random=k < 3)
    synthetic(); bad(); geometry(); fallback()

#!/usr/bin/python3
"""Shift proxies for developing the verdict without the hidden sets (run with /usr/bin/python3, PIL).

From the shared test images (class sub-folders kept) it writes, OUTSIDE the repository (default
/tmp/discern-shift), one folder per kind of shift that photos of the same classes meet elsewhere:

  jpeg/     re-encoded at JPEG quality 8-20
  lowres/   down-scaled to 32-64 px on the longer side, then back up to the original size
  thumb30/  30x30 px thumbnails (kept at 30 px, as small web thumbnails come)
  thumb30up/ 30x30 px thumbnails scaled back up to the original size (a thumbnail someone enlarged)
  elsewhere/ as another collection might store them: JPEG quality 35-90, a warmer or cooler colour temperature,
            another framing and aspect ratio (60-100% of each side kept), stored at 200-500 px
  blur/     Gaussian blur, radius 1.5-3.5 px at 224 px scale
  colour/   colour shifts: per-channel gains, saturation, brightness, contrast
  crop/     random crops keeping 35-60% of each side
  mixed/    two of the above in a row
  phone/    as phone cameras store portrait photos: the pixels turned a quarter and an EXIF orientation (6 or 8)
            telling viewers to turn them back (a reader that ignores EXIF sees the photo sideways)

and unknown proxies: `flowers-30px/`, the shared flower photos as 30x30 px thumbnails, and `flowers-lowres/`,
down-scaled to 32-64 px and back up.
These folders are for `discern evaluate --shifted/--unknown` only; nothing in a run reads them.

  tools/make_shift_proxies.py [--data ../shared/datasets] [--out /tmp/discern-shift] [--seed 0] [--kinds a,b]
"""
import argparse, io, os, random
from PIL import Image, ImageEnhance, ImageFilter


def jpeg(img, rng):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(8, 20))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def lowres(img, rng):
    side = rng.randint(32, 64)
    s = side / max(img.size)
    small = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BILINEAR)
    return small.resize(img.size, Image.BILINEAR)


def thumb30(img, rng):
    return img.resize((30, 30), Image.LANCZOS)


def thumb30up(img, rng):
    return img.resize((30, 30), Image.LANCZOS).resize(img.size, Image.BICUBIC)


def elsewhere(img, rng):
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    img = img.crop((x, y, x + cw, y + ch))
    s = rng.randint(200, 500) / max(img.size)
    img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.BICUBIC)
    warm = rng.uniform(-0.15, 0.15)          # colour temperature: red up and blue down, or the reverse
    r, g, b = img.split()
    img = Image.merge("RGB", [r.point(lambda v: min(255, int(v * (1 + warm)))), g,
                              b.point(lambda v: min(255, int(v * (1 - warm))))])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(35, 90))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def blur(img, rng):
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.5) * max(img.size) / 224))


def colour(img, rng):
    r, g, b = img.split()
    gains = [rng.uniform(0.7, 1.3) for _ in range(3)]
    img = Image.merge("RGB", [c.point(lambda v, k=k: min(255, int(v * k))) for c, k in zip((r, g, b), gains)])
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.3, 1.7))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.6, 1.4))
    return ImageEnhance.Contrast(img).enhance(rng.uniform(0.6, 1.4))


def crop(img, rng):
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.35, 0.6)), int(h * rng.uniform(0.35, 0.6))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


KINDS = {"jpeg": jpeg, "lowres": lowres, "thumb30": thumb30, "thumb30up": thumb30up, "elsewhere": elsewhere,
         "blur": blur, "colour": colour, "crop": crop}
MIXABLE = [jpeg, lowres, blur, colour, crop]


def mixed(img, rng):
    for f in rng.sample(MIXABLE, 2):
        img = f(img, rng)
    return img


KINDS["mixed"] = mixed


def phone(img, rng):
    """The stored image and its EXIF block: orientation 6 shows the stored pixels turned clockwise, 8 anticlockwise."""
    orientation = rng.choice([6, 8])
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = img.transpose(Image.ROTATE_90 if orientation == 6 else Image.ROTATE_270)
    return stored, exif.tobytes()


KINDS["phone"] = phone


def save(img, path):
    exif = b""
    if isinstance(img, tuple):
        img, exif = img
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(os.path.splitext(path)[0] + ".png" if img.width <= 64 else path, quality=95, exif=exif)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
    p.add_argument("--data", default=os.environ.get("DISCERN_DATASETS", root))
    p.add_argument("--out", default="/tmp/discern-shift")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds to write (default: all)")
    a = p.parse_args()
    unknown_kinds = set(a.kinds.split(",")) - set(KINDS)
    if unknown_kinds:
        raise SystemExit(f"--kinds: no such kind {', '.join(sorted(unknown_kinds))} (kinds: {', '.join(KINDS)})")
    repo = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if os.path.realpath(a.out).startswith(repo + os.sep):
        raise SystemExit(f"--out {a.out}: write the proxies outside the repository")
    test = os.path.join(a.data, "cats-and-dogs", "test_set")
    for kind, f in KINDS.items():
        if kind not in a.kinds.split(","):
            continue
        rng = random.Random(f"{a.seed}-{kind}")
        n = 0
        for cls in sorted(os.listdir(test)):
            for name in sorted(os.listdir(os.path.join(test, cls))):
                img = Image.open(os.path.join(test, cls, name)).convert("RGB")
                save(f(img, rng), os.path.join(a.out, kind, cls, name))
                n += 1
        print(f"{kind}: {n} images")
    flowers = os.path.join(a.data, "unknown", "flowers")
    rng = random.Random(f"{a.seed}-flowers-lowres")
    for name in sorted(os.listdir(flowers)):
        img = Image.open(os.path.join(flowers, name)).convert("RGB")
        save(img.resize((30, 30), Image.LANCZOS), os.path.join(a.out, "flowers-30px", name))
        save(lowres(img, rng), os.path.join(a.out, "flowers-lowres", name))
    print(f"flowers-30px, flowers-lowres: {len(os.listdir(flowers))} images each; written to {a.out}")


if __name__ == "__main__":
    main()

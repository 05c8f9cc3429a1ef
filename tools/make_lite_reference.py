#!/usr/bin/env python3
"""Test-time reference for EfficientNet-Lite1...Lite4 (nothing here is committed: the weights are tens of MB).

Usage: /usr/bin/python3 tools/make_lite_reference.py OUT_DIR

The reference is the library itself: efficientnet_lite_pytorch (PyPI efficientnet-lite-pytorch==0.1.0, which
scripts/setup --dev installs into ~/.cache/discern/python), with torch 1.13.
  OUT_DIR/lite1_photos.safetensors, lite2_...  real ImageNet weights (scripts/fetch-weights --backbones lite1,lite2)
      on the first three cat and three dog photos of cats-and-dogs/test_set: `images_nhwc` (PIL bilinear resize to
      the variant's side, uint8), `logits` [6, 1000]; metadata names the photos.
  OUT_DIR/lite1_photos_280.safetensors  the same for Lite1 built for 280-px input (`image_size=280`, what
      `--image-size 280` asks of Discern): its "same" padding and pooling follow the size.
  OUT_DIR/lite3_random.safetensors, lite4_...  the reference network with seeded random weights (BatchNorm
      statistics randomised too) as its state dict, plus `input.x` [1, 3, S, S] and `output.logits` [1, 1000].
"""
import os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data_paths import datasets, weight_file  # noqa: E402
from fixture_io import save  # noqa: E402
from batchnorm_random import randomize_bn  # noqa: E402

PACKAGES = os.path.join(os.path.expanduser("~"), ".cache", "discern", "python")
sys.path.insert(0, PACKAGES)
try:
    import torch
    from efficientnet_lite_pytorch import EfficientNet
except ImportError as error:
    sys.exit(f"make_lite_reference: {error}; run scripts/setup --dev (it installs efficientnet-lite-pytorch==0.1.0 "
             f"into {PACKAGES})")

SIDES = {"lite1": 240, "lite2": 260, "lite3": 280, "lite4": 300}
WEIGHTS = {"lite1": "efficientnet-lite1-77cc7160.pth", "lite2": "efficientnet-lite2-9656183e.pth"}


def photos():
    root = os.path.join(datasets(), "cats-and-dogs", "test_set")
    return [os.path.join(root, folder, name) for folder in ("cats", "dogs")
            for name in sorted(os.listdir(os.path.join(root, folder)))[:3]]


def real(variant, out_dir, side=None):
    from PIL import Image
    overrides = {"image_size": side} if side else {}
    model = EfficientNet.from_name("efficientnet-" + variant, **overrides).eval()
    model.load_state_dict(torch.load(weight_file(WEIGHTS[variant]), map_location="cpu"), strict=True)
    name = variant + "_photos" + (f"_{side}" if side else "")
    side = side or SIDES[variant]
    files = photos()
    images = np.stack([np.asarray(Image.open(f).convert("RGB").resize((side, side), Image.BILINEAR), dtype=np.uint8)
                       for f in files])
    x = (torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 - 127 / 255) / (128 / 255)
    with torch.no_grad():
        logits = model(x)
    save(os.path.join(out_dir, name + ".safetensors"), {"images_nhwc": images, "logits": logits.numpy()},
         {"photos": ",".join(os.path.relpath(f, datasets()) for f in files)})


def random(variant, out_dir):
    torch.manual_seed(11)
    model = EfficientNet.from_name("efficientnet-" + variant).eval()
    g = torch.Generator().manual_seed(12)
    randomize_bn(model, g)
    side = SIDES[variant]
    x = torch.randn(1, 3, side, side, generator=g)
    with torch.no_grad():
        logits = model(x)
    arrays = {k: v.numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    arrays.update({"input.x": x.numpy(), "output.logits": logits.numpy()})
    save(os.path.join(out_dir, variant + "_random.safetensors"), arrays)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for v in ("lite1", "lite2"):
        real(v, sys.argv[1])
    real("lite1", sys.argv[1], side=280)
    for v in ("lite3", "lite4"):
        random(v, sys.argv[1])

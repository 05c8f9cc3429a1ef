#!/usr/bin/python3
"""Reference fixtures for DiscernModels, made with PyTorch/torchvision (run with /usr/bin/python3).

  Tests/Fixtures/models/small_resnet_bottleneck.pth   narrow torchvision ResNet (Bottleneck, [1,2,1,1]), zip format
  Tests/Fixtures/models/small_resnet_bottleneck.safetensors  same weights + inputs, logits, d(logit)/d(layer4)
  Tests/Fixtures/models/small_resnet_basic.safetensors       narrow BasicBlock ResNet [1,1,1,1]: weights, inputs, logits
  Tests/Fixtures/models/resnet50_keys.txt              torchvision resnet50() state_dict "key shape" lines
  Tests/Fixtures/models/lite0_<photo>.safetensors      PIL-resized 224x224 uint8 photo + Lite0 logits (real weights)

Usage: tools/make_model_fixtures.py [LITE0_WEIGHTS.pth]   (default: $DISCERN_WEIGHTS or <repo>/weights)
       tools/make_model_fixtures.py --resnet50-reference OUTDIR   (run by the tests where torch exists)
With --safetensors-weights OUT it also writes the Lite0 weights as safetensors (for development only, never committed).
"""
import math, os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import ResNet, Bottleneck, BasicBlock, resnet50

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data_paths import datasets, weight_file
from fixture_io import save
from batchnorm_random import randomize_bn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "models")


class NarrowResNet(ResNet):
    """torchvision's ResNet with its own block classes and key names, but narrow widths."""
    def __init__(self, block, layers, widths=(8, 16, 32, 64), num_classes=10):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)




def small_resnet(name, block, layers, with_grad):
    g = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    model = NarrowResNet(block, layers).eval()
    randomize_bn(model, g)
    x = torch.randn(3, 3, 64, 64, generator=g)
    feats = {}
    model.layer4.register_forward_hook(lambda m, i, o: feats.__setitem__("layer4", o))
    logits = model(x)
    arrays = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    arrays = {"weights." + k: v for k, v in arrays.items()}
    arrays["input"] = x.numpy()
    arrays["logits"] = logits.detach().numpy()
    meta = {"layers": layers, "block": block.__name__}
    if with_grad:
        # Scalar = sum over the batch of one chosen logit per item.
        targets = [1, 4, 9]
        feats["layer4"].retain_grad()
        s = sum(logits[i, t] for i, t in enumerate(targets))
        s.backward()
        arrays["layer4"] = feats["layer4"].detach().numpy()
        arrays["layer4_grad"] = feats["layer4"].grad.numpy()
        arrays["targets"] = np.array(targets, dtype=np.int64)
        torch.save(model.state_dict(), os.path.join(OUT, name + ".pth"))  # zip format (torch >= 1.6)
    save(os.path.join(OUT, name + ".safetensors"), arrays, meta)


def resnet50_keys():
    sd = resnet50().state_dict()
    with open(os.path.join(OUT, "resnet50_keys.txt"), "w") as f:
        for k, v in sd.items():
            if k.endswith("num_batches_tracked"):
                continue
            f.write("%s %s\n" % (k, ",".join(str(d) for d in v.shape)))


# ---- EfficientNet-Lite0, mirroring efficientnet_pytorch's lite variant ----

class SameConv(nn.Conv2d):
    """Conv2dStaticSamePadding: TF 'same' padding, the odd pixel at bottom/right."""
    def forward(self, x):
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        s = self.stride[0]
        ph = max((math.ceil(ih / s) - 1) * s + kh - ih, 0)
        pw = max((math.ceil(iw / s) - 1) * s + kw - iw, 0)
        x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


def bn(c):
    return nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)


class MBConv(nn.Module):
    def __init__(self, k, s, e, cin, cout):
        super().__init__()
        mid = cin * e
        self.expand = e != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = bn(mid)
        self._depthwise_conv = SameConv(mid, mid, k, stride=s, groups=mid, bias=False)
        self._bn1 = bn(mid)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = bn(cout)
        self.skip = s == 1 and cin == cout

    def forward(self, x):
        y = x
        if self.expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


LITE0 = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
         (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]


class Lite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, stride=2, bias=False)
        self._bn0 = bn(32)
        blocks = []
        for r, k, s, e, cin, cout in LITE0:
            for i in range(r):
                blocks.append(MBConv(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1, bias=False)
        self._bn1 = bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def lite0(weights, st_out=None):
    from PIL import Image
    import torchvision.transforms as T
    model = Lite0().eval()
    sd = torch.load(weights, map_location="cpu")
    model.load_state_dict(sd, strict=True)
    if st_out:
        save(st_out, {k: v.numpy() for k, v in sd.items() if not k.endswith("num_batches_tracked")})
    mean, std = [127 / 255] * 3, [128 / 255] * 3
    norm = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    root = os.path.join(datasets(), "cats-and-dogs", "test_set")
    # Lite0 is ~75% top-1, so take the first two photos (sorted) per class whose PyTorch top-1 is a
    # cat (281-285) / dog (151-268) class: the test is about parity; the classes are a sanity check.
    for folder, lo, hi in (("cats", 281, 285), ("dogs", 151, 268)):
        kept = 0
        for fname in sorted(os.listdir(os.path.join(root, folder))):
            if kept == 2:
                break
            img = Image.open(os.path.join(root, folder, fname)).convert("RGB").resize((224, 224), Image.BILINEAR)
            x = norm(img).unsqueeze(0)
            with torch.no_grad():
                logits = model(x)
            if not lo <= int(logits.argmax()) <= hi:
                continue
            kept += 1
            stem = folder[:-1] + str(kept)
            save(os.path.join(OUT, "lite0_%s.safetensors" % stem),
                 {"image_hwc": np.asarray(img, dtype=np.uint8), "logits": logits.numpy(),
                  "top1": np.array([int(logits.argmax())], dtype=np.int64)},
                 {"source": "%s/%s" % (folder, fname), "mean": 127 / 255, "std": 128 / 255})
            print(folder, fname, "top1", int(logits.argmax()))


def resnet50_reference(out_dir):
    """Test-time only (not committed): torchvision resnet50 with random weights saved in zip and
    legacy .pth formats, plus its logits on two random inputs."""
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(3)
    model = resnet50().eval()
    randomize_bn(model, torch.Generator().manual_seed(4))
    torch.save(model.state_dict(), os.path.join(out_dir, "resnet50_zip.pth"))
    torch.save(model.state_dict(), os.path.join(out_dir, "resnet50_legacy.pth"), _use_new_zipfile_serialization=False)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        logits = model(x)
    save(os.path.join(out_dir, "resnet50_ref.safetensors"), {"input": x.numpy(), "logits": logits.numpy()})


if __name__ == "__main__":
    if sys.argv[1:2] == ["--resnet50-reference"]:
        resnet50_reference(sys.argv[2])
        sys.exit(0)
    os.makedirs(OUT, exist_ok=True)
    args = sys.argv[1:]
    st_out = None
    if "--safetensors-weights" in args:
        i = args.index("--safetensors-weights"); st_out = args[i + 1]; del args[i:i + 2]
    small_resnet("small_resnet_bottleneck", Bottleneck, [1, 2, 1, 1], with_grad=True)
    small_resnet("small_resnet_basic", BasicBlock, [1, 1, 1, 1], with_grad=False)
    resnet50_keys()
    w = args[0] if args else weight_file("efficientnet-lite0-57934424.pth")
    lite0(w, st_out)

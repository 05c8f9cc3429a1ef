#!/usr/bin/python3
"""Fixtures for DiscernExplain, computed with PyTorch autograd hooks and numpy re-implementations of
pytorch-grad-cam's formulas (the package itself is not installed; every formula below follows its
source: base_cam.py, grad_cam.py, grad_cam_plusplus.py, hirescam.py, xgrad_cam.py, layer_cam.py,
eigen_cam.py + utils/svd_on_activations.py, score_cam.py, guided_backprop.py, utils/image.py).

cv2.resize(INTER_LINEAR) on float maps is replaced by torch's bilinear interpolate with
align_corners=False: both use half-pixel centres, clamp at the border and do not antialias.

Run: /usr/bin/python3 tools/make_explain_fixtures.py   (writes Tests/Fixtures/explain/*.safetensors)
"""
import os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import Bottleneck

sys.path.insert(0, os.path.dirname(__file__))
from data_paths import datasets, weight_file
from fixture_io import save

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "explain")

# ---------- pytorch-grad-cam, method by method (numpy, float32) ----------
def w_gradcam(a, g):
    return np.mean(g, axis=(2, 3))

def w_gradcampp(a, g):
    g2 = g ** 2; g3 = g2 * g
    sum_a = np.sum(a, axis=(2, 3))
    aij = g2 / (2 * g2 + sum_a[:, :, None, None] * g3 + 0.000001)
    aij = np.where(g != 0, aij, 0)
    return np.sum(np.maximum(g, 0) * aij, axis=(2, 3))

def w_xgradcam(a, g):
    sum_a = np.sum(a, axis=(2, 3))
    return (g * a / (sum_a[:, :, None, None] + 1e-7)).sum(axis=(2, 3))

def cam_from_weights(wfn):
    return lambda a, g: (wfn(a, g)[:, :, None, None] * a).sum(axis=1)

def cam_hirescam(a, g): return (g * a).sum(axis=1)
def cam_layercam(a, g): return (np.maximum(g, 0) * a).sum(axis=1)

def cam_eigencam(a, g):
    """get_2d_projection, then the documented sign rule: the projection must correlate positively
    with the channel-summed (centred) activations; LAPACK's own sign is arbitrary."""
    out, agreed = [], []
    for act in a:
        x = act.reshape(act.shape[0], -1).transpose()
        x = x - x.mean(axis=0)
        U, S, VT = np.linalg.svd(x, full_matrices=True)
        proj = x @ VT[0, :]
        ok = float(np.dot(proj, x.sum(axis=1))) >= 0
        agreed.append(ok)
        out.append((proj if ok else -proj).reshape(act.shape[1:]))
    cam_eigencam.agreed = agreed
    return np.float32(out)

METHODS = {
    "gradcam": cam_from_weights(w_gradcam),
    "gradcam++": cam_from_weights(w_gradcampp),
    "hirescam": cam_hirescam,
    "xgradcam": cam_from_weights(w_xgradcam),
    "layercam": cam_layercam,
    "eigencam": cam_eigencam,
}

def resize(img, H, W):   # cv2.resize(img, (W, H)) on a float32 2-D map
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None, None]
    return F.interpolate(t, size=(H, W), mode="bilinear", align_corners=False)[0, 0].numpy()

def scale_cam_image(cam, target=None):   # utils/image.py
    res = []
    for img in cam:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        if target is not None:
            img = resize(img, target[0], target[1])
        res.append(img)
    return np.float32(res)

def postprocess(raw, H, W):   # base_cam.compute_cam_per_layer + aggregate_multi_layers, one layer
    cam = np.maximum(raw, 0)
    feat = scale_cam_image(cam)
    up = scale_cam_image(cam, (H, W))
    agg = np.mean(np.maximum(up[:, None], 0), axis=1)
    return feat, scale_cam_image(agg)

def score_cam(x, acts, targets, model):   # score_cam.py (model: x -> logits)
    with torch.no_grad():
        up = torch.nn.UpsamplingBilinear2d(size=x.shape[-2:])(torch.from_numpy(acts))
        maxs = up.view(up.size(0), up.size(1), -1).max(dim=-1)[0][:, :, None, None]
        mins = up.view(up.size(0), up.size(1), -1).min(dim=-1)[0][:, :, None, None]
        up = (up - mins) / (maxs - mins + 1e-8)
        inputs = x[:, None] * up[:, :, None]
        scores = []
        for t, tensor in zip(targets, inputs):
            for i in range(0, tensor.size(0), 16):
                scores.extend(float(o[t]) for o in model(tensor[i:i + 16]))
        scores = torch.Tensor(scores).view(acts.shape[0], acts.shape[1])
        w = torch.nn.Softmax(dim=-1)(scores).numpy()
    return (w[:, :, None, None] * acts).sum(axis=1)

# ---------- (a) method math on random activations / gradients ----------
def math_fixture(name, seed, N, C, h, w, H, W):
    rng = np.random.default_rng(seed)
    a = np.maximum(rng.normal(0.3, 1.0, (N, C, h, w)), 0).astype(np.float32)   # post-ReLU-like
    g = (rng.normal(0, 0.5, (N, C, h, w)) * (rng.random((N, C, h, w)) > 0.1)).astype(np.float32)
    arrays = {"activations": a, "gradients": g}
    meta = {"H": H, "W": W}
    for m, fn in METHODS.items():
        raw = np.float32(fn(a.copy(), g.copy()))
        feat, inp = postprocess(raw, H, W)
        arrays[f"{m}.raw"] = raw; arrays[f"{m}.feature"] = feat; arrays[f"{m}.input"] = inp
    meta["eigen_sign_agreed_with_lapack"] = str(cam_eigencam.agreed)
    # Score-CAM with a fixed linear "model" on a random input.
    x = torch.from_numpy(rng.normal(0, 1, (N, 3, H, W)).astype(np.float32))
    lin = torch.from_numpy(rng.normal(0, 0.05, (4, 3 * H * W)).astype(np.float32))
    model = lambda b: b.reshape(b.shape[0], -1) @ lin.T
    targets = [int(t) for t in rng.integers(0, 4, N)]
    raw = np.float32(score_cam(x, a, targets, model))
    feat, inp = postprocess(raw, H, W)
    arrays.update({"scorecam.x": x.numpy(), "scorecam.linear": lin.numpy(),
                   "scorecam.targets": np.array(targets, dtype=np.int64),
                   "scorecam.raw": raw, "scorecam.feature": feat, "scorecam.input": inp})
    # Helpers of utils/image.py on a fixed map and image.
    mask = inp[0]
    img = rng.integers(0, 256, (H, W, 3)).astype(np.uint8)
    gb = rng.normal(0, 1, (H, W, 3)).astype(np.float32)
    arrays.update({"image.rgb": img, "image.guided_raw": gb, "image.mask": mask,
                   "image.deprocessed": deprocess_image(gb),
                   "image.guided_cam": deprocess_image(np.stack([mask] * 3, axis=-1) * gb)})
    save(os.path.join(OUT, f"{name}.safetensors"), arrays, meta)

def deprocess_image(img):   # utils/image.py
    img = img - np.mean(img)
    img = img / (np.std(img) + 1e-5)
    img = img * 0.1 + 0.5
    img = np.clip(img, 0, 1)
    return np.uint8(img * 255)

# ---------- (b) end to end on a small torchvision-style ResNet ----------
class TinyResNet(nn.Module):
    """torchvision ResNet layout (same module names) with small widths: stem 8, two stages."""
    def __init__(self, classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False); self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True); self.maxpool = nn.MaxPool2d(3, 2, 1)
        ds = lambda i, o, s: nn.Sequential(nn.Conv2d(i, o, 1, s, bias=False), nn.BatchNorm2d(o))
        self.layer1 = nn.Sequential(Bottleneck(8, 4, downsample=ds(8, 16, 1)), Bottleneck(16, 4))
        self.layer2 = nn.Sequential(Bottleneck(16, 8, 2, downsample=ds(16, 32, 2)), Bottleneck(32, 8))
        self.avgpool = nn.AdaptiveAvgPool2d(1); self.fc = nn.Linear(32, classes)
    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))

class GuidedReLU(torch.autograd.Function):   # guided_backprop.GuidedBackpropReLU
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x); return x.clamp(min=0)
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x > 0).type_as(g) * (g > 0).type_as(g)

class GuidedReLUModule(nn.Module):
    def forward(self, x): return GuidedReLU.apply(x)

def replace_relus(m):
    for n, c in m.named_children():
        if isinstance(c, nn.ReLU): setattr(m, n, GuidedReLUModule())
        else: replace_relus(c)

def cams_with_hooks(model, layer, x, targets):
    acts, grads = {}, {}
    h1 = layer.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o.detach().clone()))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: grads.__setitem__("g", go[0].detach().clone()))
    x = x.clone().requires_grad_(True)
    out = model(x)
    loss = sum(out[i, t] for i, t in enumerate(targets))   # ClassifierOutputTarget per image
    model.zero_grad(); loss.backward()
    h1.remove(); h2.remove()
    return out.detach().numpy(), acts["a"].numpy(), grads["g"].numpy()

def resnet_fixture():
    torch.manual_seed(7)
    model = TinyResNet()
    for m in model.modules():   # non-trivial batch-norm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.6, 1.4); m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    H, W = 40, 48
    x = torch.randn(2, 3, H, W)
    with torch.no_grad(): logits = model(x)
    predicted = [int(t) for t in logits.argmax(1)]
    given = [2, 0]
    arrays = {f"model.{k}": v.numpy() for k, v in model.state_dict().items() if "num_batches" not in k}
    arrays.update({"x": x.numpy(), "logits": logits.numpy(), "predicted": np.array(predicted, dtype=np.int64),
                   "given": np.array(given, dtype=np.int64)})
    for tag, targets in (("pred", predicted), ("given", given)):
        _, a, g = cams_with_hooks(model, model.layer2[1], x, targets)
        arrays[f"{tag}.activations"] = a; arrays[f"{tag}.gradients"] = g
        for m in (METHODS if tag == "pred" else ("gradcam", "gradcam++")):
            feat, inp = postprocess(np.float32(METHODS[m](a.copy(), g.copy())), H, W)
            arrays[f"{tag}.{m}.feature"] = feat; arrays[f"{tag}.{m}.input"] = inp
        if tag == "pred":
            feat, inp = postprocess(np.float32(score_cam(x, a, targets, model)), H, W)
            arrays[f"{tag}.scorecam.input"] = inp
    # Guided backprop: input gradient of the predicted logit with guided ReLUs (per image).
    gmodel = TinyResNet(); gmodel.load_state_dict(model.state_dict()); gmodel.eval(); replace_relus(gmodel)
    xi = x.clone().requires_grad_(True)
    out = gmodel(xi)
    sum(out[i, t] for i, t in enumerate(predicted)).backward()
    gb = xi.grad.numpy()
    arrays["guided.input_grad"] = gb
    for i in range(2):
        hwc = gb[i].transpose(1, 2, 0)
        arrays[f"guided.{i}.image"] = deprocess_image(hwc)
        cam = arrays["pred.gradcam.input"][i]
        arrays[f"guided.{i}.gradcam"] = deprocess_image(np.stack([cam] * 3, axis=-1) * hwc)
    save(os.path.join(OUT, "tiny_resnet.safetensors"), arrays,
         {"layer": "layer2.1", "H": H, "W": W, "torch": torch.__version__})

# ---------- (c) EfficientNet-Lite0, real weights, one real photo ----------

def lite0_fixture():
    from PIL import Image
    from make_model_fixtures import Lite0   # the models room's port of efficientnet_pytorch
    path = weight_file("efficientnet-lite0-57934424.pth")
    model = Lite0().eval(); model.load_state_dict(torch.load(path, map_location="cpu"), strict=True)
    src = os.path.join(datasets(), "cats-and-dogs", "test_set", "cats", "cat.4001.jpg")
    img = Image.open(src).convert("RGB").resize((224, 224), Image.BILINEAR)
    hwc = np.asarray(img, dtype=np.uint8)
    x = (torch.from_numpy(hwc.astype(np.float32) / 255).permute(2, 0, 1)[None] - 127 / 255) / (128 / 255)
    with torch.no_grad(): logits = model(x)
    pred = [int(logits.argmax())]
    arrays = {"image_hwc": hwc, "logits": logits.numpy(), "predicted": np.array(pred, dtype=np.int64)}
    _, a, g = cams_with_hooks(model, model._conv_head, x, pred)
    for m in ("gradcam", "gradcam++"):   # the resize step is covered by (a); one input-size map is enough
        feat, inp = postprocess(np.float32(METHODS[m](a.copy(), g.copy())), 224, 224)
        arrays[f"{m}.feature"] = feat
        if m == "gradcam": arrays[f"{m}.input"] = inp
    # Guided backprop through ReLU6 as pytorch-grad-cam would after swapping activations:
    # pass gradient only where it is positive and the activation's input was in its linear range.
    class GuidedReLU6(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x): ctx.save_for_backward(x); return x.clamp(0, 6)
        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * ((x > 0) & (x < 6)).type_as(g) * (g > 0).type_as(g)
    import make_model_fixtures as mmf
    saved = mmf.F.relu6
    mmf.F.relu6 = GuidedReLU6.apply
    try:
        xi = x.clone().requires_grad_(True)
        model(xi)[0, pred[0]].backward()
    finally:
        mmf.F.relu6 = saved
    gb = xi.grad.numpy()
    arrays["guided.scale"] = np.array([np.abs(gb).max()], dtype=np.float32)
    arrays["guided.crop"] = gb[0, :, 80:144, 80:144] / np.abs(gb).max()   # window of the normalised map
    arrays["guided.image_top"] = deprocess_image(gb[0].transpose(1, 2, 0))[:80]   # top rows of the PNG pixels
    save(os.path.join(OUT, "lite0_cat.safetensors"), arrays, {"source": "cats/cat.4001.jpg", "layer": "_conv_head"})

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    math_fixture("math_small_c", 1, N=2, C=6, h=5, w=7, H=33, W=41)
    math_fixture("math_large_c", 2, N=2, C=48, h=4, w=6, H=29, W=17)
    resnet_fixture()
    lite0_fixture()
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")

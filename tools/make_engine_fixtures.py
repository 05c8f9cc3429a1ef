#!/usr/bin/python3
"""Engine op/graph reference values from PyTorch (forward + autograd) -> Tests/Fixtures/engine/*.safetensors.
Run: /usr/bin/python3 tools/make_engine_fixtures.py"""
import os, sys
import torch, torch.nn as nn, torch.nn.functional as F
from torchvision.models.resnet import BasicBlock
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "engine")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1234)

def np_(t): return t.detach().double().numpy()

def grads(y, *leaves):
    """Backpropagates a random upstream gradient gy; returns gy and the leaves' gradients."""
    gy = torch.randn_like(y)
    y.backward(gy)
    return gy, [l.grad for l in leaves]

def conv_case(name, n, cin, cout, hw, k, stride, pad, groups, bias):
    """pad: (top, left, bottom, right); asymmetric pads go through F.pad like TF 'same'."""
    x = torch.randn(n, cin, hw[0], hw[1], requires_grad=True)
    w = (torch.randn(cout, cin // groups, k, k) * 0.3).requires_grad_()
    b = torch.randn(cout, requires_grad=True) if bias else None
    t, l, bo, r = pad
    if t == bo and l == r:
        y = F.conv2d(x, w, b, stride=stride, padding=(t, l), groups=groups)
    else:
        y = F.conv2d(F.pad(x, (l, r, t, bo)), w, b, stride=stride, groups=groups)
    leaves = [x, w] + ([b] if bias else [])
    gy, g = grads(y, *leaves)
    arrays = {"x": np_(x), "w": np_(w), "y": np_(y), "gy": np_(gy), "gx": np_(g[0]), "gw": np_(g[1])}
    if bias: arrays.update(b=np_(b), gb=np_(g[2]))
    save(os.path.join(OUT, f"conv_{name}.safetensors"), arrays,
         {"stride": stride, "pad": ",".join(map(str, pad)), "groups": groups})

conv_case("3x3_s1_p1", 2, 4, 6, (10, 10), 3, 1, (1, 1, 1, 1), 1, True)
conv_case("7x7_s2_p3", 2, 3, 8, (16, 15), 7, 2, (3, 3, 3, 3), 1, False)
conv_case("1x1_s2", 2, 8, 6, (9, 9), 1, 2, (0, 0, 0, 0), 1, True)
conv_case("asym_s2", 2, 4, 5, (10, 11), 3, 2, (0, 1, 1, 2), 1, True)
conv_case("groups2", 2, 4, 6, (8, 8), 3, 1, (1, 1, 1, 1), 2, True)
conv_case("depthwise_s2", 2, 6, 6, (11, 11), 3, 2, (1, 1, 1, 1), 6, False)
conv_case("depthwise5_asym", 1, 8, 8, (12, 12), 5, 2, (1, 1, 2, 2), 8, True)

# max pooling 3/2/1 (PyTorch pads with -inf, like oneDNN's max pooling)
x = torch.randn(2, 4, 11, 12, requires_grad=True)
y = F.max_pool2d(x, 3, 2, 1)
gy, (gx,) = grads(y, x)
save(os.path.join(OUT, "maxpool_3_2_1.safetensors"), {"x": np_(x), "y": np_(y), "gy": np_(gy), "gx": np_(gx)},
     {"kernel": 3, "stride": 2, "padding": 1})

x = torch.randn(2, 5, 7, 6, requires_grad=True)
y = F.adaptive_avg_pool2d(x, 1)
gy, (gx,) = grads(y, x)
save(os.path.join(OUT, "gap.safetensors"), {"x": np_(x), "y": np_(y), "gy": np_(gy), "gx": np_(gx)})

bn = nn.BatchNorm2d(5)
with torch.no_grad():
    bn.weight.normal_(); bn.bias.normal_(); bn.running_mean.normal_(); bn.running_var.uniform_(0.5, 2.0)
bn.eval()
x = torch.randn(2, 5, 6, 7, requires_grad=True)
y = bn(x)
gy, (gx,) = grads(y, x)
save(os.path.join(OUT, "batchnorm.safetensors"),
     {"x": np_(x), "y": np_(y), "gy": np_(gy), "gx": np_(gx), "gamma": np_(bn.weight), "beta": np_(bn.bias),
      "mean": np_(bn.running_mean), "var": np_(bn.running_var)}, {"eps": bn.eps})

for name, fn in (("relu", F.relu), ("relu6", F.relu6)):
    x = (torch.randn(2, 3, 5, 5) * 4).requires_grad_()
    y = fn(x)
    gy, (gx,) = grads(y, x)
    # guided backprop (pytorch-grad-cam's GuidedBackpropReLU): positive gradients where the plain gradient flows
    ggx = gy.clamp(min=0) * ((x > 0) & ((x < 6) if name == "relu6" else (x > 0))).float()
    save(os.path.join(OUT, f"{name}.safetensors"), {"x": np_(x), "y": np_(y), "gy": np_(gy), "gx": np_(gx), "ggx": np_(ggx)})

x = torch.randn(3, 10, requires_grad=True)
w = torch.randn(7, 10, requires_grad=True)
b = torch.randn(7, requires_grad=True)
y = F.linear(x, w, b)
gy, (gx, gw, gb) = grads(y, x, w, b)
save(os.path.join(OUT, "linear.safetensors"),
     {"x": np_(x), "w": np_(w), "b": np_(b), "y": np_(y), "gy": np_(gy), "gx": np_(gx), "gw": np_(gw), "gb": np_(gb)})

# ---- tiny residual network (torchvision BasicBlock, ResNet key names) ----
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1, bias=False); self.bn1 = nn.BatchNorm2d(8); self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8))
        ds = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, ds))
        self.avgpool = nn.AdaptiveAvgPool2d(1); self.fc = nn.Linear(16, 5)
    def forward(self, x, keep):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x); keep["layer1"] = x; x.retain_grad()
        x = self.layer2(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))

net = Tiny()
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5); m.bias.normal_(0, 0.2); m.running_mean.normal_(0, 0.2); m.running_var.uniform_(0.5, 2)
net.eval()
inner = {}
def keep_inner(m, i, o):
    o.retain_grad(); inner["l2c1"] = o
net.layer2[0].conv1.register_forward_hook(keep_inner)
x = torch.randn(2, 3, 32, 32, requires_grad=True)
keep = {}
y = net(x, keep)
gy = torch.randn_like(y)
y.backward(gy)
arrays = {"w." + k: np_(v) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
arrays.update(x=np_(x), y=np_(y), gy=np_(gy), gx=np_(x.grad), layer1=np_(keep["layer1"]),
              g_layer1=np_(keep["layer1"].grad), g_layer2_0_conv1=np_(inner["l2c1"].grad))

class GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i); return i.clamp(min=0)
    @staticmethod
    def backward(ctx, g):
        (i,) = ctx.saved_tensors
        return g.clamp(min=0) * (i > 0).float()
for m in net.modules():
    if isinstance(m, nn.ReLU): m.forward = GuidedReLU.apply
x2 = x.detach().clone().requires_grad_()
y2 = net(x2, {})
y2.backward(gy)
arrays["guided_gx"] = np_(x2.grad)
save(os.path.join(OUT, "tiny_resnet.safetensors"), arrays)

# ---- tiny EfficientNet-Lite-style net: ReLU6, depthwise, TF-"same" asymmetric padding, skip ----
def same_pad(x, k, s):
    """TensorFlow 'same' padding for a square kernel: the extra pixel goes bottom/right."""
    ph = max((-(-x.shape[2] // s) - 1) * s + k - x.shape[2], 0)
    pw = max((-(-x.shape[3] // s) - 1) * s + k - x.shape[3], 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))

class MB(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride, self.skip = stride, stride == 1 and cin == cout
        self._expand_conv = nn.Conv2d(cin, 2 * cin, 1, bias=False); self._bn0 = nn.BatchNorm2d(2 * cin)
        self._depthwise_conv = nn.Conv2d(2 * cin, 2 * cin, 3, stride, groups=2 * cin, bias=False); self._bn1 = nn.BatchNorm2d(2 * cin)
        self._project_conv = nn.Conv2d(2 * cin, cout, 1, bias=False); self._bn2 = nn.BatchNorm2d(cout)
        self.act = nn.ReLU6()
    def forward(self, x):
        h = self.act(self._bn0(self._expand_conv(x)))
        h = self.act(self._bn1(self._depthwise_conv(same_pad(h, 3, self.stride))))
        h = self._bn2(self._project_conv(h))
        return h + x if self.skip else h

class TinyLite(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 8, 3, 2, bias=False); self._bn0 = nn.BatchNorm2d(8)
        self._blocks = nn.ModuleList([MB(8, 8, 1), MB(8, 12, 2)])
        self._conv_head = nn.Conv2d(12, 20, 1, bias=False); self._bn1 = nn.BatchNorm2d(20)
        self._fc = nn.Linear(20, 4); self.act = nn.ReLU6()
    def forward(self, x, keep):
        x = self.act(self._bn0(self._conv_stem(same_pad(x, 3, 2))))
        x = self._blocks[0](x); x.retain_grad(); keep["b0"] = x
        x = self._blocks[1](x)
        x = self.act(self._bn1(self._conv_head(x))); x.retain_grad(); keep["head"] = x
        return self._fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

lite = TinyLite()
with torch.no_grad():
    for m in lite.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 2.5); m.bias.normal_(0, 1); m.running_mean.normal_(0, 0.2); m.running_var.uniform_(0.5, 2)
        if isinstance(m, nn.Conv2d): m.weight.mul_(2)
lite.eval()
x = (torch.randn(2, 3, 20, 20) * 2).requires_grad_()
keep = {}
y = lite(x, keep)
gy = torch.randn_like(y)
y.backward(gy)
arrays = {"w." + k: np_(v) for k, v in lite.state_dict().items() if not k.endswith("num_batches_tracked")}
arrays.update(x=np_(x), y=np_(y), gy=np_(gy), gx=np_(x.grad), g_block0=np_(keep["b0"].grad), g_head=np_(keep["head"].grad))
sat = sum(int((t >= 6).sum()) for t in (keep["b0"], keep["head"]))

class GuidedReLU6(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i); return i.clamp(0, 6)
    @staticmethod
    def backward(ctx, g):
        (i,) = ctx.saved_tensors
        return g.clamp(min=0) * ((i > 0) & (i < 6)).float()
for m in lite.modules():
    if isinstance(m, nn.ReLU6): m.forward = GuidedReLU6.apply
x2 = x.detach().clone().requires_grad_()
lite(x2, {}).backward(gy)
arrays["guided_gx"] = np_(x2.grad)
save(os.path.join(OUT, "tiny_lite.safetensors"), arrays)
print("tiny_lite: saturated head/block values", sat)
# Depthwise convolutions whose channels fill the 8- and 16-channel blocks, which the engine runs on the CPU's
# blocked layout (oneDNN's jit_dw kernels), or on the plain one where oneDNN has no blocked kernel (a 5x5 kernel's
# weight gradient on a small map). Last, so that the cases above keep their values.
torch.manual_seed(4321)
conv_case("depthwise16_bias", 2, 16, 16, (10, 10), 3, 1, (1, 1, 1, 1), 16, True)
conv_case("depthwise32_5x5", 2, 32, 32, (8, 8), 5, 1, (2, 2, 2, 2), 32, False)

print("wrote", sorted(os.listdir(OUT)))

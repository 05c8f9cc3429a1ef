#!/usr/bin/python3
"""PyTorch references for the 3x3 stride-1 layers Discern runs with its own Winograd F(4x4, 3x3) where oneDNN has
no Winograd kernel -> Tests/Fixtures/engine/winograd_3x3.safetensors. Computed in float64, so the reference carries
no rounding of its own. Run: /usr/bin/python3 tools/make_winograd_fixtures.py"""
import os, sys
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "engine")
torch.manual_seed(4343)

# (name, images, in channels, out channels, height, width, activation): partial tiles at the right and bottom
# edges, exactly the smallest map the kernel takes (16x16 = 16 tiles), and ResNet50's layer1 shape; then a
# BasicBlock for the residual sum.
CASES = [("edges", 2, 16, 24, 19, 22, "relu6"), ("smallest", 1, 8, 8, 16, 16, "none"),
         ("resnet_layer1", 1, 64, 64, 56, 56, "relu")]

arrays = {}
for name, n, cin, cout, h, w, activation in CASES:
    x = torch.randn(n, cin, h, w, dtype=torch.float64)
    weight = torch.randn(cout, cin, 3, 3, dtype=torch.float64) * (2.0 / (9 * cin)) ** 0.5
    bias = torch.randn(cout, dtype=torch.float64) * 0.1
    y = F.conv2d(x, weight, bias, padding=1)
    y = {"relu": F.relu, "relu6": F.relu6, "none": lambda v: v}[activation](y)
    arrays.update({name + ".x": x.numpy(), name + ".w": weight.numpy(), name + ".b": bias.numpy(),
                   name + ".y": y.numpy()})
# A stem layer, then a ResNet BasicBlock on its output a: relu(conv2(relu(conv1(a))) + a), the block's second layer
# adding the residual before its ReLU.
x = torch.randn(1, 16, 20, 20, dtype=torch.float64)
block = {"x": x}
for layer in ("0", "1", "2"):
    block["w" + layer] = torch.randn(16, 16, 3, 3, dtype=torch.float64) * (2.0 / (9 * 16)) ** 0.5
    block["b" + layer] = torch.randn(16, dtype=torch.float64) * 0.1
a = F.relu(F.conv2d(x, block["w0"], block["b0"], padding=1))
hidden = F.relu(F.conv2d(a, block["w1"], block["b1"], padding=1))
block["y"] = F.relu(F.conv2d(hidden, block["w2"], block["b2"], padding=1) + a)
arrays.update({"basic_block." + key: value.numpy() for key, value in block.items()})
save(os.path.join(OUT, "winograd_3x3.safetensors"), arrays,
     {name: activation for name, *_, activation in CASES})
print("wrote", os.path.join(OUT, "winograd_3x3.safetensors"))

#!/usr/bin/python3
"""Every torchvision ResNet depth (18/34/50/101/152) with seeded random weights, for DiscernModels' depth tests.

  tools/make_resnet_depth_fixtures.py --reference OUTDIR
      Test time (run by Tests/DiscernModelsTests/ResNetDepthTests.swift, not committed): for each depth,
      torchvision.models.resnetN() with random weights as OUTDIR/resnetN.pth (torch.save, zip format) and
      OUTDIR/resnetN_ref.safetensors holding a fixed random input [2,3,64,64] and torchvision's logits.
  tools/make_resnet_depth_fixtures.py
      The committed fallback Tests/Fixtures/models/resnet_depths_narrow.safetensors: torchvision's ResNet
      class with each depth's block type and block counts but narrow widths (4, 8, 8, 8), its weights
      under "<depth>.weights.", logits under "<depth>.logits", one shared "input".
Batch-norm statistics are set from a forward pass in training mode over a random batch (momentum None:
the exact batch mean/variance), with random affine parameters, so every depth keeps unit-scale activations
and the folding of every batch norm is exercised; logits are computed in float64.
"""
import copy, os, sys
import torch
import torch.nn as nn
import torchvision.models as tvm
from torchvision.models.resnet import BasicBlock, Bottleneck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save
from make_model_fixtures import NarrowResNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "models")

DEPTHS = {18: (BasicBlock, [2, 2, 2, 2]), 34: (BasicBlock, [3, 4, 6, 3]), 50: (Bottleneck, [3, 4, 6, 3]),
          101: (Bottleneck, [3, 4, 23, 3]), 152: (Bottleneck, [3, 8, 36, 3])}


def calibrate(model, seed, size):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = 0.5 + torch.rand(m.num_features, generator=g)
            m.bias.data = 0.2 * torch.randn(m.num_features, generator=g)
            m.momentum = None
            m.reset_running_stats()
    # Small residual branches (as zero_init_residual, but not zero) keep deep stacks well conditioned:
    # float32 then agrees with float64 to ~1e-6 of the logits' scale at every depth.
    for m in model.modules():
        last = m.bn3 if isinstance(m, Bottleneck) else m.bn2 if isinstance(m, BasicBlock) else None
        if last is not None:
            last.weight.data *= 0.2
    model.train()
    with torch.no_grad():
        model(torch.randn(8, 3, size, size, generator=g))
    return model.eval()


def logits(model, x):
    """In float64: the reference is the exact network, not one float32 rounding of it."""
    with torch.no_grad():
        return copy.deepcopy(model).double()(x.double()).numpy()


def reference(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(11))
    for depth in DEPTHS:
        torch.manual_seed(depth)
        model = calibrate(getattr(tvm, "resnet%d" % depth)(), depth + 1, 64)
        torch.save(model.state_dict(), os.path.join(out_dir, "resnet%d.pth" % depth))
        save(os.path.join(out_dir, "resnet%d_ref.safetensors" % depth),
             {"input": x.numpy(), "logits": logits(model, x)})


def narrow():
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(12))
    arrays, meta = {"input": x.numpy()}, {}
    for depth, (block, layers) in DEPTHS.items():
        torch.manual_seed(depth)
        model = calibrate(NarrowResNet(block, layers, widths=(4, 8, 8, 8)), depth + 1, 64)
        tag = "resnet%d" % depth
        for k, v in model.state_dict().items():
            if not k.endswith("num_batches_tracked"):
                arrays["%s.weights.%s" % (tag, k)] = v.numpy()
        arrays[tag + ".logits"] = logits(model, x)
        meta[tag] = "%s %s" % (block.__name__, ",".join(map(str, layers)))
    save(os.path.join(OUT, "resnet_depths_narrow.safetensors"), arrays, meta)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reference"] and len(sys.argv) == 3:
        reference(sys.argv[2])
    elif len(sys.argv) == 1:
        narrow()
    else:
        sys.exit(__doc__)

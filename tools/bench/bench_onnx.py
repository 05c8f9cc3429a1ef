#!/usr/bin/env python3
"""Discern's backbone forward pass beside onnxruntime (and optionally PyTorch) on the same
batch, printing ms/image and the ratio Discern / onnxruntime.

Run with the python that has onnxruntime (the pyenv `python3`); the ONNX export needs torch, so
it runs in a subprocess with /usr/bin/python3 (Debian's python3-torch):

  python3 tools/bench/bench_onnx.py [--backbones resnet50,efficientnet-lite0] [--batches 1,32]
        [--iterations 10] [--rounds 3] [--threads N] [--cpu-time] [--discern .build/release/discern] [--torch]

Discern is timed by `<discern> bench --backbone B --batch N --iterations K --json`; its JSON must
carry `best_ms_per_image` (preferred) or `ms_per_image` (and `best_cpu_ms_per_image` for --cpu-time). Both sides report their fastest run: on a
shared machine noise only ever adds time, so the minimum is the steadiest estimate.
Random weights everywhere: speed does not depend on them.
"""
import argparse, json, os, re, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_PY = "/usr/bin/python3"
OUT = "/tmp/discern_bench"


def export(backbone, path, torch_batches, iterations, threads, cpu_time):
    """Runs in /usr/bin/python3: writes the ONNX file; optionally times PyTorch."""
    import torch, torchvision
    sys.path.insert(0, os.path.join(HERE, ".."))
    if backbone == "efficientnet-lite0":
        from make_model_fixtures import Lite0
        model = Lite0()
    else:
        model = getattr(torchvision.models, backbone)()
    model.fc = torch.nn.Identity() if hasattr(model, "fc") else None
    if backbone == "efficientnet-lite0":
        model._fc = torch.nn.Identity()
    model.eval()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path, input_names=["x"], output_names=["features"],
                      dynamic_axes={"x": {0: "n"}, "features": {0: "n"}}, opset_version=13)
    times = {}
    torch.set_num_threads(threads)
    clock = time.process_time if cpu_time else time.perf_counter
    for b in torch_batches:
        xb = torch.randn(b, 3, 224, 224)
        with torch.no_grad():
            model(xb)
            ts = []
            for _ in range(iterations):
                t0 = clock(); model(xb); ts.append((clock() - t0) * 1000 / b)
        times[b] = min(ts)
    print(json.dumps(times))


def time_ort(path, batch, iterations, threads, cpu_time):
    import numpy as np, onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
    s.run(None, {"x": x})
    ts = []
    for _ in range(iterations):
        clock = time.process_time if cpu_time else time.perf_counter
        t0 = clock(); s.run(None, {"x": x}); ts.append((clock() - t0) * 1000 / batch)
    return min(ts)


def time_discern(cmd, backbone, batch, iterations, precision, threads, cpu_time):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(cmd + ["bench", "--backbone", backbone, "--batch", str(batch), "--iterations", str(iterations),
                                "--precision", precision, "--json"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit("discern bench failed: " + (out.stderr.strip() or out.stdout.strip()))
    m = cpu_time and re.search(r'"(?:best_cpu_ms_per_image|bestCPUMsPerImage)"\s*:\s*([0-9.eE+-]+)', out.stdout)
    m = m or (re.search(r'"(?:best_ms_per_image|bestMsPerImage)"\s*:\s*([0-9.eE+-]+)', out.stdout)
         or re.search(r'"(?:ms_per_image|msPerImage)"\s*:\s*([0-9.eE+-]+)', out.stdout))
    if not m:
        raise SystemExit("discern bench printed no ms_per_image: " + out.stdout.strip()[:200])
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbones", default="resnet50,efficientnet-lite0")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--iterations", type=int, default=10, help="timed runs at batch 1 (fewer for larger batches)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best median of each side counts")
    ap.add_argument("--discern", default=os.path.join(HERE, "..", "..", ".build", "release", "discern"))
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both sides")
    ap.add_argument("--cpu-time", action="store_true",
                    help="compare process CPU time instead of wall time (steadier on a busy machine)")
    ap.add_argument("--torch", action="store_true", help="also time PyTorch (Debian's, /usr/bin/python3)")
    ap.add_argument("--export-only", nargs=2, metavar=("BACKBONE", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--torch-batches", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    batches = [int(b) for b in a.batches.split(",")]
    if a.export_only:
        tb = [int(b) for b in a.torch_batches.split(",") if b]
        return export(a.export_only[0], a.export_only[1], tb, a.iterations, a.threads, a.cpu_time)
    os.makedirs(OUT, exist_ok=True)
    cmd = a.discern.split()
    print("%s, %d thread(s), %s, fastest of %d alternating rounds" % (
        "process CPU ms/img" if a.cpu_time else "wall ms/img", a.threads, a.precision, a.rounds))
    print("%-20s %5s %12s %12s %12s %8s" % ("backbone", "batch", "discern ms", "onnxrt ms", "torch ms", "ratio"))
    for bb in a.backbones.split(","):
        path = os.path.join(OUT, bb + ".onnx")
        r = subprocess.run([TORCH_PY, os.path.abspath(__file__), "--export-only", bb, path, "--iterations",
                            str(max(3, a.iterations // 3)), "--torch-batches", a.batches if a.torch else "",
                            "--threads", str(a.threads)] + (["--cpu-time"] if a.cpu_time else []),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("ONNX export of %s failed: %s" % (bb, r.stderr.strip()[-500:]))
        torch_ms = {int(k): v for k, v in json.loads(r.stdout.strip().splitlines()[-1]).items()}
        for b in batches:
            # Shared, noisy machine: alternate the two sides and keep each one's best median.
            its = max(3, round(a.iterations / b ** 0.5))
            ort_ms = d_ms = float("inf")
            for _ in range(a.rounds):
                ort_ms = min(ort_ms, time_ort(path, b, its, a.threads, a.cpu_time))
                d_ms = min(d_ms, time_discern(cmd, bb, b, its, a.precision, a.threads, a.cpu_time))
            t = "%12.2f" % torch_ms[b] if b in torch_ms else "%12s" % "-"
            print("%-20s %5d %12.2f %12.2f %s %7.2fx" % (bb, b, d_ms, ort_ms, t, d_ms / ort_ms), flush=True)


if __name__ == "__main__":
    main()

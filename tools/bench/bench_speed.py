#!/usr/bin/env python3
"""Every backbone speed figure of the README, side by side with onnxruntime, in one run.

  python3 tools/bench/bench_speed.py [--backbones resnet50,efficientnet-lite0] [--batches 1,32]
        [--rounds 5] [--threads 2] [--isas auto|avx2,avx512_core] [--discern .build/release/discern]
  python3 tools/bench/bench_speed.py --every-backbone    Discern alone: every backbone, batch 1 and 32, this
        CPU's native ISA (the README's "Backbones and their weights" column; onnxruntime is not run)

The peer runs its standard path: onnxruntime (CPU provider, default graph optimizations = ORT_ENABLE_ALL)
on a plain `torch.onnx.export` of the reference PyTorch model: torchvision's ResNet50 and
EfficientNet-Lite0 from `efficientnet_lite_pytorch` (PyPI efficientnet-lite-pytorch==0.1.0), each with
its classifier replaced by Identity, so both sides compute the pooled features. Random weights: speed
does not depend on them.

Each round times onnxruntime, then Discern (`discern bench ... --json`, a separate process), for every
row; rounds alternate so that machine noise hits both sides alike, and each side's fastest round counts
(noise only ever adds time). Discern runs once per ISA group under `ONEDNN_MAX_CPU_ISA` (AVX2, AVX-512
where the CPU has it, and bf16 rows where it has AVX512-BF16). onnxruntime has no such cap: for the avx2
rows of an AVX-512 CPU it runs in a worker process with `hide_avx512.c` preloaded, which hides AVX-512
from the CPUID instruction (Linux's CPUID faulting), so that both sides run AVX2 code; the table's
"peer ISA" column says what onnxruntime was shown, and the script says so when the kernel cannot hide it.
The avx2 rows also pin OpenBLAS (Discern's Winograd products and head) to its Haswell kernels.

Interpreters: the export needs torch (Debian's /usr/bin/python3), onnxruntime is in the python that runs
this script (`scripts/setup --dev` installs it). efficientnet_lite_pytorch is fetched once from PyPI into
~/.cache/discern/python (no dependencies; not installed system-wide).
"""
import argparse
import ctypes
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TORCH_PY = "/usr/bin/python3"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "discern")
PYPKGS = os.path.join(CACHE, "python")
LITE_PACKAGE = "efficientnet-lite-pytorch==0.1.0"


def export(backbone, path):
    """In /usr/bin/python3: writes the plain ONNX export of the reference model."""
    import torch
    import torchvision
    if backbone == "efficientnet-lite0":
        sys.path.insert(0, PYPKGS)
        from efficientnet_lite_pytorch import EfficientNet
        model = EfficientNet.from_name("efficientnet-lite0")
        model._fc = torch.nn.Identity()
    else:
        model = getattr(torchvision.models, backbone)()
        model.fc = torch.nn.Identity()
    model.eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["x"], output_names=["features"],
                      dynamic_axes={"x": {0: "n"}, "features": {0: "n"}}, opset_version=13)


def ensure_lite_package():
    if os.path.isdir(os.path.join(PYPKGS, "efficientnet_lite_pytorch")):
        return
    os.makedirs(PYPKGS, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", PYPKGS, LITE_PACKAGE],
                   check=True)


def time_onnxruntime(session, batch, iterations):
    import numpy as np
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224), dtype=np.float32)
    session.run(None, {"x": x})
    best = float("inf")
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, {"x": x})
        best = min(best, (time.perf_counter() - start) * 1000 / batch)
    return best


def discern_environment(threads, isa):
    """Discern's threads and instruction set: oneDNN capped to `isa`, and OpenBLAS on AVX2 code for the avx2 rows."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), ONEDNN_MAX_CPU_ISA=isa.upper())
    if isa == "avx2" and "avx2" in cpu_flags():
        env["OPENBLAS_CORETYPE"] = "Haswell"
    return env


def time_discern(binary, backbone, batch, iterations, precision, threads, isa):
    env = discern_environment(threads, isa)
    out = subprocess.run([binary, "bench", "--backbone", backbone, "--batch", str(batch), "--iterations",
                          str(iterations), "--precision", precision, "--json"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit("discern bench failed: " + (out.stderr.strip() or out.stdout.strip()))
    line = json.loads(out.stdout.strip().splitlines()[-1])
    if line.get("reference_fallbacks", 0):
        raise SystemExit("discern bench ran %d primitive(s) on oneDNN reference code under %s" %
                         (line["reference_fallbacks"], isa))
    return line


def peer_worker(threads):
    """Times onnxruntime sessions for the parent on request: one JSON line in, one out."""
    import onnxruntime as ort
    sessions = {}
    for request_line in sys.stdin:
        request = json.loads(request_line)
        path = request["model"]
        if path not in sessions:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            sessions[path] = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        ms = time_onnxruntime(sessions[path], request["batch"], request["iterations"])
        print(json.dumps({"ms": ms, "hidden_leaf7_queries": hidden_leaf7_queries()}), flush=True)


def hidden_leaf7_queries():
    """How many CPUID leaf-7 answers hide_avx512.c changed in this process; None when it is not loaded."""
    try:
        return ctypes.c_ulong.in_dll(ctypes.CDLL(None), "hide_avx512_leaf7_queries").value
    except ValueError:
        return None


def build_hide_avx512(work):
    source = os.path.join(HERE, "hide_avx512.c")
    library = os.path.join(work, "hide_avx512.so")
    # Any C compiler: the Swift toolchain's clang is there wherever Discern builds.
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        raise SystemExit("no C compiler (cc, gcc or clang) to build %s" % source)
    r = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", library, source], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("cannot build %s: %s" % (source, r.stderr.strip()))
    return library


class Peer:
    """onnxruntime in its own process, shown the CPU as it is or without AVX-512."""

    def __init__(self, threads, hide_avx512_library=None):
        env = dict(os.environ)
        if hide_avx512_library:
            env["LD_PRELOAD"] = hide_avx512_library
        self.hides_avx512 = hide_avx512_library is not None
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--peer-worker",
                                         "--threads", str(threads)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)

    def time(self, model, batch, iterations):
        self.process.stdin.write(json.dumps({"model": model, "batch": batch, "iterations": iterations}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("onnxruntime worker exited with status %s" % self.process.wait())
        answer = json.loads(line)
        if self.hides_avx512 and not answer["hidden_leaf7_queries"]:
            raise SystemExit("onnxruntime's worker never asked CPUID leaf 7 under hide_avx512.c: "
                             "its kernels may have been chosen before the library loaded")
        return answer["ms"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def peers_for(groups, threads, work):
    """One onnxruntime worker per ISA the table needs: native, and AVX2 for the avx2 rows of an AVX-512 CPU.
    Returns {cap: (peer, label)}."""
    flags = cpu_flags()
    native = Peer(threads)
    native_label = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "native"
    chosen = {}
    for cap, _ in groups:
        if cap != "avx2" or "avx512f" not in flags:
            chosen[cap] = (native, native_label)
        elif "cpuid_fault" not in flags:
            print("note: this kernel or CPU has no CPUID faulting, so onnxruntime cannot be shown a CPU without "
                  "AVX-512: its avx2 rows run its AVX-512 code")
            chosen[cap] = (native, native_label)
        else:
            chosen[cap] = (Peer(threads, build_hide_avx512(work)), "avx2")
    return chosen


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_name():
    """The model name plus family and model numbers: a VM often reports only "Intel(R) Xeon(R) Processor"."""
    fields = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if ":" in line:
                key, value = (part.strip() for part in line.split(":", 1))
                fields.setdefault(key, value)
    if "model name" not in fields:
        return platform.processor() or "unknown CPU"
    return "%s (family %s model %s)" % (fields["model name"], fields.get("cpu family", "?"), fields.get("model", "?"))


def isa_groups(requested):
    """(cap, precision) pairs: AVX2 fp32, AVX-512 fp32 and bf16 where the CPU has them."""
    flags = cpu_flags()
    avx512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags
    available = ["avx2"] + (["avx512_core"] if avx512 else [])
    caps = available if requested == "auto" else [c for c in requested.split(",") if c in available]
    groups = [(cap, "fp32") for cap in caps]
    if requested == "auto" and avx512 and "avx512_bf16" in flags:
        groups.append(("avx512_core_bf16", "bf16"))
    return groups


EVERY_BACKBONE = ["efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2", "efficientnet-lite3",
                  "efficientnet-lite4", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def every_backbone(a):
    """ms/image of each backbone at its own input size, fastest of the rounds (rounds alternate backbones)."""
    best = {}
    isa = "?"
    for _ in range(a.rounds):
        for backbone in EVERY_BACKBONE:
            for batch in (1, 32):
                iterations = max(3, round(a.iterations / batch ** 0.5))
                line = time_discern(a.discern, backbone, batch, iterations, "fp32", a.threads, "ALL")
                isa = line["isa"]
                key = (backbone, batch)
                best[key] = min(best.get(key, float("inf")), line["best_ms_per_image"])
    print("CPU: %s, %d threads; oneDNN ISA %s; fp32, random weights; wall ms/image, fastest of %d rounds" %
          (cpu_name(), a.threads, isa, a.rounds))
    print("%-19s %10s %10s" % ("backbone", "batch 1", "batch 32"))
    for backbone in EVERY_BACKBONE:
        print("%-19s %10.2f %10.2f" % (backbone, best[(backbone, 1)], best[(backbone, 32)]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backbones", default="resnet50,efficientnet-lite0")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds; each side's fastest counts")
    ap.add_argument("--iterations", type=int, default=12, help="timed runs per round at batch 1 (fewer for larger)")
    ap.add_argument("--threads", type=int, default=2, help="threads for both sides")
    ap.add_argument("--isas", default="auto", help="auto, or a list of avx2,avx512_core")
    ap.add_argument("--discern", default=os.path.join(ROOT, ".build", "release", "discern"))
    ap.add_argument("--every-backbone", action="store_true", help="Discern alone, every backbone it has")
    ap.add_argument("--export-only", nargs=2, metavar=("BACKBONE", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.export_only:
        return export(*a.export_only)
    if a.peer_worker:
        return peer_worker(a.threads)

    if a.every_backbone:
        return every_backbone(a)
    import onnxruntime as ort
    ensure_lite_package()
    work = os.path.join(CACHE, "bench")
    os.makedirs(work, exist_ok=True)
    backbones = a.backbones.split(",")
    batches = [int(b) for b in a.batches.split(",")]
    models = {}
    for backbone in backbones:
        path = os.path.join(work, backbone + ".onnx")
        r = subprocess.run([TORCH_PY, os.path.abspath(__file__), "--export-only", backbone, path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("ONNX export of %s failed: %s" % (backbone, r.stderr.strip()[-800:]))
        models[backbone] = path

    groups = isa_groups(a.isas)
    peers = peers_for(groups, a.threads, work)
    rows = [(cap, precision, backbone, batch) for cap, precision in groups for backbone in backbones for batch in batches]
    best_peer = {row: float("inf") for row in rows}
    best_discern = {row: float("inf") for row in rows}
    kernels = {}
    notices = {}
    probes = {}
    for _ in range(a.rounds):
        for row in rows:
            cap, precision, backbone, batch = row
            iterations = max(3, round(a.iterations / batch ** 0.5))
            peer_ms = peers[cap][0].time(models[backbone], batch, iterations)
            best_peer[row] = min(best_peer[row], peer_ms)
            line = time_discern(a.discern, backbone, batch, iterations, precision, a.threads, cap)
            best_discern[row] = min(best_discern[row], line["best_ms_per_image"])
            kernels[(cap, backbone)] = (line["isa"], line["kernels"])
            if line.get("notice"):
                notices[(line["isa"], precision)] = line["notice"]
            if line.get("bf16_probe_ratio") is not None:
                probes.setdefault(cap, []).append(line["bf16_probe_ratio"])

    for peer in {id(peer): peer for peer, _ in peers.values()}.values():
        peer.close()

    print("CPU: %s, %d threads on each side; onnxruntime %s (default optimizations) on a plain "
          "torch.onnx.export, shown the peer ISA; wall ms/image, fastest of %d alternating rounds" %
          (cpu_name(), a.threads, ort.__version__, a.rounds))
    print("%-17s %-19s %5s %9s %11s %8s %12s %7s" % ("oneDNN ISA", "backbone", "batch", "precision", "discern ms",
                                                       "peer ISA", "onnxruntime", "ratio"))
    for row in rows:
        cap, precision, backbone, batch = row
        isa = kernels[(cap, backbone)][0]
        print("%-17s %-19s %5d %9s %11.2f %8s %12.2f %6.2fx" % (isa, backbone, batch, precision, best_discern[row],
                                                                 peers[cap][1], best_peer[row],
                                                                 best_discern[row] / best_peer[row]))
    for (cap, backbone), (isa, mix) in sorted(kernels.items()):
        print("kernels %s %s: %s" % (isa, backbone, "; ".join(m for m in mix if not m.startswith("reorder"))))
    for (isa, precision), notice in sorted(notices.items()):
        print("notice %s %s: %s" % (isa, precision, notice))
    print_bf16_probe(rows, best_discern, probes)


def print_bf16_probe(rows, best_discern, probes):
    """The bf16 notice is decided by a two-block timing (BF16Speed); set it beside what the whole networks of this
    run took in bf16 against fp32 on the same CPU, so that a probe that misjudges shows."""
    fp32, whole = {}, []
    for cap, precision, backbone, batch in rows:
        if precision == "fp32" and cap == "avx512_core":
            fp32[(backbone, batch)] = best_discern[(cap, precision, backbone, batch)]
    for cap, precision, backbone, batch in rows:
        if precision == "bf16" and (backbone, batch) in fp32:
            ratio = best_discern[(cap, precision, backbone, batch)] / fp32[(backbone, batch)]
            whole.append("%s batch %d %.2f" % (backbone, batch, ratio))
    for cap, ratios in sorted(probes.items()):
        verdicts = sorted({"faster" if ratio < 0.9 else "not faster" for ratio in ratios})
        print("bf16 probe: two blocks took %.2f-%.2fx of fp32's time in the %d bf16 processes (bf16 counts as faster "
              "under 0.90x: %s); whole networks in this run, bf16 over fp32: %s"
              % (min(ratios), max(ratios), len(ratios), " / ".join(verdicts),
                 ", ".join(whole) or "no fp32 rows to compare"))


if __name__ == "__main__":
    main()

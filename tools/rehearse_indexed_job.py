#!/usr/bin/env python3
"""Rehearses a Kubernetes Indexed Job on this machine (stdlib only): the job's N pods run as N local processes with
the environment Kubernetes gives them (JOB_COMPLETION_INDEX; JOB_COMPLETIONS as the manifests set it), each writing
its own shard file; the merge step joins them; the result is compared with one process doing all the work.
Exits 1 when they differ.

  predict:  tools/rehearse_indexed_job.py predict --model M --paths LIST --shards 3 --work DIR
            (each pod: discern predict --model M --paths-from LIST --jsonl DIR/shard-I.jsonl --resume;
             merge: discern merge --out DIR/merged.jsonl --expect COUNT DIR/shard-*.jsonl)
            --restart I kills pod I after a few lines and starts it again, as the Job's backoff would.
  features: tools/rehearse_indexed_job.py features --shards 3 --work DIR -- --data D [training options]
            (each pod: discern features ... --out DIR/features-I.safetensors; then discern train --features ...)
"""
import argparse, json, os, signal, struct, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary(given):
    path = given or os.environ.get("DISCERN_BINARY") or os.path.join(REPO, ".build", "release", "discern")
    if not os.path.isfile(path):
        sys.exit(f"discern binary not found: {path} (swift build -c release --product discern, or set DISCERN_BINARY)")
    return path


def pod_environment(index, count):
    env = dict(os.environ)
    env["JOB_COMPLETION_INDEX"] = str(index)
    env["JOB_COMPLETIONS"] = str(count)
    return env


def run(command, env=None):
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return result


def run_pods(commands, count):
    """All pods at once, as the Job's parallelism would start them."""
    pods = [subprocess.Popen(commands(i), env=pod_environment(i, count), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in range(count)]
    for i, pod in enumerate(pods):
        out, err = pod.communicate()
        if pod.returncode != 0:
            sys.exit(f"pod {i} failed ({pod.returncode}):\n{err}")
        last = (out.strip() or err.strip()).splitlines()
        print(f"pod {i}: {last[-1] if last else 'done'}")


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def rehearse_predict(args, discern):
    os.makedirs(args.work, exist_ok=True)
    with open(args.paths) as f:
        count = sum(1 for line in f if line.strip())
    shard_files = [os.path.join(args.work, f"shard-{i}.jsonl") for i in range(args.shards)]
    for path in shard_files + [os.path.join(args.work, n) for n in ("one.jsonl", "merged.jsonl")]:
        if os.path.exists(path):
            os.remove(path)

    def pod(i):
        return [discern, "predict", "--model", args.model, "--paths-from", args.paths, "--jsonl", shard_files[i],
                "--resume", "--batch-size", str(args.batch_size)]

    if args.restart is not None:
        # The pod dies (SIGKILL, as on an evicted node) after a few lines; the Job starts it again with the same index.
        victim = subprocess.Popen(pod(args.restart), env=pod_environment(args.restart, args.shards),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and victim.poll() is None:
            if os.path.exists(shard_files[args.restart]) and open(shard_files[args.restart]).read().count("\n") >= 3:
                break
            time.sleep(0.01)
        if victim.poll() is not None:
            sys.exit(f"pod {args.restart} finished before it could be killed: give more paths")
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        print(f"pod {args.restart}: killed after {open(shard_files[args.restart]).read().count(chr(10))} lines; restarting")
    run_pods(pod, args.shards)
    merged = os.path.join(args.work, "merged.jsonl")
    print(run([discern, "merge", "--out", merged, "--expect", str(count)] + shard_files).stdout.strip())
    one = os.path.join(args.work, "one.jsonl")
    run([discern, "predict", "--model", args.model, "--paths-from", args.paths, "--jsonl", one,
         "--batch-size", str(args.batch_size)], env={k: v for k, v in os.environ.items() if not k.startswith("JOB_")})
    a, b = jsonl(merged), jsonl(one)
    differences = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(a) != len(b) or differences:
        print(f"DIFFERENT: {len(a)} merged lines vs {len(b)} from one process; differing lines {differences[:10]}")
        return 1
    print(f"identical: {len(a)} lines from {args.shards} shards, merged, equal one process "
          f"(labels, probabilities, scores, verdicts; {sum('error' in x for x in a)} images with an error)")
    return 0


def safetensors(path):
    """Raw tensor bytes and the model metadata without its creation time."""
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    body = 8 + length
    tensors = {k: data[body + v["data_offsets"][0]:body + v["data_offsets"][1]]
               for k, v in header.items() if k != "__metadata__"}
    model = json.loads(header["__metadata__"]["discern"])
    model["training"].pop("createdAt", None)
    return tensors, model


def rehearse_features(args, discern):
    options = args.options
    if "--data" not in options:
        sys.exit("features: give the training options after --, at least --data DIR")
    os.makedirs(args.work, exist_ok=True)
    files = [os.path.join(args.work, f"features-{i}.safetensors") for i in range(args.shards)]
    run_pods(lambda i: [discern, "features"] + options + ["--out", files[i]], args.shards)
    sharded, one = os.path.join(args.work, "sharded"), os.path.join(args.work, "one")
    run([discern, "train"] + options + ["--out", sharded, "--force", "--features"] + files)
    run([discern, "train"] + options + ["--out", one, "--force"])
    (ta, ma), (tb, mb) = safetensors(os.path.join(sharded, "model.safetensors")), \
        safetensors(os.path.join(one, "model.safetensors"))
    differing = sorted(k for k in set(ta) | set(tb) if ta.get(k) != tb.get(k))
    if differing or ma != mb:
        print(f"DIFFERENT: tensors {differing[:10]}; metadata {'differs' if ma != mb else 'same'}")
        return 1
    print(f"identical: the model from {args.shards} feature shards equals the one-process model "
          f"({len(ta)} tensors bit for bit, same thresholds and rule)")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", choices=["predict", "features"])
    parser.add_argument("--binary", help="discern binary (default: $DISCERN_BINARY, else .build/release/discern)")
    parser.add_argument("--shards", type=int, default=3, help="the Job's completions")
    parser.add_argument("--work", required=True, help="folder for the shard files (the shared volume)")
    parser.add_argument("--model", help="predict: model file")
    parser.add_argument("--paths", help="predict: path list, one per line")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--restart", type=int, help="predict: kill this pod mid-way and start it again")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.options = argv[split + 1:]
    discern = binary(args.binary)
    if args.job == "predict":
        if not args.model or not args.paths:
            sys.exit("predict needs --model and --paths")
        return rehearse_predict(args, discern)
    return rehearse_features(args, discern)


if __name__ == "__main__":
    sys.exit(main())

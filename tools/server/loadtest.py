#!/usr/bin/env python3
"""Bounded load test of `discern serve` on loopback (stdlib only).

Starts the server with --model, waits for /healthz, sends a warm-up round, then N requests
(one JPEG each, cycling through the cats-and-dogs test set) from C concurrent clients, each on
its own keep-alive connection, and stops the server. --warmup requests come first. Prints errors (must be 0), latency
p50/p99, images/s, the mean forward-pass batch size the server reports, and the server's
resident memory (VmRSS) before, after the warm-up, sampled during and after the run. (With a
fake service, RSS rises for the first ~50k requests while malloc's arenas settle, then stays flat:
look at the samples, not only at the difference.)

    tools/server/loadtest.py --model run/model.discern [--requests 2048] [--clients 64]
        [--bench-ips X]   # batch throughput from `discern bench`: prints the ratio (goal <= 1.5)
"""
import argparse, http.client, json, os, signal, statistics, subprocess, sys, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from data_paths import datasets  # noqa: E402  ($DISCERN_DATASETS, else <repo>/../shared/datasets)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def images(limit):
    data = datasets()
    paths = []
    for sub in ("cats", "dogs"):
        d = os.path.join(data, "cats-and-dogs", "test_set", sub)
        paths += [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.lower().endswith((".jpg", ".jpeg"))][: limit // 2]
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append((os.path.basename(p), f.read()))
    return out


def run_round(port, clients, total, photos):
    """Sends `total` requests from `clients` threads; returns (latencies_s, errors, batch sizes, seconds)."""
    lock = threading.Lock()
    next_index = [0]
    latencies, errors, batches = [], [], []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                i = next_index[0]
                if i >= total:
                    break
                next_index[0] += 1
            name, body = photos[i % len(photos)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1/predict", body=body,
                             headers={"Content-Type": "image/jpeg", "X-Filename": name})
                r = conn.getresponse()
                payload = r.read()
                dt = time.perf_counter() - t0
                if r.status != 200:
                    raise RuntimeError(f"{name}: HTTP {r.status} {payload[:200]!r}")
                out = json.loads(payload)
                if len(out["predictions"]) != 1 or out["predictions"][0]["path"] != name:
                    raise RuntimeError(f"{name}: answer for another image: {out['predictions']}")
                with lock:
                    latencies.append(dt)
                    batches.append(out["batch_images"])
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                with lock:
                    errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, batches, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--discern", default=os.path.join(ROOT, ".build", "release", "discern"))
    ap.add_argument("--port", type=int, default=8092)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=2048)
    ap.add_argument("--warmup", type=int, default=512, help="requests before the measured run")
    ap.add_argument("--max-batch", type=int, default=32)
    ap.add_argument("--max-delay-ms", type=float, default=5)
    ap.add_argument("--bench-ips", type=float, help="images/s of `discern bench` at the same batch size")
    a = ap.parse_args()

    photos = images(256)
    server = subprocess.Popen([a.discern, "serve", "--model", a.model, "--port", str(a.port),
                               "--max-batch", str(a.max_batch), "--max-delay-ms", str(a.max_delay_ms),
                               "--log-level", "warning"])
    try:
        for _ in range(240):
            if server.poll() is not None:
                sys.exit(f"server exited with {server.returncode}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        rss0 = rss_kib(server.pid)
        _, werr, _, _ = run_round(a.port, a.clients, a.warmup, photos)
        rss1 = rss_kib(server.pid)
        samples, stop = [], threading.Event()

        def sample():  # RSS every 0.5 s during the measured run: stable means no per-request leak
            while not stop.wait(0.5):
                samples.append(rss_kib(server.pid))
        sampler = threading.Thread(target=sample)
        sampler.start()
        lat, errors, batches, secs = run_round(a.port, a.clients, a.requests, photos)
        stop.set()
        sampler.join()
        rss2 = rss_kib(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    ips = len(lat) / secs
    print(f"requests {a.requests}, clients {a.clients}, errors {len(errors) + len(werr)} (warm-up {len(werr)})")
    for e in (werr + errors)[:5]:
        print("  error:", e)
    print(f"latency p50 {q(0.50):.1f} ms, p99 {q(0.99):.1f} ms, max {q(1.0):.1f} ms")
    print(f"throughput {ips:.1f} images/s over {secs:.1f} s; mean forward-pass batch {statistics.mean(batches or [0]):.1f} images")
    print(f"server RSS: start {rss0 / 1024:.0f} MiB, after warm-up {rss1 / 1024:.0f} MiB, after run {rss2 / 1024:.0f} MiB "
          f"(run growth {(rss2 - rss1) / 1024:+.0f} MiB)")
    if samples:
        picks = [samples[min(len(samples) - 1, int(f * len(samples)))] for f in (0, 0.25, 0.5, 0.75)] + [samples[-1]]
        print("server RSS during the run (0/25/50/75/100%): " + ", ".join(f"{k / 1024:.0f}" for k in picks) + " MiB")
    if a.bench_ips:
        print(f"discern bench {a.bench_ips:.1f} images/s -> bench/server = {a.bench_ips / ips:.2f}x (goal <= 1.5x)")
    sys.exit(1 if errors or werr else 0)


if __name__ == "__main__":
    main()

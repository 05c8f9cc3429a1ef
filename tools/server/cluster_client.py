#!/usr/bin/env python3
"""A cluster's view of a running `discern serve`, through real clients of its protocols (for the Swift tests).

    cluster_client.py infer   --url HOST:PORT --model NAME IMAGE...   # tritonclient[http]: health, metadata, infer
    cluster_client.py metrics --url HOST:PORT                         # GET /metrics, parsed by prometheus_client
    cluster_client.py drain   --url HOST:PORT --pid PID --image IMAGE --requests N
        # N concurrent requests (half /v1/predict, half /v2 infer in plain JSON), SIGTERM to PID while they are in
        # flight, then one more connection attempt, which must be refused; prints every request's outcome.

Each prints one JSON object on stdout. Debian's /usr/bin/python3 with tritonclient[http] and prometheus-client
(scripts/setup --dev installs both).
"""
import argparse, base64, http.client, json, os, signal, sys, threading, time, urllib.request


def infer(args):
    import numpy as np
    import tritonclient.http as triton

    client = triton.InferenceServerClient(url=args.url)
    answer = {"live": client.is_server_live(), "ready": client.is_server_ready(),
              "model_ready": client.is_model_ready(args.model), "metadata": client.get_model_metadata(args.model)}
    blobs = [open(path, "rb").read() for path in args.images]
    image = triton.InferInput("image", [len(blobs)], "BYTES")
    image.set_data_from_numpy(np.array(blobs, dtype=np.object_))   # binary tensor data (tritonclient's default)

    def tensors(result):
        # Binary BYTES come back as bytes, JSON ones as str.
        text = lambda name: [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy(name).reshape(-1)]
        return {"label": text("label"), "verdict": text("verdict"), "reason": text("reason"),
                "scores": [json.loads(s) for s in text("scores")],
                "probabilities": result.as_numpy("probabilities").astype(float).tolist(),
                "probabilities_dtype": str(result.as_numpy("probabilities").dtype)}

    # No outputs named: the client asks for every output as binary data.
    answer["binary"] = tensors(client.infer(args.model, [image], request_id="binary"))
    # Every output named, as JSON.
    names = ["label", "probabilities", "verdict", "reason", "scores"]
    outputs = [triton.InferRequestedOutput(name, binary_data=False) for name in names]
    answer["json"] = tensors(client.infer(args.model, [image], outputs=outputs, request_id="json"))
    print(json.dumps(answer))


def metrics(args):
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{args.url}/metrics", timeout=30) as response:
        content_type = response.headers.get("Content-Type", "")
        text = response.read().decode()
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = {"type": family.type, "samples": [
            {"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]}
    print(json.dumps({"content_type": content_type, "families": families}))


def drain(args):
    host, port = args.url.rsplit(":", 1)
    blob = open(args.image, "rb").read()
    infer_body = json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                                         "data": [base64.b64encode(blob).decode()]}]}).encode()
    results = [None] * args.requests
    connected = threading.Barrier(args.requests + 1)

    def one(i):
        route, body = ("/v1/predict", blob) if i % 2 == 0 else ("/v2/models/discern/infer", infer_body)
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            connection.connect()
        except OSError as error:
            results[i] = {"route": route, "accepted": False, "error": str(error)}
            connected.wait()
            return
        connection.putrequest("POST", route)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        connected.wait()   # sent: the server holds it in its batch window
        try:
            response = connection.getresponse()
            payload = json.loads(response.read() or b"{}")
            label = (payload.get("predictions") or [{}])[0].get("label") if i % 2 == 0 else \
                next((o["data"][0] for o in payload.get("outputs", []) if o["name"] == "label"), None)
            results[i] = {"route": route, "accepted": True, "status": response.status, "label": label}
        except (OSError, http.client.HTTPException, ValueError) as error:
            results[i] = {"route": route, "accepted": True, "status": None, "error": repr(error)}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.requests)]
    for thread in threads:
        thread.start()
    connected.wait()
    time.sleep(0.3)   # the requests reach the server's batcher
    os.kill(args.pid, signal.SIGTERM)
    time.sleep(0.3)   # the listener closes
    try:
        late = http.client.HTTPConnection(host, int(port), timeout=5)
        late.request("GET", "/v2/health/live")
        refused = {"refused": False, "status": late.getresponse().status}
    except OSError as error:
        refused = {"refused": True, "error": str(error)}
    for thread in threads:
        thread.join(timeout=90)
    print(json.dumps({"requests": results, "after_sigterm": refused}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("infer"); p.add_argument("--url", required=True); p.add_argument("--model", required=True)
    p.add_argument("images", nargs="+")
    p = commands.add_parser("metrics"); p.add_argument("--url", required=True)
    p = commands.add_parser("drain"); p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, required=True); p.add_argument("--image", required=True)
    p.add_argument("--requests", type=int, default=6)
    args = parser.parse_args()
    {"infer": infer, "metrics": metrics, "drain": drain}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The study's cats-vs-dogs pipeline in Python, timed: the reference `discern run` is compared against.

PIL decode -> torchvision transforms (DataLoader, 2 workers) -> frozen EfficientNet-Lite0 backbone
(real weights, exported to ONNX and run by onnxruntime; `--backend torch` runs it in PyTorch) ->
torch nn.Linear(1280, 2) head, Adam(lr 0.001), CrossEntropyLoss, batch 32, shuffled, `--epochs` (20).

  /usr/bin/python3 tools/bench/study_reference.py [--data DIR] [--epochs 20] [--augment-views K]
        [--backend ort|torch] [--threads 2] [--workers 2] [--limit N] [--seed 0] [--weights PTH]

--augment-views 0 (default) is the study's protocol: a fresh random augmentation of every image each
epoch, so the backbone runs on every image every epoch. --augment-views K extracts K augmented views
of every image once and trains the epochs on the cached features, one view per image per epoch
(view = epoch mod K), like Discern's cached mode. --limit N keeps the first N images (sorted) per
class and split, for a quick check.

torch/torchvision/PIL live in Debian's /usr/bin/python3 (the script re-executes itself there when
started by another python). onnxruntime is only in the pyenv python; if /usr/bin/python3 cannot
import it, the script installs it once with `pip install --target /tmp/discern_ref/ortpkgs
--no-deps onnxruntime` (nothing in the system site-packages changes) and adds that to sys.path.
The ONNX file (1280-d pooled features, dynamic batch) is written to /tmp/discern_ref/lite0_features.onnx.

Prints wall times (feature extraction, training, evaluation, total) and test accuracy, then one JSON
line: {"mode", "epochs", "train_seconds", "total_seconds", "test_accuracy", ...}.
train_seconds covers everything from the first training image decoded to the trained head (so it
includes backbone forwards: per epoch in fresh mode, the one-off extraction in cached mode);
total_seconds = model load + training + evaluation (the one-off ONNX export is reported apart).
"""
import argparse, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TORCH_PY = "/usr/bin/python3"
OUT = "/tmp/discern_ref"
ORT_TARGET = os.path.join(OUT, "ortpkgs")
sys.path.insert(0, os.path.join(HERE, ".."))
import data_paths  # noqa: E402  ($DISCERN_DATASETS / $DISCERN_WEIGHTS, else beside the repository)
MEAN, STD = [127 / 255] * 3, [128 / 255] * 3  # EfficientNet-Lite0 normalisation


def reexec_if_no_torch():
    try:
        import torch, torchvision  # noqa: F401
    except ImportError:
        if os.path.realpath(sys.executable) == os.path.realpath(TORCH_PY):
            raise SystemExit("torch/torchvision not importable in " + TORCH_PY)
        os.execv(TORCH_PY, [TORCH_PY] + sys.argv)


def import_ort():
    try:
        import onnxruntime
        return onnxruntime
    except ImportError:
        pass
    if ORT_TARGET not in sys.path:
        sys.path.append(ORT_TARGET)
    try:
        import onnxruntime
        return onnxruntime
    except ImportError:
        pass
    print("onnxruntime not importable here; pip install --target %s --no-deps onnxruntime" % ORT_TARGET, flush=True)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", ORT_TARGET, "--no-deps", "onnxruntime"])
    if r.returncode != 0:
        return None
    import importlib
    importlib.invalidate_caches()
    try:
        import onnxruntime
        return onnxruntime
    except ImportError:
        return None


def find_data(arg):
    d = arg or os.path.join(data_paths.datasets(), "cats-and-dogs")
    if os.path.isdir(os.path.join(d, "training_set")) and os.path.isdir(os.path.join(d, "test_set")):
        return os.path.abspath(d)
    raise SystemExit("data not found (need DIR/training_set and DIR/test_set): " + str(d))


def list_images(root, limit):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    items = []
    for ci, c in enumerate(classes):
        files = sorted(f for f in os.listdir(os.path.join(root, c))
                       if f.lower().endswith((".jpg", ".jpeg", ".png", ".bmp")))
        if limit:
            files = files[:limit]
        items += [(os.path.join(root, c, f), ci) for f in files]
    return classes, items


def build_backbone(weights):
    import torch
    sys.path.insert(0, os.path.join(HERE, ".."))
    from make_model_fixtures import Lite0
    model = Lite0()
    model.load_state_dict(torch.load(weights, map_location="cpu"), strict=True)
    model._fc = torch.nn.Identity()  # 1280-d pooled features
    return model.eval()


def export_onnx(model, path):
    import torch
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), tmp, input_names=["x"], output_names=["features"],
                      dynamic_axes={"x": {0: "n"}, "features": {0: "n"}}, opset_version=13)
    os.replace(tmp, path)


def main():
    reexec_if_no_torch()
    import numpy as np, torch
    import torchvision.transforms as T
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--augment-views", type=int, default=0)
    ap.add_argument("--backend", choices=["ort", "torch"], default="ort")
    ap.add_argument("--weights")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--limit", type=int, default=0, help="first N images per class and split (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--onnx", default=os.path.join(OUT, "lite0_features.onnx"))
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    data = find_data(a.data)
    weights = a.weights or data_paths.weight_file("efficientnet-lite0-57934424.pth")
    if not os.path.isfile(weights):
        raise SystemExit("EfficientNet-Lite0 weights not found: " + weights)
    classes, train_items = list_images(os.path.join(data, "training_set"), a.limit)
    test_classes, test_items = list_images(os.path.join(data, "test_set"), a.limit)
    assert classes == test_classes, (classes, test_classes)

    ort = None
    if a.backend == "ort":
        ort = import_ort()
        if ort is None:
            print("NOTICE: onnxruntime unavailable in %s; falling back to --backend torch" % sys.executable, flush=True)
            a.backend = "torch"

    t_export = 0.0
    if a.backend == "ort":
        t0 = time.perf_counter()
        export_onnx(build_backbone(weights), a.onnx)
        t_export = time.perf_counter() - t0

    # ---- the timed pipeline starts here: model load, training, evaluation
    t_start = time.perf_counter()
    if a.backend == "ort":
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(a.onnx, so, providers=["CPUExecutionProvider"])

        def features(x):
            return torch.from_numpy(sess.run(None, {"x": x.numpy()})[0])
    else:
        backbone = build_backbone(weights)

        def features(x):
            with torch.no_grad():
                return backbone(x)

    norm = T.Normalize(MEAN, STD)
    train_tf = T.Compose([T.RandomRotation(20), T.RandomResizedCrop(224, scale=(0.8, 1.0)), T.RandomHorizontalFlip(),
                          T.RandomAffine(0, shear=10, scale=(0.8, 1.2)), T.ToTensor(), norm])
    test_tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), norm])

    class Images(torch.utils.data.Dataset):
        def __init__(self, items, tf):
            self.items, self.tf = items, tf

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            path, label = self.items[i]
            with Image.open(path) as im:
                return self.tf(im.convert("RGB")), label

    def loader(items, tf, shuffle):
        return torch.utils.data.DataLoader(Images(items, tf), batch_size=a.batch_size, shuffle=shuffle,
                                           num_workers=a.workers, persistent_workers=False)

    head = torch.nn.Linear(1280, len(classes))
    opt = torch.optim.Adam(head.parameters(), lr=a.lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(f, y):
        opt.zero_grad()
        out = head(f)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        return float(loss) * len(y), int((out.argmax(1) == y).sum())

    t_backbone = 0.0  # seconds inside the backbone forward (training side)
    t_train0 = time.perf_counter()
    if a.augment_views == 0:
        mode = "fresh"
        for epoch in range(a.epochs):
            te = time.perf_counter()
            tot_loss, correct, n = 0.0, 0, 0
            for x, y in loader(train_items, train_tf, True):
                tb = time.perf_counter()
                f = features(x)
                t_backbone += time.perf_counter() - tb
                l, c = step(f, y)
                tot_loss += l; correct += c; n += len(y)
            print("epoch %2d/%d  loss %.4f  running acc %.4f  %.1fs" % (
                epoch + 1, a.epochs, tot_loss / n, correct / n, time.perf_counter() - te), flush=True)
        t_extract = t_backbone
    else:
        mode = "cached"
        K = a.augment_views
        feats = torch.zeros(K, len(train_items), 1280)
        labels = torch.tensor([lab for _, lab in train_items])
        for v in range(K):
            tv, i0 = time.perf_counter(), 0
            for x, y in loader(train_items, train_tf, False):
                tb = time.perf_counter()
                feats[v, i0:i0 + len(y)] = features(x)
                t_backbone += time.perf_counter() - tb
                i0 += len(y)
            print("view %d/%d extracted  %.1fs" % (v + 1, K, time.perf_counter() - tv), flush=True)
        t_extract = time.perf_counter() - t_train0  # decode + augment + backbone
        g = torch.Generator().manual_seed(a.seed)
        for epoch in range(a.epochs):
            te = time.perf_counter()
            fe = feats[epoch % K]
            perm = torch.randperm(len(train_items), generator=g)
            tot_loss, correct, n = 0.0, 0, 0
            for b in range(0, len(perm), a.batch_size):
                idx = perm[b:b + a.batch_size]
                l, c = step(fe[idx], labels[idx])
                tot_loss += l; correct += c; n += len(idx)
            print("epoch %2d/%d  loss %.4f  running acc %.4f  %.2fs" % (
                epoch + 1, a.epochs, tot_loss / n, correct / n, time.perf_counter() - te), flush=True)
    t_train = time.perf_counter() - t_train0

    t_eval0 = time.perf_counter()
    correct = 0
    head.eval()
    with torch.no_grad():
        for x, y in loader(test_items, test_tf, False):
            correct += int((head(features(x)).argmax(1) == y).sum())
    acc = correct / len(test_items)
    t_eval = time.perf_counter() - t_eval0
    t_total = time.perf_counter() - t_start

    extract_label = "backbone forward (inside training)" if mode == "fresh" else "feature extraction (%d views)" % a.augment_views
    print("backend %s  threads %d  workers %d  train %d  test %d  classes %s" % (
        a.backend, a.threads, a.workers, len(train_items), len(test_items), ",".join(classes)))
    print("onnx export (untimed setup) %8.1f s" % t_export)
    print("%-34s %8.1f s" % (extract_label, t_extract))
    print("%-34s %8.1f s" % ("training (all of it)", t_train))
    print("%-34s %8.1f s" % ("evaluation", t_eval))
    print("%-34s %8.1f s" % ("total", t_total))
    print("test accuracy %.4f (%d/%d)" % (acc, correct, len(test_items)))
    print(json.dumps({"mode": mode, "augment_views": a.augment_views, "epochs": a.epochs, "backend": a.backend,
                      "threads": a.threads, "workers": a.workers, "n_train": len(train_items), "n_test": len(test_items),
                      "extract_seconds": round(t_extract, 2), "train_seconds": round(t_train, 2),
                      "eval_seconds": round(t_eval, 2), "total_seconds": round(t_total, 2),
                      "test_accuracy": round(acc, 4)}))


if __name__ == "__main__":
    main()

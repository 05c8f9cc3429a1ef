#!/usr/bin/python3
"""Weight-file fixtures for DiscernWeightsTests, made with Debian's torch (run with /usr/bin/python3).

Good files: tiny state_dicts saved by torch.save in the zip format and the legacy format, with the
expected values written independently (numpy safetensors via fixture_io). Bad files: pickles that
would run a command if unpickled by Python (they are never loaded here), forged storages, and
hostile zip archives. Output: Tests/Fixtures/weights/.
"""
import collections, io, json, os, pickle, struct, subprocess, sys, warnings, zipfile
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from data_paths import weight_file  # noqa: E402
from fixture_io import save  # noqa: E402

OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "weights")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(7)


def path(name):
    return os.path.join(OUT, name)


def state_dict():
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(4, 3, 3, 3)
    base = torch.randn(5, 6)
    sd["fc.weight"] = base.t()                          # transposed view: stride (1, 6)
    sd["fc.bias"] = torch.randn(20)[3:15:2]             # sliced view: offset 3, stride 2
    block = torch.randn(3, 4, 5)
    sd["block.view"] = block[1:, ::2, 1:4]              # 3-d view: offset, steps, partial rows
    shared = torch.randn(2, 8)
    sd["shared.a"], sd["shared.b"] = shared[0], shared[1]   # two tensors over one storage
    sd["half"] = torch.randn(7).half()
    sd["bf16"] = torch.randn(6).bfloat16()
    sd["double"] = torch.randn(2, 3, dtype=torch.float64)
    sd["long"] = torch.tensor([0, -3, 1 << 20, 12345, 7], dtype=torch.int64)
    sd["int32"] = torch.tensor([[1, -2], [3, 4]], dtype=torch.int32)
    sd["uint8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["bn.running_mean"] = torch.randn(4)
    sd["bn.num_batches_tracked"] = torch.tensor(42)     # 0-d int64
    sd["param"] = torch.nn.Parameter(torch.randn(3))    # pickled through _rebuild_parameter
    return sd


def expected(sd):
    return {k: v.detach().to(torch.float64).numpy() for k, v in sd.items()}


def torch_save(obj, name, legacy):
    torch.save(obj, path(name), _use_new_zipfile_serialization=not legacy)


sd = state_dict()
torch_save(sd, "small_zip.pth", legacy=False)
torch_save(sd, "small_legacy.pth", legacy=True)
# fixture_io stores 0-d arrays as [1]; the true shapes travel in the metadata.
save(path("small_expected.safetensors"), expected(sd),
     {"shapes": json.dumps({k: list(v.shape) for k, v in sd.items()}, sort_keys=True)})
module_sd = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
torch_save({"epoch": 3, "state_dict": module_sd, "note": "DataParallel"}, "nested_module_zip.pth", legacy=False)
torch_save({"model": sd, "best_acc": 0.5}, "nested_model_legacy.pth", legacy=True)

# --- Malicious pickles. Each would create its marker file if Python unpickled it.
markers = {}


class SystemCall:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, ("touch " + self.marker,))


class EvalCall:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (eval, ("__import__('os').system('touch %s')" % self.marker,))


class PopenCall:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (subprocess.Popen, (["touch", self.marker],))


def marker(name):
    m = "/tmp/discern-pwned-" + name.replace(".", "-") + "-" + os.urandom(4).hex()
    markers[name] = m
    return m


for legacy, name in [(False, "evil_system_zip.pth"), (True, "evil_system_legacy.pth")]:
    evil = collections.OrderedDict(w=torch.randn(2))
    evil["x"] = SystemCall(marker(name))
    torch_save(evil, name, legacy)
with open(path("evil_eval.pkl"), "wb") as f:
    pickle.dump({"w": EvalCall(marker("evil_eval.pkl"))}, f, protocol=2)
with open(path("evil_popen.pkl"), "wb") as f:       # protocol 4: STACK_GLOBAL and FRAME
    pickle.dump([PopenCall(marker("evil_popen.pkl"))], f, protocol=4)
with open(path("markers.json"), "w") as f:
    json.dump(markers, f, indent=1, sort_keys=True)


# --- A legacy file whose storage claims far more elements than the file holds.
class ForgedStorage:
    pass


def legacy_with_storage(name, numel, body_count, payload):
    forged = ForgedStorage()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel, None) if obj is forged else None

    t = torch._utils._rebuild_tensor_v2
    buf = io.BytesIO()
    for header in (0x1950a86a20f9469cfc6c, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, buf, protocol=2)

    class Rebuild:
        def __reduce__(self): return (t, (forged, 0, (2,), (1,), False, collections.OrderedDict()))
    P(buf, protocol=2).dump(collections.OrderedDict(w=Rebuild()))
    pickle.dump(["0"], buf, protocol=2)
    buf.write(struct.pack("<Q", body_count) + payload)
    open(path(name), "wb").write(buf.getvalue())


def state_pickle(numel, legacy):
    """A state_dict pickle {"w": tensor of 2 floats} whose storage declares `numel` elements."""
    forged = ForgedStorage()
    pid = ("storage", torch.FloatStorage, "0", "cpu", numel) + ((None,) if legacy else ())

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return pid if obj is forged else None

    class Rebuild:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2, (forged, 0, (2,), (1,), False, collections.OrderedDict()))
    buf = io.BytesIO()
    P(buf, protocol=2).dump(collections.OrderedDict(w=Rebuild()))
    return buf.getvalue()


def zip_with_storage(name, numel, payload):
    with zipfile.ZipFile(path(name), "w") as z:
        z.writestr("forged/data.pkl", state_pickle(numel, legacy=False))
        z.writestr("forged/data/0", payload)


zip_with_storage("huge_storage_zip.pth", 1 << 40, b"\0" * 8)
zip_with_storage("short_storage_zip.pth", 100, b"\0" * 8)
legacy_with_storage("huge_storage_legacy.pth", 1 << 40, 1 << 40, b"\0" * 8)
legacy_with_storage("truncated_storage_legacy.pth", 50, 50, b"\0" * 8)


# --- Hostile zip archives built from the good zip file's records.
records = {}
with zipfile.ZipFile(path("small_zip.pth")) as z:
    for info in z.infolist():
        records[info.filename] = z.read(info)
prefix = next(n for n in records if n.endswith("/data.pkl"))[: -len("data.pkl")]


def write_zip(name, extra, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path(name), "w", compression) as z:
        for n, b in list(records.items()) + extra:
            z.writestr(n if isinstance(n, zipfile.ZipInfo) else zipfile.ZipInfo(n), b, compress_type=compression)


write_zip("zip_traversal.pth", [("../../etc/evil", b"x")])
write_zip("zip_absolute.pth", [("/etc/evil", b"x")])
write_zip("zip_nested.pth", [(prefix + "inner.zip", open(path("small_zip.pth"), "rb").read())])
write_zip("zip_bomb.pth", [(prefix + "data/pad", b"\0" * (4 << 20))], zipfile.ZIP_DEFLATED)
link = zipfile.ZipInfo(prefix + "data/link")
link.create_system, link.external_attr = 3, 0o120777 << 16     # a symlink to /etc/passwd
write_zip("zip_symlink.pth", [(link, b"/etc/passwd")])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")                           # zipfile warns about the duplicate name
    write_zip("zip_duplicate.pth", [(prefix + "data.pkl", records[prefix + "data.pkl"])])
# A stored entry whose sizes claim 2**31 bytes: patch the local and central headers of data.pkl.
write_zip("zip_absurd_size.pth", [])
blob = bytearray(open(path("zip_absurd_size.pth"), "rb").read())
name = (prefix + "data.pkl").encode()
for sig, size_at in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
    i = 0
    while True:
        i = blob.find(sig, i)
        if i < 0:
            break
        name_at = i + (30 if sig == b"PK\x03\x04" else 46)
        if blob[name_at:name_at + len(name)] == name:
            blob[i + size_at:i + size_at + 8] = struct.pack("<II", 0x7FFFFFFF, 0x7FFFFFFF)
        i += 4
open(path("zip_absurd_size.pth"), "wb").write(bytes(blob))

for f in sorted(os.listdir(OUT)):
    print(f"{os.path.getsize(path(f)):8d}  {f}")

# --- Reference values from the real EfficientNet-Lite0 file ($DISCERN_WEIGHTS or <repo>/weights).
lite0 = weight_file("efficientnet-lite0-57934424.pth")
ref = torch.load(lite0, map_location="cpu")
keys = list(ref.keys())
arrays = {k: ref[k].to(torch.float64).numpy() for k in
          ["_conv_stem.weight", "_blocks.0._depthwise_conv.weight", "_bn1.running_var", "_fc.bias"]}
arrays["sums.f64"] = np.array([ref[k].to(torch.float64).sum().item() for k in keys])
save(path("lite0_reference.safetensors"), arrays, {"keys": json.dumps(keys)})
print(f"{os.path.getsize(path('lite0_reference.safetensors')):8d}  lite0_reference.safetensors")

#!/usr/bin/python3
"""Writes multipart/form-data bodies encoded by an independent encoder (urllib3, as used by
`requests`) plus what each part holds, for DiscernServerTests' parser tests.
Run: /usr/bin/python3 tools/server/make_multipart_fixtures.py"""
import base64, json, os, random
from urllib3.filepost import encode_multipart_formdata

out = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "server")
os.makedirs(out, exist_ok=True)
rng = random.Random(7)
cases = []
for i, n in enumerate([1, 3]):
    fields = []
    for k in range(n):
        # Binary content that contains CRLF, dashes and a fake boundary-like line.
        body = bytes(rng.randrange(256) for _ in range(300 + 97 * k)) + b"\r\n--not-the-boundary\r\n" + bytes([13, 10, 45, 45])
        fields.append(("image", (f"photo {k}.jpg", body, "image/jpeg")))
    data, ctype = encode_multipart_formdata(fields)
    name = f"multipart_{i}.bin"
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    cases.append({"file": name, "content_type": ctype,
                  "parts": [{"name": "image", "filename": fn, "body_base64": base64.b64encode(b).decode()} for _, (fn, b, _) in fields]})
with open(os.path.join(out, "multipart.json"), "w") as f:
    json.dump(cases, f, indent=1)

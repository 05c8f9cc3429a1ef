#!/usr/bin/python3
"""Reference values for DiscernVision's PhotoShift pixel operations (scipy.ndimage, numpy).

Run with /usr/bin/python3 from the repository root; writes Tests/Fixtures/vision/shift.safetensors.
"""
import os, sys
import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "vision", "shift.safetensors")
rng = np.random.default_rng(7)
img = rng.integers(0, 256, (19, 23, 3)).astype(np.uint8)
out = {"image": img}
for sigma in [0.8, 1.0, 1.7, 2.5]:
    f = np.stack([ndimage.gaussian_filter(img[..., c].astype(np.float64), sigma, mode="nearest", truncate=3.0)
                  for c in range(3)], -1)
    out[f"blur.{sigma}"] = np.clip(np.round(f), 0, 255).astype(np.uint8)
# colour: channel gains (clipped at 255), saturation around the BT.601 grey, brightness, then contrast around the mean grey
gains, sat, bri, con = np.array([1.2, 0.8, 1.05]), 1.4, 0.9, 1.25
p = np.minimum(img.astype(np.float64) * gains, 255)
grey = p @ np.array([0.299, 0.587, 0.114])
v = np.clip((grey[..., None] + (p - grey[..., None]) * sat) * bri, 0, 255)
mean = (v @ np.array([0.299, 0.587, 0.114])).mean()
out["colour"] = np.clip(np.round(mean + (v - mean) * con), 0, 255).astype(np.uint8)
out["colour.params.f64"] = np.array([*gains, sat, bri, con])
save(OUT, out)
print("wrote", OUT)

#!/usr/bin/env python3
"""OpenCV reference for DiscernExplain's overlays: cv2.COLORMAP_JET and pytorch-grad-cam's
show_cam_on_image(img, mask, use_rgb=True, image_weight) (utils/image.py), plus .npy files
written by numpy.save for the NPY writer. Needs numpy + opencv-python-headless (any python3):
    python3 tools/make_explain_cv2_fixture.py
"""
import os, sys
import numpy as np
import cv2

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import save

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "explain")

def show_cam_on_image(img, mask, use_rgb=False, colormap=cv2.COLORMAP_JET, image_weight=0.5):
    heatmap = cv2.applyColorMap(np.uint8(255 * mask), colormap)
    if use_rgb:
        heatmap = cv2.cvtColor(heatmap, cv2.COLOR_BGR2RGB)
    heatmap = np.float32(heatmap) / 255
    if np.max(img) > 1:
        raise Exception("The input image should np.float32 in the range [0, 1]")
    cam = (1 - image_weight) * heatmap + image_weight * img
    cam = cam / np.max(cam)
    return np.uint8(255 * cam)

rng = np.random.default_rng(5)
H, W = 23, 31
lut = cv2.cvtColor(cv2.applyColorMap(np.arange(256, dtype=np.uint8)[None], cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)[0]
mask = rng.random((H, W)).astype(np.float32)
img = rng.integers(0, 256, (H, W, 3)).astype(np.uint8)
arrays = {"jet": lut, "mask": mask, "image": img}
for w in (0.5, 0.3):
    arrays[f"overlay.{w}"] = show_cam_on_image(np.float32(img) / 255, mask, use_rgb=True, image_weight=w)
def minmax(m):
    m = m - np.min(m); return m / (1e-7 + np.max(m))
for (h, w) in ((47, 61), (11, 13)):   # CAM map resized to an original photo's size (up and down)
    arrays[f"resized.{h}x{w}"] = minmax(cv2.resize(mask, (w, h)))
save(os.path.join(OUT, "cv2_overlay.safetensors"), arrays, {"opencv": cv2.__version__})
np.save(os.path.join(OUT, "numpy_2d.npy"), mask)
np.save(os.path.join(OUT, "numpy_3d.npy"), rng.random((2, 5, 7)).astype(np.float32))
np.save(os.path.join(OUT, "numpy_1d.npy"), rng.random(9).astype(np.float32))

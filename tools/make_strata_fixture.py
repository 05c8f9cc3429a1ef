#!/usr/bin/python3
"""Reference for the verdict's stratified "unsure" thresholds (Selective.stratifiedThresholds and
Selective.resolutionThresholds), numpy alone.

Run with /usr/bin/python3 from the repository root; writes Tests/Fixtures/robustness/strata.safetensors.
Samples are split by a typicality score at a cut (the plain lower quantile of the clean scores: the k-th largest,
k = ceil(fraction * n)); in each stratum the threshold is the lowest score t at which the error rate among
samples with score >= t is at most the risk (ties accepted together), +inf if none; the atypical one is never
below the typical one.
"""
import math, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "robustness")
rng = np.random.default_rng(20261202)


def risk_threshold(scores, correct, risk):
    best = np.inf
    for t in np.unique(scores)[::-1]:
        if 1 - correct[scores >= t].mean() <= risk:
            best = t
    return best


n, clean = 600, 200
typicality = rng.normal(0, 1, n)
typicality[clean:] -= rng.uniform(0, 2, n - clean)             # copies: less typical than the clean photos
confidence = np.round(rng.uniform(0, 1, n), 3)                  # ties, as a rounded score has
# atypical samples are wrong more often, at every confidence
p_right = np.minimum(np.where(typicality >= -1, 0.85, 0.6) + 0.4 * confidence ** 2, 1)
correct = rng.uniform(0, 1, n) < p_right
out = {"typicality": typicality, "confidence": confidence, "correct": correct.astype(float)}
for fraction in [0.9, 0.95]:
    k = math.ceil(fraction * clean)
    cut = np.sort(typicality[:clean])[::-1][k - 1]
    out[f"cut.{fraction}"] = [cut]
    typical = typicality >= cut
    for risk in [0.01, 0.05, 0.1]:
        t = risk_threshold(confidence[typical], correct[typical], risk)
        a = max(risk_threshold(confidence[~typical], correct[~typical], risk), t)
        out[f"typical.{fraction}.{risk}"] = [t]
        out[f"atypical.{fraction}.{risk}"] = [a]
# Low-resolution stratum (Selective.resolutionThresholds): a third of the samples low-resolution, wrong more often
# at every confidence; the low-resolution threshold is never below the full-size one; all low-resolution = pooled.
low = rng.uniform(0, 1, n) < 1 / 3
p_right_low = np.minimum(np.where(low, 0.7, 0.9) + 0.3 * confidence ** 2, 1)
correct_low = rng.uniform(0, 1, n) < p_right_low
out["low_resolution"] = low.astype(float)
out["correct_resolution"] = correct_low.astype(float)
for risk in [0.01, 0.05, 0.1]:
    t = risk_threshold(confidence[~low], correct_low[~low], risk)
    out[f"resolution.normal.{risk}"] = [t]
    out[f"resolution.low.{risk}"] = [max(risk_threshold(confidence[low], correct_low[low], risk), t)]
    out[f"resolution.all.{risk}"] = [risk_threshold(confidence, correct_low, risk)]
save(os.path.join(OUT, "strata.safetensors"), {k + ".f64": np.asarray(v, dtype=np.float64) for k, v in out.items()},
     {"source": "numpy " + np.__version__})
print("wrote strata.safetensors")

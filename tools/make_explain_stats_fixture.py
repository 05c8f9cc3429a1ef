#!/usr/bin/python3
"""scipy.stats.mannwhitneyu (default two-sided, method='auto') and numpy.median references for
DiscernExplain's attention-area analysis. Run: /usr/bin/python3 tools/make_explain_stats_fixture.py"""
import os, sys
import numpy as np
from scipy.stats import mannwhitneyu
import scipy

sys.path.insert(0, os.path.dirname(__file__))
from fixture_io import save

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "explain")
rng = np.random.default_rng(11)
cases = [
    (rng.random(5), rng.random(7) + 0.3),                       # exact, no ties
    (rng.random(3), rng.random(40)),                            # exact (one side small)
    (np.round(rng.random(6), 1), np.round(rng.random(9), 1)),   # ties → asymptotic
    (rng.random(30), rng.random(25) * 1.2),                     # asymptotic
    (rng.random(1), rng.random(2)),                             # tiny
    (np.array([0.2, 0.2, 0.2]), np.array([0.2, 0.2])),          # all tied
]
arrays = {}
for i, (x, y) in enumerate(cases):
    r = mannwhitneyu(x, y)
    arrays[f"{i}.x.f64"] = x; arrays[f"{i}.y.f64"] = y
    arrays[f"{i}.result.f64"] = np.array([r.statistic, r.pvalue, np.median(x), np.median(y)])
save(os.path.join(OUT, "mannwhitney.safetensors"), arrays, {"cases": len(cases), "scipy": scipy.__version__})

#!/usr/bin/python3
"""Reference values for DiscernRobustness, from scipy 1.10 / scikit-learn 1.2 / numpy (float64).

Run with /usr/bin/python3 from the repository root; writes Tests/Fixtures/robustness/*.safetensors.
All float64 arrays are stored under keys ending in ".f64" so no precision is lost.
"""
import os, sys
import numpy as np
from scipy import stats, special
from sklearn import metrics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "robustness")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20240605)


def f64(d):
    return {k + ".f64": np.asarray(v, dtype=np.float64) for k, v in d.items()}


# ---------- synthetic logits and features: 3 classes, in-distribution test set, OOD-ish points ----------
C, D, NTR, NTE, NOOD = 3, 16, 300, 90, 45
centers = rng.normal(0, 3, size=(C, D))
head = rng.normal(0, 0.5, size=(C, D))
ytr = rng.integers(0, C, NTR)
yte = rng.integers(0, C, NTE)
ftr = np.maximum(centers[ytr] + rng.normal(0, 1.5, (NTR, D)), 0)      # ReLU-like, some exact zeros
fte = np.maximum(centers[yte] + rng.normal(0, 1.5, (NTE, D)), 0)
food = np.maximum(rng.normal(0.5, 2.5, (NOOD, D)), 0)
ltr, lte, lood = ftr @ head.T, fte @ head.T, food @ head.T
queries = np.vstack([lte, lood])
fq = np.vstack([fte, food])

out = dict(train_logits=ltr, train_labels=ytr.astype(np.float64), train_features=ftr,
           query_logits=queries, query_features=fq, query_is_in=np.r_[np.ones(NTE), np.zeros(NOOD)],
           query_labels=np.r_[yte, -np.ones(NOOD)])

# ---------- gaussian_kde: 1-D per column, class-wise, multivariate; Scott, Silverman, scalar ----------
for bw in ["scott", "silverman", 0.4]:
    tag = bw if isinstance(bw, str) else "scalar"
    for k in range(C):
        kde = stats.gaussian_kde(ltr[:, k], bw_method=bw)
        out[f"kde1d.{tag}.{k}"] = kde(queries[:, k])
        out[f"kde1d.{tag}.{k}.factor"] = [kde.factor]
    kde = stats.gaussian_kde(ltr.T, bw_method=bw)
    out[f"kde3d.{tag}"] = kde(queries.T)
    out[f"kde3d.{tag}.factor"] = [kde.factor]
    out[f"kde3d.{tag}.logpdf"] = kde.logpdf(queries.T)

# ---------- scores, straight numpy/scipy ----------
kdes = [stats.gaussian_kde(ltr[:, k]) for k in range(C)]
out["score.density"] = np.mean([kdes[k](queries[:, k]) for k in range(C)], axis=0)
out["score.density-seed"] = np.mean([kdes[0](queries[:, k]) for k in range(C)], axis=0)
ckdes = [stats.gaussian_kde(ltr[ytr == k, k]) for k in range(C)]
pred = queries.argmax(1)
out["score.class-density"] = np.array([ckdes[p](q[p])[0] for p, q in zip(pred, queries)])
out["score.joint-density"] = stats.gaussian_kde(ltr.T)(queries.T)
sm = special.softmax(queries, axis=1)
out["score.msp"] = sm.max(1)
out["score.maxlogit"] = queries.max(1)
out["score.energy"] = special.logsumexp(queries, axis=1)
# Mahalanobis (Lee et al. 2018): shared within-class covariance / N, ridge 1e-6 * mean variance.
mu = np.stack([ftr[ytr == k].mean(0) for k in range(C)])
cen = ftr - mu[ytr]
cov = cen.T @ cen / NTR
cov += 1e-6 * np.trace(cov) / D * np.eye(D)
prec = np.linalg.inv(cov)
d2 = np.stack([np.einsum("ij,jk,ik->i", fq - mu[k], prec, fq - mu[k]) for k in range(C)], 1)
out["score.mahalanobis"] = -d2.min(1)
# kNN: cosine similarity to the k-th nearest normalised training feature.
nz = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-300)
sims = nz(fq) @ nz(ftr).T
srt = -np.sort(-sims, axis=1)
out["score.knn"] = srt[:, 9]
out["score.knn.k3"] = srt[:, 2]
save(os.path.join(OUT, "scores.safetensors"), f64(out), {"source": "scipy " + __import__("scipy").__version__})


# ---------- ranking metrics (sklearn) and FPR95 (numpy), several score sets incl. ties ----------
def fpr95(s_in, s_out, tpr=0.95):
    t = np.sort(s_in)[::-1][int(np.ceil(tpr * len(s_in) - 1e-9)) - 1]
    return np.mean(s_out >= t), t


m = {}
cases = {
    "gauss": (rng.normal(1, 1, 200), rng.normal(0, 1, 150)),
    "ties": (np.round(rng.normal(1, 1, 120), 1), np.round(rng.normal(0, 1, 80), 1)),
    "coarse": (rng.integers(0, 5, 60).astype(float), rng.integers(0, 4, 97).astype(float)),
    "separable": (rng.uniform(2, 3, 40), rng.uniform(0, 1, 30)),
}
for name, (si, so) in cases.items():
    y = np.r_[np.ones(len(si)), np.zeros(len(so))]
    s = np.r_[si, so]
    fpr, tpr, thr = metrics.roc_curve(y, s)
    f, t = fpr95(si, so)
    m.update({f"{name}.in": si, f"{name}.out": so,
              f"{name}.auroc": [metrics.roc_auc_score(y, s)],
              f"{name}.aupr_in": [metrics.average_precision_score(y, s)],
              f"{name}.aupr_out": [metrics.average_precision_score(1 - y, -s)],
              f"{name}.fpr95": [f], f"{name}.thr95": [t],
              f"{name}.thr90": [np.sort(si)[::-1][int(np.ceil(0.9 * len(si) - 1e-9)) - 1]],
              f"{name}.roc_fpr": fpr, f"{name}.roc_tpr": tpr, f"{name}.roc_thr": thr})

# selective classification and risk-coverage on a labelled set
sc = np.round(rng.uniform(0, 1, 150), 2)                 # ties on purpose
correct = rng.uniform(0, 1, 150) < 0.35 + 0.6 * sc
thr = 0.3
acc = sc >= thr
m.update({"sel.scores": sc, "sel.correct": correct.astype(float), "sel.threshold": [thr],
          "sel.accepted": [acc.sum()], "sel.acc_on_accepted": [correct[acc].mean()],
          "sel.wrong": [(~correct).sum()], "sel.wrong_rejected": [(~correct & ~acc).sum()],
          "sel.right_rejected": [(correct & ~acc).sum()]})
uniq = np.unique(sc)[::-1]
cov_, risk_ = [], []
for u in uniq:                                           # one point per distinct score
    a = sc >= u
    cov_.append(a.mean()); risk_.append(1 - correct[a].mean())
cov_, risk_ = np.array(cov_), np.array(risk_)
m.update({"sel.rc_coverage": cov_, "sel.rc_risk": risk_,
          "sel.aurc": [np.sum(np.diff(np.r_[0, cov_]) * risk_)]})
# conservative calibration: smallest k with P(Binomial(n, t) <= k-1) >= confidence (scipy.stats.binom)
tol = []
for n_, t_, c_ in [(200, 0.95, 0.9), (200, 0.95, 0.5), (50, 0.9, 0.95), (1000, 0.95, 0.99), (20, 0.99, 0.9), (7, 0.5, 0.8)]:
    ks = np.arange(1, n_ + 1)
    ok = stats.binom.cdf(ks - 1, n_, t_) >= c_
    tol.append([n_, t_, c_, ks[ok][0] if ok.any() else n_])
m["tolerance.cases"] = np.array(tol)
save(os.path.join(OUT, "metrics.safetensors"), f64(m))

# ---------- Mann-Whitney U (scipy, two-sided, default method='auto') ----------
mw = {}
mcases = {
    "large": (rng.normal(0, 1, 30), rng.normal(0.6, 1, 25), "auto"),
    "ties": (rng.integers(0, 6, 20).astype(float), rng.integers(1, 7, 15).astype(float), "auto"),
    "exact_5_7": (rng.normal(0, 1, 5), rng.normal(1, 1, 7), "auto"),
    "exact_3_12": (rng.normal(0, 1, 3), rng.normal(-1, 1, 12), "auto"),
    "exact_8_40": (rng.normal(0, 1, 8), rng.normal(0.3, 1, 40), "auto"),
    "small_ties": (np.array([1., 2, 2, 3]), np.array([2., 3, 4, 4, 5]), "auto"),
    "forced_asym": (rng.normal(0, 1, 6), rng.normal(1, 1, 6), "asymptotic"),
    "identical": (np.ones(5), np.ones(4), "auto"),
}
for name, (x, y, meth) in mcases.items():
    r = stats.mannwhitneyu(x, y, alternative="two-sided", method=meth)
    mw.update({f"{name}.x": x, f"{name}.y": y, f"{name}.u1": [r.statistic], f"{name}.p": [r.pvalue],
               f"{name}.median_x": [np.median(x)], f"{name}.median_y": [np.median(y)]})
save(os.path.join(OUT, "mannwhitney.safetensors"), f64(mw), {"methods": {k: v[2] for k, v in mcases.items()}})

# ---------- newer detectors, each from its paper's formula (own generator: the files above stay as they were) ----------
# ViM (Wang et al. 2022), ReAct (Sun et al. 2021), SCALE (Xu et al. 2024), ASH-S (Djurisic et al. 2023),
# GEN (Liu et al. 2023); written the way OpenOOD v1.5's postprocessors compute them, in numpy.
from sklearn.covariance import EmpiricalCovariance

rng = np.random.default_rng(20250101)
C2, D2, N2, Q2 = 3, 24, 400, 60
cent2 = rng.normal(0, 2, (C2, D2))
y2 = rng.integers(0, C2, N2)
f2 = np.maximum(cent2[y2] + rng.normal(0, 1.2, (N2, D2)), 0)
fq2 = np.vstack([np.maximum(cent2[rng.integers(0, C2, Q2 // 2)] + rng.normal(0, 1.2, (Q2 // 2, D2)), 0),
                 np.maximum(rng.normal(0.8, 2.5, (Q2 // 2, D2)), 0)])
w2, b2 = rng.normal(0, 0.4, (C2, D2)), rng.normal(0, 0.5, C2)
lg = lambda f: f @ w2.T + b2
det = dict(train_features=f2, train_labels=y2.astype(np.float64), head_weight=w2, head_bias=b2,
           query_features=fq2, query_logits=lg(fq2))
# ViM, principal dimension 12 of 24
DIM = 12
u = -np.matmul(np.linalg.pinv(w2), b2)
ec = EmpiricalCovariance(assume_centered=True).fit(f2 - u)
eig_vals, eigen_vectors = np.linalg.eig(ec.covariance_)
NS = np.ascontiguousarray((eigen_vectors.T[np.argsort(eig_vals * -1)[DIM:]]).T).real
alpha = lg(f2).max(axis=-1).mean() / np.linalg.norm(np.matmul(f2 - u, NS), axis=-1).mean()
det["vim.principal"] = [DIM]
det["vim.alpha"] = [alpha]
det["score.vim"] = special.logsumexp(lg(fq2), axis=-1) - alpha * np.linalg.norm(np.matmul(fq2 - u, NS), axis=-1)
# ReAct: clip at the 90th percentile of the training activations, energy of the head
clip = np.percentile(f2.flatten(), 90)
det["react.clip"] = [clip]
det["score.react"] = special.logsumexp(lg(np.minimum(fq2, clip)), axis=-1)


def shape(x, percentile, prune):
    s1 = x.sum(1)
    n = x.shape[1]
    k = n - int(np.round(n * percentile / 100.0))
    idx = np.argsort(-x, axis=1)[:, :k]
    top = np.take_along_axis(x, idx, 1)
    s2 = top.sum(1)
    if prune:
        out = np.zeros_like(x)
        np.put_along_axis(out, idx, top, 1)
    else:
        out = x.copy()
    return out * np.exp(s1 / s2)[:, None]


det["score.scale"] = special.logsumexp(lg(shape(fq2, 85, False)), axis=-1)
det["score.ash-s"] = special.logsumexp(lg(shape(fq2, 85, True)), axis=-1)
det["score.scale.p65"] = special.logsumexp(lg(shape(fq2, 65, False)), axis=-1)


def gen(logits, gamma=0.1, M=100):
    p = np.sort(special.softmax(logits, axis=1), axis=1)[:, -M:]
    return -np.sum(p ** gamma * (1 - p) ** gamma, axis=1)


det["score.gen"] = gen(lg(fq2))
many = rng.normal(0, 2, (20, 130))
det["gen.many_logits"] = many
det["score.gen.many"] = gen(many)                       # M = 100 of 130 classes
# selective classification to a target risk: the largest coverage whose risk <= r (ties accepted together)
sc2 = np.round(rng.uniform(0, 1, 400), 3)
ok2 = rng.uniform(0, 1, 400) < 0.8 + 0.2 * sc2
det.update({"risk.scores": sc2, "risk.correct": ok2.astype(float)})
for r in [0.01, 0.05, 0.1]:
    best = np.inf
    for t in np.unique(sc2)[::-1]:
        a = sc2 >= t
        if 1 - ok2[a].mean() <= r:
            best = t
    det[f"risk.threshold.{r}"] = [best]
save(os.path.join(OUT, "detectors.safetensors"), f64(det), {"source": "numpy " + np.__version__})
print("wrote", sorted(os.listdir(OUT)))

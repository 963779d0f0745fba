"""Fitting the engine's small data-driven models on an annotated dev split (benchmark/dev use).

Nothing here runs at analysis time: :mod:`._fitted` holds the result as constants.  Used by
``benchmarks/audio_real.py`` (``--fit`` writes ``_fitted.py``; every run prints 5-fold
cross-validated scores).  numpy/scipy only.

* Tempo: conditional logit over the metrical-level candidates of :func:`tempo.candidates`
  (the correct candidate is the one within 4 % of the annotated tempo), L2-regularised; then a
  Platt scaling of the winning softmax probability against "Accuracy1 holds", fitted on
  out-of-fold predictions (inner 5-fold) of the training set.
* Key: major/minor chroma and bass-chroma profiles (mean of the tonic-aligned, z-scored profiles
  of the training clips, shrunk toward Krumhansl–Kessler/Temperley), then a conditional logit
  over the 24 keys with the evidence terms of :data:`key.KEY_TERMS`, then Platt scaling of the
  top posterior against "exact key".
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from .._dsp import resample
from . import key as _key
from . import tempo as _tempo

NAMES = _key.PITCH_NAMES
L2_TEMPO, L2_KEY, SHRINK = 0.05, 0.05, 0.5
KEY_FLOORS = {"chords": 2.0, "open_triad": 2.0, "open_bass": 1.0}


def clip_features(y: np.ndarray, sr: int) -> dict:
    """Parameter-free features of one clip (JSON-friendly)."""
    x = resample(np.asarray(y, dtype=np.float32), sr, _tempo.SR)
    env, _ = _tempo.onset_envelopes(x, _tempo.SR)
    cands, feats = _tempo.candidates(env)
    chroma, bass, energy, tuning = _key.frame_chroma_tuning(x, _key.SR)
    return {"cands": cands.tolist(), "tfeats": feats.tolist(), "key": _key.clip_terms(chroma, bass, energy),
            "tuning": tuning}


def _clogit(groups: list[tuple[np.ndarray, int, float]], l2: float) -> np.ndarray:
    """Weighted conditional logit: groups of (candidates x features, index of the right one, weight)."""
    d = groups[0][0].shape[1]
    total = sum(wt for _, _, wt in groups)

    def nll(w):
        f, g = 0.0, np.zeros(d)
        for X, yi, wt in groups:
            u = X @ w
            m = u.max()
            e = np.exp(u - m)
            s = e.sum()
            f -= wt * (u[yi] - m - np.log(s))
            g -= wt * (X[yi] - (e / s) @ X)
        return f / total + l2 * w @ w, g / total + 2 * l2 * w

    res = minimize(nll, np.zeros(d), jac=True, method="L-BFGS-B")
    return res.x


def _platt(p: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    z = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))

    def nll(ab):
        q = 1 / (1 + np.exp(-(ab[0] * z + ab[1])))
        q = np.clip(q, 1e-9, 1 - 1e-9)
        return -np.mean(ok * np.log(q) + (1 - ok) * np.log(1 - q)) + 0.01 * (ab[0] - 1) ** 2

    r = minimize(nll, np.array([1.0, 0.0]), method="Nelder-Mead")
    return float(r.x[0]), float(r.x[1])


# ---------------------------------------------------------------- tempo
def _tempo_groups(feats: list[dict], bpms: list[float], weights: list[float] | None = None):
    groups = []
    for n, (f, ref) in enumerate(zip(feats, bpms, strict=True)):
        c = np.asarray(f["cands"])
        ok = np.nonzero(np.abs(c / ref - 1) <= 0.04)[0]
        if ok.size:
            groups.append((np.asarray(f["tfeats"]), int(ok[0]), 1.0 if weights is None else weights[n]))
    return groups


def fit_tempo_weights(feats: list[dict], bpms: list[float], weights: list[float] | None = None) -> np.ndarray:
    return _clogit(_tempo_groups(feats, bpms, weights), L2_TEMPO)


def predict_tempo(f: dict, w) -> tuple[float, float]:
    p = _tempo.choose(np.asarray(f["tfeats"]), w)
    i = int(np.argmax(p))
    return float(f["cands"][i]), float(p[i])


def fit_tempo(feats: list[dict], bpms: list[float], k: int = 5, weights: list[float] | None = None) -> dict:
    w = fit_tempo_weights(feats, bpms, weights)
    # Platt scaling on inner out-of-fold predictions
    ps, oks = [], []
    idx = np.arange(len(feats))
    for f in range(k):
        tr, te = idx[idx % k != f], idx[idx % k == f]
        wf = fit_tempo_weights([feats[i] for i in tr], [bpms[i] for i in tr],
                               None if weights is None else [weights[i] for i in tr])
        for i in te:
            b, p = predict_tempo(feats[i], wf)
            ps.append(p)
            oks.append(abs(b / bpms[i] - 1) <= 0.04)
    return {"weights": w.tolist(), "platt": _platt(np.array(ps), np.array(oks, float))}


# ---------------------------------------------------------------- key
def _key_index(tonic: str, mode: str) -> int:
    return _key.pitch_class(tonic) + (12 if mode == "minor" else 0)


def _fit_profiles(terms: list[dict], idx: list[int], field: str, lit: tuple) -> np.ndarray:
    out = []
    for minor, lit_prof in ((0, lit[0]), (1, lit[1])):
        acc = [_key._z(np.roll(np.asarray(t[field]), -(i % 12))) for t, i in zip(terms, idx, strict=True)
               if (i >= 12) == bool(minor) and np.std(t[field]) > 0]
        m = _key._z(np.mean(acc, axis=0)) if acc else np.zeros(12)
        out.append(_key._z(SHRINK * _key._z(lit_prof) + (1 - SHRINK) * m) if acc else _key._z(lit_prof))
    return np.array(out)


def fit_key_params(terms: list[dict], idx: list[int], platt: bool = True, k: int = 5,
                   weights: list[float] | None = None) -> dict:
    lit = (_key.MAJOR, _key.MINOR)
    prof = _fit_profiles(terms, idx, "g", lit)
    bass = _fit_profiles(terms, idx, "gb", lit)
    wts = [1.0] * len(terms) if weights is None else weights
    groups = [(_key.term_matrix(t, prof, bass), i, wt) for t, i, wt in zip(terms, idx, wts, strict=True)]
    w = _clogit(groups, L2_KEY)
    # floors on the harmonic-function and opening-tonic terms: the dev clips are cut from the middle
    # of songs (their opening is no tonic cue) and too few to learn chord functions, which decide
    # relative major/minor on full songs (tests/unit/audio: Aeolian and vi-IV-I-V loops)
    for name, floor in KEY_FLOORS.items():
        j = _key.KEY_TERMS.index(name)
        w[j] = max(w[j], floor)
    params = {"profiles": prof.tolist(), "bass": bass.tolist(), "weights": w.tolist(), "platt": (1.0, 0.0)}
    if platt:
        ps, oks = [], []
        n = np.arange(len(terms))
        for f in range(k):
            tr, te = n[n % k != f], n[n % k == f]
            pf = fit_key_params([terms[i] for i in tr], [idx[i] for i in tr], platt=False,
                                weights=[wts[i] for i in tr])
            for i in te:
                q = _key.key_probs(terms[i], pf)
                ps.append(float(q.max()))
                oks.append(int(np.argmax(q)) == idx[i])
        params["platt"] = _platt(np.array(ps), np.array(oks, float))
    return params


# ---------------------------------------------------------------- whole split
def fit_all(feats: list[dict], rows: list[dict]) -> dict:
    """Fit everything; a row's optional ``weight`` (default 1) scales its likelihood term."""
    tempo = fit_tempo(feats, [r["bpm"] for r in rows], weights=[r.get("weight", 1.0) for r in rows])
    kr = [(f["key"], _key_index(r["key"], r["mode"]), r.get("weight", 1.0))
          for f, r in zip(feats, rows, strict=True) if r.get("key")]
    key = fit_key_params([t for t, _, _ in kr], [i for _, i, _ in kr], weights=[w for _, _, w in kr])
    return {"tempo": tempo, "key": key}


def cross_validate(feats: list[dict], rows: list[dict], folds: list[int],
                   extra: tuple[list[dict], list[dict]] = ([], [])) -> dict:
    """Out-of-fold predictions: {id: {bpm, tempo_conf, key, key_conf}}; ``extra`` clips (the
    synthetic training songs) are in every training fold and never scored."""
    from . import tempo as t

    out: dict = {}
    for f in sorted(set(folds)):
        tr = [i for i, g in enumerate(folds) if g != f]
        params = fit_all([feats[i] for i in tr] + list(extra[0]), [rows[i] for i in tr] + list(extra[1]))
        for i, g in enumerate(folds):
            if g != f:
                continue
            bpm, p = predict_tempo(feats[i], params["tempo"]["weights"])
            q = _key.key_probs(feats[i]["key"], params["key"])
            j = int(np.argmax(q))
            tonic, mode = _key.key_name(j)
            out[rows[i]["id"]] = {
                "bpm": bpm, "tempo_conf": t.calibrate(p, params["tempo"]["platt"]),
                "key": f"{tonic} {mode}", "key_conf": t.calibrate(float(q[j]), params["key"]["platt"]),
            }
    return out


def calibration_report(cv: dict, rows: list[dict]) -> list[str]:
    """Brier score and reliability of the cross-validated confidences."""
    lines = []
    tc = np.array([cv[r["id"]]["tempo_conf"] for r in rows])
    tok = np.array([abs(cv[r["id"]]["bpm"] / r["bpm"] - 1) <= 0.04 for r in rows], float)
    kr = [r for r in rows if r.get("key")]
    kc = np.array([cv[r["id"]]["key_conf"] for r in kr])
    kok = np.array([cv[r["id"]]["key"] == f"{NAMES[_key.pitch_class(r['key'])]} {r['mode']}" for r in kr], float)
    for name, c, ok in (("tempo.confidence vs Acc1", tc, tok), ("key.confidence vs exact key", kc, kok)):
        brier = float(np.mean((c - ok) ** 2))
        base = float(np.mean((ok.mean() - ok) ** 2))
        hi = ok[c >= 0.5].mean() if np.any(c >= 0.5) else float("nan")
        lo = ok[c < 0.5].mean() if np.any(c < 0.5) else float("nan")
        lines.append(f"{name} (cross-validated): mean confidence {c.mean():.2f}, hit rate {ok.mean():.2f}, "
                     f"Brier {brier:.3f} (constant predictor {base:.3f}); hit rate when conf>=0.5: {hi:.2f} "
                     f"(n={int(np.sum(c >= 0.5))}), when <0.5: {lo:.2f} (n={int(np.sum(c < 0.5))})")
    return lines


def render_fitted(params: dict) -> str:
    k = params["key"]

    def tup(v):
        return "(" + ", ".join(f"{x:.4f}" for x in v) + ("," if len(v) == 1 else "") + ")"

    return (
        '"""Model parameters fitted on the annotated dev split (``benchmarks/audio_real.py --fit``).\n\n'
        'Generated by ``fitting.render_fitted``; cross-validated scores in ``benchmarks/README.md``.\n"""\n\n'
        "# tempo: conditional-logit weights over tempo.FEATURES; Platt (a, b) for the confidence\n"
        f"TEMPO_WEIGHTS = {tup(params['tempo']['weights'])}\n"
        f"TEMPO_PLATT = {tup(params['tempo']['platt'])}\n\n"
        "# key: fitted (major, minor) chroma and bass profiles on C, weights over key.KEY_TERMS, Platt (a, b)\n"
        "KEY = {\n"
        f"    \"profiles\": ({tup(k['profiles'][0])},\n                 {tup(k['profiles'][1])}),\n"
        f"    \"bass\": ({tup(k['bass'][0])},\n             {tup(k['bass'][1])}),\n"
        f"    \"weights\": {tup(k['weights'])},\n"
        f"    \"platt\": {tup(k['platt'])},\n"
        "}\n"
    )

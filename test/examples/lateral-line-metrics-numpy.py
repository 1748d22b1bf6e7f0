"""numpy side of test/examples/lateral-line-metrics.test.ts: an independent re-implementation (written
for this test, following the definitions of the original's `_tuning_fwhm_cm` and
`pv_map_quality_from_ts_spikes`) of the FWHM tuning widths and of the PV map-quality metrics, applied
to the synthetic spike trains the test sends. Reads one JSON case on stdin, prints JSON."""
import json
import sys

import numpy as np


def fwhm_widths(sp_t, sp_i, n, t_s, x_cm, t0, n_bins=50, min_peak_hz=1.0):
    """Per layer: (mean, sd ddof 1, n valid) of the FWHM (cm), counting bins at or above half the peak."""
    if t_s.size < 2 or not x_cm.max() > x_cm.min():
        return None, None, 0
    edges = np.linspace(x_cm.min(), x_cm.max(), n_bins + 1)
    width = edges[1] - edges[0]
    dt = t_s[1] - t_s[0]
    pos_bin = np.minimum(np.maximum(np.searchsorted(edges, x_cm, side="right") - 1, 0), n_bins - 1)
    occupancy = np.array([np.sum(pos_bin == b) for b in range(n_bins)], dtype=float) * dt
    keep = (sp_t - t0) >= 0
    step = np.minimum(np.floor((sp_t[keep] - t0) / dt).astype(np.int64), x_cm.size - 1)
    cell = sp_i[keep]
    ok = (cell >= 0) & (cell < n)
    counts = np.zeros((n, n_bins))
    for c, b in zip(cell[ok], pos_bin[step[ok]]):
        counts[c, b] += 1.0
    rate = counts / np.maximum(occupancy, 1e-9)
    w = []
    for row in rate:
        top = row.max()
        if top >= min_peak_hz:
            w.append(width * np.sum(row >= 0.5 * top))
    if len(w) < 2:
        return None, None, len(w)
    w = np.asarray(w)
    return float(w.mean()), float(np.std(w, ddof=1)), len(w)


def circ_std(a):
    r = np.hypot(np.mean(np.cos(a)), np.mean(np.sin(a)))
    return float(np.sqrt(-2.0 * np.log(min(max(r, 1e-12), 1.0))))


def circ_mean(a):
    return float(np.arctan2(np.mean(np.sin(a)), np.mean(np.cos(a))))


def wrap(a):
    return np.mod(a + np.pi, 2 * np.pi) - np.pi


def pv(sp_t, sp_i, n, x_cm, t0, dt, window=None):
    """sigma_theta, delta_trial, valid_fraction, per-bin bias and bin centres; `window` = (x_min, x_max)
    or None (theta_true over min..max of the sweep)."""
    n_t = x_cm.size
    r = np.zeros((n_t, n))
    k = np.floor((sp_t - t0) / dt).astype(np.int64)
    ok = (k >= 0) & (k < n_t) & (sp_i >= 0) & (sp_i < n)
    for kk, ii in zip(k[ok], sp_i[ok]):
        r[kk, ii] += 1.0 / dt
    inside = np.ones(n_t, dtype=bool) if window is None else (x_cm >= window[0]) & (x_cm <= window[1])
    r[~inside] = 0.0
    win = max(1, int(round(0.02 / dt)))  # Python's round: half to even
    if win > 1:
        box = np.full(win, 1.0 / win)
        r = np.stack([np.convolve(r[:, j], box, mode="same") for j in range(n)], axis=1)
    ang = 2 * np.pi * np.arange(n) / n
    tot = r.sum(axis=1)
    live = tot > 1e-12
    hat = np.full(n_t, np.nan)
    hat[live] = np.mod(np.arctan2(r[live] @ np.sin(ang), r[live] @ np.cos(ang)), 2 * np.pi)
    true = np.full(n_t, np.nan)
    if window is None:
        true[:] = 2 * np.pi * (x_cm - x_cm.min()) / (np.ptp(x_cm) + 1e-12)
    else:
        true[inside] = 2 * np.pi * (x_cm[inside] - window[0]) / max(window[1] - window[0], 1e-12)
    fin = np.isfinite(hat) & np.isfinite(true)
    err = np.full(n_t, np.nan)
    err[fin] = wrap(hat[fin] - true[fin])
    nb = min(100, n)
    lo = np.linspace(0, 2 * np.pi, nb + 1)
    bias, spread, per_bin = [], [], []
    for b in range(nb):
        e = err[fin & (true >= lo[b]) & (true < lo[b + 1])]
        if e.size:
            m = circ_mean(e)
            bias.append(m)
            per_bin.append(m)
            spread.append(circ_std(wrap(e - m)) if e.size > 1 else 0.0)
        else:
            per_bin.append(None)
    good = err[np.isfinite(err) & inside]
    fallback = circ_std(good) if good.size else float(np.pi)
    sig = circ_std(np.asarray(bias)) if bias else fallback
    dtr = float(np.sqrt(np.mean(np.square(spread)))) if spread else fallback
    centres = (0.5 * (lo[:-1] + lo[1:])).tolist()
    return sig, dtr, float(good.size / n_t), per_bin, centres


c = json.load(sys.stdin)
x = np.asarray(c["x_cm"], dtype=float)
t = np.asarray(c["t_s"], dtype=float)
window = tuple(c["window"]) if c.get("window") else None
dt = c["dt"]
out = {"layers": []}
for layer in c["layers"]:
    st = np.asarray(layer["t"], dtype=float)
    si = np.asarray(layer["i"], dtype=np.int64)
    m, s, nv = fwhm_widths(st, si, layer["n"], t, x, c["t0"]) if t.size > 1 else (None, None, 0)
    sg, dtr, vf, bias, centres = pv(st, si, layer["n"], x, c["t0"], dt, window)
    out["layers"].append({"mean": m, "sd": s, "n_valid": nv, "sigma_theta": sg, "delta_trial": dtr, "valid_fraction": vf, "bias": bias, "centres": centres})
print(json.dumps(out))

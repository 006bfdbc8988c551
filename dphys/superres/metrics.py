r"""Verification metrics of retrievals and ensembles (NumPy; inputs are arrays, outputs floats).

- `mae_rmse`: mean absolute and root-mean-square error over the pixels of a mask.
- `categorical_scores`: for a class $k$ against all others, hits $a$, false alarms $b$ (predicted
  $k$, true other), misses $c$ (true $k$, predicted other): probability of detection
  $POD = a/(a + c)$, false-alarm ratio $FAR = b/(a + b)$, critical success index
  $CSI = a/(a + b + c)$; and the overall accuracy.
- `power_spectrum`: isotropic (radially binned) power spectrum of periodic 2D fields,
  $P(k) = \langle|\hat f(\mathbf k)|^2\rangle_{|\mathbf k| \in [k - 1/2, k + 1/2)}/N^2$ with
  $\hat f$ the unnormalised DFT, $k$ integer in units of $2\pi/n$; $\sum_k n_k P(k)/N^2 =
  \langle f^2\rangle$ (Parseval) where $n_k$ counts the modes of bin $k$.
- `crps_ensemble`: the continuous ranked probability score of an $m$-member ensemble,
  $\mathrm{CRPS} = \frac1m\sum_i|x_i - y| - \frac{1}{2m(m-1)}\sum_{i,j}|x_i - x_j|$ (the "fair",
  unbiased estimator of the CRPS of the distribution the members are drawn from; for a Gaussian
  $\mathcal N(\mu, \sigma^2)$: $\sigma[z(2\Phi(z) - 1) + 2\varphi(z) - 1/\sqrt\pi]$,
  $z = (y - \mu)/\sigma$, `crps_gaussian`), averaged over pixels.
- `spread_skill`: per pixel, the ensemble spread $s$ (standard deviation over members, $m - 1$
  normalisation) and the error of the ensemble mean $e = |\bar x - y|$; their Pearson
  correlation; the spread-error ratio $\sqrt{\frac{m+1}{m}\langle s^2\rangle}/\sqrt{\langle
  e^2\rangle}$ (1 for a statistically consistent ensemble, Fortin et al. 2014); and the binned
  relation (RMSE of the mean in quantile bins of the spread).
"""

from __future__ import annotations

import math

import numpy as np
from jaxtyping import ArrayLike
from scipy.special import ndtr

__all__ = ["mae_rmse", "categorical_scores", "power_spectrum", "crps_ensemble", "crps_gaussian", "spread_skill"]


def _finite(name: str, **arrays) -> dict[str, np.ndarray]:
    out = {}
    for k, a in arrays.items():
        a = np.asarray(a, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: {k} contains {int(np.sum(~np.isfinite(a)))} NaN/inf value(s)")
        out[k] = a
    return out


def mae_rmse(pred: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None) -> tuple[float, float]:
    """`(MAE, RMSE)` of `pred` against `truth` (same shape) over the pixels where `mask` is True
    (all pixels by default). ValueError for unequal shapes or an empty mask."""
    a = _finite("mae_rmse", pred=pred, truth=truth)
    if a["pred"].shape != a["truth"].shape:
        raise ValueError(f"mae_rmse: pred shape {a['pred'].shape} != truth shape {a['truth'].shape}")
    m = np.ones(a["pred"].shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), a["pred"].shape)
    if not m.any():
        raise ValueError("mae_rmse: the mask selects no pixel")
    d = (a["pred"] - a["truth"])[m]
    return float(np.mean(np.abs(d))), float(np.sqrt(np.mean(d**2)))


def categorical_scores(pred: ArrayLike, truth: ArrayLike, n_classes: int) -> dict[str, float]:
    """Accuracy and, per class k, `pod_k`, `far_k`, `csi_k` (module docstring); NaN where a
    denominator is zero. Classes are integers 0 .. n_classes - 1."""
    p, t = np.asarray(pred).ravel(), np.asarray(truth).ravel()
    if p.shape != t.shape:
        raise ValueError(f"categorical_scores: pred has {p.size} entries, truth {t.size}")
    for name, a in (("pred", p), ("truth", t)):
        if a.size and (a.min() < 0 or a.max() >= n_classes):
            raise ValueError(f"categorical_scores: {name} has classes outside 0..{n_classes - 1}")
    out = {"accuracy": float(np.mean(p == t))}
    for k in range(n_classes):
        a = np.sum((p == k) & (t == k))
        b = np.sum((p == k) & (t != k))
        c = np.sum((p != k) & (t == k))
        out[f"pod_{k}"] = a / (a + c) if a + c else math.nan
        out[f"far_{k}"] = b / (a + b) if a + b else math.nan
        out[f"csi_{k}"] = a / (a + b + c) if a + b + c else math.nan
    return {k: float(v) for k, v in out.items()}


def power_spectrum(fields: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic power spectrum of periodic fields `(..., n, n)` averaged over all leading axes.

    **Returns:** `(k, P)` for integer wavenumbers k = 1 .. n/2 (module docstring for the normalisation).
    """
    f = _finite("power_spectrum", fields=fields)["fields"]
    if f.ndim < 2 or f.shape[-1] != f.shape[-2]:
        raise ValueError(f"power_spectrum: fields of shape {f.shape}, expected (..., n, n)")
    n = f.shape[-1]
    power = np.abs(np.fft.fft2(f)) ** 2 / n**2
    power = power.reshape(-1, n, n).mean(axis=0)
    kx = np.fft.fftfreq(n) * n
    kbin = np.rint(np.sqrt(kx[:, None] ** 2 + kx[None, :] ** 2)).astype(int)
    ks = np.arange(1, n // 2 + 1)
    p = np.array([power[kbin == k].mean() for k in ks])
    return ks, p


def crps_gaussian(mu: ArrayLike, sigma: ArrayLike, y: ArrayLike) -> np.ndarray | float:
    """Closed-form CRPS of $\\mathcal N(\\mu, \\sigma^2)$ at observations `y` (module docstring)."""
    mu, sigma, y = (np.asarray(v, dtype=np.float64) for v in (mu, sigma, y))
    z = (y - mu) / sigma
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return sigma * (z * (2 * ndtr(z) - 1) + 2 * pdf - 1 / math.sqrt(math.pi))


def crps_ensemble(members: ArrayLike, truth: ArrayLike, axis: int = 0, mask: ArrayLike | None = None) -> float:
    """Fair CRPS of an ensemble (members along `axis`) against `truth`, averaged over pixels
    (where `mask`); needs at least 2 members. Computed from the sorted members in O(m log m)."""
    a = _finite("crps_ensemble", members=members, truth=truth)
    x = np.moveaxis(a["members"], axis, 0)
    m = x.shape[0]
    if m < 2:
        raise ValueError(f"crps_ensemble: needs at least 2 members, got {m}")
    if x.shape[1:] != a["truth"].shape:
        raise ValueError(f"crps_ensemble: members {x.shape[1:]} (per member) and truth {a['truth'].shape} differ")
    skill = np.mean(np.abs(x - a["truth"]), axis=0)
    xs = np.sort(x, axis=0)
    i = np.arange(1, m + 1).reshape((m,) + (1,) * (x.ndim - 1))
    pair_sum = 2 * np.sum((2 * i - m - 1) * xs, axis=0)  # sum_{i,j} |x_i - x_j|
    crps = skill - pair_sum / (2 * m * (m - 1))
    if mask is not None:
        crps = crps[np.broadcast_to(np.asarray(mask, bool), crps.shape)]
    return float(np.mean(crps))


def spread_skill(members: ArrayLike, truth: ArrayLike, axis: int = 0, mask: ArrayLike | None = None,
                 n_bins: int = 10) -> dict[str, np.ndarray | float]:
    """Spread against error of the ensemble mean (module docstring).

    **Returns:** dict with `correlation` (Pearson, per pixel spread vs |error|), `ratio`
    (spread-error ratio), `mean_spread`, `rmse` (of the mean), and `bin_spread`, `bin_rmse`
    (arrays over `n_bins` quantile bins of the spread).
    """
    a = _finite("spread_skill", members=members, truth=truth)
    x = np.moveaxis(a["members"], axis, 0)
    m = x.shape[0]
    if m < 2:
        raise ValueError(f"spread_skill: needs at least 2 members, got {m}")
    spread = np.std(x, axis=0, ddof=1)
    err = np.mean(x, axis=0) - a["truth"]
    if mask is not None:
        sel = np.broadcast_to(np.asarray(mask, bool), spread.shape)
        spread, err = spread[sel], err[sel]
    spread, err = spread.ravel(), err.ravel()
    corr = float(np.corrcoef(spread, np.abs(err))[0, 1]) if np.std(spread) > 0 and np.std(err) > 0 else math.nan
    rmse = float(np.sqrt(np.mean(err**2)))
    ratio = float(np.sqrt((m + 1) / m * np.mean(spread**2)) / rmse) if rmse > 0 else math.nan
    edges = np.quantile(spread, np.linspace(0, 1, n_bins + 1))
    idx = np.clip(np.searchsorted(edges, spread, side="right") - 1, 0, n_bins - 1)
    bin_spread = np.array([np.sqrt(np.mean(spread[idx == b] ** 2)) if np.any(idx == b) else np.nan
                           for b in range(n_bins)])
    bin_rmse = np.array([np.sqrt(np.mean(err[idx == b] ** 2)) if np.any(idx == b) else np.nan for b in range(n_bins)])
    return {"correlation": corr, "ratio": ratio, "mean_spread": float(np.sqrt(np.mean(spread**2))), "rmse": rmse,
            "bin_spread": bin_spread, "bin_rmse": bin_rmse}

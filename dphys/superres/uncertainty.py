r"""Uncertainties of verification scores by the bootstrap over test scenes, the decomposition of an
ensemble mean's error, and the binned spread-skill (reliability) diagram (NumPy).

**Scene bootstrap.** Pixels of one scene are correlated, scenes are independent, so the
resampling unit is the scene. Every score used here (an RMSE over the pixels of a mask, a CSI, their
ratios) is a function of totals summed over scenes: per scene $s$ a vector of additive totals
$T_s$ (e.g. the sum of squared errors of two methods over the cloudy pixels), and the score
$f(\sum_s T_s)$. A bootstrap replicate draws $n$ scenes with replacement, i.e. multinomial
counts $w_s$ with $\sum_s w_s = n$, and evaluates $f(\sum_s w_s T_s)$ (`scene_bootstrap`). The
comparison is **paired**: both methods are evaluated on the same resampled scenes, so the
scene-to-scene variation common to both (an easy or a hard scene) cancels in the ratio. Reported:
the statistic on all scenes, the standard deviation of the replicates (standard error) and the
central percentile interval (68 % by default).

- `rmse_ratio`: $\mathrm{RMSE}_a/\mathrm{RMSE}_b = \sqrt{\sum_s SSE_{a,s}/\sum_s SSE_{b,s}}$ (the
  same mask for both, so the pixel counts cancel).
- `csi_ratio`: $\mathrm{CSI} = H/(H + F + M)$ from the per-scene hits, false alarms and misses of
  one class, $\mathrm{CSI}_a/\mathrm{CSI}_b$.
- `spread_error_correlation`: the Pearson correlation of the ensemble spread $s$ and the absolute
  error $a = |\bar x_m - y|$ over pixels, from the per-scene totals
  $(N, \sum s, \sum a, \sum s^2, \sum a^2, \sum s a)$.

**Error of an ensemble mean** (`ensemble_mean_decomposition`). Members $x_1..x_m$ drawn
independently from the model's conditional distribution (mean $\mu$, variance $\sigma^2$ per
pixel) have a mean $\bar x_m$ with
$E(\bar x_m - y)^2 = E(\mu - y)^2 + \sigma^2/m$ (the cross term vanishes since $E\bar x_m = \mu$
given the condition). With the unbiased sample variance $s^2$ (ddof 1),
$\widehat{\mathrm{MSE}}_\infty = \overline{(\bar x_m - y)^2} - \overline{s^2}/m$ is an unbiased
estimate of the error of the infinite ensemble, $E(\mu - y)^2$, and
$\overline{(\bar x_m - y)^2} = \widehat{\mathrm{MSE}}_\infty + \overline{s^2}/m$ splits the mean's MSE
into the model's conditional-mean error and the Monte Carlo term. The prediction for $k$ members,
$\widehat{\mathrm{MSE}}_\infty + \overline{s^2}/k$, is what more members would give; it is checked
on the two disjoint halves of the ensemble (`half_excess`, zero in expectation for independent
members: $\frac12\sum_{j=1,2}(\bar x^{(j)} - y)^2 - (\bar x_m - y)^2 = ((\bar x^{(1)} - \bar x^{(2)})/2)^2$,
whose expectation is $\sigma^2/m$, the same as $\overline{s^2}/m$'s).

**Reliability diagram** (`reliability_diagram`). Pixels binned by the ensemble spread $s$ (bin
edges: quantiles of $s$ over all masked pixels); per bin the RMSE of the ensemble mean against the
bin's RMS spread, with bootstrap errors over scenes. For a statistically consistent ensemble
(truth exchangeable with the members) $E(\bar x_m - y)^2 = \frac{m+1}{m}\sigma^2$, so the points lie
on $\mathrm{RMSE} = \sqrt{(m+1)/m}\,s$ (the `consistent` reference). Binning on the noisy estimate
$s$ itself biases the outer bins (the largest-$s$ bin collects over-estimated spreads) by a relative
amount of order $1/\sqrt{2(m-1)}$ (13 % at $m = 30$ for Gaussian members).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from jaxtyping import ArrayLike

__all__ = [
    "BootstrapEstimate",
    "csi_ratio",
    "ensemble_mean_decomposition",
    "reliability_diagram",
    "rmse_ratio",
    "scene_bootstrap",
    "spread_error_correlation",
    "squared_error_totals",
]


class BootstrapEstimate(NamedTuple):
    """A statistic with its scene-bootstrap uncertainty (module docstring).

    `value`: on all scenes; `error`: standard deviation of the replicates (one standard error);
    `low`, `high`: the central percentile interval of the replicates at the requested level;
    `samples`: the replicates, shape `(n_boot, ...)`. Scalars for a scalar statistic, else arrays.
    """

    value: float | np.ndarray
    error: float | np.ndarray
    low: float | np.ndarray
    high: float | np.ndarray
    samples: np.ndarray


def _check_boot(name: str, n_boot, level) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"{name}: n_boot={n_boot!r} must be an int >= 2 (bootstrap replicates)")
    if not 0 < level < 1:
        raise ValueError(f"{name}: level={level!r} must be in (0, 1) (the interval's probability content)")


def _as_scalar(x):
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def scene_bootstrap(statistic: Callable[[np.ndarray], np.ndarray], per_scene: ArrayLike, n_boot: int = 2000,
                    level: float = 0.68, seed: int = 0) -> BootstrapEstimate:
    r"""Bootstrap over scenes of a statistic of additive per-scene totals (module docstring).

    **Arguments:**

    - `statistic`: maps totals of shape `(..., k)` (summed over scenes, leading axes = replicates)
      to the statistic, shape `(...)` or `(..., q)`; it must act on the last axis only.
    - `per_scene`: `(n_scenes, k)` totals of each scene (at least 2 scenes).
    - `n_boot` replicates (>= 2), `level` of the percentile interval (0.68: 16th-84th percentile),
      `seed` of the NumPy generator (fixed: the result is reproducible).

    **Returns:** `BootstrapEstimate` (value on all scenes, standard error, interval, replicates).
    Replicates where the statistic is not finite (e.g. a class absent from the resampled scenes)
    are dropped; ValueError if fewer than half remain.
    """
    _check_boot("scene_bootstrap", n_boot, level)
    t = np.asarray(per_scene, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] < 2:
        raise ValueError(f"scene_bootstrap: per_scene of shape {t.shape}, expected (n_scenes >= 2, k)")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"scene_bootstrap: per_scene contains {int(np.sum(~np.isfinite(t)))} NaN/inf value(s)")
    n = t.shape[0]
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.asarray(statistic(t.sum(axis=0)), dtype=np.float64)
        samples = np.asarray(statistic(weights @ t), dtype=np.float64)
    if samples.shape[:1] != (n_boot,) or samples.shape[1:] != value.shape:
        raise ValueError(f"scene_bootstrap: the statistic returned {samples.shape} for {n_boot} replicates and "
                         f"{value.shape} for the full sample; expected (n_boot, *value.shape)")
    ok = np.isfinite(samples)
    if np.any(ok.reshape(n_boot, -1).sum(axis=0) < n_boot / 2):
        raise ValueError("scene_bootstrap: the statistic is not finite in more than half of the replicates")
    samples = np.where(ok, samples, np.nan)  # dropped replicates (inf included)
    with np.errstate(invalid="ignore"):
        err = np.nanstd(samples, axis=0, ddof=1)
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    low, high = np.nanpercentile(samples, q, axis=0)
    return BootstrapEstimate(_as_scalar(value), _as_scalar(err), _as_scalar(low), _as_scalar(high), samples)


def _mask_for(name, pred, truth, mask):
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if pred.shape != truth.shape:
        raise ValueError(f"{name}: prediction shape {pred.shape} != truth shape {truth.shape}")
    if pred.ndim < 2 or pred.shape[0] < 2:
        raise ValueError(f"{name}: arrays of shape {pred.shape}, expected (n_scenes >= 2, ...)")
    m = np.ones(pred.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), pred.shape)
    if not m.any():
        raise ValueError(f"{name}: the mask selects no pixel")
    return pred, truth, m


def squared_error_totals(pred: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None) -> np.ndarray:
    """Per scene (axis 0) the sum of squared errors and the number of pixels in `mask`:
    `(n_scenes, 2)`, the additive totals of an RMSE."""
    pred, truth, m = _mask_for("squared_error_totals", pred, truth, mask)
    d2 = np.where(m, (pred - truth) ** 2, 0.0).reshape(pred.shape[0], -1)
    return np.stack([d2.sum(axis=1), m.reshape(pred.shape[0], -1).sum(axis=1)], axis=1)


def rmse_ratio(pred: ArrayLike, reference: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None, *,
               n_boot: int = 2000, level: float = 0.68, seed: int = 0) -> BootstrapEstimate:
    r"""Paired scene bootstrap of $\mathrm{RMSE}(\text{pred})/\mathrm{RMSE}(\text{reference})$ over
    the pixels of `mask` (module docstring).

    **Arguments:** `pred`, `reference`, `truth` of one shape `(n_scenes, ...)` (physical units; the
    ratio is dimensionless); `mask` broadcastable to it (default all pixels); `n_boot`, `level`,
    `seed` as in `scene_bootstrap`.

    **Returns:** `BootstrapEstimate` of the ratio.
    """
    a = squared_error_totals(pred, truth, mask)[:, 0]
    b = squared_error_totals(reference, truth, mask)[:, 0]
    if b.sum() <= 0:
        raise ValueError("rmse_ratio: the reference has zero error on the masked pixels (ratio undefined)")
    return scene_bootstrap(lambda t: np.sqrt(t[..., 0] / t[..., 1]), np.stack([a, b], axis=1), n_boot, level, seed)


def _hfm(pred, truth, k):
    p, t = np.asarray(pred), np.asarray(truth)
    n = p.shape[0]
    p, t = p.reshape(n, -1) == k, t.reshape(n, -1) == k
    return np.stack([(p & t).sum(1), (p & ~t).sum(1), (~p & t).sum(1)], axis=1).astype(np.float64)


def csi_ratio(pred: ArrayLike, reference: ArrayLike, truth: ArrayLike, k: int, *, n_boot: int = 2000,
              level: float = 0.68, seed: int = 0) -> BootstrapEstimate:
    r"""Paired scene bootstrap of $\mathrm{CSI}_k(\text{pred})/\mathrm{CSI}_k(\text{reference})$,
    $\mathrm{CSI} = H/(H + F + M)$ of class `k` (integer class maps of one shape `(n_scenes, ...)`).

    **Returns:** `BootstrapEstimate` of the ratio (dimensionless).
    """
    pred, reference, truth = np.asarray(pred), np.asarray(reference), np.asarray(truth)
    if not (pred.shape == reference.shape == truth.shape) or pred.ndim < 2 or pred.shape[0] < 2:
        raise ValueError(f"csi_ratio: shapes {pred.shape}, {reference.shape}, {truth.shape}; expected one shape "
                         "(n_scenes >= 2, ...)")
    tot = np.concatenate([_hfm(pred, truth, k), _hfm(reference, truth, k)], axis=1)
    if tot[:, 3].sum() == 0:
        raise ValueError(f"csi_ratio: the reference has no hit of class {k} (ratio undefined)")

    def stat(t):
        return (t[..., 0] / t[..., :3].sum(-1)) / (t[..., 3] / t[..., 3:].sum(-1))

    return scene_bootstrap(stat, tot, n_boot, level, seed)


def ensemble_mean_decomposition(members: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None,
                                reference: ArrayLike | None = None, *, n_boot: int = 2000, level: float = 0.68,
                                seed: int = 0) -> dict[str, BootstrapEstimate]:
    r"""Split the MSE of an $m$-member ensemble mean into the error of the infinite ensemble and
    the Monte Carlo term (module docstring): $\mathrm{MSE}_m = \widehat{\mathrm{MSE}}_\infty +
    \overline{s^2}/m$, each with its scene-bootstrap error.

    **Arguments:** `members` `(n_scenes, m, ...)` (m >= 2, physical units); `truth` `(n_scenes, ...)`;
    `mask` broadcastable to `truth` (default all pixels); `reference` optional deterministic
    prediction like `truth` (e.g. a regression); `n_boot`, `level`, `seed` as in `scene_bootstrap`.

    **Returns:** dict of `BootstrapEstimate`: `mse_mean` ($\overline{(\bar x_m - y)^2}$),
    `spread2_over_m` ($\overline{s^2}/m$), `mse_inf` (their difference), `rmse_inf`
    ($\sqrt{\max(\mathrm{MSE}_\infty, 0)}$); `mse_half` (MSE of the means of the two disjoint
    halves of $h = \lfloor m/2\rfloor$ members, averaged) and `half_excess` = `mse_half` -
    (`mse_inf` + $\overline{s^2}/h$), expectation 0 for independent (exchangeable) members, not an
    algebraic identity: it fails when the halves differ systematically; `spread_error_ratio`
    $\sqrt{\frac{m+1}{m}\overline{s^2}/\overline{(\bar x_m - y)^2}}$ (1 for a consistent
    ensemble, as in `dphys.superres.spread_skill`); with
    `reference` also `mse_reference`,
    `ratio_m` (RMSE of the $m$-member mean / RMSE of the reference) and `ratio_inf` (the infinite
    ensemble's RMSE / the reference's).
    """
    x = np.asarray(members, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    if x.ndim < 3 or x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[1:] or x.shape[1] < 2:
        raise ValueError(f"ensemble_mean_decomposition: members {x.shape} and truth {y.shape}; expected "
                         "(n_scenes, m >= 2, ...) and (n_scenes, ...)")
    m = x.shape[1]
    _, _, msk = _mask_for("ensemble_mean_decomposition", y, y, mask)
    n = y.shape[0]
    e2 = np.where(msk, (x.mean(axis=1) - y) ** 2, 0.0).reshape(n, -1).sum(1)
    s2 = np.where(msk, x.var(axis=1, ddof=1), 0.0).reshape(n, -1).sum(1)
    h = m // 2  # two disjoint halves of h members: their mean MSE against the prediction for h members
    half = 0.5 * sum(np.where(msk, (x[:, i * h:(i + 1) * h].mean(axis=1) - y) ** 2, 0.0) for i in (0, 1))
    cols = [e2, s2, msk.reshape(n, -1).sum(1), half.reshape(n, -1).sum(1)]
    if reference is not None:
        cols.append(squared_error_totals(reference, y, msk)[:, 0])
    tot = np.stack(cols, axis=1)

    def stat(t):
        mse, sp = t[..., 0] / t[..., 2], t[..., 1] / t[..., 2] / m
        inf = mse - sp
        half = t[..., 3] / t[..., 2]
        out = [mse, sp, inf, np.sqrt(np.maximum(inf, 0.0)), half, half - (inf + sp * m / h),
               np.sqrt((m + 1) * sp / mse)]
        if reference is not None:
            ref = t[..., 4] / t[..., 2]
            out += [ref, np.sqrt(mse / ref), np.sqrt(np.maximum(inf, 0.0) / ref)]
        return np.stack(out, axis=-1)

    est = scene_bootstrap(stat, tot, n_boot, level, seed)
    names = ["mse_mean", "spread2_over_m", "mse_inf", "rmse_inf", "mse_half", "half_excess", "spread_error_ratio"]
    if reference is not None:
        names += ["mse_reference", "ratio_m", "ratio_inf"]
    return {name: BootstrapEstimate(*(_as_scalar(f[..., i]) for f in est[:4]), est.samples[:, i])
            for i, name in enumerate(names)}


def reliability_diagram(members: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None, n_bins: int = 8, *,
                        n_boot: int = 2000, level: float = 0.68, seed: int = 0) -> dict[str, np.ndarray | int]:
    r"""Binned spread-skill relation with scene-bootstrap errors (module docstring).

    **Arguments:** `members` `(n_scenes, m, ...)` (m >= 2), `truth` `(n_scenes, ...)`, `mask`
    broadcastable to `truth`; `n_bins` quantile bins of the spread (>= 1); `n_boot`, `level`, `seed`
    as in `scene_bootstrap`.

    **Returns:** dict of arrays over the bins: `spread`, `spread_error` (RMS spread $s$ in the bin
    and its bootstrap error), `rmse`, `rmse_error`, `rmse_low`, `rmse_high` (RMSE of the ensemble
    mean, standard error, interval), `consistent` ($\sqrt{(m+1)/m}$ x spread, what a consistent
    ensemble gives), `count` (pixels), `edges` (`n_bins + 1` spread values); and `m`.
    """
    x = np.asarray(members, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    if x.ndim < 3 or x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[1:] or x.shape[1] < 2:
        raise ValueError(f"reliability_diagram: members {x.shape} and truth {y.shape}; expected "
                         "(n_scenes, m >= 2, ...) and (n_scenes, ...)")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"reliability_diagram: n_bins={n_bins!r} must be a positive int")
    _, _, msk = _mask_for("reliability_diagram", y, y, mask)
    n, m = y.shape[0], x.shape[1]
    s = x.std(axis=1, ddof=1).reshape(n, -1)
    e2 = ((x.mean(axis=1) - y) ** 2).reshape(n, -1)
    msk = msk.reshape(n, -1)
    edges = np.quantile(s[msk], np.linspace(0, 1, n_bins + 1))
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, n_bins - 1)
    onehot = (idx[..., None] == np.arange(n_bins)) & msk[..., None]  # (n, pixels, bins)
    count = onehot.sum(1)
    tot = np.concatenate([count, np.einsum("npb,np->nb", onehot, s**2), np.einsum("npb,np->nb", onehot, e2)],
                         axis=1).astype(np.float64)

    def stat(t):
        c, ss, ee = t[..., :n_bins], t[..., n_bins:2 * n_bins], t[..., 2 * n_bins:]
        return np.concatenate([np.sqrt(ss / c), np.sqrt(ee / c)], axis=-1)

    est = scene_bootstrap(stat, tot, n_boot, level, seed)
    spread = est.value[:n_bins]
    return {"spread": spread, "spread_error": est.error[:n_bins], "rmse": est.value[n_bins:],
            "rmse_error": est.error[n_bins:], "rmse_low": est.low[n_bins:], "rmse_high": est.high[n_bins:],
            "consistent": math.sqrt((m + 1) / m) * spread, "count": count.sum(0), "edges": edges, "m": m}


def spread_error_correlation(members: ArrayLike, truth: ArrayLike, mask: ArrayLike | None = None, *,
                             n_boot: int = 2000, level: float = 0.68, seed: int = 0) -> BootstrapEstimate:
    r"""Pearson correlation over pixels of the ensemble spread $s$ (standard deviation over members,
    ddof 1) and the absolute error of the ensemble mean $a = |\bar x_m - y|$,
    $r = \mathrm{cov}(s, a)/\sqrt{\mathrm{var}(s)\,\mathrm{var}(a)}$, with its scene-bootstrap error
    (the value is `dphys.superres.spread_skill`'s `correlation`).

    **Arguments:** `members` `(n_scenes, m, ...)` (m >= 2, physical units), `truth` `(n_scenes, ...)`,
    `mask` broadcastable to `truth` (default all pixels); `n_boot`, `level`, `seed` as in
    `scene_bootstrap`.

    **Returns:** `BootstrapEstimate` of $r$ (dimensionless, in [-1, 1]).
    """
    x = np.asarray(members, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    if x.ndim < 3 or x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[1:] or x.shape[1] < 2:
        raise ValueError(f"spread_error_correlation: members {x.shape} and truth {y.shape}; expected "
                         "(n_scenes, m >= 2, ...) and (n_scenes, ...)")
    _, _, msk = _mask_for("spread_error_correlation", y, y, mask)
    n = y.shape[0]
    s = np.where(msk, x.std(axis=1, ddof=1), 0.0).reshape(n, -1)
    a = np.where(msk, np.abs(x.mean(axis=1) - y), 0.0).reshape(n, -1)
    tot = np.stack([msk.reshape(n, -1).sum(1), s.sum(1), a.sum(1), (s**2).sum(1), (a**2).sum(1), (s * a).sum(1)],
                   axis=1).astype(np.float64)

    def stat(t):
        c = t[..., 0]
        ms, ma = t[..., 1] / c, t[..., 2] / c
        cov = t[..., 5] / c - ms * ma
        return cov / np.sqrt((t[..., 3] / c - ms**2) * (t[..., 4] / c - ma**2))

    return scene_bootstrap(stat, tot, n_boot, level, seed)

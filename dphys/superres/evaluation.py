r"""Verification of a cloud-property super-resolution against held-out truth (NumPy): every score
of the CloudDiff comparison in one call, with scene-bootstrap errors on the ratios
(`dphys.superres.uncertainty`), and the power spectra with their high-wavenumber error.

`retrieval_scores(truth, preds, members)` computes, for each method in `preds` (deterministic
predictions, e.g. `det`, `bicubic`, `mean`) and for the single `member`s of the ensemble:

- per continuous variable (`cth` km, `log_cot`, `cer` um), over the pixels cloudy in the truth:
  `mae_{var}_{method}`, `rmse_{var}_{method}` (physical units), `crps_{var}` of the ensemble;
- the spread-skill relation: `spread_error_corr_{var}` (Pearson, `spread_error_correlation`) and
  `spread_error_ratio_{var}` $= \sqrt{\frac{m+1}{m}\overline{s^2}/\mathrm{MSE}}$ (1 = consistent);
- ratios with their paired scene-bootstrap errors: `rmse_ratio_{var}` = RMSE(mean)/RMSE(det),
  `bicubic_ratio_{var}` = RMSE(mean)/RMSE(bicubic), `det_bicubic_ratio_{var}` =
  RMSE(det)/RMSE(bicubic), `csi_ratio_{liquid,ice,cloud}` = CSI(mean)/CSI(det);
- the decomposition MSE$_m$ = MSE$_\infty$ + spread$^2/m$ (`ensemble_mean_decomposition`):
  `mse_{var}_mean`, `mse_{var}_det`, `spread2_over_m_{var}`, `rmse_{var}_mean_inf`,
  `rmse_ratio_inf_{var}` and the half-ensemble test `mse_{var}_half_excess` (reference 0);
- the reliability diagram (`reliability_diagram`): `reliability_{var}_bin{b}_spread`,
  `reliability_{var}_bin{b}_rmse` (reference: the consistent value $\sqrt{(m+1)/m}\,s$);
- phase (clear / liquid / ice from the argmax of the phase channels): `phase_accuracy_{method}`,
  `{pod,far,csi}_{phase}_{method}`, `csi_cloud_{method}` (cloud mask).

`power_spectra` and `high_k_log_error` give the radially averaged spectra of the physical fields
and $\langle|\ln(P_\text{method}/P_\text{truth})|\rangle_{k > n/4}$ (0 = the truth's small-scale power).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import ArrayLike, Float

from dphys._checks import positive_int
from dphys.superres.data import CONTINUOUS, decode_target
from dphys.superres.metrics import categorical_scores, crps_ensemble, mae_rmse, power_spectrum
from dphys.superres.uncertainty import (
    BootstrapEstimate,
    csi_ratio,
    ensemble_mean_decomposition,
    reliability_diagram,
    rmse_ratio,
    spread_error_correlation,
)

__all__ = ["PHASE_NAMES", "Score", "high_k_log_error", "power_spectra", "retrieval_scores"]

PHASE_NAMES = ("clear", "liquid", "ice")

Score = float | tuple[float, float | None, float | None]


def _add_ratio(out: dict, name: str, est: BootstrapEstimate) -> None:
    """A bootstrapped ratio: (value, standard error) and its 68 % interval as `name_p16`, `name_p84`."""
    out[name] = (est.value, est.error, None)
    out[f"{name}_p16"], out[f"{name}_p84"] = est.low, est.high


def retrieval_scores(truth: Float[ArrayLike, "n 6 H W"], preds: dict[str, Float[ArrayLike, "n 6 H W"]],
                     members: Float[ArrayLike, "n m 6 H W"], *, n_boot: int = 2000,
                     n_bins: int = 8) -> tuple[dict[str, Score], dict[str, dict]]:
    r"""All verification scores of the cloud retrieval (module docstring).

    **Arguments:** `truth` `(n, 6, H, W)` standardised targets (`dphys.superres.encode_target`;
    n >= 2 scenes, the bootstrap unit); `preds` {method: `(n, 6, H, W)`} deterministic
    predictions, which must include `det` (the baseline of the ratios), `mean` (the ensemble mean)
    and `bicubic`; `members` `(n, m, 6, H, W)` (m >= 2); `n_boot` scene-bootstrap replicates
    (>= 2); `n_bins` spread bins of the reliability diagram.

    **Returns:** `(scores, reliability)`: `scores` {name: float or (value, error, reference)}
    (errors: one scene-bootstrap standard error; NaN for a POD/FAR/CSI with an empty denominator)
    and `reliability` {var: `reliability_diagram` dict} for the figure.
    """
    truth = np.asarray(truth)
    members = np.asarray(members)
    preds = {k: np.asarray(v) for k, v in preds.items()}
    missing = {"det", "mean", "bicubic"} - set(preds)
    if missing:
        raise ValueError(f"retrieval_scores: preds lacks {sorted(missing)}; expected at least det, mean, bicubic")
    if truth.ndim != 4 or truth.shape[0] < 2 or truth.shape[1] != 6:
        raise ValueError(f"retrieval_scores: truth of shape {truth.shape}, expected (n >= 2, 6, H, W)")
    for k, v in preds.items():
        if v.shape != truth.shape:
            raise ValueError(f"retrieval_scores: preds[{k!r}] of shape {v.shape}, expected {truth.shape}")
    if members.ndim != 5 or members.shape[0] != truth.shape[0] or members.shape[2:] != truth.shape[1:] \
            or members.shape[1] < 2:
        raise ValueError(f"retrieval_scores: members of shape {members.shape}, expected (n, m >= 2, 6, H, W) "
                         f"with n = {truth.shape[0]}")
    positive_int("retrieval_scores", "n_bins (spread bins)", n_bins)
    out: dict[str, Any] = {}
    rel: dict[str, dict] = {}
    t_phys = decode_target(truth)
    cloudy = np.asarray(t_phys["phase"]) > 0
    t_phase = np.asarray(t_phys["phase"])
    m = members.shape[1]
    decoded = {k: decode_target(v) for k, v in preds.items()}
    mem_phys = decode_target(members)
    for var in CONTINUOUS:
        truth_v = np.asarray(t_phys[var])
        for method, d in decoded.items():
            mae, rmse = mae_rmse(d[var], truth_v, cloudy)
            out[f"mae_{var}_{method}"], out[f"rmse_{var}_{method}"] = mae, rmse
        per = [mae_rmse(np.asarray(mem_phys[var])[:, j], truth_v, cloudy) for j in range(m)]
        out[f"mae_{var}_member"] = float(np.mean([p[0] for p in per]))
        out[f"rmse_{var}_member"] = float(np.mean([p[1] for p in per]))
        mv = np.asarray(mem_phys[var])
        out[f"crps_{var}"] = crps_ensemble(mv, truth_v, axis=1, mask=cloudy)
        corr = spread_error_correlation(mv, truth_v, cloudy, n_boot=n_boot)
        out[f"spread_error_corr_{var}"] = (corr.value, corr.error, None)
        # ratios with their paired scene-bootstrap errors and 68 % intervals (dphys.superres.uncertainty)
        mean_v, det_v, bic_v = (np.asarray(decoded[k][var]) for k in ("mean", "det", "bicubic"))
        for name, (a, b) in {"rmse_ratio": (mean_v, det_v), "bicubic_ratio": (mean_v, bic_v),
                             "det_bicubic_ratio": (det_v, bic_v)}.items():
            _add_ratio(out, f"{name}_{var}", rmse_ratio(a, b, truth_v, cloudy, n_boot=n_boot))
        dec = ensemble_mean_decomposition(mv, truth_v, cloudy, reference=det_v, n_boot=n_boot)
        out[f"mse_{var}_mean"] = (dec["mse_mean"].value, dec["mse_mean"].error, None)
        out[f"mse_{var}_det"] = (dec["mse_reference"].value, dec["mse_reference"].error, None)
        out[f"spread2_over_m_{var}"] = (dec["spread2_over_m"].value, dec["spread2_over_m"].error, None)
        out[f"rmse_{var}_mean_inf"] = (dec["rmse_inf"].value, dec["rmse_inf"].error, None)
        # the decomposition's test on the two halves of the ensemble: MSE of the half means against
        # MSE_inf + spread^2/(m/2), the difference with its bootstrap error (reference 0)
        out[f"mse_{var}_half_excess"] = (dec["half_excess"].value, dec["half_excess"].error, 0.0)
        _add_ratio(out, f"spread_error_ratio_{var}", dec["spread_error_ratio"])  # = spread_skill's ratio
        _add_ratio(out, f"rmse_ratio_inf_{var}", dec["ratio_inf"])
        rel[var] = r = reliability_diagram(mv, truth_v, cloudy, n_bins=n_bins, n_boot=n_boot)
        for b in range(n_bins):
            out[f"reliability_{var}_bin{b}_spread"] = (r["spread"][b], r["spread_error"][b], None)
            out[f"reliability_{var}_bin{b}_rmse"] = (r["rmse"][b], r["rmse_error"][b], r["consistent"][b])
    phases = {k: np.asarray(d["phase"]) for k, d in decoded.items()}
    phases["member"] = np.asarray(mem_phys["phase"])
    for method, p in phases.items():
        if method == "member":
            scores = [categorical_scores(p[:, j], t_phase, 3) for j in range(m)]
            sc = {k: float(np.nanmean([s[k] for s in scores])) for k in scores[0]}
            cloud = [categorical_scores((p[:, j] > 0).astype(int), cloudy.astype(int), 2)["csi_1"] for j in range(m)]
            sc["csi_cloud"] = float(np.mean(cloud))
        else:
            sc = categorical_scores(p, t_phase, 3)
            sc["csi_cloud"] = categorical_scores((p > 0).astype(int), cloudy.astype(int), 2)["csi_1"]
        out[f"phase_accuracy_{method}"] = sc["accuracy"]
        for k, name in enumerate(PHASE_NAMES):
            for s in ("pod", "far", "csi"):
                out[f"{s}_{name}_{method}"] = sc[f"{s}_{k}"]
        out[f"csi_cloud_{method}"] = sc["csi_cloud"]
    mean_phase, det_phase = phases["mean"], phases["det"]
    for k, name in ((1, "liquid"), (2, "ice"), (1, "cloud")):
        if out[f"csi_{name}_det"] > 0:
            args = ((mean_phase > 0).astype(int), (det_phase > 0).astype(int), cloudy.astype(int)) \
                if name == "cloud" else (mean_phase, det_phase, t_phase)
            _add_ratio(out, f"csi_ratio_{name}", csi_ratio(*args, k, n_boot=n_boot))
    return out, rel


def power_spectra(truth: Float[ArrayLike, "n 6 H W"], preds: dict[str, Float[ArrayLike, "n 6 H W"]],
                  members: Float[ArrayLike, "n m 6 H W"]) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    r"""Radially averaged power spectra $P(k)$ (`dphys.superres.power_spectrum`, all pixels, clear
    pixels at their fixed values) of the physical continuous variables of the truth, of each
    prediction and of the members (averaged over members and scenes).

    **Arguments:** `truth`, `preds` {method: array}, `members` standardised as in `retrieval_scores`.

    **Returns:** {var: {"truth" | method | "member": (k, P)}}, k in units of $2\pi/n$, P in the
    variable's units squared.
    """
    res = {}
    t_phys = decode_target(truth)
    mem = decode_target(members)
    for var in CONTINUOUS:
        res[var] = {"truth": power_spectrum(np.asarray(t_phys[var]))}
        for method, x in preds.items():
            res[var][method] = power_spectrum(np.asarray(decode_target(x)[var]))
        res[var]["member"] = power_spectrum(np.asarray(mem[var]))
    return res


def high_k_log_error(spec: dict[str, tuple[np.ndarray, np.ndarray]], n: int) -> dict[str, float]:
    r"""$\langle|\ln(P_\text{method}(k)/P_\text{truth}(k))|\rangle$ over the wavenumbers $k > n/4$, per
    method: 0 when a method has the truth's small-scale power; a smooth (conditional-mean) field
    scores high.

    **Arguments:** `spec` {"truth" | method: (k, P)}, one variable of `power_spectra`; `n` the grid
    size (pixels per side).

    **Returns:** {method: error} (dimensionless).
    """
    n = positive_int("high_k_log_error", "n (grid points per side)", n)
    if "truth" not in spec:
        raise ValueError(f"high_k_log_error: spec has no 'truth' entry, only {sorted(spec)}")
    k, p_true = spec["truth"]
    sel = k > n / 4
    if not np.any(sel):
        raise ValueError(f"high_k_log_error: no wavenumber above n/4 = {n / 4} in the spectrum")
    return {m: float(np.mean(np.abs(np.log(p[sel] / p_true[sel])))) for m, (_, p) in spec.items() if m != "truth"}

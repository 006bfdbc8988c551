"""Scene bootstrap, ensemble-mean decomposition and reliability diagram against independent
NumPy computations and synthetic ensembles whose answers are known."""

import math

import numpy as np
import pytest

import dphys.superres as sr
from tests.helpers import assert_within_sigma


def _scenes(rng, n=40, pix=(6, 6)):
    truth = rng.normal(size=(n, *pix))
    scale = rng.uniform(0.5, 2.0, size=(n, 1, 1))  # scene-to-scene variation common to both methods
    a = truth + scale * rng.normal(size=(n, *pix))
    b = truth + 1.1 * scale * rng.normal(size=(n, *pix))
    return truth, a, b


def test_rmse_ratio_against_an_independent_numpy_bootstrap():
    """value = the ratio on all scenes; the error agrees with a plain loop bootstrap (different draws) within
    the Monte Carlo error of a bootstrap standard deviation (about 1/sqrt(2 n_boot) = 2.2 % relative, 5 %
    allowed); the paired error is smaller than the unpaired one (scenes' common difficulty cancels)."""
    rng = np.random.default_rng(0)
    truth, a, b = _scenes(rng)
    mask = rng.uniform(size=truth.shape) < 0.7
    est = sr.rmse_ratio(a, b, truth, mask, n_boot=1000, seed=1)
    _, rmse_a = sr.mae_rmse(a, truth, mask)
    _, rmse_b = sr.mae_rmse(b, truth, mask)
    assert est.value == pytest.approx(rmse_a / rmse_b, rel=1e-12)
    loop = np.empty(1000)
    unpaired = np.empty(1000)
    n = truth.shape[0]
    for i in range(1000):
        idx = rng.integers(0, n, n)
        loop[i] = sr.mae_rmse(a[idx], truth[idx], mask[idx])[1] / sr.mae_rmse(b[idx], truth[idx], mask[idx])[1]
        idx2 = rng.integers(0, n, n)
        unpaired[i] = sr.mae_rmse(a[idx], truth[idx], mask[idx])[1] / sr.mae_rmse(b[idx2], truth[idx2], mask[idx2])[1]
    assert est.error == pytest.approx(np.std(loop, ddof=1), rel=0.05)
    assert est.low < est.value < est.high
    assert (est.high - est.low) / 2 == pytest.approx(est.error, rel=0.15)  # near-Gaussian: 68 % half-width = SE
    assert est.error < 0.5 * np.std(unpaired, ddof=1)
    # reproducible with the seed
    assert sr.rmse_ratio(a, b, truth, mask, n_boot=1000, seed=1).error == est.error


def test_bootstrap_error_covers_the_true_sampling_spread():
    """Repeating the experiment with new scenes: the standard deviation of the ratio over 200 repetitions
    matches the mean bootstrap error (within 15 %, the bootstrap's own bias at n = 40 being a few %)."""
    rng = np.random.default_rng(2)
    vals, errs = [], []
    for _ in range(200):
        truth, a, b = _scenes(rng)
        est = sr.rmse_ratio(a, b, truth, n_boot=200, seed=3)
        vals.append(est.value)
        errs.append(est.error)
    assert np.mean(errs) == pytest.approx(np.std(vals, ddof=1), rel=0.15)


def test_csi_ratio_by_hand_and_bad_input():
    truth = np.array([[1, 1, 0, 2], [1, 0, 0, 1], [2, 1, 1, 0]])
    pred = np.array([[1, 0, 0, 2], [1, 1, 0, 1], [2, 1, 0, 0]])
    ref = np.array([[1, 1, 1, 2], [0, 0, 0, 1], [2, 1, 1, 1]])
    est = sr.csi_ratio(pred, ref, truth, 1, n_boot=200)
    csi_p = sr.categorical_scores(pred, truth, 3)["csi_1"]
    csi_r = sr.categorical_scores(ref, truth, 3)["csi_1"]
    assert est.value == pytest.approx(csi_p / csi_r) and est.error > 0
    with pytest.raises(ValueError, match="n_boot"):
        sr.rmse_ratio(pred, ref, truth, n_boot=1)
    with pytest.raises(ValueError, match="level"):
        sr.rmse_ratio(pred, ref, truth, level=1.5)
    with pytest.raises(ValueError, match="n_scenes >= 2"):
        sr.rmse_ratio(pred[:1], ref[:1], truth[:1])


def test_ensemble_mean_decomposition_recovers_the_infinite_ensemble():
    """Members ~ N(mu + bias, sigma^2) per pixel, truth ~ N(mu, tau^2): the exact error of the infinite
    ensemble is bias^2 + tau^2; mse_inf estimates it from m = 5 members (within 4 bootstrap SE); and the
    prediction mse_inf + spread^2/k matches the MSE of fresh k-member means (k = 1, 20), drawn independently
    of the members used for the estimate (4 SE, the SE from the scene bootstrap of those fresh means)."""
    rng = np.random.default_rng(4)
    n, pix, m, bias, tau = 60, (8, 8), 5, 0.3, 0.7
    mu = rng.normal(size=(n, *pix))
    sigma = rng.uniform(0.3, 1.5, size=(n, 1, *pix))
    truth = mu + tau * rng.normal(size=mu.shape)
    members = mu[:, None] + bias + sigma * rng.normal(size=(n, m, *pix))
    d = sr.ensemble_mean_decomposition(members, truth, reference=mu, n_boot=500)
    assert_within_sigma(d["mse_inf"].value, bias**2 + tau**2, d["mse_inf"].error, 4, "MSE of the infinite ensemble")
    assert d["mse_mean"].value == pytest.approx(d["mse_inf"].value + d["spread2_over_m"].value, rel=1e-12)
    assert d["ratio_inf"].value == pytest.approx(math.sqrt(d["mse_inf"].value / d["mse_reference"].value))
    ss = sr.spread_skill(np.moveaxis(members, 1, 0), truth)
    assert d["spread_error_ratio"].value == pytest.approx(ss["ratio"], rel=1e-10) and d["spread_error_ratio"].error > 0
    spread2 = d["spread2_over_m"].value * m
    for k in (1, 20):
        fresh = (mu[:, None] + bias + sigma * rng.normal(size=(n, k, *pix))).mean(axis=1)
        tot = sr.squared_error_totals(fresh, truth)
        mse_k = sr.scene_bootstrap(lambda t: t[..., 0] / t[..., 1], tot, 500)
        err = math.hypot(mse_k.error, d["mse_inf"].error)
        assert_within_sigma(mse_k.value, d["mse_inf"].value + spread2 / k, err, 4, f"MSE of {k}-member means")
    assert_within_sigma(d["half_excess"].value, 0.0, d["half_excess"].error, 4, "half-split excess")
    # 20 members whose halves differ systematically (offsets -0.4 / +0.4): the half-split check sees
    # 0.4^2 less the offsets' share of spread^2/m, 0.16 (1 - 1/19)
    split = mu[:, None] + sigma * rng.normal(size=(n, 20, *pix)) + np.repeat([-0.4, 0.4], 10)[None, :, None, None]
    bad = sr.ensemble_mean_decomposition(split, truth, n_boot=500)["half_excess"]
    assert bad.value > 5 * bad.error
    assert_within_sigma(bad.value, 0.16 * (1 - 1 / 19), bad.error, 4, "half-split excess of split halves")
    with pytest.raises(ValueError, match="m >= 2"):
        sr.ensemble_mean_decomposition(members[:, :1], truth)


def test_reliability_diagram_of_consistent_and_underdispersive_ensembles():
    """Truth exchangeable with the members: in every spread bin the RMSE of the mean agrees with
    sqrt((m+1)/m) x the bin's spread within 4 bootstrap SE plus the selection bias of binning on the noisy
    spread (module docstring; m = 30: up to ~13 %, allowed 20 %); an ensemble shrunk by 0.5 lies 5 SE above."""
    rng = np.random.default_rng(5)
    n, pix, m = 40, (12, 12), 30
    mu = rng.normal(size=(n, *pix))
    sigma = rng.uniform(0.2, 2.0, size=(n, 1, *pix))
    truth = mu + sigma[:, 0] * rng.normal(size=mu.shape)
    members = mu[:, None] + sigma * rng.normal(size=(n, m, *pix))
    rel = sr.reliability_diagram(members, truth, n_bins=6, n_boot=400)
    assert rel["count"].sum() == n * pix[0] * pix[1] and np.all(rel["count"] > 0)
    assert np.all(np.diff(rel["spread"]) > 0) and np.all(np.diff(rel["rmse"]) > 0)
    dev = np.abs(rel["rmse"] - rel["consistent"])
    assert np.all(dev <= 4 * rel["rmse_error"] + 0.2 * rel["consistent"]), (rel["rmse"], rel["consistent"])
    narrow = sr.reliability_diagram(mu[:, None] + 0.5 * (members - mu[:, None]), truth, n_bins=6, n_boot=400)
    assert np.all(narrow["rmse"] - narrow["consistent"] > 5 * narrow["rmse_error"])


def test_spread_error_correlation_against_spread_skill_and_a_loop_bootstrap():
    """The value is spread_skill's Pearson correlation of spread and |error|; the error agrees with a plain loop
    bootstrap over scenes (different draws) within 8 % (Monte Carlo error of a bootstrap SD at 1000 replicates:
    about 2.2 %); an ensemble whose spread tracks the error scale has a clearly positive correlation."""
    rng = np.random.default_rng(3)
    n, m = 30, 8
    scale = rng.uniform(0.3, 3.0, size=(n, 1, 6, 6))  # per-pixel error scale, known to the ensemble
    truth = rng.normal(size=(n, 6, 6))
    members = truth[:, None] + scale * rng.normal(size=(n, m, 6, 6))
    mask = rng.uniform(size=truth.shape) < 0.8
    est = sr.spread_error_correlation(members, truth, mask, n_boot=1000, seed=2)
    ref = sr.spread_skill(members, truth, axis=1, mask=mask)["correlation"]
    assert est.value == pytest.approx(ref, rel=1e-10)
    loop = np.empty(1000)
    for i in range(1000):
        idx = rng.integers(0, n, n)
        loop[i] = sr.spread_skill(members[idx], truth[idx], axis=1, mask=mask[idx])["correlation"]
    assert est.error == pytest.approx(np.std(loop, ddof=1), rel=0.08)
    assert est.value > 5 * est.error
    with pytest.raises(ValueError, match="m >= 2"):
        sr.spread_error_correlation(members[:, :1], truth)

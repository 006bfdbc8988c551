"""Verification metrics against hand-computed values and closed forms."""

import math

import numpy as np
import pytest

import dphys.superres as sr
from tests.helpers import assert_within_sigma


def test_mae_rmse_by_hand():
    pred, truth = np.array([1.0, 2.0, 5.0, 9.0]), np.array([0.0, 4.0, 5.0, 0.0])
    mask = np.array([True, True, True, False])
    mae, rmse = sr.mae_rmse(pred, truth, mask)
    assert mae == pytest.approx(1.0) and rmse == pytest.approx(math.sqrt(5 / 3))
    with pytest.raises(ValueError, match="selects no pixel"):
        sr.mae_rmse(pred, truth, np.zeros(4, bool))


def test_categorical_scores_small_table():
    # truth / prediction, classes 0 clear, 1 liquid, 2 ice
    truth = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 0])
    pred = np.array([0, 1, 1, 1, 2, 2, 2, 1, 2, 0])
    s = sr.categorical_scores(pred, truth, 3)
    assert s["accuracy"] == pytest.approx(7 / 10)
    # liquid: hits 2 (idx 2, 3), false alarms 2 (idx 1, 7), misses 1 (idx 4)
    assert s["pod_1"] == pytest.approx(2 / 3) and s["far_1"] == pytest.approx(2 / 4)
    assert s["csi_1"] == pytest.approx(2 / 5)
    # ice: hits 3 (5, 6, 8), false alarm 1 (4), miss 1 (7)
    assert s["pod_2"] == pytest.approx(3 / 4) and s["far_2"] == pytest.approx(1 / 4)
    assert s["csi_2"] == pytest.approx(3 / 5)
    assert s["csi_0"] == pytest.approx(2 / 3)  # hits 2 (0, 9), miss 1 (1)
    with pytest.raises(ValueError, match="outside 0..2"):
        sr.categorical_scores(np.array([3]), np.array([0]), 3)


def test_crps_ensemble_brute_force_and_gaussian_closed_form():
    members, y = np.array([0.0, 2.0, 5.0]), 3.0
    brute = np.mean(np.abs(members - y)) - np.sum(np.abs(members[:, None] - members[None, :])) / (2 * 3 * 2)
    assert sr.crps_ensemble(members, np.asarray(y)) == pytest.approx(brute)
    # the fair CRPS of m draws from N(mu, sigma^2) is an unbiased estimate of the closed form
    rng = np.random.default_rng(0)
    mu, sigma, m, n = 0.3, 1.7, 10, 20000
    y = rng.normal(size=n) * 2.0
    x = mu + sigma * rng.normal(size=(m, n))
    blocks = [sr.crps_ensemble(x[:, b], y[b]) for b in np.array_split(np.arange(n), 20)]
    exact = [float(np.mean(sr.crps_gaussian(mu, sigma, y[b]))) for b in np.array_split(np.arange(n), 20)]
    diff = np.array(blocks) - np.array(exact)
    assert_within_sigma(diff.mean(), 0.0, diff.std(ddof=1) / np.sqrt(len(diff)), 4, "CRPS - closed form")
    # a point mass at mu (sigma -> 0) gives |y - mu|: the CRPS of a deterministic forecast is its MAE
    assert sr.crps_gaussian(1.0, 1e-9, 3.0) == pytest.approx(2.0, rel=1e-6)
    with pytest.raises(ValueError, match="at least 2 members"):
        sr.crps_ensemble(np.zeros((1, 4)), np.zeros(4))


def test_spread_skill_of_a_consistent_ensemble():
    """Truth and members drawn from the same N(0, s_i^2), s_i varying over pixels: the spread-error
    ratio is 1 (4 standard errors from 10 blocks) and spread correlates with the error."""
    rng = np.random.default_rng(1)
    n, m = 40000, 8
    s = rng.uniform(0.2, 2.0, n)
    truth = s * rng.normal(size=n)
    members = s * rng.normal(size=(m, n))
    ratios = [sr.spread_skill(members[:, b], truth[b])["ratio"] for b in np.array_split(np.arange(n), 10)]
    assert_within_sigma(np.mean(ratios), 1.0, np.std(ratios, ddof=1) / np.sqrt(10), 4, "spread-error ratio")
    res = sr.spread_skill(members, truth)
    assert res["correlation"] > 0.3
    assert np.all(np.diff(res["bin_rmse"]) > -0.1)  # error grows with spread
    under = sr.spread_skill(0.3 * members, truth)  # underdispersive ensemble
    assert under["ratio"] < 0.5


def test_power_spectrum_of_one_mode_and_parseval():
    n = 16
    x = np.arange(n)
    f = np.cos(2 * np.pi * 3 * x / n)[:, None] * np.ones(n)[None, :]
    k, p = sr.power_spectrum(f)
    assert k[np.argmax(p)] == 3 and np.all(p[k != 3] < 1e-20)
    g = np.random.default_rng(2).normal(size=(n, n))
    g -= g.mean()
    power = np.abs(np.fft.fft2(g)) ** 2 / n**2
    assert power.sum() / n**2 == pytest.approx(np.mean(g**2))  # normalisation of the module docstring

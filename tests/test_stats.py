"""Tests for dphys.stats.

Statistical checks use fixed seeds and tolerances stated in standard errors
(of the estimator under test or derived exactly for the test process);
algebraic identities are checked to rounding precision.
"""

import itertools
import math
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from scipy.signal import lfilter

from dphys import stats

PHI = 0.9
TAU_AR1 = 0.5 * (1 + PHI) / (1 - PHI)  # exact tau_int of the AR(1) process: 9.5


def ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float = PHI):
    """Stationary AR(1) x_t = phi x_{t-1} + sqrt(1 - phi^2) eps_t along axis 0."""
    eps = rng.standard_normal(shape)
    x_before = rng.standard_normal((1, *shape[1:]))  # stationary initial state
    b, a = [math.sqrt(1 - phi**2)], [1, -phi]
    return lfilter(b, a, eps, axis=0, zi=phi * x_before)[0]


def ar1_mean_variance(n: int, phi: float = PHI) -> float:
    """Exact variance of the mean of n consecutive stationary AR(1) samples."""
    return (n * (1 + phi) / (1 - phi) - 2 * phi * (1 - phi**n) / (1 - phi) ** 2) / n**2


def ar1_rho_std(lags: np.ndarray, n: int, phi: float = PHI) -> np.ndarray:
    """Bartlett's standard error of the estimated AR(1) autocorrelation rho(t)."""
    p2t = phi ** (2 * lags)
    return np.sqrt(((1 + phi**2) * (1 - p2t) / (1 - phi**2) - 2 * lags * p2t) / n)


# ---------------------------------------------------------------------------
# Autocorrelation and tau_int
# ---------------------------------------------------------------------------


def test_autocorrelation_matches_direct_sum():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 3)).cumsum(axis=0)
    d = x - x.mean()
    max_lag = 20
    gamma = np.array(
        [(d[: 37 - t] * d[t:]).sum() / (3 * (37 - t)) for t in range(max_lag + 1)]
    )
    rho = stats.autocorrelation(x, max_lag)
    np.testing.assert_allclose(rho, gamma / gamma[0], rtol=1e-12, atol=1e-12)


def test_autocorrelation_ar1_against_exact():
    t_len, max_lag = 100_000, 40
    x = ar1(np.random.default_rng(1), (t_len,))
    rho = stats.autocorrelation(x, max_lag)
    t = np.arange(1, max_lag + 1)
    assert rho[0] == 1.0
    assert np.all(np.abs(rho[1:] - PHI**t) < 4 * ar1_rho_std(t, t_len))


def test_autocorrelation_averages_chains():
    x = ar1(np.random.default_rng(2), (5_000, 20))
    rho = stats.autocorrelation(x, 30)
    assert rho.shape == (31,)
    assert stats.autocorrelation(x).shape == (2_501,)  # default max_lag = T // 2
    t = np.arange(1, 31)
    assert np.all(np.abs(rho[1:] - PHI**t) < 4 * ar1_rho_std(t, x.size))


def test_tau_int_ar1():
    x = ar1(np.random.default_rng(3), (200_000,))
    tau = stats.integrated_autocorrelation_time(x)
    assert isinstance(tau.tau, float) and isinstance(tau.window, int)
    assert abs(tau.tau - TAU_AR1) < 3 * tau.error
    madras_sokal = tau.tau * math.sqrt(2 * (2 * tau.window + 1) / x.size)
    assert tau.error == pytest.approx(madras_sokal)
    # The window must cover several autocorrelation times.
    assert 3 * TAU_AR1 < tau.window < x.size // 2


def test_tau_int_multiple_chains():
    x = ar1(np.random.default_rng(4), (10_000, 16))
    tau = stats.integrated_autocorrelation_time(x)
    assert abs(tau.tau - TAU_AR1) < 3 * tau.error
    # The error uses N = T * C.
    madras_sokal = tau.tau * math.sqrt(2 * (2 * tau.window + 1) / x.size)
    assert tau.error == pytest.approx(madras_sokal)


def test_tau_int_uncorrelated_is_one_half():
    x = np.random.default_rng(5).standard_normal(50_000)
    tau = stats.integrated_autocorrelation_time(x)
    assert abs(tau.tau - 0.5) < 3 * tau.error
    est = stats.mean_with_autocorrelation(x)
    naive = stats.mean(x)
    assert est.value == pytest.approx(naive.value, rel=1e-12)
    assert est.error == pytest.approx(naive.error * math.sqrt(2 * tau.tau), rel=1e-3)


def test_mean_with_autocorrelation_ar1_error():
    x = ar1(np.random.default_rng(6), (200_000,))
    exact = math.sqrt(2 * TAU_AR1 / x.size)  # var = 1
    est = stats.mean_with_autocorrelation(x)
    tau = stats.integrated_autocorrelation_time(x)
    # Relative error of the error is tau_err / (2 tau), about 2% here.
    assert abs(est.error / exact - 1) < 0.10
    assert abs(est.value) < 4 * exact
    assert stats.mean(x).error < 0.3 * exact  # naive error: 1/sqrt(2 tau) too small
    assert est.error == pytest.approx(math.sqrt(2 * tau.tau * x.var() / x.size))


def test_mean_with_autocorrelation_coverage():
    """Independent chains analysed separately: |mean| < error in ~68.3% of them."""
    n_chains, t_len = 2_000, 4_000
    x = ar1(np.random.default_rng(7), (t_len, n_chains))
    # Shape (T, 1 chain, C observables): every chain is analysed on its own.
    est = stats.mean_with_autocorrelation(x[:, None, :])
    assert est.value.shape == est.error.shape == (n_chains,)
    covered = np.mean(np.abs(est.value) < est.error)
    p = math.erf(1 / math.sqrt(2))
    # Binomial standard error ~0.010; the expected O(W/N) downward bias of the
    # error (centring, truncation) is ~0.01 in coverage.
    assert abs(covered - p) < 3 * math.sqrt(p * (1 - p) / n_chains)


def test_observable_batch_matches_separate_calls():
    x = ar1(np.random.default_rng(8), (3_000, 2, 3))
    batched = stats.integrated_autocorrelation_time(x)
    batched_mean = stats.mean_with_autocorrelation(x)
    for k in range(3):
        single = stats.integrated_autocorrelation_time(x[:, :, k])
        assert batched.tau[k] == pytest.approx(single.tau, rel=1e-12)
        assert batched.error[k] == pytest.approx(single.error, rel=1e-12)
        assert batched.window[k] == single.window
        single_mean = stats.mean_with_autocorrelation(x[:, :, k])
        assert batched_mean.value[k] == pytest.approx(single_mean.value, rel=1e-12)
        assert batched_mean.error[k] == pytest.approx(single_mean.error, rel=1e-12)


def test_window_not_found_warns():
    # Many chains far shorter than tau: g(W) stays positive up to W = T // 2.
    # (A single chain always closes its window by W = T // 2.)
    x = ar1(np.random.default_rng(9), (40, 1_000), phi=0.999)
    with pytest.warns(RuntimeWarning, match="no window"):
        tau = stats.integrated_autocorrelation_time(x)
    assert tau.window == 20


def test_accepts_jax_arrays():
    x = jnp.asarray(ar1(np.random.default_rng(10), (2_000,)))  # float32 by default
    x_np = np.asarray(x, dtype=np.float64)
    assert stats.mean_with_autocorrelation(x) == stats.mean_with_autocorrelation(x_np)
    assert stats.jackknife(jnp.mean, x).value == pytest.approx(x_np.mean(), rel=1e-6)


# ---------------------------------------------------------------------------
# Means, binning, jackknife, bootstrap
# ---------------------------------------------------------------------------


def test_mean_matches_numpy():
    x = np.random.default_rng(11).standard_normal((4, 50))
    est = stats.mean(x, axis=1)
    np.testing.assert_allclose(est.value, x.mean(axis=1), rtol=1e-14)
    expected_error = x.std(axis=1, ddof=1) / math.sqrt(50)
    np.testing.assert_allclose(est.error, expected_error, rtol=1e-14)


def test_binned_mean_ar1():
    x = ar1(np.random.default_rng(12), (200_000,))
    bin_size = 500
    n_bins = x.size // bin_size
    est = stats.binned_mean(x, bin_size)
    expected = math.sqrt(ar1_mean_variance(bin_size) / n_bins)  # exact for this binning
    # Relative standard error of a std from n_bins independent Gaussian values.
    assert abs(est.error / expected - 1) < 4 / math.sqrt(2 * (n_bins - 1))
    assert stats.binned_mean(x, 1) == stats.mean(x)


def test_binned_mean_drops_remainder():
    x = np.arange(10.0)
    est = stats.binned_mean(x, 3)  # bins (0,1,2) (3,4,5) (6,7,8)
    assert est.value == pytest.approx(4.0)
    assert est.error == pytest.approx(np.std([1.0, 4.0, 7.0], ddof=1) / math.sqrt(3))


def test_jackknife_of_mean_equals_binning():
    x = ar1(np.random.default_rng(13), (200_000,))
    jack = stats.jackknife(np.mean, x, n_blocks=400)
    binned = stats.binned_mean(x, 500)
    assert jack.value == pytest.approx(x.mean(), rel=1e-12)
    assert jack.error == pytest.approx(binned.error, rel=1e-10)
    exact = math.sqrt(2 * TAU_AR1 / x.size)
    assert abs(jack.error / exact - 1) < 4 / math.sqrt(2 * 399) + 0.02  # + O(tau/block)


def test_jackknife_nonlinear_ratio_against_delta_method():
    rng = np.random.default_rng(14)
    n = 2_000
    x = 2.0 + rng.standard_normal(n)
    y = 1.0 + 0.5 * x + rng.standard_normal(n)
    data = {"x": x, "y": y}
    jack = stats.jackknife(lambda d: d["y"].mean() / d["x"].mean(), data, n_blocks=n)
    ratio = y.mean() / x.mean()
    cov = np.cov(x, y)  # ddof=1
    delta_var = cov[1, 1] - 2 * ratio * cov[0, 1] + ratio**2 * cov[0, 0]
    delta = math.sqrt(delta_var / (n * x.mean() ** 2))
    assert jack.value == ratio
    # Delete-one jackknife and delta method agree up to O(1/n) corrections.
    assert jack.error == pytest.approx(delta, rel=0.01)


def test_jackknife_pytree_vector_output():
    rng = np.random.default_rng(15)
    a, b = rng.standard_normal((2, 600, 3))
    est = stats.jackknife(
        lambda d: d[0].mean(axis=0) + d[1].mean(), (a, b), n_blocks=30
    )
    assert est.value.shape == est.error.shape == (3,)
    np.testing.assert_allclose(est.value, a.mean(axis=0) + b.mean())
    # Linear fn: jackknife error equals the error of block means of a + mean_j(b).
    combined = a + b.mean(axis=1, keepdims=True)
    binned = stats.binned_mean(combined, 20)
    np.testing.assert_allclose(est.error, binned.error, rtol=1e-10)


def test_bootstrap_iid_mean():
    x = 3.0 + 2.0 * np.random.default_rng(16).standard_normal(2_000)
    n_resamples = 1_000
    boot = stats.bootstrap(np.mean, x, 17, n_resamples=n_resamples)
    assert boot.value == x.mean()
    naive = stats.mean(x).error
    # Monte Carlo error of a std from n_resamples values.
    assert abs(boot.error / naive - 1) < 4 / math.sqrt(2 * n_resamples)
    assert abs(boot.error / (2.0 / math.sqrt(x.size)) - 1) < 0.15
    assert stats.bootstrap(np.mean, x, 17, n_resamples=50) == stats.bootstrap(
        np.mean, x, np.random.default_rng(17), n_resamples=50
    )


def test_block_bootstrap_ar1():
    x = ar1(np.random.default_rng(18), (100_000,))
    n_resamples, block = 200, 250
    exact = math.sqrt(2 * TAU_AR1 / x.size)
    boot = stats.bootstrap(np.mean, x, 19, n_resamples=n_resamples, block_size=block)
    # Resampling noise 1/sqrt(2 B) and the moving-block variance-estimator noise
    # sqrt(4 b / 3 T) / 2 (Kuensch 1989), combined.
    resampling = 1 / math.sqrt(2 * n_resamples)
    estimator = math.sqrt(4 * block / (3 * x.size)) / 2
    sigma = math.hypot(resampling, estimator)
    assert abs(boot.error / exact - 1) < 4 * sigma
    iid = stats.bootstrap(np.mean, x, 19, n_resamples=n_resamples)
    assert iid.error < 0.3 * exact


# ---------------------------------------------------------------------------
# k-statistics and cumulants
# ---------------------------------------------------------------------------


def exact_cumulants(support, probs, order):
    """Exact cumulants via kappa_n = mu_n - sum_m C(n-1, m-1) kappa_m mu_{n-m}."""
    mu = [sum(p * s**k for s, p in zip(support, probs)) for k in range(order + 1)]
    kappa = [Fraction(0)] * (order + 1)
    for n in range(1, order + 1):
        lower = sum(math.comb(n - 1, m - 1) * kappa[m] * mu[n - m] for m in range(1, n))
        kappa[n] = mu[n] - lower
    return kappa[1:]


F = Fraction


@pytest.mark.parametrize(
    "support, probs, n",
    [
        ((F(-1), F(1, 2), F(2)), (F(1, 5), F(1, 2), F(3, 10)), 7),
        ((F(0), F(3)), (F(1, 3), F(2, 3)), 6),
        ((F(0), F(1), F(5, 2)), (F(1, 2), F(1, 3), F(1, 6)), 8),
    ],
)
def test_kstatistics_exactly_unbiased(support, probs, n):
    """E[k_r] = kappa_r exactly: average over every sample of size n."""
    outcomes = np.array(list(itertools.product(range(len(support)), repeat=n)))
    samples = np.array([float(s) for s in support])[outcomes]
    weights = np.prod(np.array([float(p) for p in probs])[outcomes], axis=1)
    k = stats.kstatistics(samples, max_order=6, axis=1)
    assert k.shape == (6, len(outcomes))
    expected = np.array([float(c) for c in exact_cumulants(support, probs, 6)])
    assert np.all(np.abs(expected) > 0.1)  # relative comparison is meaningful
    np.testing.assert_allclose(k @ weights, expected, rtol=1e-10)


def test_kstatistics_match_scipy():
    x = np.random.default_rng(20).gamma(2.0, size=(300, 4))
    k = stats.kstatistics(x, max_order=4)
    assert k.shape == (4, 4)
    for r in range(1, 5):
        expected = scipy.stats.kstat(x, r, axis=0)
        np.testing.assert_allclose(k[r - 1], expected, rtol=1e-10)
    k_transposed = stats.kstatistics(x.T, max_order=4, axis=1)
    np.testing.assert_allclose(k_transposed, k, rtol=1e-14)


@pytest.mark.parametrize("max_order", range(1, 7))
def test_kstatistics_lower_orders_consistent(max_order):
    x = np.random.default_rng(21).standard_normal(50)
    all_orders = stats.kstatistics(x)
    np.testing.assert_allclose(stats.kstatistics(x, max_order), all_orders[:max_order])


def test_kstatistics_shift_invariance():
    x = np.random.default_rng(22).standard_normal(100_000)
    offset = 1e8
    shifted = x + offset
    k_shifted = stats.kstatistics(shifted)
    k_back = stats.kstatistics(shifted - offset)  # the same sample, exactly, near 0
    np.testing.assert_allclose(k_shifted[1:], k_back[1:], rtol=1e-9)
    assert k_shifted[0] - offset == pytest.approx(k_back[0], abs=1e-7)


def _cumulant_z_scores(x, exact, n_blocks=20):
    est = stats.cumulants(x, 6, n_blocks)
    return (est.value - np.asarray(exact, dtype=float)) / est.error


def test_cumulants_gaussian():
    x = 1.0 + 2.0 * np.random.default_rng(23).standard_normal(400_000)
    assert np.all(np.abs(_cumulant_z_scores(x, [1, 4, 0, 0, 0, 0])) < 4)


def test_cumulants_exponential():
    x = np.random.default_rng(24).exponential(size=400_000)
    exact = [math.factorial(r - 1) for r in range(1, 7)]  # kappa_r = (r - 1)!
    assert np.all(np.abs(_cumulant_z_scores(x, exact)) < 4)


def test_cumulants_two_point():
    mu = 1.5
    x = mu * np.random.default_rng(25).choice([-1.0, 1.0], size=400_000)
    exact = [0, mu**2, 0, -2 * mu**4, 0, 16 * mu**6]
    assert np.all(np.abs(_cumulant_z_scores(x, exact)) < 4)


def test_cumulant_errors_gaussian():
    """Var(k_r) -> r! sigma^(2r) / N for Gaussian samples."""
    n = 400_000
    n_blocks = 100
    est = stats.cumulants(np.random.default_rng(26).standard_normal(n), 6, n_blocks)
    expected = np.sqrt([math.factorial(r) / n for r in range(1, 7)])
    # Relative standard error of a jackknife error from 100 blocks: ~7%.
    relative_std = 1 / math.sqrt(2 * (n_blocks - 1))
    assert np.all(np.abs(est.error / expected - 1) < 3.5 * relative_std)


def test_symmetric_cumulant_errors_cover_the_spread_of_independent_ensembles():
    """symmetric=True: the k-statistics of x together with -x, and a jackknife error of the n measured
    samples. Over 400 independent ensembles of a Z2-symmetric distribution (a two-point mixture with
    Gaussian width, kappa_4 = -2 mu^4, kappa_6 = 16 mu^6) the mean error equals the spread of the
    estimates; an ordinary jackknife of the doubled data [x, -x] is sqrt(2) too small."""
    rng = np.random.default_rng(27)
    mu, width, n, reps = 1.0, 0.5, 2000, 400
    est = []
    errors, doubled_errors = [], []
    for _ in range(reps):
        x = mu * rng.choice([-1.0, 1.0], size=n) + width * rng.standard_normal(n)
        e = stats.cumulants(x, 6, n_blocks=20, symmetric=True)
        est.append(e.value)
        errors.append(e.error)
        doubled_errors.append(stats.cumulants(np.concatenate([x, -x]), 6, n_blocks=40).error)
    est, errors, doubled_errors = np.array(est), np.array(errors), np.array(doubled_errors)
    assert np.all(np.abs(est[:, [0, 2, 4]]) < 1e-12) and np.all(errors[:, [0, 2, 4]] < 1e-12)  # odd orders vanish
    exact = np.array([mu**2 + width**2, -2 * mu**4, 16 * mu**6])
    spread = est[:, [1, 3, 5]].std(axis=0, ddof=1)
    # the estimates are unbiased within their standard error of the mean
    assert np.all(np.abs(est[:, [1, 3, 5]].mean(axis=0) - exact) < 3.5 * spread / math.sqrt(reps))
    # relative standard error of a spread from 400 replicas ~3.5%; of a mean 20-block error ~ 1%
    ratio = errors[:, [1, 3, 5]].mean(axis=0) / spread
    assert np.all(np.abs(ratio - 1) < 3.5 * 0.04), ratio
    doubled = doubled_errors[:, [1, 3, 5]].mean(axis=0) / spread
    assert np.all(np.abs(doubled * math.sqrt(2) - 1) < 3.5 * 0.04), doubled


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


ONES = np.ones(10)
RAMP = np.arange(10.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: stats.mean([]), "empty"),
        (lambda: stats.mean(3.0), "scalar"),
        (lambda: stats.mean([1.0]), "at least 2"),
        (lambda: stats.mean([1.0, np.nan, 2.0]), r"non-finite.*index \(1,\)"),
        (lambda: stats.mean_with_autocorrelation([1.0, np.inf]), "non-finite"),
        (lambda: stats.binned_mean(ONES, 0), "bin_size=0"),
        (lambda: stats.binned_mean(ONES, 2.5), "bin_size=2.5"),
        (lambda: stats.binned_mean(ONES, 6), "bin_size=6 leaves 1 bin"),
        (lambda: stats.jackknife(np.mean, ONES, n_blocks=0), "n_blocks=0"),
        (lambda: stats.jackknife(np.mean, ONES, n_blocks=11), "n_blocks=11"),
        (lambda: stats.jackknife(np.mean, (ONES, ONES[1:])), r"lengths \[9, 10\]"),
        (lambda: stats.jackknife(np.mean, ()), "no array leaves"),
        (lambda: stats.bootstrap(np.mean, ONES, -1), "key_or_seed=-1"),
        (lambda: stats.bootstrap(np.mean, ONES, 0, n_resamples=1), "n_resamples=1"),
        (lambda: stats.bootstrap(np.mean, ONES, 0, block_size=11), "block_size=11"),
        (lambda: stats.autocorrelation(ONES), "zero variance"),
        (lambda: stats.autocorrelation(RAMP, max_lag=10), "max_lag=10"),
        (lambda: stats.autocorrelation(RAMP, max_lag=0), "max_lag=0"),
        (lambda: stats.integrated_autocorrelation_time(RAMP, S=0.0), "S=0.0"),
        (lambda: stats.kstatistics(RAMP, max_order=7), "max_order=7"),
        (lambda: stats.kstatistics(RAMP, max_order=0), "max_order=0"),
        (lambda: stats.kstatistics(RAMP[:5], max_order=6), "5 sample.*at least 6"),
        (lambda: stats.cumulants(RAMP, n_blocks=1), "n_blocks=1"),
        (lambda: stats.cumulants(RAMP, max_order=8), "max_order=8"),
        (lambda: stats.cumulants(RAMP, symmetric="yes"), "symmetric='yes'"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()

"""HMC against exact results: Gaussian moments, the exact energy-error identities of leapfrog,
a von Mises angle with wrapping, step-size adaptation and the acceptance check."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

from dphys.lattice.hmc import HMC, check_acceptance, leapfrog, run_chain, sample_chains
from dphys.stats import jackknife, mean_with_autocorrelation
from tests.helpers import assert_within_sigma

# A correlated Gaussian exp(-(x - m)^T P (x - m) / 2) with P = COV^-1 (frequencies 0.72 to 2.2).
COV = np.array([[1.0, 0.6, 0.2], [0.6, 1.5, -0.3], [0.2, -0.3, 0.5]])
MEAN = np.array([1.0, -0.5, 2.0])
PRECISION = np.linalg.inv(COV)
CHAINS, SAMPLES = 64, 4000


def gaussian_action(x):
    d = x - MEAN
    return d @ jnp.asarray(PRECISION, x.dtype) @ d / 2


def exact_mean_delta_h(step_size, n_steps):
    r"""<dH> of leapfrog on the Gaussian at equilibrium. Leapfrog is linear, z -> M z with
    z = (x - m, p); dH = z^T (M^T H M - H) z / 2 with H = diag(P, 1) and z ~ N(0, H^-1), so
    <dH> = tr((M^T H M - H) H^-1) / 2 exactly."""
    d = len(PRECISION)
    eye, zero = np.eye(d), np.zeros((d, d))
    kick = np.block([[eye, zero], [-step_size / 2 * PRECISION, eye]])
    drift = np.block([[eye, step_size * eye], [zero, eye]])
    m = np.linalg.matrix_power(kick @ drift @ kick, n_steps)
    h = np.block([[PRECISION, zero], [zero, eye]])
    return np.trace((m.T @ h @ m - h) @ np.linalg.inv(h)) / 2


def time_major(a):
    """(chains, T, ...) -> (T, chains, ...), the layout of dphys.stats."""
    return np.swapaxes(np.asarray(a, dtype=np.float64), 0, 1)


@pytest.fixture(scope="module")
def gaussian_runs():
    """Two runs with the same trajectory length 0.8: step 0.4 x 2 and 0.2 x 4."""
    x0s = jnp.asarray(MEAN) + jax.random.normal(jax.random.PRNGKey(1), (CHAINS, 3))
    return {
        eps: sample_chains(HMC(gaussian_action, eps, n), jax.random.PRNGKey(2), x0s, SAMPLES, n_therm=100)
        for eps, n in ((0.4, 2), (0.2, 4))
    }


def test_gaussian_mean_and_covariance(gaussian_runs):
    samples, _, _ = gaussian_runs[0.4]
    est = mean_with_autocorrelation(time_major(samples))
    assert_within_sigma(est.value, MEAN, est.error, what="mean")
    # covariance about the sample mean; jackknife over the 64 independent chains
    cov = lambda s: np.cov(s.reshape(-1, 3), rowvar=False)
    est = jackknife(cov, np.asarray(samples, dtype=np.float64), n_blocks=CHAINS)
    assert_within_sigma(est.value, COV, est.error, what="covariance")


def test_energy_error_identities_and_step_size_scaling(gaussian_runs):
    mean_dh = {}
    for (eps, (_, infos, _)), n in zip(gaussian_runs.items(), (2, 4)):
        dh = time_major(infos.delta_H)
        # <exp(-dH)> = 1 exactly at equilibrium (reversibility + volume preservation)
        est = mean_with_autocorrelation(np.exp(-dh))
        assert_within_sigma(est.value, 1.0, est.error, what=f"<exp(-dH)> at step {eps}")
        mean_dh[eps] = mean_with_autocorrelation(dh)
        assert_within_sigma(*mean_dh[eps], exact_mean_delta_h(eps, n), what=f"<dH> at step {eps}")
        assert np.all(np.asarray(infos.step_size) == np.float32(eps))
    # <dH> ~ eps^4: the exact leapfrog ratio at equal trajectory length is 16 up to O(eps^2)
    exact_ratio = exact_mean_delta_h(0.4, 2) / exact_mean_delta_h(0.2, 4)
    assert 16 < exact_ratio < 19
    (a, da), (b, db) = mean_dh[0.4], mean_dh[0.2]
    ratio = a / b
    assert_within_sigma(ratio, exact_ratio, ratio * np.hypot(da / a, db / b), what="<dH> ratio")
    assert ratio - 4 * ratio * np.hypot(da / a, db / b) > 8, "<dH> does not fall faster than eps^3 (ratio 8)"


def test_leapfrog_is_reversible_on_a_pytree():
    def action(x):  # anharmonic and coupled, on a dict of arrays
        return jnp.sum(x["a"] ** 4) / 4 + jnp.sum(x["b"] ** 2) / 2 + 0.3 * jnp.sum(x["a"]) * x["b"][0]

    k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(3), 4)
    x0 = {"a": jax.random.normal(k1, (2,)), "b": jax.random.normal(k2, (3,))}
    p0 = {"a": jax.random.normal(k3, (2,)), "b": jax.random.normal(k4, (3,))}
    run = jax.jit(leapfrog, static_argnums=(0, 4))
    x1, p1, s1, g1 = run(action, x0, p0, 0.05, 40)
    assert float(jnp.max(jnp.abs(p1["a"] - p0["a"]))) > 0.1  # it moved
    np.testing.assert_allclose(s1, action(x1), rtol=1e-6)
    x2, p2, _, _ = run(action, x1, jax.tree_util.tree_map(jnp.negative, p1), 0.05, 40, g1)
    for name in x0:
        np.testing.assert_allclose(x2[name], x0[name], atol=1e-5)
        np.testing.assert_allclose(-p2[name], p0[name], atol=1e-5)


def test_pytree_positions_sample_their_marginals():
    variances = {"a": 0.5, "b": 2.0}
    action = lambda x: sum(jnp.sum(x[k] ** 2) / (2 * v) for k, v in variances.items())
    x0s = {"a": jnp.zeros((16, 2)), "b": jnp.zeros((16, 3, 1))}
    samples, _, _ = sample_chains(HMC(action, 0.5, 3), jax.random.PRNGKey(4), x0s, 1000, n_therm=50)
    assert samples["a"].shape == (16, 1000, 2) and samples["b"].shape == (16, 1000, 3, 1)
    for name, variance in variances.items():
        est = mean_with_autocorrelation(time_major(samples[name]) ** 2)
        assert_within_sigma(est.value, variance, est.error, what=f"<{name}^2>")


def wrap_angle(theta):
    """Map angles to (-pi, pi]."""
    return theta - 2 * jnp.pi * jnp.ceil((theta - jnp.pi) / (2 * jnp.pi))


def test_von_mises_angle_with_wrap():
    beta = 1.0
    kernel = HMC(lambda t: -beta * jnp.cos(t), 0.4, 5, wrap=wrap_angle)
    x0s = jnp.linspace(-3.0, 3.0, 32)
    samples, _, _ = sample_chains(kernel, jax.random.PRNGKey(5), x0s, 2000, n_therm=50)
    theta = np.asarray(samples)
    assert np.all((theta > -np.pi) & (theta <= np.pi))
    assert np.abs(theta).max() > 3.0  # the chains reach the wrap-around point
    est = mean_with_autocorrelation(time_major(np.cos(theta)))
    assert_within_sigma(est.value, special.iv(1, beta) / special.iv(0, beta), est.error, what="<cos theta>")


def test_wrap_angle_range():
    t = jnp.array([-3 * np.pi, -np.pi, -1.0, np.pi, 3 * np.pi + 0.5])
    np.testing.assert_allclose(wrap_angle(t), [np.pi, np.pi, -1.0, np.pi, -np.pi + 0.5], rtol=1e-6)


def test_step_size_adaptation_reaches_target_then_freezes():
    # 20 Gaussian modes with frequencies 1 to 3.2: the acceptance falls smoothly with the step
    # (a single mode resonates with a fixed trajectory length and can make it non-monotonic)
    sigma = jnp.asarray(np.logspace(0, -0.5, 20), jnp.float32)
    kernel = HMC(lambda x: jnp.sum((x / sigma) ** 2) / 2, 0.05, 5)
    run = lambda target: sample_chains(kernel, jax.random.PRNGKey(6), jnp.zeros((8, 20)), 1000, n_therm=1000,
                                       adapt_step_size=True, target_acceptance=target)
    _, infos, step = run(0.8)
    used = np.asarray(infos.step_size)
    np.testing.assert_array_equal(used, np.broadcast_to(np.asarray(step)[:, None], used.shape))
    assert np.all(np.asarray(step) > 0.2)  # moved away from the initial 0.05
    # Dual averaging makes the mean acceptance over its fluctuating iterates equal the target;
    # the acceptance falls concavely with the step, so the frozen averaged step lands a little
    # above it (about +0.01 here, up to a few hundredths for other targets and problems).
    per_chain = np.asarray(infos.acceptance_probability).mean(axis=1)
    np.testing.assert_allclose(per_chain, 0.8, atol=0.05)
    _, infos, larger = run(0.6)
    assert np.all(np.asarray(larger) > np.asarray(step))
    assert np.mean(infos.acceptance_probability) < np.mean(per_chain) - 0.1


def test_run_chain_thinning_and_reproducibility():
    kernel = HMC(gaussian_action, 0.3, 3)
    x0 = jnp.asarray(MEAN, jnp.float32)
    a = run_chain(kernel, jax.random.PRNGKey(7), x0, 5, thin=3, n_therm=2)
    b = run_chain(kernel, jax.random.PRNGKey(7), x0, 5, thin=3, n_therm=2)
    assert a[0].shape == (5, 3) and a[1].delta_H.shape == (15,)
    np.testing.assert_array_equal(a[0], b[0])
    assert float(a[2]) == pytest.approx(0.3)


def test_check_acceptance_warns_on_collapse():
    kernel = HMC(gaussian_action, 8.0, 3)
    x0s = jnp.tile(jnp.asarray(MEAN, jnp.float32), (4, 1))
    _, infos, step = sample_chains(kernel, jax.random.PRNGKey(8), x0s, 200)
    mean = float(np.mean(infos.acceptance_probability))
    with pytest.warns(RuntimeWarning, match=rf"acceptance probability {mean:.3g}.* step size 8\b"):
        assert check_acceptance(infos, step) == pytest.approx(mean)
    _, infos, step = sample_chains(HMC(gaussian_action, 0.2, 3), jax.random.PRNGKey(8), x0s, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_acceptance(infos, step) > 0.5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"step_size": -0.1, "n_leapfrog": 3}, "step_size must be a finite number > 0, got -0.1"),
        ({"step_size": float("nan"), "n_leapfrog": 3}, "step_size must be a finite number > 0"),
        ({"step_size": 0.1, "n_leapfrog": 0}, "n_leapfrog must be an integer >= 1, got 0"),
        ({"step_size": 0.1, "n_leapfrog": 2.5}, "n_leapfrog must be an integer >= 1, got 2.5"),
    ],
)
def test_hmc_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HMC(gaussian_action, **kwargs)


def test_run_chain_rejects_bad_arguments():
    kernel = HMC(gaussian_action, 0.1, 2)
    x0 = jnp.zeros(3)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1, got 0"):
        run_chain(kernel, jax.random.PRNGKey(0), x0, 0)
    with pytest.raises(ValueError, match="needs n_therm > 0"):
        run_chain(kernel, jax.random.PRNGKey(0), x0, 10, adapt_step_size=True)
    with pytest.raises(ValueError, match="target_acceptance must be a number in \\(0, 1\\), got 1.5"):
        run_chain(kernel, jax.random.PRNGKey(0), x0, 10, n_therm=5, adapt_step_size=True, target_acceptance=1.5)
    with pytest.raises(ValueError, match="the action must return a scalar"):
        HMC(lambda x: x**2, 0.1, 2).init(x0)
    with pytest.raises(ValueError, match="same leading \\(chain\\) axis"):
        sample_chains(HMC(lambda x: jnp.sum(x["a"] ** 2) + jnp.sum(x["b"] ** 2), 0.1, 2), jax.random.PRNGKey(0),
                      {"a": jnp.zeros((4, 2)), "b": jnp.zeros((5, 2))}, 10)


def test_non_finite_initial_action_is_an_error():
    with pytest.raises(Exception, match="the action is not finite at the initial position"):
        run_chain(HMC(lambda x: jnp.sum(jnp.log(x)), 0.1, 2), jax.random.PRNGKey(0), jnp.array([1.0, -1.0]), 5)

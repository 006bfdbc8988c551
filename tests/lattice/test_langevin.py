"""Langevin dynamics against its exact discrete-time stationary law and MALA against exact
quadrature where Langevin is measurably biased."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.lattice.exact import expectation_1d
from dphys.lattice.hmc import HMC, sample_chains
from dphys.lattice.langevin import MALA, langevin_chain
from dphys.lattice.zero_d import AnharmonicAction
from dphys.stats import mean_with_autocorrelation
from tests.helpers import assert_within_sigma


def test_euler_maruyama_gaussian_has_the_exact_discrete_variance():
    # S = mu x^2/2: x' = (1 - mu h) x + sqrt(2h) xi is stationary at
    # var = 2h / (1 - (1 - mu h)^2) = 1 / (mu (1 - mu h / 2)), not the continuum 1/mu.
    mu, dt = 2.0, 0.25
    x0 = jnp.zeros(512)  # S sums over elements: 512 independent chains
    xs = langevin_chain(AnharmonicAction(mu, 0.0), jax.random.PRNGKey(0), x0, dt=dt, n_samples=2000, n_therm=50)
    assert xs.shape == (2000, 512)
    est = mean_with_autocorrelation(np.asarray(xs, dtype=np.float64) ** 2)
    assert_within_sigma(est.value, 1 / (mu * (1 - mu * dt / 2)), est.error, what="<x^2>")
    assert abs(est.value - 1 / mu) > 20 * est.error


def test_save_times_of_free_diffusion():
    # S = 0: x(t) = sqrt(2) W(t), sample k at t = (n_therm + (k + 1) thin) dt has variance 2t
    dt, thin, n_therm, copies = 0.1, 5, 7, 8192
    xs = langevin_chain(lambda x: 0.0 * jnp.sum(x), jax.random.PRNGKey(1), jnp.zeros(copies), dt=dt,
                        n_samples=3, thin=thin, n_therm=n_therm)
    t = dt * (n_therm + thin * np.arange(1, 4))
    var = np.mean(np.asarray(xs, dtype=np.float64) ** 2, axis=1)
    assert_within_sigma(var, 2 * t, 2 * t * np.sqrt(2 / copies), what="Var x(t)")


def test_mala_is_exact_where_langevin_is_biased():
    action = AnharmonicAction(-1.0, 0.4)  # double well, minima at x^2 = 15
    exact = expectation_1d(action, [lambda x: x**2])[0]
    dt, chains, n = 0.2, 256, 4000
    x0 = jnp.asarray(np.random.default_rng(0).normal(size=chains) * 2, jnp.float32)  # both wells
    xs = langevin_chain(action, jax.random.PRNGKey(0), x0, dt=dt, n_samples=n, n_therm=200)
    langevin = mean_with_autocorrelation(np.asarray(xs, dtype=np.float64) ** 2)
    assert exact - langevin.value > 5 * langevin.error, f"Langevin bias not resolved: {langevin} vs {exact}"
    samples, infos, _ = sample_chains(MALA(action, dt), jax.random.PRNGKey(1), x0, n, n_therm=200)
    mala = mean_with_autocorrelation(np.asarray(samples, dtype=np.float64).T ** 2)
    assert_within_sigma(mala.value, exact, mala.error, what="MALA <x^2>")
    assert float(np.mean(infos.acceptance_probability)) > 0.8


def test_mala_is_one_leapfrog_step_of_hmc():
    # x' = x - h grad S + sqrt(2h) xi is one leapfrog step with eps = sqrt(2h) and momentum xi,
    # and the asymmetric-proposal Hastings ratio equals exp(-dH) of that step
    def action(x):
        return jnp.sum(x["a"] ** 4) / 4 - jnp.sum(x["a"] ** 2) + jnp.sum(x["b"] ** 2) * (1 + x["a"][0] ** 2) / 2

    h = 0.3
    mala, hmc = MALA(action, h), HMC(action, np.sqrt(2 * h), 1)
    state = mala.init({"a": jnp.array([0.3, -1.2]), "b": jnp.array([0.5])})
    both = jax.jit(lambda key, state: (mala.step(key, state), hmc.step(key, state)))
    for seed in range(4):
        (s1, i1), (s2, i2) = both(jax.random.PRNGKey(seed), state)
        for a, b in zip(jax.tree_util.tree_leaves((s1, i1[:3])), jax.tree_util.tree_leaves((s2, i2[:3]))):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
        state = s1


def test_langevin_divergence_is_an_error():
    with pytest.raises(Exception, match="diverged to a non-finite state"):
        langevin_chain(AnharmonicAction(1.0, 2.0), jax.random.PRNGKey(0), jnp.full(4, 3.0), dt=0.5, n_samples=50)


def test_bad_arguments():
    action = AnharmonicAction()
    with pytest.raises(ValueError, match="step_size must be a finite number > 0, got 0.0"):
        MALA(action, 0.0)
    with pytest.raises(ValueError, match="dt must be a finite number > 0, got -0.1"):
        langevin_chain(action, jax.random.PRNGKey(0), jnp.zeros(2), dt=-0.1, n_samples=5)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1, got 0"):
        langevin_chain(action, jax.random.PRNGKey(0), jnp.zeros(2), dt=0.1, n_samples=0)
    with pytest.raises(ValueError, match="unknown solver 'rk4'"):
        langevin_chain(action, jax.random.PRNGKey(0), jnp.zeros(2), dt=0.1, n_samples=5, solver="rk4")

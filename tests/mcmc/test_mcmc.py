"""dphys.mcmc: the kernels against exact results, the runners' layout and streams, adaptation,
a blackjax kernel in the same runner, independence Metropolis with rejected proposals."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys import mcmc
from dphys.lattice.zero_d import AnharmonicAction
from dphys.stats import mean_with_autocorrelation
from tests.helpers import assert_within_sigma

GAUSS = AnharmonicAction(2.0, 0.0)  # S = x^2, summed over elements: <x^2> = 1/2


def test_ensemble_is_time_major_and_sample_chains_streams():
    kernel = mcmc.HMC(GAUSS, 0.3, 5)
    x0 = jnp.zeros((4, 3))
    key = jax.random.PRNGKey(0)
    out = mcmc.ensemble(kernel, key, x0, 3, thin=2)
    chain_major, info, _ = mcmc.sample_chains(kernel, key, x0, 3, thin=2)
    assert out.samples.shape == (3, 4, 3) and out.info.acceptance_probability.shape == (6, 4)
    np.testing.assert_array_equal(out.samples, np.moveaxis(np.asarray(chain_major), 1, 0))
    np.testing.assert_array_equal(out.info.is_accepted, np.asarray(info.is_accepted).T)
    # chunks: chunk i runs with fold_in(key, i), each chain continuing from where it stopped
    chunked = mcmc.ensemble(kernel, key, x0, 6, thin=2, chunks=2)
    first, _, _ = mcmc.sample_chains(kernel, jax.random.fold_in(key, 0), x0, 3, thin=2)
    second, _, _ = mcmc.sample_chains(kernel, jax.random.fold_in(key, 1), first[:, -1], 3, thin=2)
    expected = np.concatenate([np.moveaxis(np.asarray(a), 1, 0) for a in (first, second)])
    np.testing.assert_array_equal(chunked.samples, expected)
    assert len(chunked.seconds) == 2 and chunked.info.is_accepted.shape == (12, 4)


def test_adapt_step_size_freezes_the_median_of_dual_averaging():
    kernel = mcmc.HMC(GAUSS, 0.05, 3)
    x0 = jnp.zeros((5, 2))
    key = jax.random.PRNGKey(1)
    adapted, x = mcmc.adapt_step_size(kernel, key, x0, 200, target_acceptance=0.7, return_positions=True)
    xs, _, steps = mcmc.sample_chains(kernel, key, x0, 1, n_therm=200, adapt_step_size=True, target_acceptance=0.7)
    assert float(adapted.step_size) == pytest.approx(float(np.median(np.asarray(steps))), rel=1e-6)
    assert adapted.step_size.dtype == kernel.step_size.dtype and adapted.n_leapfrog == 3
    np.testing.assert_array_equal(x, xs[:, -1])
    assert float(adapted.step_size) > 0.05  # S = x^2 needs a much larger step for acceptance 0.7
    with pytest.raises(ValueError, match="step_size field"):
        mcmc.adapt_step_size(mcmc.IndependenceMetropolis(lambda k: (k, 0.0), lambda x: 0.0), key, x0, 10)
    with pytest.raises(ValueError, match="n must be"):
        mcmc.adapt_step_size(kernel, key, x0, 0)
    # adapted_ensemble is exactly adapt (first half of the key), then ensemble (second half)
    out, acceptance = mcmc.adapted_ensemble(kernel, key, x0, 30, n_adapt=200, thin=2, chunks=3,
                                            target_acceptance=0.7)
    k_adapt, k_run = jax.random.split(key)
    adapted, x = mcmc.adapt_step_size(kernel, k_adapt, x0, 200, target_acceptance=0.7, return_positions=True)
    ref = mcmc.ensemble(adapted, k_run, x, 30, thin=2, chunks=3)
    np.testing.assert_array_equal(out.samples, ref.samples)
    assert float(out.step_size) == float(adapted.step_size)
    assert acceptance == pytest.approx(float(np.mean(ref.info.acceptance_probability)))
    assert 0.5 < acceptance < 0.9


@pytest.mark.parametrize("make", [lambda: mcmc.HMC(GAUSS, 0.4, 4), lambda: mcmc.MALA(GAUSS, 0.2)], ids=["hmc", "mala"])
def test_metropolis_kernels_sample_the_gaussian_exactly(make):
    out = mcmc.ensemble(make(), jax.random.PRNGKey(2), jnp.zeros((16, 4)), 400, n_therm=50)
    x2 = np.asarray(out.samples, np.float64) ** 2  # (T, chains, 4): 64 replicas of <x^2> = 1/2
    est = mean_with_autocorrelation(x2.reshape(x2.shape[0], -1))
    assert_within_sigma(est.value, 0.5, est.error, what="<x^2>")


def test_a_blackjax_kernel_runs_in_the_same_runner():
    blackjax = pytest.importorskip("blackjax")
    kernel = blackjax.hmc(lambda x: -GAUSS(x), step_size=0.4, inverse_mass_matrix=jnp.ones(4),
                          num_integration_steps=4)
    out = mcmc.ensemble(kernel, jax.random.PRNGKey(3), jnp.zeros((16, 4)), 400, n_therm=50, chunks=2)
    assert out.samples.shape == (400, 16, 4) and out.step_size is None
    est = mean_with_autocorrelation(np.asarray(out.samples, np.float64).reshape(400, -1) ** 2)
    assert_within_sigma(est.value, 0.5, est.error, what="blackjax <x^2>")
    assert 0.5 < mcmc.check_acceptance(out.info, 0.4, chain_axis=1) <= 1.0  # reads acceptance_rate


def test_complex_langevin_kernel_has_the_exact_euler_stationary_moment():
    # S = sigma z^2 / 2: Euler z' = (1 - eps sigma) z + sqrt(2 eps) eta is stationary at
    # <z^2> = 2 / (sigma (2 - eps sigma)), the continuum value being 1 / sigma
    sigma, eps = 1.0 + 1.0j, 0.1
    kernel = mcmc.ComplexLangevin(lambda z: jnp.sum(sigma * z**2 / 2), eps)
    out = mcmc.ensemble(kernel, jax.random.PRNGKey(4), jnp.zeros((8, 64)), 1000, n_therm=100)
    z2 = np.asarray(out.samples, np.complex128).reshape(1000, -1) ** 2
    exact = 2 / (sigma * (2 - eps * sigma))
    for part, ref in ((z2.real, exact.real), (z2.imag, exact.imag)):
        est = mean_with_autocorrelation(part)
        assert_within_sigma(est.value, ref, est.error, what="<z^2>")
    assert abs(np.mean(z2.real) - (1 / sigma).real) > 0.02  # the O(eps) bias is resolved
    np.testing.assert_allclose(out.info.step_size, eps)
    # adaptive: eps_n = eps min(1, k_ref / max|K|), carried by the state as its Langevin-time weight
    adaptive = mcmc.ComplexLangevin(lambda z: jnp.sum(sigma * z**2 / 2), eps, k_ref=0.5)
    state = adaptive.init(jnp.array([2.0, 0.1]))
    assert float(state.weight) == pytest.approx(eps * 0.5 / (abs(sigma) * 2.0), rel=1e-5)


def test_independence_metropolis_kernel_and_chain_are_exact_and_reject_invalid_proposals():
    # proposals N(0, 2^2), target N(0, 1); every third proposal is marked invalid (log_q = +inf)
    log_p = lambda x: -0.5 * jnp.sum(x**2)

    def log_q_of(x):
        return -0.5 * jnp.sum(x**2) / 4 - x.size * jnp.log(2 * jnp.sqrt(2 * jnp.pi))

    def propose(key):
        x = 2 * jax.random.normal(key, (2,))
        return x, log_q_of(x)

    kernel = mcmc.IndependenceMetropolis(propose, log_p)
    out = mcmc.ensemble(kernel, jax.random.PRNGKey(5), jnp.zeros((8, 2)), 1000, n_therm=5)
    est = mean_with_autocorrelation(np.asarray(out.samples, np.float64).reshape(1000, -1) ** 2)
    assert_within_sigma(est.value, 1.0, est.error, what="<x^2> (kernel)")

    n = 9000
    x = 2 * jax.random.normal(jax.random.PRNGKey(6), (n, 2))
    log_q = jax.vmap(log_q_of)(x)
    log_q = log_q.at[::3].set(jnp.inf)  # rejected: their density is "unknown"
    chain, info = jax.jit(mcmc.independence_chain)(jax.random.PRNGKey(7), x, log_q, jax.vmap(log_p)(x))
    assert int(info.n_invalid) == len(range(0, n, 3))
    assert not np.any(np.asarray(info.proposal_index) % 3 == 0)  # no invalid proposal enters the chain
    assert int(info.proposal_index[0]) == 1  # the chain starts at the first valid proposal
    est = mean_with_autocorrelation(np.asarray(chain, np.float64) ** 2)
    assert_within_sigma(est.value, 1.0, est.error, what="<x^2> (chain)")
    accepted = np.asarray(info.is_accepted)
    assert float(info.acceptance) == pytest.approx(accepted[2:].mean(), rel=1e-6)  # after the first valid one
    assert not np.any(accepted[::3]) and np.all(np.asarray(info.is_valid)[1::3])
    with pytest.raises(ValueError, match="log_q contains NaN"):
        mcmc.independence_chain(jax.random.PRNGKey(0), x[:3], jnp.array([0.0, jnp.nan, 0.0]), jnp.zeros(3))


def test_kernels_are_modules_with_a_step_size_field_and_bad_input_raises():
    kernel = mcmc.HMC(GAUSS, 0.1, 2)
    assert isinstance(kernel, mcmc.AbstractKernel) and isinstance(mcmc.MALA(GAUSS, 0.1), mcmc.AbstractKernel)
    faster = eqx.tree_at(lambda k: k.step_size, kernel, jnp.asarray(0.2))
    assert float(faster.step_size) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="step_size"):
        mcmc.ComplexLangevin(lambda z: z.sum(), -0.1)
    with pytest.raises(ValueError, match="complex scalar"):
        mcmc.ComplexLangevin(lambda z: jnp.sum(z.real), 0.1).init(jnp.zeros(2))
    with pytest.raises(ValueError, match="chunks"):
        mcmc.ensemble(kernel, jax.random.PRNGKey(0), jnp.zeros((2, 2)), 4, chunks=0)
    with pytest.raises(ValueError, match="leading"):
        mcmc.ensemble(kernel, jax.random.PRNGKey(0), jnp.zeros(()), 4)

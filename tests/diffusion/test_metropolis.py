"""Independence Metropolis: an exact proposal is always accepted; a slightly wrong proposal is
corrected to the target's moments within errors; with a diffusion proposal and its PF-ODE
likelihood the acceptance is ~100%; bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.diffusion as dd
from dphys.stats import mean_with_autocorrelation
from tests.helpers import assert_within_sigma


def test_exact_proposal_accepts_everything():
    x = jax.random.normal(jax.random.PRNGKey(0), (2000, 3))
    log_p = lambda v: -0.5 * jnp.sum(v**2)  # unnormalised
    log_q = lambda v: -0.5 * jnp.sum(v**2) - 1.5 * jnp.log(2 * jnp.pi)
    chain, acceptance = dd.metropolis_correct(jax.random.PRNGKey(1), x, log_q, log_p)
    assert acceptance == 1.0
    np.testing.assert_array_equal(np.asarray(chain), np.asarray(x))


def test_wrong_proposal_is_corrected_to_the_target_moments():
    """Proposals from N(0, 1.3^2), target N(0, 1): the corrected chain has <x^2> = 1, <x^4> = 3."""
    n, width = 40_000, 1.3
    y = width * jax.random.normal(jax.random.PRNGKey(2), (n,))
    log_q = -0.5 * (y / width) ** 2
    log_p = -0.5 * y**2
    chain, acceptance = dd.metropolis_correct(jax.random.PRNGKey(3), y, log_q, log_p)
    assert 0.6 < acceptance < 0.95
    c = np.asarray(chain, np.float64)
    for power, exact in ((2, 1.0), (4, 3.0)):
        est = mean_with_autocorrelation(c**power)
        assert_within_sigma(est.value, exact, est.error, what=f"<x^{power}>")
    raw = mean_with_autocorrelation(np.asarray(y, np.float64) ** 2)
    assert abs(raw.value - 1.0) > 10 * raw.error  # the uncorrected proposals are wrong


@pytest.mark.slow
def test_diffusion_proposal_with_exact_score_is_accepted():
    """Samples of the PF-ODE with the exact Gaussian score and their PF-ODE log-density as log q:
    the target is the Gaussian at t_min (the prior mismatch at t_max makes q differ by ~1e-3)."""
    process = dd.VESong(25.0, t_min=1e-3)
    score = dd.GaussianScore(process, std=1.0)
    x, _ = dd.sample(score, jax.random.PRNGKey(4), (2,), n_samples=300, sampler="ode")
    log_q, _ = dd.log_likelihood(score, x)
    var0 = score.variance(process.t_min)
    chain, acceptance = dd.metropolis_correct(jax.random.PRNGKey(5), x, log_q, lambda v: -0.5 * jnp.sum(v**2) / var0)
    assert acceptance > 0.97
    assert chain.shape == x.shape


@pytest.mark.parametrize(
    "x, log_q, log_p, match",
    [
        (jnp.zeros((1, 2)), jnp.zeros(1), jnp.zeros(1), "at least 2"),
        (jnp.zeros((4, 2)), jnp.zeros(3), jnp.zeros(4), r"log_q must give one value per proposal, shape \(4,\)"),
        (jnp.zeros((3, 2)), jnp.array([0.0, jnp.nan, 0.0]), jnp.zeros(3), "log_q contains NaN or -inf"),
        (jnp.zeros((3, 2)), jnp.array([0.0, -jnp.inf, 0.0]), jnp.zeros(3), "log_q contains NaN or -inf"),
        (jnp.zeros((3, 2)), jnp.zeros(3), jnp.array([0.0, jnp.inf, 0.0]), r"log_p contains NaN or \+inf"),
    ],
)
def test_bad_metropolis_input_raises(x, log_q, log_p, match):
    with pytest.raises(ValueError, match=match):
        dd.metropolis_correct(jax.random.PRNGKey(0), x, log_q, log_p)


def test_proposals_of_unknown_density_are_rejected_and_the_correction_jits():
    # log_q = +inf (e.g. a proposal through a folding sampler step) or log_p = -inf: never accepted
    x = jnp.arange(6.0)[:, None]
    log_q = jnp.array([jnp.inf, 0.0, jnp.inf, 0.0, 0.0, 0.0])
    log_p = jnp.array([0.0, 0.0, 0.0, -jnp.inf, 0.0, 0.0])
    chain, acceptance = jax.jit(dd.metropolis_correct)(jax.random.PRNGKey(0), x, log_q, log_p)
    np.testing.assert_array_equal(chain[:, 0], [1, 1, 1, 1, 4, 5])  # equal weights: valid ones accepted
    assert float(acceptance) == pytest.approx(2 / 4)

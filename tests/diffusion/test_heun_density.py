"""`sample_with_log_density`: the exact density of EDM's Heun map, checked against the closed form
of the linear (Gaussian) map, against the log-determinant of the whole map's Jacobian for a
nonlinear score, and as the proposal density of an independence-Metropolis correction."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.diffusion as dd
from dphys.stats import mean_with_autocorrelation
from tests.helpers import assert_within_sigma

EDM = dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=1.0)


class NonlinearScore(eqx.Module):
    """A smooth nonlinear stand-in for a network: -x/(1 + sigma^2) + 0.5 tanh(W x + b)."""

    process: dd.AbstractProcess
    w: jax.Array
    b: jax.Array

    def __call__(self, x, t):
        sigma = self.process.sigma_of_t(t)
        return -x / (1 + sigma**2) + 0.5 * jnp.tanh(self.w @ x + self.b)


def test_gaussian_heun_map_density_and_samples():
    """With the exact Gaussian score each Heun step is x -> c x, so x = a z and
    log q(x) = log N(x; 0, (a sigma_max)^2 I); the states are those of `sample(sampler="heun")`."""
    score = dd.GaussianScore(EDM, std=0.7)
    key = jax.random.PRNGKey(0)
    x, _, info = dd.sample_with_log_density(score, key, (3,), 6, steps=10)
    x_ref, _ = dd.sample(score, key, (3,), n_samples=6, sampler="heun", steps=10)
    np.testing.assert_allclose(np.asarray(x), np.asarray(x_ref), rtol=1e-5, atol=1e-7)
    z = EDM.prior_std * jax.random.normal(jax.random.PRNGKey(1), (6, 3))
    y, log_q, _ = dd.sample_with_log_density(score, key, (3,), 6, steps=10, x_init=z)
    gain = np.asarray(y) / np.asarray(z)
    np.testing.assert_allclose(gain, gain[0, 0], rtol=1e-4)  # linear and isotropic
    exact = jax.vmap(lambda v: dd.gaussian_log_prob(v, 0.0, (gain[0, 0] * EDM.prior_std) ** 2))(y)
    np.testing.assert_allclose(np.asarray(log_q), np.asarray(exact), rtol=1e-4)
    assert info.n_score_evals == 20 and info.sampler == "heun"
    # in batches of 4 with a progress bar (the last batch partial): the same states and densities
    x_b, log_q_b, _ = dd.sample_with_log_density(score, key, (3,), 6, steps=10, x_init=z, batch_size=4, progress=True)
    np.testing.assert_allclose(np.asarray(x_b), np.asarray(y), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(log_q_b), np.asarray(log_q), rtol=1e-6)


@pytest.mark.parametrize("denoise", [False, True])
def test_nonlinear_map_density_is_the_log_det_of_the_whole_map(denoise):
    """Summed per-step log-determinants = log|det| of jacfwd of the whole sampler (float64)."""
    with jax.enable_x64(True):
        kw, kb, kz = jax.random.split(jax.random.PRNGKey(1), 3)
        score = NonlinearScore(EDM, jax.random.normal(kw, (4, 4), jnp.float64),
                               jax.random.normal(kb, (4,), jnp.float64))
        z = EDM.prior_std * jax.random.normal(kz, (3, 4), jnp.float64)
        x, log_q, _ = dd.sample_with_log_density(score, kz, (4,), 3, steps=6, x_init=z, denoise=denoise,
                                                 batch_size=2)

        def whole_map(v):
            return dd.sample(score, kz, (4,), 1, sampler="heun", steps=6, x_init=v[None], denoise=denoise)[0][0]

        for i in range(3):
            jac = jax.jacfwd(whole_map)(z[i])
            expected = EDM.prior_log_prob(z[i]) - jnp.linalg.slogdet(jac)[1]
            np.testing.assert_allclose(float(log_q[i]), float(expected), rtol=0, atol=1e-8)
            np.testing.assert_allclose(np.asarray(x[i]), np.asarray(whole_map(z[i])), atol=1e-10)


def test_metropolis_with_the_heun_density_is_exact():
    """Proposals: 6 Heun steps of the score of N(0, 1.3^2) (too wide, and the few steps distort it
    further); target N(0, 1) in 2D. The corrected chain has <x^2> = 1 and <x^4> = 3 per component
    within 4 standard errors (autocorrelation included); the raw proposals are far off."""
    score = dd.GaussianScore(EDM, std=1.3)
    x, log_q, _ = dd.sample_with_log_density(score, jax.random.PRNGKey(2), (2,), 20_000, steps=6)
    chain, acceptance = dd.metropolis_correct(jax.random.PRNGKey(3), x, log_q, lambda v: -0.5 * jnp.sum(v**2))
    assert 0.3 < acceptance < 0.95
    c = np.asarray(chain, np.float64)
    for power, exact in ((2, 1.0), (4, 3.0)):
        est = mean_with_autocorrelation(np.mean(c**power, axis=1))
        assert_within_sigma(est.value, exact, est.error, what=f"<x^{power}>")
    raw = mean_with_autocorrelation(np.mean(np.asarray(x, np.float64) ** 2, axis=1))
    assert abs(raw.value - 1.0) > 10 * raw.error


def test_bad_arguments_raise():
    score = dd.GaussianScore(EDM, std=1.0)
    with pytest.raises(ValueError, match="steps"):
        dd.sample_with_log_density(score, jax.random.PRNGKey(0), (2,), 4, steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        dd.sample_with_log_density(score, jax.random.PRNGKey(0), (2,), 4, batch_size=0)
    with pytest.raises(ValueError, match="x_init has a leaf of shape"):
        dd.sample_with_log_density(score, jax.random.PRNGKey(0), (2,), 4, x_init=jnp.zeros((3, 2)))


def test_folding_heun_steps_are_detected_and_rejected():
    """The exact two-point score (x0 = +-1) with 6 Heun steps folds: the map T(z) of the prior
    draw decreases for 7% of the draws. Those (and only those, here) are marked folded and get
    log q = +inf; the others keep log q = log p_T(z) - log|T'(z)| (T' by central differences of
    the whole sampler, float64); fold="ignore" keeps the sign-blind value for the folded ones."""
    with jax.enable_x64(True):
        score = dd.TwoPointScore(EDM, mu=1.0)
        key = jax.random.PRNGKey(0)
        z = EDM.prior_std * jax.random.normal(key, (400, 1), jnp.float64)
        _, log_q, info = dd.sample_with_log_density(score, key, (1,), 400, steps=6, x_init=z)
        _, log_q_blind, _ = dd.sample_with_log_density(score, key, (1,), 400, steps=6, x_init=z, fold="ignore")

        def whole_map(v):
            return dd.sample(score, key, (1,), 400, sampler="heun", steps=6, x_init=v)[0]

        h = 1e-4
        slope = np.asarray(whole_map(z + h) - whole_map(z - h))[:, 0] / (2 * h)
        expected = np.asarray(jax.vmap(EDM.prior_log_prob)(z)) - np.log(np.abs(slope))
    folded = np.asarray(info.folded)
    np.testing.assert_array_equal(folded, slope < 0)
    assert 0.03 < folded.mean() < 0.15
    assert np.all(np.isinf(np.asarray(log_q)[folded])) and np.all(np.asarray(log_q)[folded] > 0)
    np.testing.assert_allclose(np.asarray(log_q)[~folded], expected[~folded], atol=1e-4)
    np.testing.assert_allclose(np.asarray(log_q_blind), expected, atol=1e-4)
    with pytest.raises(ValueError, match="fold='drop'"):
        dd.sample_with_log_density(score, key, (1,), 4, steps=6, fold="drop")
    with pytest.raises(ValueError, match="must be an EDMHeun"):
        dd.sample_with_log_density(score, key, (1,), 4, sampler=dd.EulerMaruyama(6))
    with jax.enable_x64(True):  # the sampler object stands for steps (and rho)
        _, log_q_obj, _ = dd.sample_with_log_density(score, key, (1,), 400, x_init=z, sampler=dd.EDMHeun(6))
    np.testing.assert_array_equal(np.asarray(log_q_obj), np.asarray(log_q))

"""Exact log-likelihood through the probability-flow ODE against analytic Gaussian densities;
Hutchinson's estimator (unbiased, variance ~ 1/n_probes); bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.diffusion as dd
from tests.helpers import assert_within_sigma


@pytest.mark.parametrize("process", [dd.VESong(25.0, t_min=1e-3), dd.VP(),
                                     pytest.param(dd.EDM(sigma_data=0.7), marks=pytest.mark.slow)],
                         ids=["ve-song", "vp", "edm"])
def test_gaussian_log_likelihood_is_exact(process):
    with jax.enable_x64(True):
        score = dd.GaussianScore(process, std=0.7, mean=0.0)
        x = 0.7 * jax.random.normal(jax.random.PRNGKey(0), (6, 3), dtype=jnp.float64)
        logp, info = dd.log_likelihood(score, x, rtol=1e-9, atol=1e-9)
        exact = jax.vmap(lambda a: dd.gaussian_log_prob(a, 0.0, score.variance(process.t_min)))(x)
        # the ODE maps p_{t_min} onto the true marginal at t_max; the prior differs from it by a little
        true_T = jax.vmap(lambda a: dd.gaussian_log_prob(a, 0.0, score.variance(process.t_max)))(info.x_T)
        np.testing.assert_allclose(np.asarray(logp - info.prior_logp + true_T), np.asarray(exact), rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.asarray(logp), np.asarray(exact), atol=0.05)
        # x_T is the linear image of x under the Gaussian flow
        ratio = np.sqrt(float(score.variance(process.t_max) / score.variance(process.t_min)))
        np.testing.assert_allclose(np.asarray(info.x_T), np.asarray(x) * ratio, rtol=1e-6)
        assert info.n_jvps == info.n_score_evals * 3
        # solved in batches of 4 (the last one partial): the same per-state solves
        logp_b, _ = dd.log_likelihood(score, x, rtol=1e-9, atol=1e-9, batch_size=4)
        np.testing.assert_allclose(np.asarray(logp_b), np.asarray(logp), rtol=0, atol=1e-12)


class CorrelatedGaussianScore(eqx.Module):
    """Exact score of x0 ~ N(0, C) noised by a VE process: -(C + s^2 I)^{-1} x."""

    process: dd.AbstractProcess
    cov: jax.Array

    def __call__(self, x, t):
        _, s = self.process.mean_std(t)
        return -jnp.linalg.solve(self.cov + s**2 * jnp.eye(x.shape[0]), x)


@pytest.fixture(scope="module")
def correlated():
    with jax.enable_x64(True):
        process = dd.VEGeometric(0.05, 20.0)
        a = jax.random.normal(jax.random.PRNGKey(1), (4, 4), dtype=jnp.float64)
        cov = a @ a.T / 4 + 0.2 * jnp.eye(4)
        score = CorrelatedGaussianScore(process, cov)
        x0 = jax.random.multivariate_normal(jax.random.PRNGKey(2), jnp.zeros(4), cov)
        exact, _ = dd.log_likelihood(score, x0[None], rtol=1e-9, atol=1e-9)
        c0 = cov + 0.05**2 * jnp.eye(4)
        analytic = jax.scipy.stats.multivariate_normal.logpdf(x0, jnp.zeros(4), c0)
        yield process, score, x0, float(exact[0]), float(analytic)


def test_correlated_gaussian_exact_divergence(correlated):
    process, score, x0, exact, analytic = correlated
    with jax.enable_x64(True):
        # prior mismatch at t_max: the true marginal is N(0, C + 20^2 I), the prior N(0, 20^2 I)
        _, info = dd.log_likelihood(score, x0[None], rtol=1e-9, atol=1e-9)
        c_T = score.cov + 20.0**2 * jnp.eye(4)
        true_T = jax.scipy.stats.multivariate_normal.logpdf(info.x_T[0], jnp.zeros(4), c_T)
        assert exact - float(info.prior_logp[0]) + float(true_T) == pytest.approx(analytic, abs=1e-6)


def test_hutchinson_is_unbiased_and_its_variance_falls_as_one_over_n_probes(correlated):
    process, score, x0, exact, _ = correlated
    n = 300
    with jax.enable_x64(True):
        xs = jnp.broadcast_to(x0, (n, 4))
        est = {}
        for n_probes in (1, 4):
            logp, info = dd.log_likelihood(score, xs, key=jax.random.PRNGKey(n_probes), n_probes=n_probes,
                                           rtol=1e-6, atol=1e-6)
            est[n_probes] = np.asarray(logp)
            assert info.n_jvps == pytest.approx(info.n_score_evals * n_probes)
    for n_probes, v in est.items():
        assert_within_sigma(v.mean(), exact, v.std(ddof=1) / np.sqrt(n), what=f"Hutchinson mean ({n_probes} probes)")
    var1, var4 = est[1].var(ddof=1), est[4].var(ddof=1)
    assert var1 > 1e-4  # the Jacobian is not diagonal: a single Rademacher probe is noisy
    # ratio of two sample variances: relative error sqrt(2/(n-1)) each
    assert_within_sigma(var1 / var4, 4.0, 4.0 * np.sqrt(4 / (n - 1)), what="variance ratio 1 vs 4 probes")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_probes=0, key=jax.random.PRNGKey(0)), "n_probes must be"),
        (dict(n_probes=-2, key=jax.random.PRNGKey(0)), "n_probes must be"),
        (dict(n_probes=3), "key"),
        (dict(rtol=0.0), "rtol"),
        (dict(solver="euler"), "euler"),
        (dict(batch_size=0), "batch_size must be"),
    ],
)
def test_bad_likelihood_arguments_raise(kwargs, match):
    score = dd.GaussianScore(dd.VP(), std=1.0)
    with pytest.raises(ValueError, match=match):
        dd.log_likelihood(score, jnp.zeros((2, 3)), **kwargs)


def test_nan_data_raise():
    score = dd.GaussianScore(dd.VP(), std=1.0)
    with pytest.raises(ValueError, match="non-finite"):
        dd.log_likelihood(score, jnp.array([[0.0, jnp.nan]]))

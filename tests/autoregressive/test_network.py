"""Continuous-mixture autoregressive networks: autoregressive structure, exact normalisation,
sampler/density consistency, maximum likelihood, reverse KL, independence Metropolis, bad input."""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.autoregressive as da
from dphys.lattice.exact import double_well_exact, double_well_log_z, transfer_matrix_exact
from dphys.lattice.quantum import DoubleWellAction, qm_observables
from tests.helpers import assert_within_sigma

KEY = jax.random.PRNGKey(0)


def make(shape=(6,), mixture="gaussian", cond=True, mode="affine", **kw):
    kw = {"n_components": 3, "n_hidden": 8, "depth": 2, **kw}
    return da.CANetwork(shape, KEY, mixture=mixture, cond_range=(0.0, 1.0) if cond else None,
                        cond_mode=mode, support=(-1.0, 2.0), **kw)


@pytest.mark.parametrize("mixture,shape,mode", [("gaussian", (7,), "affine"), ("logistic", (7,), "film"),
                                                ("beta", (7,), "affine"), ("gaussian", (3, 3), "film")])
def test_conditional_of_site_i_depends_only_on_earlier_sites(mixture, shape, mode):
    net = make(shape, mixture, mode=mode)
    lo, hi = (-1.0, 2.0) if mixture == "beta" else (-2.0, 2.0)
    x = jax.random.uniform(jax.random.PRNGKey(1), shape, minval=lo + 0.2, maxval=hi - 0.2)
    jac = np.asarray(jax.jit(jax.jacfwd(lambda y: net.site_log_probs(y, 0.3)))(x)).reshape(net.n_sites, net.n_sites)
    assert np.all(jac[np.triu_indices(net.n_sites, k=1)] == 0)  # j > i: exactly independent
    # j == i: the site's own value enters its density; j < i: earlier sites do
    assert np.all(np.abs(np.diag(jac)) > 0)
    assert np.all(np.abs(jac[np.tril_indices(net.n_sites, k=-1)]) > 0)


@pytest.mark.parametrize("mixture,lo,hi", [("gaussian", -12.0, 12.0), ("logistic", -40.0, 40.0), ("beta", -1.0, 2.0)])
def test_density_of_two_sites_integrates_to_one(mixture, lo, hi):
    net = make((2,), mixture)
    # midpoint rule on the open interval (beta vanishes at the ends; the others are negligible there)
    m = 1200
    g = lo + (hi - lo) * (np.arange(m) + 0.5) / m
    xx = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    p = np.exp(np.asarray(da.log_prob(net, xx, 0.7), np.float64))
    z = p.sum() * ((hi - lo) / m) ** 2
    assert abs(z - 1) < 2e-3, z


def test_three_sites_integrate_to_one_unconditional():
    net = make((3,), cond=False)
    m, lo, hi = 110, -10.0, 10.0
    g = lo + (hi - lo) * (np.arange(m) + 0.5) / m
    xx = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    z = np.exp(np.asarray(da.log_prob(net, xx), np.float64)).sum() * ((hi - lo) / m) ** 3
    assert abs(z - 1) < 5e-3, z


@pytest.mark.parametrize("mixture", ["gaussian", "logistic", "beta"])
def test_sampler_log_density_equals_parallel_log_density(mixture):
    net = make((5,), mixture)
    x, logq = da.sample_with_log_prob(net, jax.random.PRNGKey(3), 64, 0.4)
    np.testing.assert_allclose(np.asarray(logq), np.asarray(da.log_prob(net, x, 0.4)), rtol=1e-4, atol=1e-4)


def test_samples_follow_the_density():
    """Moments of network samples against quadrature of the network's own density (N = 2)."""
    net = make((2,), "gaussian")
    m, lo, hi = 600, -12.0, 12.0
    g = lo + (hi - lo) * (np.arange(m) + 0.5) / m
    xx = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    w = np.exp(np.asarray(da.log_prob(net, xx, 0.2), np.float64)) * ((hi - lo) / m) ** 2
    x, _ = da.sample_with_log_prob(net, jax.random.PRNGKey(4), 20000, 0.2)
    x = np.asarray(x, np.float64)
    for f in (lambda v: v[:, 0], lambda v: v[:, 1], lambda v: v[:, 0] * v[:, 1], lambda v: v[:, 1] ** 2):
        exact = np.sum(w * f(xx))
        vals = f(x)
        assert_within_sigma(vals.mean(), exact, vals.std() / math.sqrt(len(vals)), n_sigma=4.0)


def test_maximum_likelihood_recovers_gaussian_mean_and_covariance():
    rng = np.random.default_rng(0)
    mean = np.array([0.5, -1.0, 2.0])
    chol = np.array([[1.0, 0, 0], [0.6, 0.5, 0], [-0.3, 0.4, 0.8]])
    data = mean + rng.standard_normal((4000, 3)) @ chol.T
    net = da.CANetwork((3,), KEY, n_components=1, n_hidden=8, depth=1)
    net = da.train_ml(net, data.astype(np.float32), steps=1500, key=KEY, batch_size=256, learning_rate=1e-2,
                      progress=False).model
    x, _ = da.sample_with_log_prob(net, jax.random.PRNGKey(5), 20000)
    x = np.asarray(x, np.float64)
    cov = chol @ chol.T
    # the fitted Gaussian is the sample (data) estimate; compare with the truth within the data's error
    np.testing.assert_allclose(x.mean(0), mean, atol=0.06)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)
    # and the mean NLL on fresh data is the Gaussian entropy
    test = mean + rng.standard_normal((4000, 3)) @ chol.T
    entropy = 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * cov))
    nll = -np.asarray(da.log_prob(net, test.astype(np.float32)), np.float64)
    assert_within_sigma(nll.mean(), entropy, nll.std() / math.sqrt(len(nll)) + 0.01, n_sigma=4.0)


@pytest.mark.slow
def test_reverse_kl_learns_a_gaussian_action_and_log_partition():
    # S = x0^2/2 + (x1 - x0)^2 / (2 * 0.25): Z = 2 pi sqrt(0.25)
    action = lambda x: x[0] ** 2 / 2 + (x[1] - x[0]) ** 2 / 0.5  # noqa: E731
    net = da.CANetwork((2,), KEY, n_components=1, n_hidden=4, depth=1)
    net = da.train_reverse_kl(net, action, steps=400, key=KEY, batch_size=128, learning_rate=1e-2,
                              progress=False).model
    log_z, err = da.log_partition(net, jax.random.PRNGKey(6), 4000, action)
    assert err < 0.02
    assert_within_sigma(log_z, math.log(2 * math.pi * 0.5), err, n_sigma=4.0)
    _, acc, _ = da.independence_metropolis(net, jax.random.PRNGKey(7), 2000, action)
    assert acc > 0.9


def test_independence_metropolis_restores_exact_x2():
    """An untrained network on a 4-site double well: raw samples are wrong, the chain is exact."""
    a, lam, eta, n = 0.5, 1.0, 1.0, 4
    action = DoubleWellAction(a=a, lam=lam, eta=eta)
    net = da.CANetwork((n,), KEY, n_components=3, n_hidden=8, depth=2)
    chain, acc, proposals = da.independence_metropolis(net, jax.random.PRNGKey(8), 40000, action)
    exact = double_well_exact(a, lam, eta, n)["x2"]
    assert 0.02 < acc < 0.9
    raw = np.mean(np.asarray(proposals) ** 2)
    obs = qm_observables(np.asarray(chain), a, n_blocks=40)
    assert abs(raw - exact) > 10 * obs["x2"].error  # the proposal alone is far off
    assert_within_sigma(obs["x2"].value, exact, obs["x2"].error, n_sigma=3.5)


def test_effective_action_is_exact_for_an_exact_density():
    """action_error of S against itself is zero: with S = -log p + const for a Gaussian network."""
    net = make((4,), cond=False)
    x, logq = da.sample_with_log_prob(net, jax.random.PRNGKey(9), 200)
    s = -np.asarray(logq, np.float64) + 3.0
    err = da.action_error(net, x, s)
    assert err["rel_rms"] < 1e-5 and abs(err["log_z"] + 3.0) < 1e-4
    assert abs(da.fit_log_z(net, x, s) + 3.0) < 1e-4


def test_harmonic_log_partition_formula_of_transfer_matrix():
    """The exact log Z used by can-thermal against the Gaussian closed form."""
    ex = transfer_matrix_exact(lambda x: 0.5 * x**2, 0.5, 6, x_max=12.0, n_grid=400, n_levels=60)
    e = np.asarray(ex["energies"])
    log_z = np.log(np.sum(np.exp(-6 * 0.5 * e))) + 3 * np.log(2 * np.pi * 0.5)
    # S = sum (x_{i+1}-x_i)^2/(2a) + a x_i^2/2 on 6 sites: Z = (2 pi)^(N/2) / sqrt(det A)
    k = np.arange(6)
    eig = (2 - 2 * np.cos(2 * np.pi * k / 6)) / 0.5 + 0.5
    assert abs(log_z - (3 * np.log(2 * np.pi) - 0.5 * np.sum(np.log(eig)))) < 1e-6
    assert np.isfinite(double_well_log_z(0.5, 1.0, 1.0, 8))


def test_bad_input():
    with pytest.raises(ValueError, match="n_components"):
        da.CANetwork((4,), KEY, n_components=0)
    with pytest.raises(ValueError, match="shape"):
        da.CANetwork((2, 2, 2), KEY)
    with pytest.raises(ValueError, match="shape entry"):
        da.CANetwork((0,), KEY)
    with pytest.raises(ValueError, match="mixture"):
        da.CANetwork((4,), KEY, mixture="cauchy")
    with pytest.raises(ValueError, match="cond_range"):
        da.CANetwork((4,), KEY, cond_range=(1.0, 1.0))
    net = make((4,))
    with pytest.raises(ValueError, match="built for shape"):
        da.log_prob(net, jnp.zeros((3, 5)), 0.5)
    with pytest.raises(ValueError, match="built for shape"):
        net.log_prob(jnp.zeros(5), 0.5)
    with pytest.raises(ValueError, match="conditional"):
        da.log_prob(net, jnp.zeros((3, 4)))
    with pytest.raises(ValueError, match="unconditional"):
        da.log_prob(make((4,), cond=False), jnp.zeros((3, 4)), 0.5)
    with pytest.warns(UserWarning, match="outside the trained range"):
        da.log_prob(net, jnp.zeros((3, 4)), 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        da.log_prob(net, jnp.zeros((3, 4)), 0.5)
    with pytest.raises(ValueError, match="n "):
        da.sample_with_log_prob(net, KEY, 0, 0.5)
    with pytest.raises(ValueError, match="n_calibrate"):
        da.action_error(net, jnp.zeros((4, 4)), np.zeros(4), 0.5, n_calibrate=4)

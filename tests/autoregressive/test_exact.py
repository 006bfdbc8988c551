"""Exact conditionals of a nearest-neighbour ring (transfer matrix) against brute-force integration,
the action-error metric against known cases, and the receptive field of the chain-shaped network."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.autoregressive as da
from dphys import mcmc
from dphys.lattice.exact import double_well_log_z
from dphys.lattice.quantum import DoubleWellAction

KEY = jax.random.PRNGKey(0)
V = lambda x: (x**2 - 1.0) ** 2  # noqa: E731  (lambda = eta = 1)


def _action(x, a):
    return np.sum((np.roll(x, -1, axis=-1) - x) ** 2 / (2 * a) + a * V(x), axis=-1)


def test_conditionals_of_three_sites_match_brute_force_integration():
    """p(x_0) and p(x_1 | x_0) of a 3-site ring by a direct grid sum of exp(-S) over the other sites."""
    a = 0.5
    g = np.linspace(-3.5, 3.5, 141)
    dg = g[1] - g[0]
    x = np.array([[0.3, -0.8, 1.1], [1.2, 0.9, -0.2], [-1.0, 0.1, 0.4]])
    lc = da.chain_log_conditionals(x, a, V, x_max=3.5, n_grid=201)
    x0, x1, x2 = np.meshgrid(g, g, g, indexing="ij")
    w = np.exp(-_action(np.stack([x0, x1, x2], -1), a))
    z = w.sum() * dg**3
    for row, ref in zip(x, lc):
        # site 0: integrate x1, x2 at fixed x0
        y = np.stack(np.broadcast_arrays(row[0], *np.meshgrid(g, g, indexing="ij")), -1)
        p0 = np.exp(-_action(y, a)).sum() * dg**2 / z
        # site 1 given x0: integrate x2
        y2 = np.stack(np.broadcast_arrays(row[0], row[1], g), -1)
        y12 = np.stack(np.broadcast_arrays(row[0], *np.meshgrid(g, g, indexing="ij")), -1)
        p1 = np.exp(-_action(y2, a)).sum() / np.exp(-_action(y12, a)).sum() / dg
        np.testing.assert_allclose(ref[:2], [math.log(p0), math.log(p1)], atol=1e-6)
        # the last site closes the ring: exp(-S) normalised over x_2 alone
        y3 = np.stack(np.broadcast_arrays(row[0], row[1], g), -1)
        p2 = math.exp(-_action(row, a)) / (np.exp(-_action(y3, a)).sum() * dg)
        assert abs(ref[2] - math.log(p2)) < 1e-6


def test_conditionals_are_normalised_and_telescope_to_the_action():
    n, a = 8, 0.4
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, n))
    lc = da.double_well_log_conditionals(x, a, 1.0, 1.0)
    s = _action(x, a)
    # the sum over sites is log p = -S - log Z, log Z from the transfer-matrix spectrum
    np.testing.assert_allclose(lc.sum(axis=1), -s - double_well_log_z(a, 1.0, 1.0, n), atol=1e-8)
    g = np.linspace(-4.5, 4.5, 1801)
    for i in (0, 1, 4, n - 1):
        xx = np.repeat(x[:1], len(g), axis=0)
        xx[:, i] = g
        p = np.exp(da.double_well_log_conditionals(xx, a, 1.0, 1.0)[:, i])
        assert abs(p.sum() * (g[1] - g[0]) - 1) < 1e-8, i


def test_action_error_metric_zero_for_exact_density_sigma_for_noise():
    n, a = 16, 0.5
    x = np.random.default_rng(2).normal(size=(4000, n))
    s = _action(x, a)
    exact = da.double_well_log_conditionals(x, a, 1.0, 1.0).sum(axis=1)
    err = da.relative_action_error(exact, s)
    assert err["rel_rms"] < 1e-9  # the floor: the exact density leaves only round-off
    assert abs(err["log_z"] - double_well_log_z(a, 1.0, 1.0, n)) < 1e-8
    # a density with an error of standard deviation sigma: rel_rms = sigma / std(S) (1/sqrt(2000) level)
    sigma = 0.5
    noisy = exact + sigma * np.random.default_rng(3).standard_normal(len(exact))
    err = da.relative_action_error(noisy, s)
    assert abs(err["rel_rms"] / (sigma / err["std_S"]) - 1) < 4 / math.sqrt(2000)
    with pytest.raises(ValueError, match="equal 1D"):
        da.relative_action_error(exact[:10], s)
    with pytest.raises(ValueError, match="N >= 2"):
        da.chain_log_conditionals(np.zeros((3, 1)), a, V, x_max=3.0, n_grid=51)
    with pytest.raises(ValueError, match="a=-1"):
        da.chain_log_conditionals(np.zeros((3, 4)), -1.0, V, x_max=3.0, n_grid=51)


def test_chain_network_sees_exactly_the_previous_and_first_site():
    """kernel_size=1, no dense layer, smooth positional biases: row i depends on x_{i-1}, x_0, x_i."""
    n = 7
    net = da.CANetwork((n,), KEY, n_components=2, n_hidden=8, depth=2, kernel_size=1, positional=3,
                       direct=False, cond_range=(0.0, 1.0))
    x = jax.random.normal(jax.random.PRNGKey(1), (n,))
    jac = np.asarray(jax.jit(jax.jacfwd(lambda y: net.site_log_probs(y, 0.3)))(x))
    expected = np.eye(n, dtype=bool)
    expected[np.arange(1, n), np.arange(n - 1)] = True
    expected[1:, 0] = True
    assert np.all((jac != 0) == expected)
    # the sampler and the one-pass density agree for this variant too
    xs, logq = da.sample_with_log_prob(net, jax.random.PRNGKey(2), 16, 0.6)
    np.testing.assert_allclose(np.asarray(logq), np.asarray(da.log_prob(net, xs, 0.6)), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="positional"):
        da.CANetwork((n,), KEY, positional=0)


@pytest.mark.slow
def test_trained_chain_network_matches_the_exact_conditionals():
    """Maximum likelihood on HMC paths of a 6-site double well: the network's conditionals approach
    the exact ones (held-out KL per path well below the untrained network's)."""
    n, a = 6, 0.5
    x0 = jnp.concatenate([jnp.full((8, n), 1.0), jnp.full((8, n), -1.0)])  # half the chains in each well
    out, _ = mcmc.adapted_ensemble(mcmc.HMC(DoubleWellAction(a=a, lam=1.0, eta=1.0), 0.1, 10), jax.random.PRNGKey(3),
                                   x0, 400, n_adapt=50, thin=2)
    xs = np.asarray(out.samples)
    train, held = xs[:, :12].reshape(-1, n), xs[:, 12:].reshape(-1, n)  # 12 chains train, 4 held out
    net = da.CANetwork((n,), KEY, n_components=3, n_hidden=16, depth=2, kernel_size=1, positional=3, direct=False)
    exact = da.double_well_log_conditionals(held, a, 1.0, 1.0)

    def kl(model):
        d = exact - np.asarray(jax.vmap(model.site_log_probs)(jnp.asarray(held)), np.float64)
        return d.sum(axis=1).mean(), d.sum(axis=1).std() / math.sqrt(len(d)), d.mean(axis=0)

    kl0, _, _ = kl(net)
    net = da.train_ml(net, train, steps=1500, key=KEY, batch_size=256, learning_rate=5e-3, progress=False).model
    kl1, err1, per_site = kl(net)
    assert kl0 > 1.0
    assert kl1 < 0.05 + 3 * err1, (kl1, err1)  # 6 sites: about 1e-2 nats per site at most
    assert np.all(np.abs(per_site) < 0.03), per_site

"""The noised U(1) ensemble (dphys.lattice.u1): the plaquette adjoint against the VJP and the exact
drift, the local field against quadrature and the Gaussian limit, the Villain coupling and the
topological weight against enumeration, gauge augmentation, tau_q, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

from dphys.lattice import (
    U1Action,
    check_links,
    gauge_augment,
    local_plaquette_field,
    one_plaquette_field,
    plaquette_adjoint,
    plaquette_angles,
    tau_q,
    topological_field,
    topological_log_weight,
    villain_beta,
)

L = 4


def _links(key, n=None):
    shape = (2, L, L) if n is None else (n, 2, L, L)
    return jax.random.uniform(key, shape, minval=-np.pi, maxval=np.pi)


def test_plaquette_adjoint_is_the_transpose_and_gives_the_exact_drift():
    x = _links(jax.random.PRNGKey(1))
    h = jax.random.normal(jax.random.PRNGKey(2), (L, L))
    _, vjp = jax.vjp(plaquette_angles, x)
    np.testing.assert_allclose(plaquette_adjoint(h), vjp(h)[0], atol=1e-6)
    drift = -jax.grad(U1Action(2.5))(x)
    np.testing.assert_allclose(plaquette_adjoint(-2.5 * jnp.sin(plaquette_angles(x))), drift, atol=1e-5)


def test_local_field_against_quadrature_and_the_gaussian_limit():
    # one plaquette: e^{beta cos} convolved with N(0, 4 s^2), against float64 quadrature on a fine grid
    theta = np.linspace(-np.pi, np.pi, 41)
    for beta, s in ((1.0, 0.0), (7.0, 0.05), (7.0, 0.3), (15.0, 0.25), (3.0, 1.0)):
        eps = np.linspace(-24 * s, 24 * s, 20001) if s > 0 else np.zeros(1)
        e = (-0.5 * (eps / (2 * s)) ** 2 if s > 0 else 0.0) + beta * np.cos(theta[:, None] - eps)
        p = np.exp(e - e.max(1, keepdims=True))
        exact = np.sum(p * -beta * np.sin(theta[:, None] - eps), 1) / p.sum(1)
        np.testing.assert_allclose(one_plaquette_field(jnp.asarray(theta, jnp.float32), beta, s), exact,
                                   atol=2.5e-3 * beta, err_msg=f"beta={beta} s={s}")
    # at zero noise the local field is the exact Wilson drift
    t = jnp.asarray(np.random.default_rng(1).uniform(-np.pi, np.pi, (4, 4)), jnp.float32)
    np.testing.assert_allclose(local_plaquette_field(t, 7.0, 0.0), -7.0 * jnp.sin(t), atol=1e-4)
    # large beta, windings decided: the exact score of lifted plaquettes N(0, C), C = 1/beta_V + s^2 Delta
    # (Delta: plaquette Laplacian), from a dense solve; the uniform mode, which plaquette_adjoint
    # removes, is left out of the comparison
    n = 4
    idx = np.arange(n * n).reshape(n, n)
    lap = 4 * np.eye(n * n)
    for shift in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        lap[idx.reshape(-1), np.roll(idx, shift, axis=(0, 1)).reshape(-1)] -= 1
    small = np.random.default_rng(2).normal(0, 0.05, (n, n))
    beta, s = 400.0, 0.02
    bv = float(villain_beta(beta))
    exact = -np.linalg.solve(np.eye(n * n) / bv + s**2 * lap, small.reshape(-1)).reshape(n, n)
    ours = np.asarray(local_plaquette_field(jnp.asarray(small, jnp.float32), beta, s))
    np.testing.assert_allclose(ours - ours.mean(), exact - exact.mean(), rtol=0.02, atol=0.02 * np.abs(exact).max())
    # no force from very large noise
    assert float(jnp.max(jnp.abs(local_plaquette_field(t, 3.0, 3.0)))) < 1e-3


def test_villain_beta_and_the_topological_weight_against_enumeration():
    # the Villain coupling reproduces the Wilson plaquette I_1/I_0 = exp(-1/(2 beta_V))
    for beta in (0.5, 1.0, 7.0):
        ratio = scipy.special.i1(beta) / scipy.special.i0(beta)
        assert float(villain_beta(beta)) == pytest.approx(-0.5 / np.log(ratio), rel=1e-5)
    assert float(villain_beta(1.0)) == pytest.approx(0.62, abs=0.01)
    theta = jnp.array([[0.3, -1.2], [2.0, -0.4]])
    assert float(topological_log_weight(theta, 5.0, 0.0)) == 0.0  # no noise: nothing is missing
    np.testing.assert_array_equal(topological_field(theta, 5.0, 0.0), 0.0)
    # against the exact sum over independent windings j_P (|j| <= 4, by convolution):
    # E[exp(-a Q0^2)], Q0 = sum_P (theta_P + 2 pi j_P)/2 pi, weights N(theta + 2 pi j; 0, v)
    rng = np.random.default_rng(0)
    for L_, beta, s, tol in ((8, 50.0, 0.02, 1e-4), (8, 7.0, 0.5, 0.2), (8, 7.0, 0.8, 0.05), (16, 3.0, 0.5, 0.05)):
        bv = float(villain_beta(beta))
        v = 1 / bv + 4 * s**2
        a = 2 * np.pi**2 * (bv - bv / (1 + 4 * bv * s**2)) / L_**2
        # plaquettes of a noised ensemble, one moved so that they sum to 2 pi Q (a valid configuration)
        theta = np.angle(np.exp(1j * rng.normal(0, np.sqrt(v), (L_, L_))))
        theta[0, 0] -= theta.sum() - 2 * np.pi * np.round(theta.sum() / (2 * np.pi))
        theta = np.angle(np.exp(1j * theta))
        d = theta.reshape(-1, 1) + 2 * np.pi * np.arange(-4, 5)
        p = np.exp(-0.5 * d**2 / v)
        p /= p.sum(1, keepdims=True)
        dist = np.array([1.0])
        for row in p:
            dist = np.convolve(dist, row)
        q0 = theta.sum() / (2 * np.pi) + np.arange(len(dist)) - 4 * L_**2
        exact = np.log(np.sum(dist * np.exp(-a * q0**2)))
        ours = float(topological_log_weight(jnp.asarray(theta), beta, s))
        assert ours == pytest.approx(exact, abs=tol), (L_, beta, s)


def test_gauge_augment_changes_links_not_plaquettes():
    x = _links(jax.random.PRNGKey(20), 3)
    y = gauge_augment(jax.random.PRNGKey(21), x)
    assert y.shape == x.shape and float(jnp.max(jnp.abs(y - x))) > 0.1
    d = jax.vmap(plaquette_angles)(y) - jax.vmap(plaquette_angles)(x)  # multiples of 2 pi only
    np.testing.assert_allclose(np.cos(np.asarray(d)), 1.0, atol=1e-5)


def test_tau_q_frozen_and_independent_series():
    assert tau_q(np.zeros((100, 3))) == (150.0, pytest.approx(float("nan"), nan_ok=True), True)
    q = np.random.default_rng(0).integers(-2, 3, (4000,)).astype(float)
    tau, err, lower = tau_q(q)
    assert abs(tau - 0.5) < 3 * err + 0.05 and not lower
    # a series that changes rarely: the mean time between changes bounds tau_int from below
    q = np.repeat(np.random.default_rng(1).integers(-1, 2, 10), 100).astype(float)  # <= 9 changes in 1000
    tau, err, lower = tau_q(q)
    n_changes = int(np.sum(np.diff(q) != 0))
    assert lower and tau >= 1000 / (2 * (n_changes + 1))


def test_bad_input():
    with pytest.raises(ValueError, match=r"2, L, L\)"):
        check_links(np.zeros((3, L, L)))
    with pytest.raises(ValueError, match="trained on 4x4"):
        check_links(np.zeros((2, 6, 6)), L)
    assert check_links(np.zeros((5, 2, 6, 6))) == 6
    with pytest.raises(ValueError, match="min_changes"):
        tau_q(np.zeros(10), min_changes=0)
    with pytest.raises(ValueError, match="q of shape"):
        tau_q(np.zeros((2, 3, 4)))

"""2D U(1) gauge theory: definitions against explicit loops, gauge invariance, integer charge,
constructed configurations, the character-expansion references (Bessel functions, quadrature,
REFERENCES.md values, an independent plaquette-variable integral, limits) and a Metropolis run."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from scipy import integrate, special

from dphys.lattice.exact import u1_character_coefficients, u1_exact
from dphys.lattice.u1 import (
    U1Action,
    gauge_transform,
    plaquette,
    plaquette_angles,
    random_gauge_transform,
    topological_charge,
    u1_observables,
    wilson_loop,
    wrap,
)
from tests.helpers import assert_within_sigma, check_grad


def random_links(seed, size, scale=np.pi, n=None):
    """Uniform link angles in [-scale, scale), float32, shape (2, L, L) or (n, 2, L, L)."""
    shape = (2, size, size) if n is None else (n, 2, size, size)
    return jnp.asarray(np.random.default_rng(seed).uniform(-scale, scale, shape), jnp.float32)


def charge_one_links(size):
    """Uniform field strength theta_P = 2 pi / V on every plaquette (Q = 1), built explicitly:
    theta_1(x) = 2 pi x0 / V, and theta_0(L-1, x1) = -2 pi x1 / L closes the flux on the torus."""
    x0, x1 = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    theta0 = np.where(x0 == size - 1, -2 * np.pi * x1 / size, 0.0)
    theta1 = 2 * np.pi * x0 / size**2
    return jnp.asarray(np.stack([theta0, theta1]), jnp.float32)


def loop_by_walking(links, x, R, T):
    """Oriented sum of link angles around the R x T rectangle at x, walked link by link."""
    links = np.asarray(links, np.float64)
    size = links.shape[1]
    pos, total = list(x), 0.0
    for mu, steps, sign in ((0, R, 1), (1, T, 1), (0, R, -1), (1, T, -1)):
        for _ in range(steps):
            if sign < 0:
                pos[mu] = (pos[mu] - 1) % size
            total += sign * links[mu, pos[0], pos[1]]
            if sign > 0:
                pos[mu] = (pos[mu] + 1) % size
    assert pos == list(x)
    return total


# --- definitions and symmetries ---------------------------------------------------------------


def test_wrap_maps_to_the_half_open_interval():
    theta = jnp.array([np.pi, -np.pi, 3 * np.pi, 0.5, -0.5 - 4 * np.pi, 7.0])
    np.testing.assert_allclose(wrap(theta), [np.pi, np.pi, np.pi, 0.5, -0.5, 7.0 - 2 * np.pi], atol=1e-5)
    w = wrap(jnp.asarray(np.random.default_rng(0).uniform(-20, 20, 1000), jnp.float32))
    assert np.all((w > -np.pi) & (w <= np.pi))


def test_plaquette_angles_and_wilson_loops_match_walked_loops():
    links = random_links(1, 5)
    theta_p = np.asarray(plaquette_angles(links))
    for x in [(0, 0), (4, 2), (2, 4)]:
        np.testing.assert_allclose(theta_p[x], loop_by_walking(links, x, 1, 1), atol=1e-5)
    for R, T in [(2, 3), (1, 2), (4, 4)]:
        positions = [(i, j) for i in range(5) for j in range(5)]
        expected = np.mean([np.cos(loop_by_walking(links, x, r, t)) for x in positions for r, t in {(R, T), (T, R)}])
        np.testing.assert_allclose(wilson_loop(links, R, T), expected, atol=1e-5)
    np.testing.assert_allclose(wilson_loop(links, 1, 1), plaquette(links), rtol=1e-6)
    np.testing.assert_allclose(U1Action(2.0)(links), -2.0 * 25 * plaquette(links), rtol=1e-5)


@pytest.mark.parametrize("scale", [np.pi, 10.0])
def test_topological_charge_is_an_integer_in_float32(scale):
    configs = random_links(2, 16, scale, n=200)
    q = np.asarray(jax.jit(jax.vmap(topological_charge))(configs))
    assert configs.dtype == jnp.float32
    assert np.max(np.abs(q - np.round(q))) < 1e-4
    assert np.max(np.abs(q)) >= 2  # random configurations carry nonzero charges


def test_charge_one_configuration_has_uniform_field_strength():
    size, beta = 6, 1.7
    volume = size * size
    links = charge_one_links(size)
    np.testing.assert_allclose(wrap(plaquette_angles(links)), np.full((size, size), 2 * np.pi / volume), atol=1e-5)
    np.testing.assert_allclose(topological_charge(links), 1.0, atol=1e-5)
    np.testing.assert_allclose(plaquette(links), np.cos(2 * np.pi / volume), atol=1e-6)
    np.testing.assert_allclose(U1Action(beta)(links), -beta * volume * np.cos(2 * np.pi / volume), rtol=1e-6)
    for R, T in [(1, 2), (2, 3), (5, 5)]:
        np.testing.assert_allclose(wilson_loop(links, R, T), np.cos(2 * np.pi * R * T / volume), atol=1e-5)
    np.testing.assert_allclose(topological_charge(-links), -1.0, atol=1e-5)  # charge conjugation


def test_gauge_invariance():
    for links in (random_links(3, 6), charge_one_links(6)):
        transformed = random_gauge_transform(jax.random.key(3), links)
        assert not np.allclose(transformed, links)
        assert np.all(np.abs(transformed) <= np.pi)
        dp = np.asarray(plaquette_angles(transformed) - plaquette_angles(links)) / (2 * np.pi)
        np.testing.assert_allclose(dp, np.round(dp), atol=1e-5)  # changes only by multiples of 2 pi
        np.testing.assert_allclose(topological_charge(transformed), topological_charge(links), atol=1e-4)
        np.testing.assert_allclose(U1Action(1.0)(transformed), U1Action(1.0)(links), rtol=1e-5)
        for R, T in [(1, 1), (2, 3), (3, 3)]:
            np.testing.assert_allclose(wilson_loop(transformed, R, T), wilson_loop(links, R, T), atol=1e-5)
    # the explicit formula theta_mu(x) -> alpha(x) + theta_mu(x) - alpha(x + mu)
    links, alpha = random_links(4, 3), random_links(5, 3)[0]
    new = np.asarray(gauge_transform(links, alpha))
    np.testing.assert_allclose(np.cos(new[0, 2, 1]), np.cos(alpha[2, 1] + links[0, 2, 1] - alpha[0, 1]), atol=1e-5)
    np.testing.assert_allclose(np.cos(new[1, 2, 2]), np.cos(alpha[2, 2] + links[1, 2, 2] - alpha[2, 0]), atol=1e-5)


def test_action_gradients_against_finite_differences():
    links = np.random.default_rng(4).uniform(-np.pi, np.pi, (2, 4, 4))
    check_grad(lambda th: U1Action(1.3)(th), links)
    check_grad(lambda act: act(jnp.asarray(links)), U1Action(0.7))


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match=r"expected \(2, L, L\)"):
        plaquette(jnp.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="hypercubic"):
        U1Action(1.0)(jnp.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="R=4"):
        wilson_loop(jnp.zeros((2, 4, 4)), 4, 1)
    with pytest.raises(ValueError, match="alpha of shape"):
        gauge_transform(jnp.zeros((2, 4, 4)), jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="ensemble of shape"):
        u1_observables(jnp.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="T=0"):
        u1_exact(1.0, 4, loops=((1, 0),))
    with pytest.raises(ValueError, match="L >= 2"):
        u1_exact(1.0, 1)


# --- exact references ---------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.5, 1.0, 7.0, 30.0])
def test_character_coefficients_are_bessel_functions_and_their_derivatives(beta):
    n = np.arange(-6, 7)
    f, _, _ = u1_character_coefficients(beta, n)
    # quadrature is accurate relative to the largest coefficient I_0: absolute errors ~ 1e-13 I_0
    np.testing.assert_allclose(f, special.iv(n, beta), rtol=1e-13, atol=1e-13 * special.iv(0, beta))
    mpmath.mp.dps = 30
    for nu in (0.0, 1.0, 2.5, -3.0):
        weight = lambda p: mpmath.exp(beta * mpmath.cos(p)) / (2 * mpmath.pi)
        ref1 = -mpmath.quad(lambda p: weight(p) * p * mpmath.sin(nu * p), [-mpmath.pi, 0, mpmath.pi])
        ref2 = -mpmath.quad(lambda p: weight(p) * p**2 * mpmath.cos(nu * p), [-mpmath.pi, 0, mpmath.pi])
        _, df, d2f = u1_character_coefficients(beta, np.array([nu]))
        np.testing.assert_allclose(
            [df[0], d2f[0]], [float(ref1), float(ref2)], rtol=1e-12, atol=1e-13 * special.iv(0, beta)
        )


def test_reference_values_for_l16():
    """REFERENCES.md: L = 16, beta = 1: plaquette 0.446390, chi_t 0.040636;
    beta = 7: plaquette 0.925532, chi_t 0.0039313."""
    for beta, plaq, chi in [(1.0, 0.446390, 0.040636), (7.0, 0.925532, 0.0039313)]:
        exact = u1_exact(beta, 16)
        np.testing.assert_allclose(exact["plaquette"], plaq, atol=6e-7)
        np.testing.assert_allclose(exact["chi_t"], chi, rtol=2e-5)
        assert exact["wilson_1x1"] == exact["plaquette"]


def test_truncation_of_the_character_sum_is_converged():
    for beta, size in [(7.0, 4), (30.0, 8)]:
        a, b = u1_exact(beta, size, n_max=50), u1_exact(beta, size, n_max=80)
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-11, atol=1e-15)


def test_l2_against_an_independent_plaquette_variable_integral():
    """On the 2 x 2 torus the four plaquette angles are independent up to sum theta_P = 0 (the
    links reduce to gauge modes, two holonomies and three free plaquettes with a constant
    Jacobian): integrate theta_1..3 on a periodic midpoint grid, theta_4 = -(theta_1+theta_2+theta_3).
    The smooth plaquette average converges exponentially; Q^2 jumps, so its grid error is O(h^2)
    and is removed by Richardson extrapolation."""
    beta = 1.3

    def grid_averages(n):
        t = -np.pi + 2 * np.pi * (np.arange(n) + 0.5) / n
        a, b, c = np.meshgrid(t, t, t, indexing="ij", sparse=True)
        angles = (a, b, c, -(a + b + c))
        cosines = sum(np.cos(p) for p in angles)
        weight = np.exp(beta * cosines)
        q = sum(np.pi - np.mod(np.pi - p, 2 * np.pi) for p in angles) / (2 * np.pi)  # wrap in float64
        z = weight.sum()
        return (weight * cosines).sum() / (4 * z), (weight * q**2).sum() / (4 * z)

    coarse, fine = grid_averages(64), grid_averages(128)
    exact = u1_exact(beta, 2, loops=())
    np.testing.assert_allclose(fine[0], exact["plaquette"], rtol=1e-12)
    np.testing.assert_allclose((4 * fine[1] - coarse[1]) / 3, exact["chi_t"], rtol=1e-5)


def test_limits():
    # infinite volume: W_A -> (I_1/I_0)^A and chi_t -> <phi^2>_beta / (4 pi^2)
    for beta in (1.0, 3.0):
        exact = u1_exact(beta, 64, loops=((1, 2), (3, 3)))
        ratio = special.iv(1, beta) / special.iv(0, beta)
        for key, area in [("plaquette", 1), ("wilson_1x2", 2), ("wilson_3x3", 9)]:
            np.testing.assert_allclose(exact[key], ratio**area, rtol=1e-12)
        weight = lambda p: np.exp(beta * (np.cos(p) - 1))
        phi2 = integrate.quad(lambda p: p**2 * weight(p), -np.pi, np.pi, epsabs=0, epsrel=1e-13)[0]
        norm = integrate.quad(weight, -np.pi, np.pi, epsabs=0, epsrel=1e-13)[0]
        np.testing.assert_allclose(exact["chi_t"], phi2 / norm / (4 * np.pi**2), rtol=1e-10)
    # beta = 0: independent uniform plaquettes, Q^2 / V = Var(phi / 2 pi) = 1/12, no correlation
    exact = u1_exact(0.0, 4)
    np.testing.assert_allclose(exact["chi_t"], 1 / 12, rtol=1e-12)
    np.testing.assert_allclose(exact["plaquette"], 0.0, atol=1e-15)
    # finite volume: a loop of area A bounds the V - A plaquettes outside it too (3x3 vs 4x4, V = 25),
    # and both differ from the infinite-volume value
    exact = u1_exact(1.5, 5, loops=((3, 3), (4, 4)))
    np.testing.assert_allclose(exact["wilson_3x3"], exact["wilson_4x4"], rtol=1e-12)
    assert exact["wilson_3x3"] > 1.01 * (special.iv(1, 1.5) / special.iv(0, 1.5)) ** 9


# --- ensemble analysis and a Monte Carlo check of the exact references --------------------------


def test_frozen_charge_one_ensemble():
    size = 4
    alphas = random_links(5, size, n=15)[:, 0]
    ensemble = jax.jit(jax.vmap(gauge_transform, in_axes=(None, 0)))(charge_one_links(size), alphas)
    obs = u1_observables(ensemble, loops=((1, 2),))
    np.testing.assert_array_equal(obs["Q_history"], np.ones(15))
    np.testing.assert_allclose(obs["chi_t"].value, 1 / size**2)
    assert np.isnan(obs["chi_t"].error)  # a constant series says nothing about its error
    np.testing.assert_allclose(obs["plaquette"].value, np.cos(2 * np.pi / size**2), atol=1e-5)
    np.testing.assert_allclose(obs["wilson_1x2"].value, np.cos(4 * np.pi / size**2), atol=1e-5)


L_MC, DELTA = 4, 2.0


def metropolis_history(key, beta, n_chains, n_therm, n_meas):
    """Single-link Metropolis (uniform step in [-DELTA, DELTA], full action difference, sequential
    sweeps), vmapped over chains; returns link histories of shape (n_meas, n_chains, 2, L, L)."""
    action = U1Action(beta)
    n_links = 2 * L_MC * L_MC

    def sweep(carry, _):
        links, key = carry
        key, k_step, k_accept = jax.random.split(key, 3)
        steps = jax.random.uniform(k_step, (n_links,), minval=-DELTA, maxval=DELTA)
        log_u = jnp.log(jax.random.uniform(k_accept, (n_links,)))

        def update(i, links):
            proposal = links.at[i // (L_MC * L_MC), (i // L_MC) % L_MC, i % L_MC].add(steps[i])
            return jnp.where(log_u[i] < action(links) - action(proposal), proposal, links)

        links = jax.lax.fori_loop(0, n_links, update, links)
        return (links, key), links

    def chain(key):
        k_start, k_run = jax.random.split(key)
        carry = (jax.random.uniform(k_start, (2, L_MC, L_MC), minval=-np.pi, maxval=np.pi), k_run)
        return jax.lax.scan(sweep, carry, None, length=n_therm + n_meas)[1][n_therm:]

    return jax.vmap(chain)(jax.random.split(key, n_chains)).swapaxes(0, 1)


def test_metropolis_agrees_with_the_finite_volume_exact_results():
    run = jax.jit(metropolis_history, static_argnums=(2, 3, 4))
    for seed, beta in enumerate((1.0, 2.0)):
        history = run(jax.random.key(10 + seed), beta, 256, 50, 300)
        obs = u1_observables(history)
        exact = u1_exact(beta, L_MC)
        for key in ("plaquette", "wilson_1x2", "wilson_2x2", "chi_t"):
            assert_within_sigma(obs[key].value, exact[key], obs[key].error, what=f"beta={beta} {key}")
        assert np.max(np.abs(obs["Q_history"])) >= 2  # topology moves

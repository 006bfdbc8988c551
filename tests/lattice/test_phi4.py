"""phi^4 action, per-configuration observables and ensemble analysis against explicit sums and
constructed configurations / ensembles with known answers."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys
from dphys.lattice.phi4 import (
    Phi4Action,
    action_density,
    check_lattice_shape,
    effective_mass,
    magnetisation,
    phi4_observables,
    two_point,
)
from tests.helpers import assert_within_sigma, check_grad

KAPPA, LAM = 0.21, 0.022


def explicit_action(phi, kappa, lam):
    """Site-by-site sum with explicit periodic neighbours."""
    phi = np.asarray(phi, np.float64)
    total = 0.0
    for x in itertools.product(*(range(n) for n in phi.shape)):
        hop = sum(phi[tuple((xi + (i == mu)) % phi.shape[i] for i, xi in enumerate(x))] for mu in range(phi.ndim))
        total += -2 * kappa * phi[x] * hop + (1 - 2 * lam) * phi[x] ** 2 + lam * phi[x] ** 4
    return total


@pytest.mark.parametrize("shape", [(4, 4), (3, 3, 3), (5,)])
def test_action_matches_explicit_site_sum(shape):
    phi = np.random.default_rng(0).normal(size=shape)
    with jax.enable_x64(True):
        got = float(Phi4Action(KAPPA, LAM)(jnp.asarray(phi)))
    np.testing.assert_allclose(got, explicit_action(phi, KAPPA, LAM), rtol=1e-12)


def test_action_is_translation_reflection_and_z2_invariant():
    phi = jax.random.normal(jax.random.key(1), (6, 6))
    action = Phi4Action(0.27, LAM)
    s = action(phi)
    for transformed in (jnp.roll(phi, 2, axis=0), jnp.roll(phi, -1, axis=1), -phi, phi[::-1], phi.T):
        np.testing.assert_allclose(action(transformed), s, rtol=1e-5)


def test_action_gradients_against_finite_differences():
    phi = np.random.default_rng(2).normal(size=(4, 4))
    check_grad(lambda p: Phi4Action(KAPPA, LAM)(p), phi)
    check_grad(lambda act: act(jnp.asarray(phi)), Phi4Action(0.5, 0.3))


def test_constant_field_has_closed_form_observables():
    c, d, size = 0.7, 2, 4
    phi = jnp.full((size,) * d, c)
    expected_s = size**d * (-2 * KAPPA * d * c**2 + (1 - 2 * LAM) * c**2 + LAM * c**4)
    np.testing.assert_allclose(Phi4Action(KAPPA, LAM)(phi), expected_s, rtol=1e-6)
    np.testing.assert_allclose(action_density(Phi4Action(KAPPA, LAM), phi), expected_s / size**d, rtol=1e-6)
    np.testing.assert_allclose(magnetisation(phi), c, rtol=1e-6)
    np.testing.assert_allclose(two_point(phi), np.full(size, c**2), rtol=1e-5)


def test_two_point_of_a_plane_wave():
    size, k = 8, 1
    t = np.arange(size)
    phi = jnp.asarray(np.cos(2 * np.pi * k * t / size)[:, None] * np.ones((1, size)))
    # slices along axis 0 see the wave (G = cos(2 pi k t / L) / 2), along axis 1 its zero mean
    np.testing.assert_allclose(two_point(phi), 0.25 * np.cos(2 * np.pi * k * t / size), atol=1e-6)


def test_two_point_matches_explicit_slice_sums_and_sum_rule():
    phi = np.random.default_rng(3).normal(size=(4, 4, 4)) + 0.3
    size = 4
    expected = np.zeros(size)
    for mu in range(3):
        m = phi.mean(axis=tuple(nu for nu in range(3) if nu != mu))
        expected += [np.mean([m[t0] * m[(t0 + t) % size] for t0 in range(size)]) for t in range(size)]
    got = np.asarray(two_point(jnp.asarray(phi)))
    np.testing.assert_allclose(got, expected / 3, rtol=1e-5)
    np.testing.assert_allclose(got.sum(), size * phi.mean() ** 2, rtol=1e-5)  # sum_t G(t) = L M^2


def test_effective_mass_is_exact_for_a_periodic_cosh():
    size, m = 16, 0.37
    g = 2.5 * np.cosh(m * (np.arange(size) - size / 2))
    np.testing.assert_allclose(effective_mass(g), np.full(size // 2, m), rtol=1e-10)
    assert np.isnan(effective_mass(np.array([1.0, 1.0, 0.1, 1.0]))[0])  # ratio < 1: undefined, NaN


def test_gaussian_ensemble_observables_match_exact_values():
    """iid N(0, s^2) fields: chi2 = s^2, U_L = 0, G_c(t) = delta_t0 s^2 / L^(d-1), <M> = 0."""
    size, s, n = 8, 1.3, 4000
    phis = s * jax.random.normal(jax.random.key(4), (n, size, size))
    obs = phi4_observables(phis, Phi4Action(KAPPA, LAM))
    assert_within_sigma(obs["M"].value, 0.0, obs["M"].error, what="<M>")
    assert_within_sigma(obs["chi2"].value, s**2, obs["chi2"].error, what="chi2")
    assert_within_sigma(obs["binder"].value, 0.0, obs["binder"].error, what="Binder")
    assert_within_sigma(obs["abs_M"].value, s / size * np.sqrt(2 / np.pi), obs["abs_M"].error, what="<|M|>")
    g_exact = np.where(np.arange(size) == 0, s**2 / size, 0.0)
    assert_within_sigma(obs["G"].value, g_exact, obs["G"].error, what="G_c(t)")
    s_exact = (1 - 2 * LAM) * s**2 + 3 * LAM * s**4  # <phi phi'> = 0 for independent sites
    assert_within_sigma(obs["action_density"].value, s_exact, obs["action_density"].error, what="S/V")
    # identity on any ensemble, L^(d-1) sum_t G_c(t) = chi2, up to the float32 per-configuration G
    np.testing.assert_allclose(size * obs["G"].value.sum(), obs["chi2"].value, rtol=1e-6)
    assert obs["m_eff"].value.shape == (size // 2,)


def test_chain_axis_gives_the_same_central_values():
    phis = jax.random.normal(jax.random.key(5), (100, 4, 4, 4)) + 0.2
    flat = phi4_observables(phis.reshape(400, 4, 4), n_blocks=10)
    chains = phi4_observables(phis, n_blocks=10)
    for key in flat:
        np.testing.assert_allclose(chains[key].value, flat[key].value, rtol=1e-10)
    assert "action_density" not in flat


def test_three_dimensional_ensemble_layout():
    phis = jax.random.normal(jax.random.key(6), (40, 4, 4, 4))
    obs = phi4_observables(phis, lattice_ndim=3, n_blocks=10)
    np.testing.assert_allclose(16 * obs["G"].value.sum(), obs["chi2"].value, rtol=1e-6)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="lam=-0.1"):
        Phi4Action(0.2, -0.1)
    with pytest.raises(ValueError, match="L >= 2"):
        check_lattice_shape((4, 1))
    with pytest.raises(ValueError, match="hypercubic"):
        Phi4Action(0.2, 0.1)(jnp.zeros((4, 6)))
    with pytest.raises(ValueError, match="at least one"):
        magnetisation(jnp.zeros(()))
    with pytest.raises(ValueError, match="ensemble of shape"):
        phi4_observables(jnp.zeros((4, 4)))
    with pytest.raises(ValueError, match="n_blocks=20"):
        phi4_observables(jnp.zeros((5, 4, 4)))
    # a traced negative lam (e.g. inside a parameter scan) is not checked
    assert np.isfinite(jax.jit(lambda lam: Phi4Action(0.2, lam)(jnp.ones((2, 2))))(-0.1))


def test_symmetry_augment_is_a_symmetry_of_the_action_and_moves_the_configuration():
    action = Phi4Action(kappa=0.27, lam=0.022)
    phis = jax.random.normal(jax.random.PRNGKey(3), (16, 6, 6))
    out = dphys.lattice.symmetry_augment(jax.random.PRNGKey(4), phis)
    np.testing.assert_allclose(jax.vmap(action)(out), jax.vmap(action)(phis), rtol=1e-5)
    np.testing.assert_allclose(np.sort(np.abs(out), axis=None), np.sort(np.abs(phis), axis=None))
    assert not np.allclose(out, phis)  # the transformations are not all the identity

"""Gradients of phase shifts (of a neural potential), scattering parameters and binding energies with
respect to the potential's parameters, against central finite differences in float64
(tests/helpers.check_grad), and through a delta shell against a closed form.

The Omega-Omega parameters enter in units where they are of order one (c in GeV, d in fm), so that one
finite-difference step eps = 1e-5 suits all of them. Noise floors of the finite differences: the phase
shift and a are smooth to about 1e-15; the effective range r = 2 dK/dk^2 comes from a fit at
k <= 0.05 fm^-1 that amplifies rounding in delta to about 2e-11 fm, i.e. 1e-6 after dividing by 2 eps
(hence atol = 1e-5 there); the binding energy's bisection stops within about 1e-11 MeV (3e-7 after
dividing). Against these, rtol = 1e-5 tests the derivative and not the noise."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.constants import HBARC, M_OMEGA_LATTICE
from dphys.scattering import DeltaShell, GaussianSum, NeuralPotential, binding_energy, effective_range, phase_shift
from tests.helpers import check_grad

MASS = M_OMEGA_LATTICE / 2
P0 = (np.array([0.914, 0.305, -0.112]), np.array([0.143, 0.305, 0.949]))  # (c [GeV], d [fm])


def omega(p):
    return GaussianSum(c=1000.0 * p[0], d=p[1])




@pytest.mark.parametrize("which, atol", [("a", 1e-9), pytest.param("r", 1e-5, marks=pytest.mark.slow)])  # r: same path
def test_scattering_length_and_effective_range_gradients(which, atol):
    check_grad(lambda p: getattr(effective_range(omega(p), mass=MASS), which), P0, eps=1e-5, rtol=1e-5, atol=atol)


def test_binding_energy_gradient_matches_finite_differences():
    check_grad(lambda p: binding_energy(omega(p), mass=MASS), P0, eps=1e-5, rtol=1e-5)


def test_phase_shift_gradient_through_a_jump_and_a_moving_radius_is_exact():
    # A delta shell lam delta(r - b): d delta/d(lam, b) flows through the matching condition at b, which
    # is also a boundary between integration segments; against the derivative of the closed form
    # tan delta = -g sin^2 kb / (k + g sin kb cos kb).
    k, mass = 0.7, 469.459

    def exact(p):
        g = 2 * mass * p[0] / HBARC**2
        return jnp.arctan(-g * jnp.sin(k * p[1]) ** 2 / (k + g * jnp.sin(k * p[1]) * jnp.cos(k * p[1])))

    with jax.enable_x64(True):
        p = jnp.array([-30.0, 1.5])
        got = jax.grad(lambda p: phase_shift(DeltaShell(p[0], p[1]), k, mass=mass))(p)
        np.testing.assert_allclose(got, jax.grad(exact)(p), rtol=1e-7)


def test_neural_potential_phase_shift_gradient_matches_finite_differences():
    # delta(k) of an MLP potential against every one of its 97 weights and biases
    with jax.enable_x64(True):
        pot = NeuralPotential(jax.random.PRNGKey(0), width=8, depth=2, length=1.0, scale=200.0)
        params, static = eqx.partition(pot, eqx.is_inexact_array)
    check_grad(lambda p: phase_shift(eqx.combine(p, static), 0.4, mass=MASS), params, eps=1e-5, rtol=1e-5, atol=1e-8)
    # and the network behaves like a potential: finite at the origin, decaying at large r
    v = np.asarray(pot(np.array([1e-6, 0.5, 1.0, 5.0, 20.0])))
    assert np.all(np.isfinite(v)) and abs(v[-1]) < 1e-6 * 200.0

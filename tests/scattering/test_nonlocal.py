"""Non-local s-wave scattering (dphys.scattering.non_local) against exact and independent results:
the Yamaguchi closed form (its sign fixed by the bound state of an independently discretised
Hamiltonian), the local Pruefer solver for a local potential, and the local limit of a Gaussian kernel."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.constants import HBARC, M_NUCLEON, M_OMEGA_LATTICE
from dphys.halqcd import radial_hamiltonian
from dphys.scattering import GaussianSum, phase_shift
from dphys.scattering.non_local import (
    GaussianKernel,
    Yamaguchi,
    chebyshev_quadrature,
    nonlocal_effective_range,
    nonlocal_phase_shift,
)
from tests.helpers import check_grad

MU_N = M_NUCLEON / 2
KS = np.array([0.02, 0.1, 0.3, 0.7, 1.0, 1.5, 2.5])  # NumPy float64 (module level runs before x64 is on)


def _fold(d):
    return np.asarray(d) - np.pi * np.ceil(np.asarray(d) / np.pi - 0.5)


def test_quadrature_integrates_smooth_functions_and_their_antiderivatives():
    q = chebyshev_quadrature()
    f = np.exp(-q.r) * np.cos(2 * q.r)
    exact = lambda x: (1 - np.exp(-x) * (np.cos(2 * x) - 2 * np.sin(2 * x))) / 5  # noqa: E731
    assert abs(q.w @ f - exact(25.0)) < 1e-14  # the last panel ends at 25 fm
    np.testing.assert_allclose(q.cumulative @ f, exact(q.r), atol=1e-13)


def test_local_potential_through_the_integral_equation_matches_the_pruefer_solver():
    v = GaussianSum()  # Omega-Omega: repulsive core, one bound state
    mu = M_OMEGA_LATTICE / 2
    ours = jax.vmap(lambda k: nonlocal_phase_shift(None, k, mass=mu, local=v))(KS)
    ref = jax.vmap(lambda k: phase_shift(v, k, mass=mu, rtol=1e-12, atol=1e-12))(KS)
    np.testing.assert_allclose(_fold(ours - ref), 0.0, atol=1e-10)


@pytest.mark.parametrize("a", [-23.7, -5.0, 5.4])
def test_yamaguchi_phase_shift_and_effective_range_match_the_closed_form(a):
    y = Yamaguchi.from_scattering(a, 1.2, MU_N)
    ours = jax.vmap(lambda k: nonlocal_phase_shift(y, k, mass=MU_N))(KS)
    np.testing.assert_allclose(_fold(ours - y.phase_shift(KS, MU_N)), 0.0, atol=1e-9)
    ere, exact = nonlocal_effective_range(y, mass=MU_N), y.effective_range(MU_N)
    np.testing.assert_allclose([ere.a, ere.r], [a, exact.r], rtol=1e-7)


def test_yamaguchi_sign_fixed_by_an_independent_bound_state():
    """The closed form's binding energy (pole of k cot delta - ik) against the lowest eigenvalue of a
    finite-difference Hamiltonian with the same kernel: they agree to O(h^2), and the attractive
    sign (lam > 0) binds."""
    y = Yamaguchi(lam=3.0 * Yamaguchi.from_scattering(-5.0, 1.2, MU_N).lam, beta=1.2)
    b_exact = float(y.binding_energy(MU_N))
    assert b_exact > 1.0
    errors = []
    for h in (0.04, 0.02):
        e0 = float(jnp.linalg.eigvalsh(radial_hamiltonian(y, mass=MU_N, spacing=h, sites=int(10 / h)))[0])
        errors.append(abs(e0 + b_exact))
    assert errors[1] < 0.3 * errors[0] and errors[1] < 0.02 * b_exact  # O(h^2) convergence to -B
    kappa = np.sqrt(2 * MU_N * b_exact) / HBARC  # pole: k cot(delta) = -kappa at k = i kappa
    k2 = -(kappa**2)
    kcot = (y.beta**2 + k2) ** 2 / y.strength(MU_N) - (y.beta**2 - k2) / (2 * y.beta)
    assert abs(float(kcot) + kappa) < 1e-12


def test_gaussian_kernel_tends_to_the_local_gaussian():
    mu, k = MU_N, np.array([0.2, 0.6, 1.2])
    # the local path of the same solver (checked against the Pruefer solver above)
    local = jax.vmap(lambda q: nonlocal_phase_shift(None, q, mass=mu, local=GaussianSum(c=(-100.0,), d=(1.0,))))(k)
    gaps = []
    for b in (0.1, 0.05):
        nl = jax.vmap(lambda q: nonlocal_phase_shift(GaussianKernel(-100.0, 1.0, b), q, mass=mu))(k)
        gaps.append(np.max(np.abs(_fold(nl - local))))
    assert gaps[1] < 0.3 * gaps[0] < 0.01  # O(b^2)


def test_phase_shift_gradient_matches_finite_differences():
    def fn(params):
        return nonlocal_phase_shift(GaussianKernel(params[0], params[1], params[2]), 0.5, mass=MU_N)

    check_grad(fn, jnp.array([-100.0, 1.0, 0.5]), eps=1e-5, rtol=1e-6)


def test_bad_input_is_named():
    y = Yamaguchi(lam=1.0, beta=1.2)
    with pytest.raises(ValueError, match=r"k must be a finite number > 0 \[fm\^-1\], got -0.5"):
        nonlocal_phase_shift(y, -0.5, mass=MU_N)
    with pytest.raises(ValueError, match=r"mass .* must be a finite number > 0 \[MeV\], got 0.0"):
        nonlocal_phase_shift(y, 0.5, mass=0.0)
    with pytest.raises(ValueError, match="give a non-local kernel"):
        nonlocal_phase_shift(None, 0.5, mass=MU_N)
    with pytest.raises(ValueError, match="panels must be ascending"):
        chebyshev_quadrature(panels=(0.0, 2.0, 1.0))
    with pytest.raises(ValueError, match="no attractive potential has a = 3.0 fm"):
        Yamaguchi.from_scattering(3.0, 0.5, MU_N)

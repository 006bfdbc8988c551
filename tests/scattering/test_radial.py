"""Phase shifts and wave functions against closed forms (square well, delta shell, free and Coulomb
waves) and against an independent scipy + mpmath solution. Every batch of momenta is a vmap over the
same 32 momenta, so each potential class compiles once."""

import jax
import mpmath as mp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.special import spherical_jn, spherical_yn

from dphys.constants import HBARC, M_NUCLEON, M_PROTON
from dphys.scattering import DeltaShell, GaussianSum, SquareWell, phase_shift, solve_radial, wavefunction

MU = M_NUCLEON / 2
K = np.linspace(0.005, 3.0, 32)  # [fm^-1]
R = np.linspace(0.0, 30.0, 61)  # [fm]


def phases(potential, l=0, coulomb=0.0, mass=MU, k=K):
    return np.asarray(jax.vmap(lambda k: phase_shift(potential, k, mass=mass, l=l, coulomb=coulomb))(k))


def mod_pi(x):
    """x reduced to (-pi/2, pi/2]: for comparing with formulas known modulo pi."""
    return (np.asarray(x) + np.pi / 2) % np.pi - np.pi / 2


def absolute_phase(tan_delta, bound, k=K):
    """A closed form known modulo pi, made absolute: unwrapped on a fine grid from k = 1e-4 fm^-1,
    where delta = N_b pi (Levinson), then read off at the momenta k."""
    fine = np.linspace(1e-4, k.max(), 200_001)
    phase = np.unwrap(np.arctan(tan_delta(fine)), period=np.pi)
    phase += bound * np.pi - np.round(phase[0] / np.pi) * np.pi
    branch = np.interp(k, fine, phase)  # only picks the branch; the value is the closed form at k
    value = np.arctan(tan_delta(k))
    return value + np.pi * np.round((branch - value) / np.pi)


def square_well_tan(k, v0, b, l):
    """tan(delta_l) of a square well from matching r j_l(K r) to r (j_l cos - y_l sin) at b; K is
    imaginary under a barrier, where the ratio is still real."""
    K = np.sqrt(k.astype(complex) ** 2 - 2 * MU * v0 / HBARC**2)
    if l == 0:  # tan(kb + delta) = (k/K) tan(Kb)
        t = np.real(k / K * np.tan(K * b))
        return (t - np.tan(k * b)) / (1 + t * np.tan(k * b))
    L = K * spherical_jn(l, K * b, derivative=True) / spherical_jn(l, K * b)
    x = k * b
    return np.real((k * spherical_jn(l, x, derivative=True) - L * spherical_jn(l, x)) / (
        k * spherical_yn(l, x, derivative=True) - L * spherical_yn(l, x)))


@pytest.mark.parametrize("v0, l, bound", [(-10.0, 0, 0), (-50.0, 0, 1), (-200.0, 0, 1), (-500.0, 0, 2),
                                          (100.0, 0, 0), (-200.0, 1, 1), (-200.0, 2, 0)])
def test_square_well_against_closed_form_absolutely(v0, l, bound):
    # bound states of a well of depth K0 b: l = 0: K0 b > pi/2, 3pi/2, ...; l = 1: K0 b > pi, 2pi;
    # l = 2: K0 b > 4.493 (zeros of j_{l-1}); here K0 b = 4.39 for -200 MeV: a d-wave resonance
    b = 2.0
    delta = phases(SquareWell(v0, b), l=l)
    exact = absolute_phase(lambda k: square_well_tan(k, v0, b, l), bound)
    np.testing.assert_allclose(delta, exact, rtol=0, atol=1e-8)  # not modulo pi: continuity + Levinson


def test_phase_rises_by_pi_through_a_narrow_resonance():
    # the d-wave resonance of the -200 MeV well: delta climbs by nearly pi within 0.05 fm^-1, and each
    # momentum (solved independently) lands on the branch of the finely unwrapped closed form
    v0, b, l = -200.0, 2.0, 2
    k = np.linspace(0.25, 0.45, K.size)  # same batch shape as K: no recompilation
    delta = phases(SquareWell(v0, b), l=l, k=k)
    assert np.ptp(delta) > 2.5
    np.testing.assert_allclose(delta, absolute_phase(lambda k: square_well_tan(k, v0, b, l), 0, k), atol=1e-8)


@pytest.mark.parametrize("lam", [50.0, -30.0, -200.0])
def test_delta_shell_closed_form(lam):
    # V = lam delta(r - b) = (hbar^2/2mu) g delta(r - b): tan delta = -g sin^2(kb) / (k + g sin kb cos kb),
    # one bound state when g b < -1
    b = 1.5
    g = 2 * MU * lam / HBARC**2
    delta = phases(DeltaShell(lam, b))
    tan = lambda k: -g * np.sin(k * b) ** 2 / (k + g * np.sin(k * b) * np.cos(k * b))
    np.testing.assert_allclose(delta, absolute_phase(tan, int(g * b < -1)), rtol=0, atol=1e-8)


def test_free_wave_is_the_riccati_bessel_function():
    free = GaussianSum(c=np.zeros(3))
    for l in (0, 3):
        sol = jax.vmap(lambda k: solve_radial(free, k, R, mass=MU, l=l))(K)
        ref = (K[:, None] * R) * spherical_jn(l, K[:, None] * R)
        np.testing.assert_allclose(np.asarray(sol.u), ref, rtol=0, atol=1e-8)
        assert np.all(np.asarray(sol.delta) == 0.0)  # exactly: Delta never leaves 0
    u = jax.vmap(lambda k: wavefunction(free, k, R, mass=MU))(K)  # the same program as solve_radial
    np.testing.assert_allclose(np.asarray(u), np.sin(K[:, None] * R), rtol=0, atol=1e-8)


def test_pure_coulomb_wave_is_f0():
    # pp with only Coulomb: u = F_0(eta, kr), delta = 0, for eta from 0.006 to 3.5
    free = GaussianSum(c=np.zeros(3))
    mass = M_PROTON / 2
    sol = jax.vmap(lambda k: solve_radial(free, k, R, mass=mass, coulomb=1.0))(K)
    assert np.all(np.asarray(sol.delta) == 0.0)
    eta = 1 / 137.035999 * mass / HBARC / K
    for i in (1, 8, 24):
        ref = np.array([float(mp.coulombf(0, eta[i], K[i] * r)) for r in R])
        amp = max(1.0, np.max(np.abs(ref)))
        np.testing.assert_allclose(np.asarray(sol.u[i]), ref, rtol=0, atol=1e-8 * amp)


def test_wave_function_is_normalised_to_the_asymptotic_form():
    # Omega-Omega potential (range < 2 fm): beyond it u = sin(kr + delta) exactly
    pot = GaussianSum()
    mass = 1711.5 / 2
    sol = jax.vmap(lambda k: solve_radial(pot, k, R, mass=mass))(K)
    out = R > 6.0
    ref = np.sin(K[:, None] * R[out] + np.asarray(sol.delta)[:, None])
    np.testing.assert_allclose(np.asarray(sol.u)[:, out], ref, rtol=0, atol=1e-8)
    assert np.all(np.asarray(sol.u)[:, 0] == 0.0)


def _scipy_coulomb_phase(v0, b, k, mass, r_end=30.0):
    """Independent reference: scipy DOP853 for u'' = [2mu V/hbarc^2 + 2 eta k/r - k^2] u from 1e-8 fm,
    matched to mpmath's F_0, G_0 at r_end: tan delta = (F' u - F u') / (G u' - u G') in rho units."""
    kc = mass / 137.035999 / HBARC
    rhs = lambda r, y: [y[1], (2 * mass * (v0 if r < b else 0.0) / HBARC**2 + 2 * kc / r - k**2) * y[0]]
    sol = solve_ivp(rhs, [1e-8, b], [1e-8 * (1 + kc * 1e-8), 1.0 + 2 * kc * 1e-8], method="DOP853", rtol=1e-12,
                    atol=1e-22)
    sol = solve_ivp(rhs, [b, r_end], sol.y[:, -1], method="DOP853", rtol=1e-12, atol=1e-22)
    u, du = sol.y[0, -1], sol.y[1, -1] / k
    eta, rho = kc / k, k * r_end
    F, G = float(mp.coulombf(0, eta, rho)), float(mp.coulombg(0, eta, rho))
    dF = float(mp.diff(lambda x: mp.coulombf(0, eta, x), rho))
    dG = float(mp.diff(lambda x: mp.coulombg(0, eta, x), rho))
    return np.arctan((dF * u - F * du) / (G * du - u * dG))


def test_coulomb_plus_square_well_against_scipy_and_mpmath():
    v0, b, mass = -40.0, 2.0, M_PROTON / 2
    delta = phases(SquareWell(v0, b), coulomb=1.0, mass=mass)
    for i in (1, 6, 20):
        assert mod_pi(delta[i] - _scipy_coulomb_phase(v0, b, K[i], mass)) == pytest.approx(0.0, abs=1e-8)

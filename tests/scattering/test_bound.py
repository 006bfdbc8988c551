"""Bound states: closed forms (square well in s and p waves, delta shell), node counting, and the
Omega-Omega dibaryon. (Levinson's theorem, delta(0+) = N_b pi with the same closed-form N_b, is checked
in test_radial.py.)"""

import jax
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import spherical_jn, spherical_kn

from dphys.constants import HBARC, M_NUCLEON, M_OMEGA_LATTICE
from dphys.scattering import DeltaShell, GaussianSum, SquareWell, binding_energy, count_bound_states
from tests.scattering.test_observables import rounding_spread

MU = M_NUCLEON / 2


def square_well_kappas(v0, b, l):
    """kappa of every bound state: K j_l'(Kb)/j_l(Kb) = kappa k_l'(kappa b)/k_l(kappa b), K^2 = K0^2 - kappa^2."""
    K0 = np.sqrt(-2 * MU * v0) / HBARC

    def match(kappa):
        K = np.sqrt(K0**2 - kappa**2)
        return (K * spherical_jn(l, K * b, derivative=True) * spherical_kn(l, kappa * b)
                - kappa * spherical_kn(l, kappa * b, derivative=True) * spherical_jn(l, K * b))

    grid = np.linspace(1e-6, K0 * (1 - 1e-12), 200_001)
    values = match(grid)
    roots = [brentq(match, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15)
             for i in np.nonzero(np.sign(values[:-1]) != np.sign(values[1:]))[0]
             if abs(values[i]) < 1e3 and abs(values[i + 1]) < 1e3]  # sign changes at poles are not roots
    return sorted(roots, reverse=True)  # deepest (fewest nodes) first


def energy(kappa, mass=MU):
    return (HBARC * kappa) ** 2 / (2 * mass)


@pytest.mark.parametrize("v0, l", [(-500.0, 0), (-200.0, 1), (-60.0, 0)])
def test_square_well_bound_states_closed_form(v0, l):
    b = 2.0
    kappas = square_well_kappas(v0, b, l)
    pot = SquareWell(v0, b)
    assert int(count_bound_states(pot, mass=MU, l=l)) == len(kappas)
    for n, kappa in enumerate(kappas):
        assert float(binding_energy(pot, mass=MU, n=n, l=l)) == pytest.approx(energy(kappa), rel=1e-9)


def test_delta_shell_bound_state_closed_form():
    # s wave: kappa = -g (1 - exp(-2 kappa b)) / 2, bound for g b < -1
    lam, b = -60.0, 1.5
    g = 2 * MU * lam / HBARC**2
    kappa = brentq(lambda x: x + g * (1 - np.exp(-2 * x * b)) / 2, 1e-6, -g, xtol=1e-15)
    assert float(binding_energy(DeltaShell(lam, b), mass=MU)) == pytest.approx(energy(kappa), rel=1e-9)
    assert int(count_bound_states(DeltaShell(lam, b), mass=MU)) == 1
    assert int(count_bound_states(DeltaShell(-10.0, b), mass=MU)) == 0  # g b = -0.57


def test_omega_omega_binding_within_rounding():
    # Gongyo et al. 2018: B about 1.6 MeV. Tolerance: half a unit of the published 1.6 plus the linear
    # spread from half a unit in each published potential parameter (about 0.094 MeV; dB/dc =
    # (-4.5e-4, -5.9e-3, -0.124), dB/dd = (-9.8, -19.1, 28.7) MeV/fm). We get 1.6325 MeV.
    mass = M_OMEGA_LATTICE / 2
    assert int(count_bound_states(GaussianSum(), mass=mass)) == 1
    B = float(binding_energy(GaussianSum(), mass=mass))
    p0 = np.array([914.0, 305.0, -112.0, 0.143, 0.305, 0.949])
    half = np.array([0.5, 0.5, 0.5, 0.0005, 0.0005, 0.0005])
    spread = rounding_spread(lambda p: float(binding_energy(GaussianSum(c=p[:3], d=p[3:]), mass=mass)), p0, half)
    assert abs(B - 1.6) <= 0.05 + spread
    assert B == pytest.approx(1.63253, abs=1e-5)


def test_binding_energy_of_a_missing_state_is_a_clear_error():
    with pytest.raises(Exception, match="no bound state with this many nodes"):
        jax.block_until_ready(binding_energy(SquareWell(-60.0, 2.0), mass=MU, n=1))


def test_bound_state_with_coulomb_against_scipy_and_whittaker():
    # a square well plus the Coulomb repulsion of unit charges: outward scipy DOP853 solution inside the
    # well matched at b to the decaying Whittaker function W_{-eta, 1/2}(2 kappa r), eta = k_C/kappa
    import mpmath as mp
    from scipy.integrate import solve_ivp

    v0, b = -60.0, 2.0
    kc = MU / 137.035999 / HBARC
    B = float(binding_energy(SquareWell(v0, b), mass=MU, coulomb=1.0))
    assert 0 < B < float(binding_energy(SquareWell(v0, b), mass=MU))  # the repulsion binds less

    def mismatch(kappa):
        rhs = lambda r, y: [y[1], (2 * MU * v0 / HBARC**2 + 2 * kc / r + kappa**2) * y[0]]
        r0 = 1e-8
        y = solve_ivp(rhs, [r0, b], [r0 * (1 + kc * r0), 1 + 2 * kc * r0], method="DOP853", rtol=1e-13,
                      atol=1e-24).y[:, -1]
        w = lambda r: mp.whitw(-kc / kappa, 0.5, 2 * kappa * r)
        return y[1] / y[0] - float(mp.diff(w, b) / w(b))

    kappa = np.sqrt(2 * MU * B) / HBARC
    ref = brentq(mismatch, 0.98 * kappa, 1.02 * kappa, xtol=1e-14)
    assert B == pytest.approx(energy(ref), rel=1e-8)

"""Scattering lengths and effective ranges: closed forms, published values (with tolerances set by the
rounding of both the published numbers and the published potential parameters), and the
Coulomb-modified effective-range function."""

import jax
import numpy as np
import pytest

from dphys.constants import HBARC, M_NUCLEON, M_OMEGA_LATTICE, M_PROTON
from dphys.scattering import (
    DeltaShell,
    GaussianSum,
    ReidSoftCore1S0,
    SquareWell,
    coulomb_h,
    coulomb_momentum,
    effective_range,
    effective_range_function,
    gamow_factor,
    phase_shift,
)


def rounding_spread(fn, params, half_units):
    """|d fn/d p| * (half a unit in the last published digit of p), summed over the parameters: how far
    fn can move because the published potential is rounded. Derivatives by central differences of
    the solver itself (the same compiled program, no extra compilation)."""
    spread = 0.0
    for i, (p, h) in enumerate(zip(params, half_units)):
        step = np.zeros(len(params))
        step[i] = 1e-4 * abs(p)
        spread += abs(fn(params + step) - fn(params - step)) / (2 * step[i]) * h
    return spread


def test_omega_omega_reproduces_the_published_values_within_rounding():
    # Gongyo et al. 2018: a = 4.6 fm, r = 1.27 fm (binding in test_bound.py), published to 2-3 digits
    # from a potential whose c (MeV) and d (fm) are published to 3 digits. Tolerance: half a unit of the
    # published result plus the linear spread from half a unit in every potential parameter
    # (about 0.11 fm for a, 0.006 fm for r). We get a = 4.490 fm, r = 1.267 fm.
    mass = M_OMEGA_LATTICE / 2

    def params_to(i):
        return lambda p: float(effective_range(GaussianSum(c=p[:3], d=p[3:]), mass=mass)[i])

    p0 = np.array([914.0, 305.0, -112.0, 0.143, 0.305, 0.949])
    half = np.array([0.5, 0.5, 0.5, 0.0005, 0.0005, 0.0005])
    a, r = effective_range(GaussianSum(), mass=mass)
    assert abs(a - 4.6) <= 0.05 + rounding_spread(params_to(0), p0, half)
    assert abs(r - 1.27) <= 0.005 + rounding_spread(params_to(1), p0, half)
    assert float(a) == pytest.approx(4.4898108, abs=1e-6)  # regression: scipy DOP853 gives 4.48981083
    assert float(r) == pytest.approx(1.2670734, abs=1e-6)


def test_reid_soft_core_singlet():
    # REFERENCES.md (derived): a close to -17.1 fm, r close to 2.8 fm with the nucleon-average mass.
    # The coefficients are given to 0.1 keV, a spread of 0.003 fm in a; the references to 0.05 fm.
    a, r = effective_range(ReidSoftCore1S0(), mass=M_NUCLEON / 2)
    assert abs(a + 17.1) <= 0.05 + 0.003, a  # -17.141 fm
    assert abs(r - 2.8) <= 0.05, r  # 2.807 fm


@pytest.mark.parametrize("lam", [40.0, -20.0, -100.0])
def test_delta_shell_scattering_length_closed_form(lam):
    # a = g b^2 / (1 + g b), g = 2 mu lam / hbarc^2, in the particle-physics sign (a > 0 repulsive or
    # bound); expanding k cot(delta) = -k (k + g sin kb cos kb)/(g sin^2 kb) to k^2 gives
    # r = (2b/3)(1 - 1/(g b))
    b, mass = 1.2, M_NUCLEON / 2
    g = 2 * mass * lam / HBARC**2
    a, r = effective_range(DeltaShell(lam, b), mass=mass)
    assert float(a) == pytest.approx(g * b**2 / (1 + g * b), rel=1e-8)
    assert float(r) == pytest.approx(2 * b / 3 * (1 - 1 / (g * b)), rel=1e-7)


def test_square_well_scattering_length_closed_form():
    # a = b - tan(K0 b)/K0 (particle-physics sign), and the sign rules: a < 0 without, a > 0 with a bound state
    b, mass = 2.0, M_NUCLEON / 2
    for v0 in (-20.0, -60.0):
        K0 = np.sqrt(-2 * mass * v0) / HBARC
        a, _ = effective_range(SquareWell(v0, b), mass=mass)
        assert float(a) == pytest.approx(b - np.tan(K0 * b) / K0, rel=1e-8)
        assert (a > 0) == (K0 * b > np.pi / 2)


def test_coulomb_modified_effective_range_function_is_analytic_in_k2():
    # pp-like: Z1 Z2 = 1 with a square well. K_C(k) = C0^2 k cot(delta) + 2 k eta h(eta) with h using
    # ln(eta) is a smooth function of k^2: a cubic in k^2 through 4 points predicts 4 others to 1e-9.
    # With ln(eta^2) (the pitfall of REFERENCES.md) the function carries 2 k_C ln(eta), non-analytic in
    # k^2, and the same prediction misses by orders of magnitude more.
    mass = M_PROTON / 2
    pot = SquareWell(-30.0, 2.0)
    # 4 fit momenta, then 28 to predict (32 in all: the batch shape of test_radial.py, no recompilation)
    k = np.concatenate([[0.0125, 0.025, 0.0375, 0.05], np.linspace(0.013, 0.049, 28)])
    K = np.asarray(jax.vmap(lambda k: effective_range_function(pot, k, mass=mass, coulomb=1.0))(k))
    kc = float(coulomb_momentum(mass, 1.0))
    wrong = K - 2 * kc * np.log(kc / k)  # h with -ln(eta^2) instead of -ln(eta)

    def misfit(values):
        c = np.polyfit(k[:4] ** 2, values[:4], 3)
        return np.max(np.abs(np.polyval(c, k[4:] ** 2) - values[4:]))

    assert misfit(K) < 1e-9
    assert misfit(wrong) > 1e3 * misfit(K)
    # and the function is what the docstring says, from the phase shift itself
    delta = np.asarray(jax.vmap(lambda k: phase_shift(pot, k, mass=mass, coulomb=1.0))(k))
    eta = kc / k
    expected = gamow_factor(eta) * k / np.tan(delta) + 2 * k * eta * coulomb_h(eta)
    np.testing.assert_allclose(K, expected, rtol=1e-12)
    a_c, r_c = effective_range(pot, mass=mass, coulomb=1.0)
    # a_C = 327 fm (near threshold): effective_range integrates to 1e-12, K above to 1e-10
    assert float(a_c) == pytest.approx(-1 / np.polyfit(k[:4] ** 2, K[:4], 3)[-1], rel=1e-7)

"""Coulomb wave functions, Coulomb phase, Gamow factor and h(eta) against mpmath."""

import mpmath as mp
import numpy as np
import pytest

from dphys.scattering import (
    coulomb_functions,
    coulomb_h,
    coulomb_normalization,
    coulomb_phase,
    gamow_factor,
    turning_point,
)

ETAS = np.array([-5.0, -0.5, -0.05, 0.0, 1e-3, 0.05, 0.5, 2.0, 5.0])
RHOS = np.geomspace(1e-3, 50.0, 12)
LS = (0, 1, 5)


def _reference(l, eta, rho):
    """mpmath F, G and, by the recurrence (l+1) u_l' = ((l+1)^2/rho + eta) u_l - sqrt((l+1)^2 + eta^2) u_{l+1}
    (Abramowitz-Stegun 14.2.2), their derivatives."""
    with mp.workdps(25):
        f, g, f1, g1 = (mp.coulombf(l, eta, rho), mp.coulombg(l, eta, rho),
                        mp.coulombf(l + 1, eta, rho), mp.coulombg(l + 1, eta, rho))
        s, w = ((l + 1) ** 2 / mp.mpf(rho) + eta), mp.sqrt((l + 1) ** 2 + mp.mpf(eta) ** 2)
        df, dg = (s * f - w * f1) / (l + 1), (s * g - w * g1) / (l + 1)
        return [float(x) for x in (f, df, g, dg)]


@pytest.fixture(scope="module")
def grid():
    eta, rho = np.meshgrid(ETAS, RHOS, indexing="ij")
    out = {}
    for l in LS:
        got = coulomb_functions(l, eta, rho)
        ref = np.array([_reference(l, e, r) for e, r in zip(eta.ravel(), rho.ravel())]).reshape(eta.shape + (4,))
        out[l] = (eta, rho, np.stack([np.asarray(x) for x in got], axis=-1), ref)
    return out


@pytest.mark.parametrize("l", LS)
def test_coulomb_functions_match_mpmath_to_1e_8(grid, l):
    # Relative 1e-8 everywhere; beyond the turning point, where F and G oscillate and have zeros, an
    # absolute 1e-10 times the local amplitude sqrt(F^2 + G^2) (sqrt(F'^2 + G'^2) for derivatives) is
    # added so that a value at a zero is judged on the scale of the wave. Below the turning point F is
    # tiny and G huge, and both are checked relatively. Achieved: about 5e-12 relative at worst.
    eta, rho, got, ref = grid[l]
    beyond = rho >= np.asarray(turning_point(l, eta))
    values, slopes = np.hypot(ref[..., 0], ref[..., 2]), np.hypot(ref[..., 1], ref[..., 3])
    amp = np.stack([values, slopes, values, slopes], axis=-1)
    tol = 1e-8 * np.abs(ref) + np.where(beyond[..., None], 1e-10 * amp, 0.0)
    err = np.abs(got - ref)
    bad = np.argwhere(err > tol)
    assert bad.size == 0, [(eta[i, j], rho[i, j], "F dF G dG".split()[q], got[i, j, q], ref[i, j, q])
                           for i, j, q in bad[:5]]
    away = np.abs(ref) > 1e-3 * amp
    assert np.max(err[away] / np.abs(ref[away])) < 1e-10  # the accuracy actually reached


@pytest.mark.parametrize("l", LS)
def test_wronskian_is_one(grid, l):
    _, _, got, _ = grid[l]
    F, dF, G, dG = np.moveaxis(got, -1, 0)
    np.testing.assert_allclose(dF * G - F * dG, 1.0, rtol=0, atol=1e-10)


def test_neutral_limit_is_riccati_bessel():
    from scipy.special import spherical_jn, spherical_yn

    # the grid's shape: no recompilation
    rho = np.linspace(0.05, 30.0, ETAS.size * RHOS.size).reshape(ETAS.size, RHOS.size)
    for l in (0, 1, 3):
        F, dF, G, dG = coulomb_functions(l, np.zeros_like(rho), rho)
        np.testing.assert_allclose(F, rho * spherical_jn(l, rho), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(G, -rho * spherical_yn(l, rho), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(dF, spherical_jn(l, rho) + rho * spherical_jn(l, rho, derivative=True),
                                   rtol=1e-9, atol=1e-12)


def test_coulomb_phase_and_normalization_match_mpmath():
    eta = np.array([-5.0, -0.3, 0.0, 1e-4, 0.7, 5.0])
    for l in (0, 1, 4):
        ref = [float(mp.loggamma(l + 1 + 1j * e).imag) for e in eta]
        np.testing.assert_allclose(coulomb_phase(l, eta), ref, rtol=1e-13, atol=1e-14)
        # C_l = 2^l exp(-pi eta/2) |Gamma(l+1+i eta)| / (2l+1)!
        ref = [float(2**l * mp.exp(-mp.pi * e / 2) * abs(mp.gamma(l + 1 + 1j * e)) / mp.factorial(2 * l + 1))
               for e in eta]
        np.testing.assert_allclose(coulomb_normalization(l, eta), ref, rtol=1e-12)


def test_gamow_factor_and_its_small_eta_limit():
    eta = np.array([-2.0, -1e-9, 0.0, 1e-9, 0.3, 4.0])
    ref = [1.0 if e == 0 else 2 * np.pi * e / np.expm1(2 * np.pi * e) for e in eta]
    np.testing.assert_allclose(gamow_factor(eta), ref, rtol=1e-14)
    np.testing.assert_allclose(gamow_factor(eta), np.asarray(coulomb_normalization(0, eta)) ** 2, rtol=1e-13)


def test_h_is_the_series_with_log_eta_not_log_eta_squared():
    eta = np.array([0.05, 1.0, 20.0])
    with mp.workdps(40):
        ref = [float(e**2 * mp.nsum(lambda n: 1 / (n * (n**2 + e**2)), [1, mp.inf]) - mp.euler - mp.log(e))
               for e in eta]
    np.testing.assert_allclose(coulomb_h(eta), ref, rtol=1e-12, atol=1e-14)
    # large-eta asymptotics h ~ 1/(12 eta^2) + 1/(120 eta^4) (the ln eta^2 variant would grow like ln eta)
    np.testing.assert_allclose(coulomb_h(50.0), 1 / (12 * 50.0**2) + 1 / (120 * 50.0**4), rtol=1e-6)

"""Argonne v18 (dphys.scattering.av18): the contract used by dphys.femto, the operator algebra against
the channel functions of WSS95 Table I, the electromagnetic form factors against their closed forms,
the scattering lengths AV18 was fitted to, phase shifts against the Granada partial-wave analysis,
gradients against central finite differences, jit and vmap."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.constants import ALPHA, HBARC, M_NEUTRON, M_PROTON
from dphys.scattering import AV18, alpha_prime_ratio, pp_momentum
from dphys.scattering.av18 import MU_P

R = np.array([0.01, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0])


# --- the contract ---------------------------------------------------------------------------------


@pytest.mark.parametrize("wave, lsj", [("1S0", (0, 0, 0)), ("3P0", (1, 1, 0)), ("3P1", (1, 1, 1)),
                                       ("3P2", (1, 1, 2)), ("1D2", (2, 0, 2))])
def test_contract_quantum_numbers(wave, lsj):
    v = AV18(wave)
    assert (v.l, v.s, v.j) == lsj and all(type(q) is int for q in (v.l, v.s, v.j))
    assert v.pair == "pp" and v.t == 1
    out = v(R)
    assert out.shape == R.shape and np.all(np.isfinite(out))


@pytest.mark.parametrize("wave", ["3S1", "1P1", "2S0", "1s0", "3F2", ""])
def test_unknown_wave_for_pp(wave):
    with pytest.raises(ValueError, match=f"wave must be one of .* got {wave!r}"):
        AV18(wave)


def test_bad_arguments():
    with pytest.raises(ValueError, match="pair must be one of .* got 'pn'"):
        AV18("1S0", "pn")
    with pytest.raises(ValueError, match="unknown parameter"):
        AV18("1S0", c12=(1.0, 2.0))
    with pytest.raises(ValueError, match=r"t11 must have shape \(3,\)"):
        AV18("1S0", t11=(1.0, 2.0))
    with pytest.raises(ValueError, match="vacuum_polarization is for the pp pair only"):
        AV18("1S0", "np", vacuum_polarization=True)
    with pytest.raises(ValueError, match="not a tensor-coupled wave"):
        AV18("3P1").coupled(R)


def test_no_point_coulomb_in_v():
    """The EM part of V is the remainder beyond the point Coulomb: at 10-20 fm it is the two-photon term
    alone, -alpha^2 (hbar c)^2 / (m_p r^2), a fraction alpha hbar c / (m_p r) < 1e-3 of alpha hbar c / r;
    the strong part decays like one-pion exchange, below 1e-6 MeV at 20 fm."""
    r = np.array([10.0, 15.0, 20.0])
    em = np.asarray(AV18("1S0")(r) - AV18("1S0", em=False)(r))
    np.testing.assert_allclose(em, -((ALPHA * HBARC / r) ** 2) / M_PROTON, rtol=1e-6)
    assert np.all(np.abs(em) < 1e-3 * ALPHA * HBARC / r)
    assert abs(float(AV18("1S0", em=False)(20.0))) < 1e-6


# --- operator algebra ---------------------------------------------------------------------------


def _s12(l, s, j):
    if s == 0:
        return 0.0
    if l == j:
        return 2.0
    return -2.0 * (j + 2) / (2 * j + 1) if l == j + 1 else -2.0 * (j - 1) / (2 * j + 1)


@pytest.mark.parametrize("pair", ["pp", "np", "nn"])
def test_operator_projection_gives_the_channel_functions(pair):
    """The 18-operator form (eigenvalues of sigma.sigma, tau.tau, T12, tau_z1 + tau_z2, S12, L.S, L^2,
    (L.S)^2) projected on (S, T, pair) equals the WSS95 channel functions evaluated directly, to rounding."""
    waves = ["1S0", "3P0", "3P1", "3P2", "1D2"] + (["3S1", "1P1", "3D2"] if pair == "np" else [])
    for wave in waves:
        v = AV18(wave, pair, em=False)
        ch = v.channels(R)
        l, s, j, t = v.l, v.s, v.j, v.t
        ls = (j * (j + 1) - l * (l + 1) - s * (s + 1)) / 2
        if (s, t) == (0, 1):
            direct = ch["c01" + pair] + l * (l + 1) * ch["l201"]
        elif (s, t) == (0, 0):
            direct = ch["c00"] + l * (l + 1) * ch["l200"]
        elif (s, t) == (1, 1):
            tensor = ch["t11np"] if pair == "np" else ch["t11pp"]
            direct = (ch["c11" + pair] + _s12(l, s, j) * tensor + ls * ch["ls11"] + l * (l + 1) * ch["l211"]
                      + ls**2 * ch["ls211"])
        else:
            direct = (ch["c10"] + _s12(l, s, j) * ch["t10"] + ls * ch["ls10"] + l * (l + 1) * ch["l210"]
                      + ls**2 * ch["ls210"])
        np.testing.assert_allclose(np.asarray(v(R)), np.asarray(direct), rtol=1e-12, atol=1e-9, err_msg=wave)


def test_coupled_matrix():
    """3P2-3F2: the diagonal 3P2 element is V, the tensor couples with 6 sqrt(J(J+1))/(2J+1) v_t, and the
    3F2 element is the L = 3 projection."""
    v = AV18("3P2", em=False)
    m = np.asarray(v.coupled(R))
    ch = v.channels(R)
    np.testing.assert_allclose(m[:, 0, 0], np.asarray(v(R)), rtol=1e-13)
    np.testing.assert_allclose(m[:, 0, 1], 6 * math.sqrt(6) / 5 * np.asarray(ch["t11pp"]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m[:, 1, 0], m[:, 0, 1])
    f2 = ch["c11pp"] - 2 * 4 / 5 * ch["t11pp"] - 4 * ch["ls11"] + 12 * ch["l211"] + 16 * ch["ls211"]
    np.testing.assert_allclose(m[:, 1, 1], np.asarray(f2), rtol=1e-12, atol=1e-9)


def test_em_form_factors_match_their_closed_forms():
    """The incomplete-gamma forms of F_C, F_t/r^3, F_ls/r^3 (stable at small r) equal WSS95's
    closed forms where those do not cancel; the pp EM terms (S = 1: sigma.sigma, tensor and L.S of the
    magnetic moments) are the differences em=True minus em=False."""
    r = np.array([0.3, 0.6, 1.0, 2.0, 4.0])
    x = 4.27 * r
    e = np.exp(-x)
    fc = 1 - (1 + 11 * x / 16 + 3 * x**2 / 16 + x**3 / 48) * e
    ft = 1 - (1 + x + x**2 / 2 + x**3 / 6 + x**4 / 24 + x**5 / 144) * e
    fls = 1 - (1 + x + x**2 / 2 + 7 * x**3 / 48 + x**4 / 48) * e
    fdelta = 4.27**3 * (1 + x + x**2 / 3) * e / 16
    ahc3 = ALPHA * HBARC**3
    c1 = ALPHA * HBARC * fc / r
    central = ALPHA * HBARC * (fc - 1) / r - c1**2 / M_PROTON - ahc3 * fdelta / (4 * M_PROTON**2)
    sigma = -ahc3 * MU_P**2 * fdelta / (6 * M_PROTON**2)
    tensor = -ahc3 * MU_P**2 * ft / r**3 / (4 * M_PROTON**2)
    spin_orbit = -ahc3 * (4 * MU_P - 1) * fls / r**3 / (2 * M_PROTON**2)
    for wave, s12, ls, ss in [("1S0", 0, 0, -3), ("3P0", -4, -2, 1), ("3P1", 2, -1, 1), ("3P2", -0.4, 1, 1)]:
        diff = np.asarray(AV18(wave)(r) - AV18(wave, em=False)(r))
        np.testing.assert_allclose(diff, central + ss * sigma + s12 * tensor + ls * spin_orbit, rtol=1e-11)


def test_vacuum_polarization_against_quadrature():
    """The Uehling potential's fixed Gauss-Legendre rule against scipy.integrate.quad."""
    from scipy.integrate import quad

    r = np.array([1e-3, 0.1, 1.0, 10.0, 100.0, 400.0])
    v = AV18("1S0", em=False, strong=False, vacuum_polarization=True)
    ours = np.asarray(v(r))
    eps = 2 * 0.510999 * r / HBARC
    ref = [2 * ALPHA / (3 * math.pi) * ALPHA * HBARC / ri
           * quad(lambda x: math.exp(-e * x) * (1 + 0.5 / x**2) * math.sqrt(x * x - 1) / x**2, 1, np.inf,
                  epsabs=0, epsrel=1e-12, limit=500)[0] for ri, e in zip(r, eps)]
    np.testing.assert_allclose(ours, ref, rtol=1e-9)


def test_kinematics():
    """k^2 = m_p T_lab / 2 equals the relativistic s/4 - m_p^2 for equal masses; alpha' = 2 k alpha /
    (m_p v_lab) with the lab velocity from the same s."""
    t_lab = np.array([1.0, 50.0, 250.0])
    s = 4 * M_PROTON**2 + 2 * M_PROTON * t_lab
    # s/4 - m_p^2 cancels ~4 digits at 1 MeV
    np.testing.assert_allclose(np.asarray(pp_momentum(t_lab)) * HBARC, np.sqrt(s / 4 - M_PROTON**2), rtol=1e-11)
    e_lab = M_PROTON + t_lab
    v_lab = np.sqrt(e_lab**2 - M_PROTON**2) / e_lab
    k_mev = np.sqrt(s / 4 - M_PROTON**2)
    np.testing.assert_allclose(np.asarray(alpha_prime_ratio(k_mev / HBARC)), 2 * k_mev / (M_PROTON * v_lab),
                               rtol=1e-11)

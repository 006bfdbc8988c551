"""Several interacting partial waves per spin channel (PartialWave, pp_kernel_waves): the upward
recurrence for F_l against mpmath, the triplet's 3P_J fractions (equal potentials in 3P0, 3P1,
3P2 give the single-p-wave kernel), a d-wave potential against a kernel assembled by hand from
scattering.wavefunction and mpmath's F_2, the gradient with respect to a p-wave potential's
parameters (these three compile several radial solvers: slow), and the checks of wave names."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from dphys.constants import M_PROTON
from dphys.femto import correlation as C
from dphys.femto.sources import GaussianSource
from dphys.scattering import GaussianSum, ReidSoftCore1S0
from dphys.scattering.radial import coulomb_momentum, wavefunction
from tests.helpers import check_grad

MU = M_PROTON / 2
K = np.array([0.05, 0.3, 0.9])
GRID = C.radial_quadrature(40.0)


def _well(v0=-30.0, b=1.2):
    return GaussianSum(jnp.array([v0]), jnp.array([b]))


def test_upward_recurrence_against_mpmath():
    eta, rho = np.array([[1.7], [0.02], [0.3]]), np.array([[0.4, 3.0, 12.0]])
    mp.mp.dps = 30
    ref = [np.array([[float(mp.coulombf(l, e, r)) for r in rho[0]] for e in eta[:, 0]]) for l in range(5)]
    free = C._free_waves(jnp.asarray(eta), jnp.asarray(rho), jnp.asarray(ref[0]), jnp.asarray(ref[1]), 4)
    for l in range(2, 5):
        # the upward recurrence loses ~ (l!/rho^l)^2 eps relative: 1e-14 for l <= 2, 1e-9 at l = 4, rho = 0.4
        np.testing.assert_allclose(free[l], ref[l], rtol=1e-13 if l <= 2 else 1e-8, atol=1e-300)


@pytest.mark.slow
def test_triplet_fractions_sum_to_the_single_p_wave():
    v = _well()
    waves = C.pp_kernel_waves(K, {"1S0": ReidSoftCore1S0(), "3P0": v, "3P1": v, "3P2": v}, grid=GRID)
    single = C.pp_kernel(K, ReidSoftCore1S0(), triplet_potential=v, grid=GRID)
    np.testing.assert_allclose(waves.values, single.values, rtol=1e-12, atol=1e-12)
    # one 3P wave alone moves the kernel by its fraction (2J+1)/9 of the full p-wave change
    only = C.pp_kernel_waves(K, {"1S0": ReidSoftCore1S0(), "3P2": v}, grid=GRID)
    none = C.pp_kernel(K, ReidSoftCore1S0(), grid=GRID)
    np.testing.assert_allclose(only.values - none.values, 5 / 9 * (single.values - none.values), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.slow
def test_d_wave_against_hand_assembled_kernel():
    v = _well(-50.0, 1.0)
    k, r = np.array([0.4, 1.0]), GRID[0]
    kernel = C.pp_kernel_waves(k, {"1D2": v}, grid=GRID)
    free = C.pp_kernel_waves(k, {"1S0": GaussianSum(jnp.array([0.0]), jnp.array([1.0]))}, grid=GRID)
    kc = float(coulomb_momentum(MU, 1.0))
    sel = slice(0, None, 17)
    mp.mp.dps = 20
    for i, kk in enumerate(k):
        u = np.asarray(wavefunction(v, kk, r, mass=MU, l=2, coulomb=1.0))[sel]
        f2 = np.array([float(mp.coulombf(2, kc / kk, kk * x)) for x in r[sel]])
        # singlet weight 1/4, symmetrisation factor 2, (2l+1) = 5
        expect = np.asarray(free.values)[i, sel] + 0.25 * 2 * 5 * (u**2 - f2**2) / (kk * r[sel]) ** 2
        np.testing.assert_allclose(np.asarray(kernel.values)[i, sel], expect, rtol=1e-8, atol=1e-10)


@pytest.mark.slow
def test_gradient_with_respect_to_a_p_wave_potential():
    k = np.array([0.3, 0.8])
    n_l = C.n_partial_waves(k, float(GRID[0].max()), mass=MU, coulomb=1.0)

    def c_sum(p):
        v = GaussianSum(p["v0"][None], p["b"][None])
        ker = C.pp_kernel_waves(k, {"3P0": v, "3P1": v}, grid=GRID, n_l=n_l)
        return jnp.sum(C.fold(GaussianSource(1.2), ker))

    check_grad(jax.jit(c_sum), {"v0": -40.0, "b": 1.1}, eps=1e-5, rtol=1e-5)


@pytest.mark.parametrize("wave, match", [("2P1", "named"), ("3S1", "forbidden"), ("1P1", "forbidden"),
                                         ("3P3", "not allowed"), ("1S", "named")])
def test_bad_wave_names(wave, match):
    with pytest.raises(ValueError, match=match):
        C.pp_kernel_waves(K, {wave: _well()}, grid=GRID)


def test_bad_partial_waves():
    with pytest.raises(ValueError, match="weight"):
        C.PartialWave(1, _well(), 0.0)
    with pytest.raises(ValueError, match="not allowed"):
        C.SpinChannel(0.25, parity=1, waves=(C.PartialWave(1, _well()),))
    with pytest.raises(ValueError, match="sum to"):
        C.SpinChannel(0.75, parity=-1, waves=(C.PartialWave(1, _well(), 0.6), C.PartialWave(1, _well(), 0.6)))
    with pytest.raises(ValueError, match="not both"):
        C.SpinChannel(0.75, _well(), parity=-1, waves=(C.PartialWave(1, _well()),))
    with pytest.raises(ValueError, match="l <= 4"):
        C.pair_kernel(K, mass=MU, channels=[C.SpinChannel(1.0, waves=(C.PartialWave(5, _well()),))], grid=GRID)

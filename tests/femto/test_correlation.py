"""Koonin-Pratt correlation functions against exact results:

- free pairs: C = 1 exactly (distinguishable) and C = 1 -/+ exp(-4k^2R^2)/2 ... for identical ones;
- the Coulomb partial-wave sums against mpmath's F_l, and Coulomb-only C(k) (distinguishable and pp
  with symmetrisation) against an independent calculation that uses no partial waves: the angle
  average of the full Coulomb wave A_c |1F1(-i eta, 1, i(kr - k.r))|^2 (mpmath) on a Gauss-Legendre
  grid, within 1e-8; the point-source (Gamow) and large-source (C -> 1) limits;
- convergence of the partial-wave sum (criterion of n_partial_waves) and of the radial quadrature;
- gradients with respect to source and potential parameters against central finite differences.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from dphys.constants import M_PROTON
from dphys.femto import correlation as C
from dphys.femto.sources import CauchySource, CoreTailSource, GaussianSource, NeuralSource
from dphys.scattering import GaussianSum, ReidSoftCore1S0, gamow_factor
from dphys.scattering.radial import coulomb_momentum
from tests.helpers import check_grad

MU = M_PROTON / 2
PP_FREE = [C.SpinChannel(0.25, None, parity=1), C.SpinChannel(0.75, None, parity=-1)]


def test_free_distinguishable_pair_is_exactly_one():
    k = np.array([0.01, 0.1, 0.5, 1.5])
    kernel = C.pair_kernel(k, mass=MU, channels=[C.SpinChannel(0.5), C.SpinChannel(0.5)])
    np.testing.assert_allclose(kernel.values, 1.0, atol=1e-13)
    np.testing.assert_allclose(C.fold(CauchySource(1.0), kernel), 1.0, atol=1e-13)


@pytest.mark.parametrize("R", [0.8, 1.2, 3.0])
def test_free_identical_pairs_closed_form(R):
    # |psi(r) +/- psi(-r)|^2/2 averaged over a Gaussian source: 1 +/- exp(-4 k^2 R^2); spin-1/2
    # fermions: 1/4 (1 + e) + 3/4 (1 - e) = 1 - e/2
    k = np.linspace(0.01, 1.5, 12)
    e = np.exp(-4 * k**2 * R**2)
    fermions = C.fold(GaussianSource(R), C.pair_kernel(k, mass=MU, channels=PP_FREE, identical="fermions"))
    bosons = C.fold(GaussianSource(R), C.pair_kernel(k, mass=MU, channels=[C.SpinChannel(1.0, None, 1)],
                                                     identical="bosons"))
    np.testing.assert_allclose(fermions, 1 - e / 2, atol=1e-10)
    np.testing.assert_allclose(bosons, 1 + e, atol=1e-10)


@pytest.mark.parametrize("eta, rho", [(1.7, 0.05), (0.2, 40.0), (5.0, 9.0), (0.0115, 150.0), (-1.0, 5.0)])
def test_coulomb_partial_wave_sums_against_mpmath(eta, rho):
    n_l = C.n_partial_waves([rho], 1.0)
    f0, f1, even, odd = (float(x) for x in C.coulomb_partial_wave_sums(eta, rho, n_l))
    mp.mp.dps = 30
    fl = [mp.coulombf(l, eta, rho) for l in range(n_l + 30)]
    ref_even = float(sum((2 * l + 1) * fl[l] ** 2 for l in range(0, len(fl), 2)))
    ref_odd = float(sum((2 * l + 1) * fl[l] ** 2 for l in range(1, len(fl), 2)))
    np.testing.assert_allclose([f0, f1, even, odd], [float(fl[0]), float(fl[1]), ref_even, ref_odd], rtol=1e-12)


def coulomb_reference(k, R, n_r=40, n_x=24):
    """C(k) of a Coulomb-only pair, distinguishable and pp-like (spin-averaged fermions), for a
    Gaussian source, from the full Coulomb wave psi = e^{ik.r} Gamma(1+i eta) e^{-pi eta/2}
    1F1(-i eta, 1, i x), x = kr - k.r, without partial waves: the angle average is
    (1/2 rho) int_0^{2 rho} dx, and psi(-r) has x' = 2 rho - x, so that
    |psi(r) +/- psi(-r)|^2/2 averages to A_c (1/2rho) int [|M(x)|^2 +/- Re e^{2i(rho-x)} M(x) M*(2rho-x)]."""
    eta = float(coulomb_momentum(MU, 1.0)) / k
    ac = 2 * np.pi * eta / np.expm1(2 * np.pi * eta)
    xr, wr = np.polynomial.legendre.leggauss(n_r)
    r, wr = (xr + 1) * 5 * R, wr * 5 * R  # [0, 10 R]
    xg, wg = np.polynomial.legendre.leggauss(n_x)
    distinguishable = identical = 0.0
    for ri, wi in zip(r, wr):
        rho = k * ri
        x, wx = (xg + 1) * rho, wg * rho
        m = np.array([complex(mp.hyp1f1(-1j * eta, 1, 1j * xx)) for xx in x])
        average = np.sum(wx * np.abs(m) ** 2) / (2 * rho)
        exchange = np.sum(wx * np.real(np.exp(2j * (rho - x)) * m * np.conj(m[::-1]))) / (2 * rho)
        weight = 4 * np.pi * ri**2 * wi * (4 * np.pi * R**2) ** -1.5 * np.exp(-(ri**2) / (4 * R**2))
        distinguishable += weight * average
        identical += weight * (average - exchange / 2)
    return ac * distinguishable, ac * identical


@pytest.mark.parametrize("R", [1.0, pytest.param(0.05, marks=pytest.mark.slow)])
def test_coulomb_only_against_full_coulomb_wave(R):
    mp.mp.dps = 20
    k = np.array([0.05, 0.15, 0.4])
    grid = C.radial_quadrature(r_max=12 * R, width0=0.05 * R, max_width=R)
    dist = C.fold(GaussianSource(R), C.pair_kernel(k, mass=MU, channels=[C.SpinChannel(1.0)], coulomb=1.0, grid=grid))
    pp = C.fold(GaussianSource(R), C.pair_kernel(k, mass=MU, channels=PP_FREE, coulomb=1.0, identical=True, grid=grid))
    refs = np.array([coulomb_reference(kk, R) for kk in k])
    np.testing.assert_allclose(dist, refs[:, 0], rtol=1e-8)
    np.testing.assert_allclose(pp, refs[:, 1], rtol=1e-8)


@pytest.mark.slow
def test_coulomb_point_source_gives_gamow_factor_and_large_source_gives_one():
    k = np.array([0.05, 0.15, 0.4])
    eta = float(coulomb_momentum(MU, 1.0)) / k
    small, large = [], []
    for R in (0.04, 0.02, 0.01):
        grid = C.radial_quadrature(r_max=12 * R, width0=0.05 * R, max_width=R)
        ker = C.pair_kernel(k, mass=MU, channels=[C.SpinChannel(1.0)], coulomb=1.0, grid=grid)
        small.append(np.abs(np.asarray(C.fold(GaussianSource(R), ker)) / gamow_factor(eta) - 1))
    # |psi_C(r)|^2 / A_c = 1 + O(k_C r): the deviation halves with R
    assert np.all(small[-1] < 1e-3)
    np.testing.assert_allclose(small[0] / small[1], 2.0, rtol=0.02)
    np.testing.assert_allclose(small[1] / small[2], 2.0, rtol=0.02)
    for R in (2.0, 8.0, 32.0):
        grid = C.radial_quadrature(r_max=12 * R, width0=0.05 * R, max_width=min(6.0, R))
        ker = C.pair_kernel(k, mass=MU, channels=[C.SpinChannel(1.0)], coulomb=1.0, grid=grid)
        large.append(np.abs(np.asarray(C.fold(GaussianSource(R), ker)) - 1))
    assert np.all(np.diff(np.array(large), axis=0) < 0) and np.all(large[-1] < 0.15) and large[-1][-1] < 3e-3


@pytest.fixture(scope="module")
def pp_reid():
    k = np.array([0.02, 0.1, 0.3, 0.8, 1.5])
    return k, C.pp_kernel(k, ReidSoftCore1S0())


def test_partial_wave_sums_converged():
    # the criterion L = rho_e + 8 rho_e^(1/3) + 16 of n_partial_waves: raising L by 60 changes the
    # Coulomb sums by rounding only, halving it changes them visibly (so the check can fail)
    k = np.linspace(0.01, 1.5, 12)[:, None]
    r, _ = C.radial_quadrature()
    eta, rho = float(coulomb_momentum(MU, 1.0)) / k, k * r
    n_l = C.n_partial_waves(k, r[-1], mass=MU, coulomb=1.0)
    sums = jax.jit(C.coulomb_partial_wave_sums, static_argnums=2)
    base = np.array(sums(eta, rho, n_l)[2:]) / rho**2
    more = np.array(sums(eta, rho, n_l + 60)[2:]) / rho**2
    fewer = np.array(sums(eta, rho, n_l // 2)[2:]) / rho**2
    np.testing.assert_allclose(more, base, rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(fewer - base)) > 1e-2


@pytest.mark.slow
def test_partial_wave_sum_converged_in_the_pp_kernel(pp_reid):
    k, kernel = pp_reid
    n_l = C.n_partial_waves(k, float(kernel.r[-1]), mass=MU, coulomb=1.0)
    more = C.pp_kernel(k, ReidSoftCore1S0(), n_l=n_l + 60)
    # the criterion L = rho + 8 rho^(1/3) + 16 leaves the kernel unchanged to rounding when L grows
    np.testing.assert_allclose(more.values, kernel.values, rtol=1e-12, atol=1e-13)
    fewer = C.pp_kernel(k, ReidSoftCore1S0(), n_l=n_l // 2)
    assert np.max(np.abs(fewer.values - kernel.values)) > 1e-3  # the test can fail: too few waves show


@pytest.mark.slow
@pytest.mark.parametrize("source", [GaussianSource(1.2), CoreTailSource(1.0, 4.0, 0.3)], ids=["gauss", "tail"])
def test_quadrature_converged(pp_reid, source):
    k, kernel = pp_reid
    fine = C.pp_kernel(k, ReidSoftCore1S0(), grid=C.radial_quadrature(120.0, nodes=20, width0=0.4, max_width=3.0))
    np.testing.assert_allclose(C.fold(source, fine), C.fold(source, kernel), rtol=1e-8)


def test_pp_reid_shape(pp_reid):
    # the pp correlation: Coulomb hole at small k, the 1S0 peak near k ~ 0.1 fm^-1 (20 MeV/c), C -> 1
    k, kernel = pp_reid
    c = np.asarray(C.fold(GaussianSource(1.2), kernel))
    assert c[0] < 0.3 and c[1] > 2.5 and abs(c[-1] - 1) < 0.02


def test_fold_vmaps_over_sources(pp_reid):
    k, kernel = pp_reid
    radii = jnp.array([0.9, 1.2, 1.6])
    batched = jax.vmap(lambda R: C.fold(GaussianSource(R), kernel))(radii)
    for i, R in enumerate(radii):
        np.testing.assert_allclose(batched[i], C.fold(GaussianSource(float(R)), kernel), rtol=1e-14)


def test_gradient_wrt_source_and_potential():
    # a chi^2-like scalar of C(k) for a neutral pair with a two-Gaussian potential (c in GeV, so
    # that one finite-difference step suits all parameters): reverse mode through the kernel
    k = np.array([0.05, 0.15, 0.4])
    grid = C.radial_quadrature(30.0)

    def loss(p):
        pot = GaussianSum(c=1000.0 * p["c"], d=p["d"])
        kernel = C.pair_kernel(k, mass=MU, channels=[C.SpinChannel(1.0, pot)], grid=grid)
        return jnp.sum((C.fold(GaussianSource(p["R"]), kernel) - 1.5) ** 2)

    params = {"c": np.array([0.2, -0.08]), "d": np.array([0.4, 1.1]), "R": np.array(1.2)}
    check_grad(jax.jit(loss), params, eps=1e-5, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_gradient_of_pp_wrt_source_and_potential():
    # the same for pp (Coulomb, antisymmetrisation, spin weights)
    k = np.array([0.05, 0.15, 0.4])
    grid = C.radial_quadrature(40.0)

    def loss(p):
        pot = GaussianSum(c=1000.0 * p["c"], d=p["d"])
        kernel = C.pp_kernel(k, pot, grid=grid)
        return jnp.sum((C.fold(GaussianSource(p["R"]), kernel) - 1.5) ** 2)

    params = {"c": np.array([0.2, -0.08]), "d": np.array([0.4, 1.1]), "R": np.array(1.2)}
    check_grad(jax.jit(loss), params, eps=1e-5, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_gradient_wrt_neural_source(pp_reid):
    k, kernel = pp_reid
    source = NeuralSource(jax.random.PRNGKey(0), width=4, depth=1)
    params, static = eqx.partition(source, eqx.is_array)
    loss = jax.jit(lambda p: jnp.sum(C.fold(eqx.combine(p, static), kernel) ** 2))
    check_grad(loss, params, eps=1e-6, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kwargs, match", [
    (dict(k=[0.1, -0.2]), "k must"), (dict(mass=0.0), "mass"),
    (dict(channels=[C.SpinChannel(0.5)]), "sum to 1"),
    (dict(channels=[C.SpinChannel(1.0)], identical=True), "parity"),
    (dict(channels=[C.SpinChannel(1.0, None, 1)]), "distinguishable"),
    (dict(k=[0.001, 0.1], coulomb=1.0), "k must be >="),
    (dict(identical="maybe"), "identical"),
])
def test_bad_input_raises(kwargs, match):
    args = dict(k=[0.1, 0.2], mass=MU, channels=[C.SpinChannel(1.0)])
    args.update(kwargs)
    k = args.pop("k")
    with pytest.raises(ValueError, match=match):
        C.pair_kernel(k, **args)


def test_spin_channel_bad_input():
    with pytest.raises(ValueError, match="weight"):
        C.SpinChannel(1.5)
    with pytest.raises(ValueError, match="parity"):
        C.SpinChannel(0.5, None, parity=2)
    with pytest.raises(ValueError, match="l = 2"):
        C.SpinChannel(0.5, None, parity=-1, l=2)

"""The correlation decomposition (dphys.femto.decomposition), each piece against an independent
computation: the identity resolution leaves C unchanged, matrices built from pair counts keep C = 1
flat and conserve pairs, the feed-down transform equals the ratio of transformed same-event-like to
mixed-event-like pair numbers, bin averages integrate k^2-weighted polynomials exactly, the p-Lambda
Lednicky-Lyuboshitz term against a SciPy implementation, and the full model against a NumPy
implementation; jit/vmap; the gradient of the full real-data chi^2 against finite differences.
Tests on the real data skip where ../shared/data is absent."""

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import dawsn

from dphys.constants import HBARC
from dphys.femto import alice, correlation
from dphys.femto import decomposition as D
from dphys.femto.sources import GaussianSource
from dphys.scattering import ReidSoftCore1S0
from tests.helpers import check_grad

ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
FOLDER = alice.shared_data_dir(ROOT)
needs_data = pytest.mark.skipif(FOLDER is None, reason=f"the ALICE data folder {ROOT}/{alice.DATASET} is absent")
PREDICT = eqx.filter_jit(D.predict)  # one compilation shared by the tests below


def _counts(seed=0, n=30, m=40):
    rng = np.random.default_rng(seed)
    return rng.poisson(5.0, size=(n, m)).astype(float) + np.eye(n, m) * 50


def test_identity_resolution_leaves_C_unchanged():
    C = np.linspace(0.5, 2.0, 30)
    R = D.conditional_matrix(np.diag(np.arange(1.0, 31.0)), "y")
    np.testing.assert_allclose(R, np.eye(30))
    np.testing.assert_allclose(D.smear(C, R), C, rtol=1e-15)


def test_matrices_keep_flat_C_and_conserve_pairs():
    M = _counts()
    T = D.conditional_matrix(M, "y")  # (ny, nx): average over x given y
    np.testing.assert_allclose(T.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(D.feed_down(np.ones(M.shape[0]), T), 1.0, rtol=1e-14)
    P = D.conditional_matrix(M, "x")  # pair numbers from x to y
    parents = np.random.default_rng(1).uniform(1, 10, M.shape[0])
    np.testing.assert_allclose((P @ parents).sum(), parents.sum(), rtol=1e-13)


def test_feed_down_is_ratio_of_transferred_pair_numbers():
    # independent: move same-event (N_ME * C) and mixed-event (N_ME) pair numbers with P(y|x) and divide
    M = _counts(2)
    C_parent = 1 + np.exp(-np.arange(M.shape[0]) / 5.0)
    n_me = M.sum(axis=1)  # the pairs of each parent bin
    P = M / M.sum(axis=1, keepdims=True)
    ratio = ((n_me * C_parent) @ P) / (n_me @ P)
    np.testing.assert_allclose(D.feed_down(C_parent, D.conditional_matrix(M, "y")), ratio, rtol=1e-13)


@needs_data
def test_real_decay_matrix_conserves_pairs_and_keeps_flat():
    pp = alice.load_pp13(FOLDER)
    M = pp.decay_pL.counts
    P = D.conditional_matrix(M, "x")
    filled = M.sum(axis=1) > 0
    parents = np.where(filled, 1.0, 0.0)
    np.testing.assert_allclose((P @ parents).sum(), filled.sum(), rtol=1e-12)
    T = D.conditional_matrix(M, "y")
    filled_y = M.sum(axis=0) > 0
    np.testing.assert_allclose((T @ np.ones(M.shape[0]))[filled_y], 1.0, rtol=1e-12)


def test_bin_points_average_exact_for_polynomials():
    edges = np.array([0.0, 4.0, 8.0, 20.0])
    k, A = D.bin_points(edges, 3)
    kmev = k * HBARC
    f = kmev**3 - 2 * kmev  # with weight k^2: degree 5, exact with 3 Gauss-Legendre nodes
    lo, hi = edges[:-1], edges[1:]
    exact = ((hi**6 - lo**6) / 6 - 2 * (hi**4 - lo**4) / 4) / ((hi**3 - lo**3) / 3)
    np.testing.assert_allclose(D.bin_average(f, A), exact, rtol=1e-12)
    k1, A1 = D.bin_points(edges, 1)
    np.testing.assert_allclose(k1 * HBARC, [2, 6, 14])
    with pytest.raises(ValueError, match="n_sub"):
        D.bin_points(edges, 0)


def test_pl_correlation_against_scipy():
    k, R = np.linspace(0.02, 2.0, 25), 1.3
    total = np.zeros_like(k)
    for f0, d0, w in zip(*(D.CHIRAL_NLO_PL[x] for x in ("f0", "d0", "weight"))):
        f = 1 / (1 / f0 + d0 * k**2 / 2 - 1j * k)
        z = 2 * k * R
        total += w * (np.abs(f) ** 2 / (2 * R**2) * (1 - d0 / (2 * np.sqrt(np.pi) * R))
                      + 2 * f.real * dawsn(z) / z / (np.sqrt(np.pi) * R) - f.imag * (1 - np.exp(-z**2)) / z / R)
    np.testing.assert_allclose(D.pl_correlation(k, R), 1 + total, rtol=1e-12)
    # chiral NLO: attractive in both channels -> C > 1 at small k
    assert float(D.pl_correlation(np.array([0.05]), R)[0]) > 1.5


def _numpy_model(decomp, radius, norm, slope):
    K, W, r = (np.asarray(x) for x in (decomp.kernel.values, decomp.kernel.weights, decomp.kernel.r))
    S = (4 * np.pi * radius**2) ** -1.5 * np.exp(-r**2 / (4 * radius**2))
    c_pp = np.asarray(decomp.average) @ (1 + (K - 1) @ (W * S))
    kq = np.asarray(decomp.k_parent)
    c_pl = np.zeros_like(kq)
    f0s, d0s, ws = decomp.pl_params
    for f0, d0, w in zip(f0s, d0s, ws):
        f = 1 / (1 / f0 + d0 * kq**2 / 2 - 1j * kq)
        z = 2 * kq * radius
        c_pl += w * (np.abs(f) ** 2 / (2 * radius**2) * (1 - d0 / (2 * np.sqrt(np.pi) * radius))
                     + 2 * f.real * dawsn(z) / z / (np.sqrt(np.pi) * radius)
                     - f.imag * (1 - np.exp(-z**2)) / z / radius)
    c_pl = decomp.pl_genuine * (1 + c_pl) + 1 - decomp.pl_genuine
    gen, pl, flat = decomp.lam
    total = gen * c_pp + pl * (np.asarray(decomp.feed) @ c_pl) + flat
    kd = np.asarray(decomp.k_data_mev)
    return norm * (1 + slope * kd) * (np.asarray(decomp.resolution) @ total)


@pytest.fixture(scope="module")
def pp13_reid():
    """The real-data decomposition with the Reid 1S0 potential (a cheap fixed kernel)."""
    pp = alice.load_pp13(FOLDER)
    return pp, D.build_pp13(pp, {"1S0": ReidSoftCore1S0()})


@needs_data
def test_model_against_numpy_and_limits(pp13_reid):
    pp, dec = pp13_reid
    ref = _numpy_model(dec, 1.25, 1.02, -1e-4)
    np.testing.assert_allclose(PREDICT(dec, GaussianSource(1.25), 1.02, -1e-4), ref, rtol=1e-12)
    assert dec.lam == pytest.approx((0.748, 0.151, 0.101))
    # lambda_gen = 1, identity resolution, no baseline: C_pp itself at the bin centres
    keep = np.arange(len(pp.data(350.0)))
    ident = D.Decomposition(dec.kernel, dec.average, jnp.eye(dec.resolution.shape[1])[keep], dec.feed, dec.k_parent,
                            dec.k_data_mev, (1.0, 0.0, 0.0), 1.0, dec.pl_params)
    direct = correlation.fold(GaussianSource(1.25), dec.kernel)[keep]
    np.testing.assert_allclose(PREDICT(ident, GaussianSource(1.25), 1.0, 0.0), direct, rtol=1e-12)
    np.testing.assert_allclose(dec.kernel.k[keep] * HBARC, pp.data(350.0).k_mev, rtol=1e-12)


@needs_data
def test_jit_vmap_and_gradient_of_real_data_chi2(pp13_reid):
    pp, dec = pp13_reid
    data = pp.data(350.0)
    C, err = jnp.asarray(data.C), jnp.asarray(data.error)

    @jax.jit
    def chi2(p):
        pred = D.predict(dec, GaussianSource(p["radius"]), p["norm"], p["slope"])
        return jnp.sum(((pred - C) / err) ** 2)

    p0 = {"radius": 1.22, "norm": 1.05, "slope": -1.4e-4}
    check_grad(chi2, p0, eps=1e-7, rtol=1e-5)
    radii = jnp.array([1.1, 1.2, 1.3])
    batched = jax.jit(jax.vmap(lambda R: D.predict(dec, GaussianSource(R), 1.0)))(radii)
    for i, R in enumerate([1.1, 1.2, 1.3]):
        np.testing.assert_allclose(batched[i], PREDICT(dec, GaussianSource(R), 1.0, 0.0), rtol=1e-12)


@needs_data
def test_real_data_gaussian_fit_with_reid(pp13_reid):
    # Gaussian source, Reid 1S0 + Coulomb (no p waves), constant baseline, 0-350 MeV/c (88 bins,
    # statistical errors): the fit is deterministic; tolerances cover optimiser tolerance only.
    # (The AV18 s,p,d-wave fit, R = 1.1656(78) fm and chi2 = 131.3/86, is asserted in
    # tests/workflows/test_femto_source_real.py, slow: its kernel takes ~90 s to compile.)
    from dphys.femto.fitting import fit_least_squares

    pp, dec = pp13_reid
    data = pp.data(350.0)
    fit = fit_least_squares(lambda p: D.predict(dec, GaussianSource(p["radius"]), p["norm"]),
                            {"radius": 1.2, "norm": 1.0}, data)
    assert fit.ndf == 86
    assert abs(fit.params["radius"] - 1.1966) < 1e-3 and abs(fit.errors["radius"] - 0.0078) < 3e-4
    assert abs(fit.params["norm"] - 1.0172) < 3e-4
    assert abs(fit.chi2 - 296.7) < 0.5  # chi2/ndf = 3.45: without the p waves a flat baseline fails


def test_bad_input():
    with pytest.raises(ValueError, match="given"):
        D.conditional_matrix(np.ones((2, 2)), "z")
    with pytest.raises(ValueError, match=">= 0"):
        D.conditional_matrix(-np.ones((2, 2)), "x")


@needs_data
@pytest.mark.slow
def test_av18_fit_variants():
    # the numbers of the femto-source docstring and the issue-20 report (Gaussian source, 0-350 MeV/c,
    # AV18 1S0, 3P0-2, 1D2 + Coulomb; the kernel compiles for 40-90 s): deterministic fits, tolerances
    # of the optimiser only
    from dphys.femto.correlation import PP_WAVES
    from dphys.femto.fitting import fit_least_squares
    from dphys.scattering import AV18

    pp = alice.load_pp13(FOLDER)
    data = pp.data(350.0)
    pots = {w: AV18(w) for w in PP_WAVES}
    dec = D.build_pp13(pp, pots)

    def gauss(d, **extra):
        return fit_least_squares(lambda p: D.predict(d, GaussianSource(p["radius"]), p["norm"], p.get("slope", 0.0)),
                                 {"radius": 1.2, "norm": 1.0, **extra}, data)

    base = gauss(dec)
    assert abs(base.params["radius"] - 1.1656) < 1e-3 and abs(base.chi2 - 131.3) < 0.5
    linear = gauss(dec, slope=0.0)
    assert abs(linear.params["radius"] - 1.1728) < 1e-3 and abs(linear.chi2 - 127.6) < 0.5 and linear.ndf == 85
    swapped = gauss(D.build_pp13(pp, pots, resolution_true_axis="y"))  # same kernel: compiled once
    assert abs(swapped.chi2 - 129.4) < 0.5
    no_res = gauss(D.build_pp13(pp, pots, identity_resolution=True))
    assert abs(no_res.chi2 - 176.9) < 0.5

    def lam_free(p):
        c = dec.components(GaussianSource(p["radius"]), p["radius"])
        total = p["lg"] * c["pp"] + dec.lam[1] * c["pL"] + (1 - p["lg"] - dec.lam[1])
        return p["norm"] * D.smear(total, dec.resolution)

    free = fit_least_squares(lam_free, {"radius": 1.2, "norm": 1.0, "lg": 0.748}, data)
    assert abs(free.params["lg"] - 0.651) < 0.003 and abs(free.errors["lg"] - 0.021) < 0.002
    assert abs(free.params["radius"] - 1.086) < 0.003 and abs(free.chi2 - 115.2) < 0.5

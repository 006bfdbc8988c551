"""Synthetic R-correlators against exact results: the discretised kinetic spectrum, the box evolution
against a dense eigendecomposition and SciPy's expm_multiply, noise and jackknife, file I/O."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from dphys.constants import HBARC, M_OMEGA_LATTICE
from dphys.halqcd import (
    Correlator,
    GaussianKernel,
    add_noise,
    box_distances,
    jackknife_band,
    load_correlator,
    radial_hamiltonian,
    save_correlator,
    synthesize_box,
    synthesize_radial,
)
from dphys.halqcd.synthesis import second_derivative_coefficient
from dphys.scattering import GaussianSum

MU = M_OMEGA_LATTICE / 2
SHORT = GaussianSum(c=(300.0, -150.0), d=(0.2, 0.5))  # short range, fits the radial boxes
TINY = GaussianSum(c=(300.0, -150.0), d=(0.1, 0.2))  # fits the 1.8 fm periodic boxes


def test_free_radial_spectrum_is_the_finite_difference_one():
    h, n = 0.1, 60
    e = np.asarray(jnp.linalg.eigvalsh(radial_hamiltonian(None, mass=MU, spacing=h, sites=n, local=lambda r: 0 * r)))
    j = np.arange(1, n + 1)
    exact = HBARC**2 / (2 * MU * h**2) * (2 - 2 * np.cos(j * np.pi / (n + 1)))
    np.testing.assert_allclose(e, exact, rtol=1e-12)


def test_nonlocal_hamiltonian_is_symmetric_and_radial_sum_of_states():
    h = radial_hamiltonian(GaussianKernel(-100.0, 1.0, 0.5), mass=MU, spacing=0.1, sites=50)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    times = np.array([0.0, 0.3])
    corr = synthesize_radial(GaussianKernel(-100.0, 1.0, 0.5), mass=MU, spacing=0.1, sites=50, times=times,
                             n_states=3, overlaps=[1.0, 0.5, 0.25], relativistic=False)
    e, v = np.linalg.eigh(np.asarray(h))
    v = v[:, :3] / np.sqrt(0.1) * np.sign(v[:, :3].sum(0))
    r = 0.1 * np.arange(1, 51)
    expected = np.einsum("n,tn,in->ti", [1.0, 0.5, 0.25], np.exp(-np.outer(times, e[:3]) / HBARC), v) / r
    np.testing.assert_allclose(corr.R, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("relativistic", [False, True])
def test_box_evolution_matches_the_dense_eigendecomposition(relativistic):
    L, a = 6, 0.3
    times = np.array([0.0, 0.2, 0.5])
    src = np.exp(-box_distances(L, a) ** 2)
    corr = synthesize_box(TINY, mass=MU, spacing=a, sites=L, times=times, source=src, relativistic=relativistic)
    # dense H from the same stencil
    n = L**3
    idx = np.arange(n).reshape(L, L, L)
    lap = -6 * np.eye(n)
    for axis in range(3):
        for s in (1, -1):
            lap[idx.ravel(), np.roll(idx, s, axis).ravel()] += 1
    dist = box_distances(L, a).ravel()
    h = -HBARC**2 / (2 * MU * a**2) * lap + np.diag(np.asarray(TINY(np.where(dist == 0, 1e-6 * a, dist))))
    e, v = np.linalg.eigh(h)
    if relativistic:
        c = second_derivative_coefficient(MU)
        e = (np.sqrt(1 + 4 * c * e) - 1) / (2 * c)
    expected = np.einsum("in,tn,n->ti", v, np.exp(-np.outer(times, e) / HBARC), v.T @ src.ravel())
    np.testing.assert_allclose(np.asarray(corr.R).reshape(3, -1), expected, atol=1e-11 * np.abs(expected).max())
    if not relativistic:  # and against SciPy's Krylov expm_multiply on the sparse matrix
        ref = scipy.sparse.linalg.expm_multiply(-scipy.sparse.csr_matrix(h) * (0.5 / HBARC), src.ravel())
        np.testing.assert_allclose(np.asarray(corr.R[2]).ravel(), ref, atol=1e-10 * np.abs(ref).max())


def test_jackknife_of_a_linear_statistic_is_the_standard_error_of_the_mean():
    corr = synthesize_radial(SHORT, mass=MU, spacing=0.1, sites=40, times=[0.1, 0.2, 0.3], n_states=4)
    J = 12
    noisy = add_noise(corr, jax.random.PRNGKey(3), configs=J, noise=1e-2)
    jack = np.asarray(noisy.R)
    configs = jack.sum(0) - (J - 1) * jack  # invert the leave-one-out means
    mean, err = jackknife_band(jack[:, 1, 5])
    np.testing.assert_allclose(mean, configs[:, 1, 5].mean(), rtol=1e-12)
    np.testing.assert_allclose(err, configs[:, 1, 5].std(ddof=1) / np.sqrt(J), rtol=1e-9)
    # noise of relative size 1e-2 per configuration: the configurations scatter around the exact R
    z = (configs[:, 1, 5].mean() - float(corr.R[1, 5])) / err
    assert abs(z) < 4
    exact = add_noise(corr, jax.random.PRNGKey(3), configs=3, noise=0.0)
    np.testing.assert_allclose(exact.R, np.broadcast_to(corr.R, exact.R.shape), rtol=1e-13)


def test_save_and_load_round_trip(tmp_path):
    corr = synthesize_radial(SHORT, mass=MU, spacing=0.1, sites=30, times=[0.1, 0.2, 0.3], n_states=3)
    noisy = add_noise(corr, jax.random.PRNGKey(0), configs=4, noise=1e-3)
    save_correlator(tmp_path / "r.npz", noisy)
    back = load_correlator(tmp_path / "r.npz", mass=MU, jackknife=True)
    assert back.geometry == "radial" and back.jackknife and back.spacing == pytest.approx(0.1)
    np.testing.assert_array_equal(back.R, noisy.R)
    box = synthesize_box(TINY, mass=MU, spacing=0.3, sites=6, times=[0.1, 0.2, 0.3])
    save_correlator(tmp_path / "b.npz", box)
    back = load_correlator(tmp_path / "b.npz", mass=MU, jackknife=False)
    assert back.geometry == "box"
    np.testing.assert_array_equal(back.R, box.R)


def test_bad_input_is_named(tmp_path):
    t = [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match=r"mass \(the reduced mass\) must be a finite number > 0 \[MeV\], got -1"):
        synthesize_radial(SHORT, mass=-1.0, spacing=0.1, sites=30, times=t)
    with pytest.raises(ValueError, match=r"mass \(the reduced mass\) must be > 0 \[MeV\], got 0.0"):
        load_correlator(tmp_path / "x.npz", mass=0.0, jackknife=False)
    with pytest.raises(ValueError, match="mismatched r/t axes"):
        Correlator(jnp.ones((4, 30)), jnp.asarray(t), 0.1, "radial", MU)
    with pytest.raises(ValueError, match=r"overlaps must have shape \(3,\)"):
        synthesize_radial(SHORT, mass=MU, spacing=0.1, sites=30, times=t, n_states=3, overlaps=[1.0, 2.0])
    with pytest.warns(UserWarning, match="too small for the potential's range"):
        synthesize_box(GaussianSum(), mass=MU, spacing=0.2, sites=6, times=t)
    np.savez(tmp_path / "bad.npz", R=np.ones((3, 20)), t=np.asarray(t), r=0.1 * np.arange(1, 21))
    with pytest.raises(ValueError, match=r"mismatched r/t axes: t has shape \(3,\) but R has shape \(3, 20\)"):
        load_correlator(tmp_path / "bad.npz", mass=MU, jackknife=True)
    np.savez(tmp_path / "bad2.npz", R=np.ones((3, 20)), t=np.asarray(t), r=0.1 * np.arange(1, 22))
    with pytest.raises(ValueError, match="mismatched r/t axes: r has shape"):
        load_correlator(tmp_path / "bad2.npz", mass=MU, jackknife=False)


def test_noise_is_correlated_in_t_with_the_stated_coefficient():
    """corr(xi_t, xi_t+1) = rho at every site (AR(1) per mode), marginal noise unchanged; checked on
    4000 configurations within 4 standard errors of Fisher's z; rho = 0 gives independent slices."""
    corr = synthesize_radial(SHORT, mass=MU, spacing=0.1, sites=40, times=[0.1, 0.2, 0.3, 0.4], n_states=4)
    J = 4000
    for rho in (0.9, 0.0):
        jack = np.asarray(add_noise(corr, jax.random.PRNGKey(5), configs=J, noise=1e-2, time_correlation=rho).R)
        xi = (jack.sum(0) - (J - 1) * jack) / np.asarray(corr.R) - 1  # relative noise of each configuration
        for t in (0, 2):
            c = np.corrcoef(xi[:, t, 7], xi[:, t + 1, 7])[0, 1]
            assert abs(np.arctanh(c) - np.arctanh(rho)) < 4 / np.sqrt(J - 3)
        # the same marginal size at every slice (ratio of standard deviations, error ~ 1/sqrt(2 J) each)
        s = xi[:, :, 7].std(0)
        assert np.all(np.abs(s / s[0] - 1) < 4 * np.sqrt(1 / J))
    with pytest.raises(ValueError, match=r"time_correlation must lie in \[0, 1\), got 1.0"):
        add_noise(corr, jax.random.PRNGKey(0), configs=4, noise=1e-2, time_correlation=1.0)

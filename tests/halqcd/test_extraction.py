"""The leading-order extraction is exact for local potentials up to the O(a_t^2) (O(a_t^4)) of the
time differences; the neural residual is the dense one without the matrix and differentiable; the
unsupervised neural potentials recover the true potential and its scattering (the done criteria,
marked slow), where the LO extraction of a non-local potential does not."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.constants import M_NUCLEON, M_OMEGA_LATTICE
from dphys.halqcd import (
    Correlator,
    GaussianKernel,
    NeuralNonlocalPotential,
    NeuralPotential,
    TabulatedPotential,
    Yamaguchi,
    ensemble_member,
    fit_data,
    fit_potential,
    lo_potential,
    omega_omega,
    residual_loss,
    synthesize_box,
    synthesize_radial,
)
from dphys.halqcd.extraction import apply_potential
from dphys.scattering import GaussianSum, binding_energy, effective_range, phase_shift
from dphys.scattering.non_local import nonlocal_phase_shift
from tests.helpers import check_grad

MU = M_OMEGA_LATTICE / 2
MU_N = M_NUCLEON / 2


def _lo_error(dt, order=2, relativistic=True):
    """max_r |V_LO - V| [MeV] at t = 0.7 fm, from 5 slices 0.7 + dt * (-2 ... 2)."""
    v = omega_omega()
    corr = synthesize_radial(v, mass=MU, spacing=0.05, sites=200, times=0.7 + dt * np.arange(-2, 3), n_states=8,
                             relativistic=relativistic)
    v_lo = lo_potential(corr, order)[1 if order == 2 else 0]
    return np.max(np.abs(np.asarray(v_lo) - np.asarray(v(corr.r))))


@pytest.mark.parametrize("relativistic", [True, False])
def test_lo_extraction_is_exact_for_a_local_potential_up_to_the_time_differences(relativistic):
    e1, e2 = _lo_error(0.1, relativistic=relativistic), _lo_error(0.05, relativistic=relativistic)
    assert 3.6 < e1 / e2 < 4.4  # O(a_t^2)
    assert e2 < 1e-4 * 1100  # of max |V| = 1107 MeV
    f1, f2 = _lo_error(0.1, 4, relativistic), _lo_error(0.05, 4, relativistic)
    assert 12 < f1 / f2 < 20 and f2 < 1e-3 * e2  # O(a_t^4)


def test_lo_extraction_on_the_periodic_box():
    v = GaussianSum(c=(300.0, -150.0), d=(0.15, 0.3))
    corr = synthesize_box(v, mass=MU, spacing=0.1, sites=16, times=0.3 + 0.02 * np.arange(5))
    r = np.where(corr.r == 0, 1e-6 * 0.1, corr.r)
    err = np.abs(np.asarray(lo_potential(corr, 4)) - np.asarray(v(r)))
    assert np.max(err) < 1e-3  # MeV, of max |V| = 150 MeV


def test_nonlocal_residual_without_the_matrix_equals_the_dense_one():
    corr = synthesize_radial(Yamaguchi(lam=5.0, beta=1.2), mass=MU_N, spacing=0.1, sites=40, times=[0.1, 0.2, 0.3, 0.4])
    data = fit_data(corr)
    model = NeuralNonlocalPotential(jax.random.PRNGKey(0), rank=3, width=8)
    np.testing.assert_allclose(model(0.3, 1.7), model(1.7, 0.3), rtol=1e-14)  # symmetric by construction
    r = jnp.asarray(corr.r)
    dense = data.R[0] @ (0.1 * model(r[:, None], r[None, :])).T
    np.testing.assert_allclose(apply_potential(model, data.R[0], data), dense, rtol=1e-12, atol=1e-14)


def test_residual_loss_gradient_matches_finite_differences():
    corr = synthesize_radial(GaussianSum(c=(300.0, -150.0), d=(0.2, 0.5)), mass=MU, spacing=0.1, sites=30,
                             times=[0.1, 0.2, 0.3, 0.4])
    data = fit_data(corr)
    for model in (NeuralPotential(jax.random.PRNGKey(1), width=4, depth=1),
                  NeuralNonlocalPotential(jax.random.PRNGKey(2), rank=2, width=4, depth=1)):
        params, static = eqx.partition(model, eqx.is_inexact_array)
        fn = lambda p: residual_loss(eqx.combine(p, static), data.R[0], data.K[0], data, 100.0)  # noqa: E731
        check_grad(fn, params, eps=1e-6, rtol=1e-5, atol=1e-12)


def test_bad_input_is_named():
    v = GaussianSum(c=(300.0, -150.0), d=(0.2, 0.5))
    two = synthesize_radial(v, mass=MU, spacing=0.1, sites=30, times=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"need at least 3 equally spaced time slices, got 2 \(t = \[0.1, 0.2\] fm\)"):
        lo_potential(two)
    four = synthesize_radial(v, mass=MU, spacing=0.1, sites=30, times=[0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="order-4 time derivatives need at least 5"):
        lo_potential(four, 4)
    uneven = synthesize_radial(v, mass=MU, spacing=0.1, sites=30, times=[0.1, 0.2, 0.4])
    with pytest.raises(ValueError, match="equally spaced"):
        lo_potential(uneven)
    node = Correlator(four.R.at[:, 7].set(0.0), four.t, 0.1, "radial", MU)
    with pytest.raises(ValueError, match=r"R vanishes at r = 0.8 fm \(site \(7,\)\), t = 0.2 fm"):
        lo_potential(node)
    zero = Correlator(four.R.at[2].set(0.0), four.t, 0.1, "radial", MU)
    with pytest.raises(ValueError, match="R vanishes .* on the whole fitting grid at time slice t = 0.3 fm"):
        fit_potential(zero, lambda k: NeuralPotential(k), key=jax.random.PRNGKey(0), steps=1)
    with pytest.raises(ValueError, match="mismatched r/t axes"):
        Correlator(four.R, four.t[:3], 0.1, "radial", MU)
    with pytest.raises(ValueError, match=r"reduced mass must be > 0 \[MeV\], got -5.0"):
        Correlator(four.R, four.t, 0.1, "radial", -5.0)


def test_neural_local_potential_learns_a_smooth_potential_without_labels():
    v = GaussianSum(c=(300.0, -150.0), d=(0.2, 0.5))
    corr = synthesize_radial(v, mass=MU, spacing=0.05, sites=80, times=0.2 + 0.05 * np.arange(7), n_states=6)
    res = fit_potential(corr, lambda k: NeuralPotential(k, width=32, depth=3, length=1.5, envelope="gaussian"),
                        key=jax.random.PRNGKey(0), steps=2000, order=4, progress=False)
    nn = ensemble_member(res.model, 0)
    r = corr.r[corr.r >= 0.1]
    assert np.max(np.abs(np.asarray(nn(r)) - np.asarray(v(r)))) < 0.01 * 300


@pytest.mark.slow
def test_done_criterion_omega_omega_local():
    """Neural V within 2% of max|V| for r >= 0.1 fm; a, r, B within 5% of the true potential's."""
    v = omega_omega()
    corr = synthesize_radial(v, mass=MU, spacing=0.05, sites=200, times=0.2 + 0.05 * np.arange(10), n_states=8)
    res = fit_potential(corr, lambda k: NeuralPotential(k, width=32, depth=3, length=1.5, envelope="gaussian"),
                        key=jax.random.PRNGKey(0), steps=6000, order=4, progress=False)
    nn = ensemble_member(res.model, 0)
    r = corr.r[corr.r >= 0.1]
    assert np.max(np.abs(np.asarray(nn(r)) - np.asarray(v(r)))) < 0.02 * np.max(np.abs(np.asarray(v(corr.r))))
    ours, true = effective_range(nn, mass=MU), effective_range(v, mass=MU)
    np.testing.assert_allclose([ours.a, ours.r], [true.a, true.r], rtol=0.05)
    np.testing.assert_allclose(binding_energy(nn, mass=MU), binding_energy(v, mass=MU), rtol=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("truth", [Yamaguchi.from_scattering(-5.0, 1.2, MU_N), GaussianKernel(-100.0, 1.0, 0.5)],
                         ids=["yamaguchi", "gaussian-kernel"])
def test_done_criterion_nonlocal_phase_shifts(truth):
    """Neural non-local phase shifts within 5% for k <= 1 fm^-1; the LO local extraction is far off."""
    corr = synthesize_radial(truth, mass=MU_N, spacing=0.1, sites=119, times=0.2 + 0.05 * np.arange(10), n_states=8)
    res = fit_potential(corr, lambda k: NeuralNonlocalPotential(k, rank=2, width=32), key=jax.random.PRNGKey(0),
                        steps=6000, order=4, progress=False)
    nn = ensemble_member(res.model, 0)
    ks = jnp.linspace(0.05, 1.0, 20)
    d_true = jax.vmap(lambda k: nonlocal_phase_shift(truth, k, mass=MU_N))(ks)
    d_nn = jax.vmap(lambda k: nonlocal_phase_shift(nn, k, mass=MU_N))(ks)
    assert np.max(np.abs(np.asarray(d_nn - d_true) / np.asarray(d_true))) < 0.05
    v_lo = lo_potential(corr, 4)[2]
    cut = corr.r <= 4.0
    lo = TabulatedPotential(jnp.asarray(corr.r[cut]), v_lo[cut])
    d_lo = jax.vmap(lambda k: phase_shift(lo, k, mass=MU_N))(ks)
    assert np.max(np.abs(np.asarray(d_lo - d_true) / np.asarray(d_true))) > 0.2

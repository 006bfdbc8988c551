"""0+1D quantum mechanics: the double-well action and path observables, the transfer-matrix and
Hamiltonian references against closed forms (lattice harmonic oscillator), brute-force path
integrals and each other (a -> 0), and the ensemble analysis on exactly sampled Gaussian paths."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.lattice.exact import (
    double_well_exact,
    double_well_hamiltonian,
    hamiltonian_spectrum,
    transfer_matrix_exact,
)
from dphys.lattice.phi4 import effective_mass
from dphys.lattice.quantum import DoubleWellAction, correlator, count_kinks, qm_observables, temperature
from tests.helpers import assert_within_sigma, check_grad

LAM, ETA = 1.0, 1.4


def harmonic_lattice(a, omega, n):
    """Exact lattice harmonic oscillator S = sum (x_{i+1}-x_i)^2/2a + a omega^2 x_i^2/2 on n
    periodic sites: lattice frequency cosh(a w_l) = 1 + a^2 omega^2/2, C(tau) by Fourier modes,
    and the precision matrix A of the Gaussian path distribution exp(-x.A.x/2)."""
    k = np.arange(n)
    modes = a * omega**2 + 4 / a * np.sin(np.pi * k / n) ** 2
    corr = np.array([np.mean(np.cos(2 * np.pi * k * tau / n) / modes) for tau in range(n)])
    shift = np.roll(np.eye(n), 1, axis=1)
    precision = (2 * np.eye(n) - shift - shift.T) / a + a * omega**2 * np.eye(n)
    return np.arccosh(1 + (a * omega) ** 2 / 2) / a, corr, precision


# --- action and per-path observables -------------------------------------------------------------


def test_action_matches_explicit_sum_and_gradients():
    x = np.random.default_rng(0).normal(size=7)
    a = 0.3
    expected = sum((x[(i + 1) % 7] - x[i]) ** 2 / (2 * a) + a * LAM * (x[i] ** 2 - ETA**2) ** 2 for i in range(7))
    with jax.enable_x64(True):
        np.testing.assert_allclose(DoubleWellAction(a, LAM, ETA)(jnp.asarray(x)), expected, rtol=1e-12)
    check_grad(lambda p: DoubleWellAction(a, LAM, ETA)(p), x)
    check_grad(lambda act: act(jnp.asarray(x)), DoubleWellAction(0.3, 0.7, 1.1))
    action = DoubleWellAction(a, LAM, ETA)
    xj = jnp.asarray(x, jnp.float32)
    for same in (jnp.roll(xj, 3), -xj, xj[::-1]):  # time translation, parity, time reversal
        np.testing.assert_allclose(action(same), action(xj), rtol=1e-5)


def test_temperature_and_correlator():
    assert temperature(40, 0.25) == pytest.approx(0.1)
    x = np.random.default_rng(1).normal(size=6)
    expected = [np.mean(x * np.roll(x, -tau)) for tau in range(6)]
    np.testing.assert_allclose(correlator(jnp.asarray(x)), expected, rtol=1e-5, atol=1e-6)


def kink_path(n, centres, width=2.0, noise=0.0, seed=0):
    """Product of tanh kinks at the given centres (alternating sign), |x| ~ ETA away from them."""
    t = np.arange(n)
    x = ETA * np.ones(n)
    for j, c in enumerate(centres):
        x = x * np.tanh((t - c) / width) * (1 if j % 2 == 0 else -1)
    return x + noise * np.random.default_rng(seed).uniform(-1, 1, n)


def test_count_kinks_with_hysteresis():
    threshold = ETA / 2
    path = kink_path(64, [10.3, 40.7])
    assert int(count_kinks(jnp.asarray(path), threshold)) == 2
    for shift in (5, 20, 33):  # translation invariant on the periodic lattice
        assert int(count_kinks(jnp.asarray(np.roll(path, shift)), threshold)) == 2
    # jitter that crosses zero at every step near the kinks but stays inside the band is not counted
    noisy = np.where(np.abs(path) < 1.0, 0.4 * (-1.0) ** np.arange(64), path)
    assert np.sum(np.diff(np.sign(noisy)) != 0) > 6
    assert int(count_kinks(jnp.asarray(noisy), threshold)) == 2
    assert int(count_kinks(jnp.asarray(kink_path(64, [5.5, 20.5, 33.5, 50.5])), threshold)) == 4
    assert int(count_kinks(jnp.full(64, 1.2), threshold)) == 0  # one well, no tunnelling
    assert int(count_kinks(jnp.asarray(0.5 * np.sin(np.arange(64.0))), threshold)) == 0  # inside the band


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="a=0.0"):
        DoubleWellAction(0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="lam=-1"):
        DoubleWellAction(0.1, -1, 1.0)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        correlator(jnp.zeros((4, 4)))
    with pytest.raises(ValueError, match="plateau"):
        qm_observables(jnp.ones((30, 8)), 0.1, plateau=(3, 5))
    with pytest.raises(ValueError, match="lam > 0"):
        double_well_exact(0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="N=1"):
        double_well_exact(0.1, 1.0, 1.0, N=1)


# --- exact references ------------------------------------------------------------------------------


def test_transfer_matrix_is_exact_for_the_lattice_harmonic_oscillator():
    """E_n = w_l (n + 1/2) with cosh(a w_l) = 1 + a^2 w^2/2 (Tr T^N = Gaussian path integral
    = e^{-N a w_l/2}/(1 - e^{-N a w_l})), and <x^2>, C(tau) from the Fourier modes."""
    omega, a, n = 1.3, 0.3, 12
    w_l, corr, _ = harmonic_lattice(a, omega, n)
    exact = transfer_matrix_exact(lambda x: omega**2 * x**2 / 2, a, n, x_max=8.0, n_grid=301, n_levels=5)
    np.testing.assert_allclose(exact["energies"], w_l * (np.arange(5) + 0.5), rtol=1e-11)
    np.testing.assert_allclose(exact["gap"], w_l, rtol=1e-12)
    np.testing.assert_allclose(exact["correlator"], corr, rtol=1e-12)
    assert exact["x2"] == exact["correlator"][0]
    assert exact["temperature"] == pytest.approx(1 / (n * a))


def test_hamiltonian_spectrum_against_the_harmonic_oscillator_and_three_point_differences():
    omega = 1.3
    levels = hamiltonian_spectrum(lambda x: omega**2 * x**2 / 2, x_max=8.0, n_grid=201)
    np.testing.assert_allclose(levels, omega * (np.arange(6) + 0.5), rtol=1e-11)
    # ordinary 3-point differences converge to the same double-well levels as h^2
    exact = double_well_hamiltonian(LAM, ETA, n_levels=3)
    errors = []
    for n_grid in (201, 401):
        x, h = np.linspace(-4.5, 4.5, n_grid, retstep=True)
        ham = np.diag(1 / h**2 + LAM * (x**2 - ETA**2) ** 2) - np.diag(np.full(n_grid - 1, 0.5 / h**2), 1)
        ham = ham + np.triu(ham, 1).T
        errors.append(np.linalg.eigvalsh(ham)[:3] - exact)
    np.testing.assert_allclose(errors[0] / errors[1], 4.0, rtol=0.01)
    assert np.max(np.abs(errors[1])) < 5e-4


@pytest.mark.parametrize("n_sites", [2, 3])
def test_double_well_exact_against_brute_force_path_integrals(n_sites):
    """<x^2> and C(1) for N = 2, 3 by a direct N-dimensional grid sum of exp(-S) (the trapezoidal
    rule converges exponentially for this smooth, decaying integrand)."""
    a = 0.5
    x = np.linspace(-3.5, 3.5, {2: 401, 3: 141}[n_sites])
    grids = np.meshgrid(*([x] * n_sites), indexing="ij", sparse=True)
    action = sum(
        (grids[(i + 1) % n_sites] - grids[i]) ** 2 / (2 * a) + a * LAM * (grids[i] ** 2 - ETA**2) ** 2
        for i in range(n_sites)
    )
    weight = np.exp(-(action - action.min()))
    z = weight.sum()
    x2 = (weight * grids[0] ** 2).sum() / z
    c1 = (weight * grids[0] * grids[1]).sum() / z
    exact = double_well_exact(a, LAM, ETA, N=n_sites)
    np.testing.assert_allclose(exact["correlator"][:2], [x2, c1], rtol=1e-9)


def test_double_well_exact_grid_convergence():
    reference = double_well_exact(0.25, LAM, ETA, N=40)
    for grid in ({"n_grid": 301}, {"x_max": 6.0, "n_grid": 301}):
        finer = double_well_exact(0.25, LAM, ETA, N=40, **grid)
        np.testing.assert_allclose(reference["gap"], finer["gap"], rtol=1e-10)
        np.testing.assert_allclose(reference["correlator"], finer["correlator"], rtol=1e-10)
    continuum = double_well_hamiltonian(LAM, ETA)
    np.testing.assert_allclose(continuum, double_well_hamiltonian(LAM, ETA, n_grid=301, x_max=6.0), rtol=1e-11)


def test_transfer_matrix_gap_converges_to_the_continuum_as_a_squared():
    levels = double_well_hamiltonian(LAM, ETA)
    spacings = np.array([0.1, 0.05, 0.025])
    errors = np.array([double_well_exact(a, LAM, ETA)["gap"] for a in spacings]) - (levels[1] - levels[0])
    order = np.polyfit(np.log(spacings), np.log(np.abs(errors)), 1)[0]
    assert 1.9 < order < 2.05, f"convergence order {order}"
    assert abs(errors[-1]) < 1e-4
    # and the normalised lattice energies themselves converge to the eigenvalues of H
    np.testing.assert_allclose(double_well_exact(0.025, LAM, ETA)["energies"][:3], levels[:3], rtol=1e-3)


def test_effective_gap_of_the_exact_correlator_plateaus_at_the_gap():
    """At low temperature (N a = 40 >> 1/gap) the cosh effective mass of the exact lattice
    correlator equals the exact lattice gap once the E_3 - E_0 ~ 4 contamination has decayed."""
    a, n = 0.25, 160
    exact = double_well_exact(a, LAM, ETA, N=n)
    e_eff = effective_mass(exact["correlator"]) / a
    np.testing.assert_allclose(e_eff[20:60], exact["gap"], rtol=1e-3)


# --- ensemble analysis --------------------------------------------------------------------------


def test_observables_of_exactly_sampled_harmonic_paths():
    """iid Gaussian paths of the lattice harmonic oscillator: the cosh effective mass is exactly
    w_l at every tau, so the gap, <x^2> and C(tau) must agree with the exact values within errors."""
    omega, a, n, n_samples = 1.0, 0.25, 16, 4000
    w_l, corr, precision = harmonic_lattice(a, omega, n)
    chol = np.linalg.cholesky(precision)
    z = np.random.default_rng(6).normal(size=(n, n_samples))
    paths = np.linalg.solve(chol.T, z).T.astype(np.float32)
    obs = qm_observables(paths, a, plateau=(2, 4))
    assert_within_sigma(obs["gap"].value, w_l, obs["gap"].error, what="gap")
    assert_within_sigma(obs["x2"].value, corr[0], obs["x2"].error, what="<x^2>")
    assert_within_sigma(obs["correlator"].value, corr, obs["correlator"].error, what="C(tau)")
    assert_within_sigma(obs["effective_gap"].value[:4], w_l, obs["effective_gap"].error[:4], what="m_eff")
    assert obs["gap"].error < 0.05 * w_l
    # chains axis: the same central values
    chains = qm_observables(paths.reshape(n_samples // 4, 4, n), a, plateau=(2, 4))
    np.testing.assert_allclose(chains["gap"].value, obs["gap"].value, rtol=1e-10)


def test_mean_number_of_kinks_of_constructed_paths():
    centres = [[10.3, 40.7], [5.5, 20.5, 33.5, 50.5], [], [12.0, 30.0]]
    paths = np.array([kink_path(64, c, noise=0.3, seed=i) for i, c in enumerate(centres)] * 10)
    obs = qm_observables(paths, 0.1, n_blocks=10)
    np.testing.assert_allclose(obs["kinks"].value, 2.0)
    np.testing.assert_allclose(qm_observables(paths, 0.1, n_blocks=10, kink_threshold=0.7)["kinks"].value, 2.0)

"""Complex Langevin against exact results: the Gaussian (closed forms, also for the Euler step), the
quartic model (quadrature, checked against mpmath), the anharmonic chain (lattice Gaussian; transfer
matrix). Statistical checks are stated in standard errors with fixed seeds."""

import re

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from dphys.lattice.complex_langevin import (
    OBSERVABLES,
    RunawayError,
    cl_chain,
    cl_chains,
    cl_drift,
    cl_observables,
    cl_thermalise,
    cumulants_from_moments,
    reference_observables,
    weighted_mean,
)
from dphys.lattice.complex_models import (
    AnharmonicChainAction,
    GaussianAction,
    QuarticAction,
    gaussian_mode_covariances,
)
from dphys.stats import jackknife
from tests.helpers import assert_within_sigma

SIGMA = 1 + 1j
# REFERENCES.md, "Complex Langevin": sigma = 1 + i, lambda = 1
QUARTIC_Z2, QUARTIC_Z4 = 0.428142 - 0.148010j, 0.423848 - 0.280132j


def mpmath_moments(sigma, lam, orders):
    """<x^n> of exp(-sigma x^2/2 - lam x^4/4) along the real axis by mpmath's adaptive quadrature."""
    mpmath.mp.dps = 30
    weight = lambda x, n: x**n * mpmath.exp(-sigma * x**2 / 2 - lam * x**4 / 4)
    z = mpmath.quad(lambda x: weight(x, 0), [-mpmath.inf, 0, mpmath.inf])
    return np.array([complex(mpmath.quad(lambda x: weight(x, n), [-mpmath.inf, 0, mpmath.inf]) / z)
                     for n in orders])


def run_chains(action, site_shape, n_chains, seed=0, **kwargs):
    keys = jax.random.split(jax.random.PRNGKey(seed), n_chains)
    return cl_chains(action, keys, jnp.zeros((n_chains, *site_shape), jnp.complex64), **kwargs)


def with_z2_from_covariance(reference):
    """z^2 = x^2 - y^2 + 2i xy, so <z^2> of the CL distribution follows from its covariance."""
    return {**reference, "z2_re": reference["x2"] - reference["y2"], "z2_im": 2 * reference["xy"]}


def assert_observables(estimates, reference, names, n_sigma=3.0):
    for name in names:
        assert_within_sigma(estimates[name].value, reference[name], estimates[name].error, n_sigma, what=name)


# ---------------------------------------------------------------------------
# exact references
# ---------------------------------------------------------------------------


def test_gaussian_moments_and_cl_covariance_have_the_closed_forms():
    action = GaussianAction(SIGMA)
    np.testing.assert_allclose(action.moments(6), [0, 1 / SIGMA, 0, 3 / SIGMA**2, 0, 15 / SIGMA**3], rtol=1e-15)
    np.testing.assert_allclose(action.moments(6)[1::2], mpmath_moments(SIGMA, 0, [2, 4, 6]), rtol=1e-14)
    a, b, s2 = SIGMA.real, SIGMA.imag, abs(SIGMA) ** 2
    xx, yy, xy = (2 * a**2 + b**2) / (2 * a * s2), b**2 / (2 * a * s2), -b / (2 * s2)  # REFERENCES.md
    np.testing.assert_allclose(action.cl_covariance(), [[xx, xy], [xy, yy]], rtol=1e-15)
    # the density is normalised and has that covariance
    x, y = np.meshgrid(np.linspace(-8, 8, 801), np.linspace(-8, 8, 801), indexing="ij")
    p = action.cl_density(x, y) * (16 / 800) ** 2
    np.testing.assert_allclose([p.sum(), (p * x * x).sum(), (p * y * y).sum(), (p * x * y).sum()],
                               [1, xx, yy, xy], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("sigma, dt", [(SIGMA, 0.05), (0.3 - 2j, 0.05), (2.0, 0.3)])
def test_euler_stationary_covariance_is_the_fixed_point_of_the_euler_map(sigma, dt):
    # (x, y) -> F (x, y) + sqrt(2 dt) (eta, 0) with F = 1 - dt [[A, -B], [B, A]]: C = F C F^T + 2 dt e_x e_x^T
    a, b = sigma.real, sigma.imag
    f = np.eye(2) - dt * np.array([[a, -b], [b, a]])
    c = GaussianAction(sigma).cl_covariance(dt)
    np.testing.assert_allclose(f @ c @ f.T + np.diag([2 * dt, 0]), c, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(GaussianAction(sigma).cl_covariance(1e-9), GaussianAction(sigma).cl_covariance(),
                               rtol=1e-7)


def test_euler_step_beyond_stability_has_no_stationary_distribution():
    with pytest.raises(ValueError, match=r"no stationary distribution .* = 1\)"):
        gaussian_mode_covariances(SIGMA, dt=1.0)  # |1 - dt sigma| = 1


def test_quartic_moments_agree_with_mpmath_and_the_reference_values():
    got = QuarticAction(SIGMA, 1.0).moments(6)
    np.testing.assert_allclose(got[1::2], mpmath_moments(SIGMA, 1, [2, 4, 6]), rtol=1e-12)
    np.testing.assert_allclose(got[::2], 0, atol=1e-15)
    np.testing.assert_allclose(got[[1, 3]], [QUARTIC_Z2, QUARTIC_Z4], atol=6e-7)
    other = QuarticAction(-1 + 2j, 0.5 + 0.3j)  # Re sigma < 0 is fine while Re lam > 0
    np.testing.assert_allclose(other.moments(4)[[1, 3]], mpmath_moments(-1 + 2j, 0.5 + 0.3j, [2, 4]), rtol=1e-12)


def test_chain_gaussian_matrix_inverse_equals_the_continued_closed_form():
    chain = AnharmonicChainAction(SIGMA, 0.0, a=0.5, n_sites=8)
    z = np.random.default_rng(0).normal(size=(8, 2)) @ np.array([1, 1j])
    with jax.enable_x64(True):
        action = complex(chain(jnp.asarray(z)))
    np.testing.assert_allclose(action, z @ chain.gaussian_matrix() @ z / 2, rtol=1e-13)
    inverse = np.linalg.inv(chain.gaussian_matrix())
    np.testing.assert_allclose(chain.propagator(), inverse[0], rtol=1e-13)
    # G(t) = a cosh(theta (N/2 - t)) / (2 sinh(theta) sinh(N theta/2)), cosh(theta) = 1 + a^2 sigma/2
    a, n, t = 0.5, 8, np.arange(8)
    theta = np.arccosh(1 + a**2 * SIGMA / 2 + 0j)
    closed = a * np.cosh(theta * (n / 2 - t)) / (2 * np.sinh(theta) * np.sinh(n * theta / 2))
    np.testing.assert_allclose(chain.propagator(), closed, rtol=1e-13)
    m = chain.moments(6)
    np.testing.assert_allclose(m[[1, 3, 5]], [closed[0], 3 * closed[0] ** 2, 15 * closed[0] ** 3], rtol=1e-13)


def test_transfer_matrix_agrees_with_gaussian_quartic_and_direct_quadrature():
    gaussian = AnharmonicChainAction(SIGMA, 0.0, a=0.5, n_sites=8)
    np.testing.assert_allclose(gaussian.moments(6, method="transfer"), gaussian.moments(6), rtol=1e-12, atol=1e-14)
    # one site: S = a V(z) with no kinetic term, the quartic model at a = 1
    single = AnharmonicChainAction(SIGMA, 1.0, a=1.0, n_sites=1)
    np.testing.assert_allclose(single.moments(6), QuarticAction(SIGMA, 1.0).moments(6), rtol=1e-9, atol=1e-14)
    # two sites by a direct two-dimensional trapezoidal rule
    sigma, lam, a = 0.5 + 1j, 0.7 - 0.2j, 0.8
    x = np.linspace(-6, 6, 801)
    x0, x1 = np.meshgrid(x, x, indexing="ij")
    v = lambda x: sigma * x**2 / 2 + lam * x**4 / 4
    w = np.exp(-(2 * (x1 - x0) ** 2 / (2 * a) + a * (v(x0) + v(x1))))
    direct = [(x0**n * w).sum() / w.sum() for n in (2, 4)]
    two = AnharmonicChainAction(sigma, lam, a=a, n_sites=2).moments(4)
    np.testing.assert_allclose(two[[1, 3]], direct, rtol=1e-11)
    # converged in the grid spacing
    chain = AnharmonicChainAction(SIGMA, 1.0, a=0.5, n_sites=8)
    np.testing.assert_allclose(chain.moments(6), chain.moments(6, points_per_width=6.0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sigma", [0.0, -1 + 1j, 2j])
def test_gaussian_with_nonpositive_real_part_is_rejected(sigma):
    with pytest.raises(ValueError, match=re.escape(f"sigma={complex(sigma)} has Re sigma <= 0") + ".* diverges"):
        GaussianAction(sigma)


@pytest.mark.parametrize("model", [QuarticAction, AnharmonicChainAction])
@pytest.mark.parametrize("lam", [-1.0, 1j, -0.5 + 1j])
def test_quartic_coupling_without_a_decaying_weight_is_rejected(model, lam):
    with pytest.raises(ValueError, match=re.escape(f"lam={complex(lam)} ") + ".* does not decay along the real axis"):
        model(SIGMA, lam)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lam=0.0, sigma=-1.0), r"lam=0 .* needs Re sigma > 0"),
        (dict(a=0.0), r"a=0.0: expected a real lattice spacing > 0"),
        (dict(n_sites=0), r"n_sites=0: expected an integer >= 1"),
    ],
)
def test_chain_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AnharmonicChainAction(**kwargs)


def test_chain_rejects_a_configuration_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"z has shape \(4,\), expected \(8,\)"):
        AnharmonicChainAction(n_sites=8)(jnp.zeros(4, jnp.complex64))
    with pytest.raises(ValueError, match="exact only for the Gaussian chain lam=0"):
        AnharmonicChainAction(lam=1.0).cl_covariance()


def test_cumulants_from_moments_of_a_poisson_distribution_are_all_its_mean():
    lam = 0.7
    stirling = [[1], [1, 1], [1, 3, 1], [1, 7, 6, 1], [1, 15, 25, 10, 1], [1, 31, 90, 65, 15, 1]]
    moments = [sum(s * lam ** (k + 1) for k, s in enumerate(row)) for row in stirling]  # Touchard polynomials
    np.testing.assert_allclose(cumulants_from_moments(moments), lam, rtol=1e-13)
    ref = reference_observables(GaussianAction(SIGMA).moments(), GaussianAction(SIGMA).cl_covariance())
    assert set(ref) == set(OBSERVABLES)
    np.testing.assert_allclose([ref[k] for k in ("kappa4_re", "kappa4_im", "kappa6_re", "kappa6_im")], 0,
                               atol=1e-14)


# ---------------------------------------------------------------------------
# weighted means
# ---------------------------------------------------------------------------


def test_weighted_mean_with_equal_weights_is_the_block_jackknife_of_the_mean():
    obs = np.random.default_rng(0).normal(size=(400, 3))  # 400 times, 3 chains
    est = weighted_mean(obs, np.full((400, 3), 0.01), n_blocks=20)
    chain_major = obs.T.reshape(-1)
    expected = jackknife(np.mean, chain_major, n_blocks=20)
    assert est.value == pytest.approx(obs.mean(), rel=1e-12)
    assert est.error == pytest.approx(expected.error, rel=1e-10)


def test_weighted_mean_is_the_langevin_time_average():
    obs = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    weights = np.array([1.0, 0.5, 0.25, 2.0])
    est = weighted_mean(obs, weights, n_blocks=4)
    np.testing.assert_allclose(est.value, (weights[:, None] * obs).sum(0) / weights.sum(), rtol=1e-14)
    assert est.error.shape == (2,) and np.all(est.error > 0)
    with pytest.raises(ValueError, match="must be finite, >= 0"):
        weighted_mean(obs, -weights)
    with pytest.raises(ValueError, match=r"weights of shape \(3,\) must be"):
        weighted_mean(obs, weights[:3])


# ---------------------------------------------------------------------------
# complex Langevin against exact results
# ---------------------------------------------------------------------------

XY_Z2 = ("x2", "y2", "xy", "z2_re", "z2_im")
# runs with equal shapes and options share one compilation (dt is traced), so tests reuse these
GAUSSIAN_RUN = dict(n_samples=400, thin=50, n_therm=500)
QUARTIC_RUN = dict(n_samples=400, thin=50, n_therm=1000)


@pytest.mark.parametrize("noise", ["gaussian", "two-point"])
def test_gaussian_euler_samples_the_exact_discrete_stationary_distribution(noise):
    # dt = 0.05 is far from the continuum: the exact Euler covariance is the sharp reference; it
    # depends on the variance of the noise only, so it holds for two-point noise too
    action, dt = GaussianAction(SIGMA), 0.05
    z, w = run_chains(action, (), 512, dt=dt, noise=noise, **GAUSSIAN_RUN)
    est = cl_observables(z, w)
    assert_observables(est, with_z2_from_covariance(reference_observables(action.moments(),
                                                                          action.cl_covariance(dt))), XY_Z2)
    continuum = reference_observables(action.moments(), action.cl_covariance())
    assert abs(est["x2"].value - continuum["x2"]) > 5 * est["x2"].error  # the test resolves the O(dt) shift


def test_gaussian_small_step_reproduces_the_continuum_moments():
    action = GaussianAction(SIGMA)
    z, w = run_chains(action, (), 512, seed=1, dt=0.002, **GAUSSIAN_RUN)
    est = cl_observables(z, w)
    # Euler bias ~ dt |sigma| / 2 = 0.14 % of <z^2> = 1/sigma, a fraction of the error
    assert_observables(est, reference_observables(action.moments(), action.cl_covariance()),
                       XY_Z2 + ("z4_re", "z4_im"))


@pytest.mark.parametrize("solver, noise", [("euler", "gaussian"), ("euler", "two-point"), ("shark", "gaussian")])
def test_quartic_fixed_step_reproduces_the_exact_moments(solver, noise):
    action = QuarticAction(SIGMA, 1.0)
    if solver == "euler":  # Euler bias at dt = 0.002: about 0.001 in <z^2>, a third of the error
        z, w = run_chains(action, (), 512, seed=2, dt=0.002, noise=noise, **QUARTIC_RUN)
    else:  # weak order 2: O(dt^2) bias
        z, w = run_chains(action, (), 128, seed=2, dt=0.01, n_samples=200, thin=20, n_therm=200, solver=solver)
    est = cl_observables(z, w)
    assert_observables(est, reference_observables(action.moments()), ("z2_re", "z2_im", "z4_re", "z4_im"))
    assert est["z2_re"].value == pytest.approx(QUARTIC_Z2.real, abs=3 * est["z2_re"].error)


def test_quartic_adaptive_step_reproduces_the_exact_moments_only_with_langevin_time_weights():
    action = QuarticAction(SIGMA, 1.0)
    z, w = run_chains(action, (), 512, seed=3, dt=0.002, adaptive=True, **QUARTIC_RUN)
    assert float(jnp.min(w)) < 0.5 * 0.002 and float(jnp.max(w)) == pytest.approx(0.002)  # the step adapts
    reference = reference_observables(action.moments())
    assert_observables(cl_observables(z, w), reference, ("z2_re", "z2_im", "z4_re", "z4_im"))
    unweighted = cl_observables(z, jnp.ones_like(w))["z2_re"]  # small steps would be over-counted
    assert abs(unweighted.value - reference["z2_re"]) > 10 * unweighted.error


def test_gaussian_chain_euler_samples_its_exact_stationary_distribution():
    chain, dt = AnharmonicChainAction(SIGMA, 0.0, a=0.5, n_sites=8), 0.05
    z, w = run_chains(chain, (8,), 256, seed=4, dt=dt, n_samples=400, thin=10, n_therm=200)
    est = cl_observables(z, w)
    assert_observables(est, with_z2_from_covariance(reference_observables(chain.moments(),
                                                                         chain.cl_covariance(dt))), XY_Z2)


def test_anharmonic_chain_reproduces_the_transfer_matrix_moments():
    chain = AnharmonicChainAction(SIGMA, 1.0, a=0.5, n_sites=8)
    # Euler bias at dt = 0.001: about 0.0007 in <z^2> (0.0065 measured at dt = 0.01), below half an error
    z, w = run_chains(chain, (8,), 128, seed=5, dt=0.001, n_samples=200, thin=200, n_therm=2000)
    assert_observables(cl_observables(z, w), reference_observables(chain.moments()),
                       ("z2_re", "z2_im", "z4_re", "z4_im"))


# ---------------------------------------------------------------------------
# runaways, API and validation
# ---------------------------------------------------------------------------


def test_fixed_step_runaway_raises_and_the_adaptive_step_does_not_run_away():
    action = QuarticAction(SIGMA, 1.0)
    with pytest.raises(RunawayError, match=r"complex Langevin ran away: \|z\| reached .* by step \d+ in chain \d+; "
                                           r"reduce dt=0.3 or use adaptive=True") as info:
        run_chains(action, (), 512, dt=0.3, **QUARTIC_RUN)
    assert 0 <= info.value.chain < 512 and info.value.step % 50 == 0 and not info.value.value <= 1e6
    z, w = run_chains(action, (), 512, dt=0.3, adaptive=True, **QUARTIC_RUN)
    assert np.all(np.abs(np.asarray(z)) < 10)


def test_single_chain_equals_its_column_of_the_vmapped_chains_and_is_reproducible():
    action, key = QuarticAction(SIGMA, 1.0), jax.random.PRNGKey(7)
    z0, k_ref = cl_thermalise(action, key, jnp.asarray(0.1j, jnp.complex64), dt=0.01, n_steps=300)
    assert z0.shape == () and float(k_ref) > 0.1
    kwargs = dict(dt=0.01, n_samples=50, thin=4, adaptive=True, k_ref=k_ref)
    z, w = cl_chain(action, key, z0, **kwargs)
    zs, ws = cl_chains(action, key[None], z0[None], **kwargs)
    assert z.shape == (50,) and zs.shape == (50, 1) and z.dtype == jnp.complex64
    np.testing.assert_allclose(np.asarray(zs[:, 0]), np.asarray(z), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(ws[:, 0]), np.asarray(w), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(cl_chain(action, key, z0, **kwargs)[0]), np.asarray(z))
    with pytest.raises(RunawayError, match=r"by step \d+; reduce dt=0.5") as info:  # no chain index
        cl_chain(action, key, z0 + 3, **kwargs | dict(dt=0.5, adaptive=False))
    assert info.value.chain is None


def test_two_point_noise_is_plus_or_minus_one_with_equal_frequency():
    from dphys.lattice.complex_langevin import langevin_noise

    eta = np.asarray(langevin_noise(jax.random.PRNGKey(0), (1000, 7), jnp.float32, "two-point"))
    assert eta.shape == (1000, 7) and set(np.unique(eta)) == {-1.0, 1.0}
    assert abs(eta.mean()) < 4 / np.sqrt(eta.size)  # binomial: standard error 1/sqrt(n)
    assert abs(np.mean(eta[1:] * eta[:-1])) < 4 / np.sqrt(eta.size)  # consecutive steps uncorrelated


def test_drift_is_minus_the_complex_derivative_of_the_action():
    drift = cl_drift(QuarticAction(SIGMA, 1.0))
    z = 0.3 - 0.7j
    k = -(SIGMA * z + z**3)
    np.testing.assert_allclose(np.asarray(drift(0.0, jnp.array([z.real, z.imag]), None)), [k.real, k.imag],
                               rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dt=0.0), "dt=0.0: expected a finite step > 0"),
        (dict(n_samples=0), "n_samples=0: expected an integer >= 1"),
        (dict(thin=1.5), "thin=1.5: expected an integer >= 1"),
        (dict(n_therm=-1), "n_therm=-1: expected an integer >= 0"),
        (dict(solver="rk4"), "solver='rk4': expected one of"),
        (dict(adaptive=True), "adaptive=True needs k_ref or n_therm > 0"),
        (dict(adaptive=True, n_therm=5, solver="shark"), "the adaptive step is an Euler scheme"),
        (dict(adaptive=True, k_ref=-1.0), r"k_ref=-1.0: expected finite values > 0"),
        (dict(noise="uniform"), "noise='uniform': expected one of"),
        (dict(noise="two-point", solver="shark"), "noise='two-point' needs solver='euler'"),
    ],
)
def test_bad_options_are_rejected_before_running(kwargs, message):
    options = dict(dt=0.01, n_samples=10) | kwargs
    with pytest.raises(ValueError, match=message):
        cl_chain(QuarticAction(SIGMA, 1.0), jax.random.PRNGKey(0), 0j, **options)


def test_an_action_that_is_not_a_complex_scalar_is_rejected():
    with pytest.raises(ValueError, match="must return a complex scalar"):
        cl_chain(lambda z: z**2, jax.random.PRNGKey(0), jnp.zeros(3, jnp.complex64), dt=0.01, n_samples=2)
    with pytest.raises(ValueError, match=r"cl_chains: z0 of shape \(3,\) and keys of shape \(2, 2\)"):
        cl_chains(QuarticAction(), jax.random.split(jax.random.PRNGKey(0), 2), jnp.zeros(3, jnp.complex64),
                  dt=0.01, n_samples=2)

"""Forward processes: closed-form marginals, the variance ODE, inverses, forward-SDE statistics, bad input."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats as sps

import dphys.diffusion as dd
from dphys.stats import cumulants, kstatistics
from tests.helpers import assert_within_sigma

PROCESSES = {
    "ve-song": dd.VESong(sigma=25.0, t_min=1e-5),
    "ve-geometric": dd.VEGeometric(sigma_min=0.01, sigma_max=50.0),
    "vp": dd.VP(beta_min=0.1, beta_max=20.0, t_min=1e-3),
    "edm": dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=0.5, rho=7.0),
}


def _times(p, n=7):
    return np.linspace(p.t_min, p.t_max, n)


def test_closed_forms_at_given_times():
    with jax.enable_x64(True):
        t = 0.37
        a, s = PROCESSES["ve-song"].mean_std(t)
        assert float(a) == 1.0
        assert float(s) ** 2 == pytest.approx((25.0 ** (2 * t) - 1) / (2 * math.log(25.0)), rel=1e-13)
        a, s = PROCESSES["ve-geometric"].mean_std(t)
        assert float(s) == pytest.approx(0.01 * 5000.0**t, rel=1e-13)
        a, s = PROCESSES["vp"].mean_std(t)
        log_alpha = -0.25 * t**2 * 19.9 - 0.5 * t * 0.1
        assert float(a) == pytest.approx(math.exp(log_alpha), rel=1e-13)
        assert float(s) ** 2 == pytest.approx(1 - math.exp(2 * log_alpha), rel=1e-13)
        a, s = PROCESSES["edm"].mean_std(3.0)
        assert (float(a), float(s)) == (1.0, 3.0)
        assert float(PROCESSES["edm"].noise_level(3.0)) == pytest.approx(math.log(3.0) / 4)


@pytest.mark.parametrize("name", PROCESSES)
def test_marginals_solve_the_moment_equations_of_the_sde(name):
    """d log alpha/dt = f(t) and d s^2/dt = 2 f(t) s^2 + g(t)^2 for dx = f x dt + g dW."""
    p = PROCESSES[name]
    with jax.enable_x64(True):
        for t in _times(p)[1:-1]:
            dlog_alpha = jax.grad(lambda t: jnp.log(p.mean_std(t)[0]))(t)
            ds2 = jax.grad(lambda t: p.mean_std(t)[1] ** 2)(t)
            f, g = p.drift_coefficient(t), p.diffusion(t)
            s2 = p.mean_std(t)[1] ** 2
            assert float(dlog_alpha) == pytest.approx(float(f), rel=1e-10, abs=1e-12)
            assert float(ds2) == pytest.approx(float(2 * f * s2 + g**2), rel=1e-10)


@pytest.mark.parametrize("name", PROCESSES)
def test_inverse_maps_and_schedules(name):
    p = PROCESSES[name]
    with jax.enable_x64(True):
        t = jnp.asarray(_times(p))
        s = jax.vmap(lambda t: p.mean_std(t)[1])(t)
        np.testing.assert_allclose(jax.vmap(p.t_of_std)(s), t, rtol=1e-9, atol=1e-12)
        sig = jax.vmap(p.sigma_of_t)(t)
        np.testing.assert_allclose(jax.vmap(p.t_of_sigma)(sig), t, rtol=1e-8, atol=1e-12)
        for schedule in (p.schedule, p.karras_schedule):
            ends = [float(schedule(0.0)), float(schedule(1.0))]
            np.testing.assert_allclose(ends, [p.t_max, p.t_min], rtol=1e-9)
            grid = np.asarray(jax.vmap(schedule)(jnp.linspace(0, 1, 11)))
            assert np.all(np.diff(grid) < 0)


def test_prior_log_prob_is_the_gaussian_density():
    p = PROCESSES["ve-song"]
    x = jnp.array([[0.3, -12.0], [4.0, 1.0]])
    std = float(p.mean_std(1.0)[1])
    assert float(p.prior_log_prob(x)) == pytest.approx(np.sum(sps.norm.logpdf(np.asarray(x), scale=std)), rel=1e-5)
    assert float(PROCESSES["vp"].prior_log_prob(x)) == pytest.approx(np.sum(sps.norm.logpdf(np.asarray(x))), rel=1e-5)


@pytest.mark.parametrize("name", ["ve-song", "ve-geometric", "vp"])
def test_forward_sde_has_the_marginal_mean_and_variance(name):
    """Forward SDE samples from x0 = mu through dphys.integrate_sde: mean alpha mu, variance
    s_t^2 - (alpha_t/alpha_0)^2 s_0^2 (the process starts at t_min with no noise), within errors."""
    p, mu, n = PROCESSES[name], 1.5, 20_000
    ts = np.array([p.t_min, 0.3, 0.7, 1.0])
    xs = jax.jit(lambda k: dd.forward(p, k, jnp.full((n,), mu), ts, dt=2e-3))(jax.random.PRNGKey(0))
    a0, s0 = (float(v) for v in p.mean_std(p.t_min))
    for t, x in zip(ts[1:], np.asarray(xs)[1:]):
        a, s = (float(v) for v in p.mean_std(t))
        var = s**2 - (a / a0) ** 2 * s0**2
        k = cumulants(x, max_order=2)
        assert_within_sigma(k.value[0], a / a0 * mu, k.error[0], what=f"{name} mean at t={t}")
        assert_within_sigma(k.value[1], var, k.error[1], what=f"{name} variance at t={t}")


@pytest.mark.parametrize("name", ["ve-song", "vp"])
def test_two_point_cumulants_of_noised_data(name):
    """kappa_n(x_t) = alpha^n kappa_n(x0) + delta_n2 s^2 for x0 = +/- mu: conserved (VE) or
    decaying as alpha^n (VP) for n >= 3; checked against exact marginal draws."""
    p, mu, n = PROCESSES[name], 1.2, 400_000
    key_sign, key_noise = jax.random.split(jax.random.PRNGKey(1))
    x0 = mu * jax.random.rademacher(key_sign, (n,), dtype=jnp.float32)
    for t in (0.05, 0.25):
        x = np.asarray(p.perturb(jax.random.fold_in(key_noise, int(t * 100)), x0, t), dtype=np.float64)
        k = cumulants(x, max_order=6)
        exact = dd.two_point_cumulants(p, mu, t)
        assert_within_sigma(k.value, exact, k.error, what=f"{name} cumulants at t={t}")
    # the data themselves
    np.testing.assert_allclose(kstatistics(np.asarray(x0, np.float64))[[1, 3, 5]], [mu**2, -2 * mu**4, 16 * mu**6],
                               rtol=1e-3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: dd.VEGeometric(sigma_min=1.0, sigma_max=0.5), "sigma_min=1.0"),
        (lambda: dd.VEGeometric(sigma_min=2.0, sigma_max=2.0), "sigma_min=2.0"),
        (lambda: dd.VEGeometric(sigma_min=-0.1, sigma_max=2.0), "sigma_min"),
        (lambda: dd.EDM(sigma_min=0.0), "sigma_min"),
        (lambda: dd.EDM(sigma_min=80.0, sigma_max=1.0), "sigma_min=80.0"),
        (lambda: dd.EDM(sigma_data=-1.0), "sigma_data"),
        (lambda: dd.VESong(sigma=0.5), "sigma=0.5"),
        (lambda: dd.VESong(sigma=float("nan")), "sigma"),
        (lambda: dd.VESong(t_min=1.5), "t_min=1.5"),
        (lambda: dd.VP(beta_min=0.0), "beta_min"),
        (lambda: dd.VP(beta_min=5.0, beta_max=1.0), "beta_min=5.0"),
    ],
)
def test_bad_parameters_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()

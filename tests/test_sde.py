"""The SDE/ODE core against exact results: the discrete law of Euler-Maruyama, strong orders,
finite-difference gradients, exact ODE solutions, and clear errors on bad input."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dphys.sde import integrate_ode, integrate_sde, time_grid
from tests.helpers import assert_within_sigma, check_grad

N_CHAINS = 20_000


def ou_drift(t, x, args):
    theta, _ = args
    return -theta * x


def ou_diffusion(t, x, args):
    _, sigma = args
    return sigma


def chains(fn, n=N_CHAINS, seed=0):
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    return jax.jit(jax.vmap(fn))(keys)


def mean_and_variance_checks(x, mean, variance, what):
    """Sample mean and variance against exact values, within 4 standard errors."""
    n = x.shape[0]
    assert_within_sigma(x.mean(0), mean, np.sqrt(variance / n), what=f"{what} mean")
    # standard error of the sample variance: sqrt((mu_4 - sigma^4) / n), mu_4 estimated
    mu4 = np.mean((x - x.mean(0)) ** 4, axis=0)
    assert_within_sigma(x.var(0), variance, np.sqrt((mu4 - variance**2) / n), what=f"{what} variance")


def test_euler_maruyama_follows_its_exact_discrete_law_for_ornstein_uhlenbeck():
    # x_{n+1} = (1 - theta h) x_n + sigma sqrt(h) xi_n: Gaussian with known mean and variance
    theta, sigma, h, n = 1.3, 0.8, 0.05, 30
    ts = np.array([0.0, n * h])
    x = chains(lambda k: integrate_sde(ou_drift, ou_diffusion, jnp.array(1.0), ts, k, dt=h, args=(theta, sigma)))
    x = np.asarray(x[:, -1], dtype=np.float64)
    a = 1 - theta * h
    mean_and_variance_checks(x, a**n, sigma**2 * h * sum(a ** (2 * k) for k in range(n)), "EM on OU")


def test_euler_maruyama_multiplicative_noise_matches_geometric_brownian_motion_law():
    # x_{n+1} = x_n (1 + mu h + s sqrt(h) xi): E x_n = (1 + mu h)^n, E x_n^2 = ((1 + mu h)^2 + s^2 h)^n
    mu, s, h, n = 0.4, 0.3, 0.1, 10
    x = chains(
        lambda k: integrate_sde(
            lambda t, x, a: mu * x, lambda t, x, a: s * x, jnp.array(1.0), [0.0, n * h], k, dt=h
        )
    )
    x = np.asarray(x[:, -1], dtype=np.float64)
    m1, m2 = (1 + mu * h) ** n, ((1 + mu * h) ** 2 + s**2 * h) ** n
    mean_and_variance_checks(x, m1, m2 - m1**2, "EM on GBM")


def test_pytree_state_saves_at_requested_times_with_broadcast_diffusion():
    state = {"a": jnp.ones((2,)), "b": (jnp.zeros((3, 3)),)}
    ts = np.array([0.0, 0.25, 0.5, 1.0])
    drift = lambda t, x, args: jax.tree_util.tree_map(lambda v: -v, x)
    out = integrate_sde(drift, lambda t, x, args: jnp.sqrt(2.0), state, ts, jax.random.PRNGKey(0), dt=0.1)
    assert out["a"].shape == (4, 2) and out["b"][0].shape == (4, 3, 3)
    np.testing.assert_array_equal(out["a"][0], state["a"])  # t0 = ts[0]: first save is x0
    # every leaf gets its own noise; a Langevin process with this drift has stationary variance 1
    x = chains(lambda k: integrate_sde(drift, lambda t, x, a: jnp.sqrt(2.0), state, [0.0, 3.0], k, dt=0.1), 4000)
    h = 0.1
    a = 1 - h
    var = 2 * h * sum(a ** (2 * k) for k in range(30))
    leaves = jax.tree_util.tree_leaves(x)
    samples = np.concatenate([np.asarray(v[:, -1]).reshape(4000, -1) for v in leaves], axis=1)
    mean_and_variance_checks(samples[:, 2:], 0.0, var, "PyTree leaf b")


def test_sampling_path_is_a_pure_function_of_the_key_and_vmaps_over_chains():
    ts = np.linspace(0.0, 1.0, 3)
    one = lambda k: integrate_sde(ou_drift, ou_diffusion, jnp.zeros(4), ts, k, dt=0.1, args=(1.0, 1.0))
    keys = jax.random.split(jax.random.PRNGKey(3), 3)
    batched = jax.vmap(one)(keys)
    for i, k in enumerate(keys):
        np.testing.assert_allclose(batched[i], one(k), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(one(keys[0]), one(keys[0]))
    assert not np.allclose(batched[0, -1], batched[1, -1])


def test_backward_time_reverses_the_drift_and_keeps_the_noise_variance():
    # from t = 1 back to t = 0 with dx = -theta x dt: each step multiplies the mean by (1 + theta h)
    theta, sigma, h = 1.0, 0.5, 0.05
    x = chains(lambda k: integrate_sde(ou_drift, ou_diffusion, jnp.array(1.0), [1.0, 0.0], k, dt=h,
                                       args=(theta, sigma)))
    x = np.asarray(x[:, -1], dtype=np.float64)
    b = 1 + theta * h
    mean_and_variance_checks(x, b**20, sigma**2 * h * sum(b ** (2 * k) for k in range(20)), "reverse EM")


@pytest.mark.slow  # 20 s: the default run's budget; the exact-law tests above check the solvers
def test_strong_orders_of_euler_and_shark_on_additive_noise():
    # the differentiable path gives every solver and every dyadic dt the same Brownian path
    drift = lambda t, x, a: -x + jnp.sin(t)
    keys = jax.random.split(jax.random.PRNGKey(1), 64)

    def endpoint(dt, solver):
        run = lambda k: integrate_sde(drift, lambda t, x, a: 0.7, jnp.array(1.0), [0.0, 1.0], k, dt=dt,
                                      solver=solver, differentiable=True)
        return jax.vmap(run)(keys)[:, -1]

    with jax.enable_x64(True):
        reference = endpoint(2.0**-9, "shark")
        for solver, lowest_order in [("euler", 0.9), ("shark", 1.5)]:
            errors = [float(jnp.sqrt(jnp.mean((endpoint(2.0**-m, solver) - reference) ** 2))) for m in (3, 5)]
            order = np.log2(errors[0] / errors[1]) / 2
            assert order > lowest_order, f"{solver}: strong order {order:.2f} (errors {errors})"


def test_gradients_through_the_sde_solution_match_finite_differences():
    keys = jax.random.split(jax.random.PRNGKey(7), 4)

    def loss(params):
        drift = lambda t, x, a: -a["theta"] * x + a["force"] * jnp.cos(t)
        diffusion = lambda t, x, a: a["sigma"] * (1 + 0.1 * jnp.tanh(x))  # multiplicative
        run = lambda k: integrate_sde(drift, diffusion, params["x0"], [0.0, 0.5, 1.0], k, dt=0.05,
                                      args=params, differentiable=True)
        x = jax.vmap(run)(keys)
        return jnp.mean(x[:, -1] ** 2 + jnp.sin(x[:, 1]))

    params = {"theta": 0.9, "sigma": 0.6, "force": 0.3, "x0": jnp.array([0.5, -1.0])}
    auto, _ = check_grad(loss, params)
    assert np.all(np.abs(auto) > 1e-4)  # every parameter matters, so the check is not vacuous


def test_time_grid_contains_every_save_time_and_respects_dt():
    grid = time_grid(0.0, [0.3, 1.0, 1.05], 0.1)
    for t in (0.0, 0.3, 1.0, 1.05):
        assert np.min(np.abs(grid - t)) < 1e-14
    assert np.max(np.diff(grid)) <= 0.1 + 1e-12
    assert len(grid) == 1 + 3 + 7 + 1


@settings(max_examples=200, deadline=None)
@given(
    t0=st.floats(-10, 10),
    gaps=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=6),
    dt=st.floats(1e-2, 2.0),
)
def test_time_grid_properties(t0, gaps, dt):
    ts = t0 + np.cumsum(gaps)
    grid = time_grid(t0, ts, dt)
    steps = np.diff(grid)
    assert grid[0] == t0 and np.all(steps >= 0) and np.all(steps <= dt * (1 + 1e-9))
    assert all(np.min(np.abs(grid - t)) <= 1e-12 * (1 + abs(t)) for t in ts)
    # no more steps than needed: ceil(gap / dt) per non-empty interval (at least one)
    assert len(grid) - 1 <= sum(max(1, int(np.ceil(g / dt))) for g in gaps if g > 0)


def test_ode_harmonic_oscillator_against_exact_solution_and_gradient():
    ts = np.linspace(0.0, 10.0, 6)

    def solve(omega, **kw):
        f = lambda t, y, w: (y[1], -(w**2) * y[0])
        return integrate_ode(f, (jnp.array(1.0), jnp.array(0.0)), ts, args=omega, **kw)

    with jax.enable_x64(True):
        q, p = solve(1.3, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(q, np.cos(1.3 * ts), atol=1e-8)
        np.testing.assert_allclose(p, -1.3 * np.sin(1.3 * ts), atol=1e-8)
        q_fixed, _ = solve(1.3, dt=0.01, solver="dopri5")
        np.testing.assert_allclose(q_fixed, np.cos(1.3 * ts), atol=1e-8)
        # backwards in time from the state at t = 10 recovers the start
        back = integrate_ode(lambda t, y, w: (y[1], -(w**2) * y[0]), (q[-1], p[-1]), ts[::-1], args=1.3,
                             rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(back[0][-1], 1.0, atol=1e-7)
    auto, _ = check_grad(lambda w: solve(w, rtol=1e-11, atol=1e-12)[0][-1], 1.3, rtol=1e-5)
    np.testing.assert_allclose(auto, -10.0 * np.sin(13.0), rtol=1e-6)  # d cos(w t)/dw = -t sin(w t)


def test_ode_that_needs_too_many_steps_fails_loudly_naming_solver_and_limit():
    with pytest.raises(Exception, match=r"solver 'tsit5' reached max_steps=5"):
        jax.block_until_ready(integrate_ode(lambda t, y, a: -y, jnp.ones(2), [0.0, 100.0], max_steps=5))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dt=0.0), "dt must be a finite number > 0, got 0.0"),
        (dict(dt=-0.1), "dt must be a finite number > 0, got -0.1"),
        (dict(dt=float("nan")), "dt must be a finite number > 0, got nan"),
        (dict(dt=0.1, solver="rk4"), "unknown solver 'rk4'; expected one of"),
        (dict(dt=0.1, ts=[0.0, 1.0, 0.5]), "must run monotonically"),
        (dict(dt=0.1, ts=[]), "non-empty 1D array"),
        (dict(dt=0.1, x0=jnp.array([1.0, jnp.nan])), "initial state x0 is not finite"),
        (dict(dt=0.1, x0=jnp.array([1, 2])), "x0 leaves must be floating point"),
        (dict(dt=0.1, drift=lambda t, x, a: x[:1]), "drift returned shape (1,) for a state leaf of shape (2,)"),
        (dict(dt=0.1, diffusion=lambda t, x, a: jnp.ones(3)), "diffusion returned shape (3,)"),
        (dict(dt=0.1, drift=lambda t, x, a: (x, x)), "drift returned a PyTree of structure"),
    ],
)
def test_bad_input_is_rejected_before_solving(kwargs, message):
    call = dict(drift=ou_drift, diffusion=ou_diffusion, x0=jnp.ones(2), ts=[0.0, 1.0], args=(1.0, 1.0))
    call.update(kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        integrate_sde(call.pop("drift"), call.pop("diffusion"), call.pop("x0"), call.pop("ts"),
                      jax.random.PRNGKey(0), **call)


def test_traced_save_times_are_rejected_with_advice():
    with pytest.raises(ValueError, match="ts must be concrete"):
        jax.jit(lambda ts: integrate_ode(lambda t, y, a: -y, jnp.ones(1), ts))(jnp.array([0.0, 1.0]))

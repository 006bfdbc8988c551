"""Distributed SGD on one device (machines vmapped): closed forms on quadratics, exact expected
suboptimality of noisy local SGD, the biased fixed point of heterogeneous local SGD, the logistic
optimum, and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.distributed as dd
from tests.helpers import assert_within_sigma

KEY = jax.random.PRNGKey(0)


def test_homogeneous_noiseless_closed_forms():
    """zeta = tau = sigma = 0: local SGD is gradient descent with K R steps, mini-batch SGD with R."""
    prob = dd.heterogeneous_quadratic(4, 12)
    lam, x0 = np.asarray(prob.hessian[0], np.float64), np.asarray(prob.x0, np.float64)
    eta, K, R = 0.7, 5, 9
    kw = dict(local_steps=K, rounds=R, step_size=eta)
    local = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, KEY, **kw)
    mb = dd.minibatch_sgd(prob.grad_fn, prob.data, prob.x0, KEY, **kw)
    np.testing.assert_allclose(local.params, (1 - eta * lam) ** (K * R) * x0, rtol=2e-5, atol=1e-8)
    np.testing.assert_allclose(mb.params, (1 - eta * lam) ** R * x0, rtol=2e-5, atol=1e-8)


def test_first_order_heterogeneity_alone_does_not_bias_local_sgd_on_quadratics():
    """tau = 0, zeta > 0: the averaged local iterate still follows gradient descent on F exactly."""
    prob = dd.heterogeneous_quadratic(6, 10, zeta=3.0)
    assert float(prob.zeta) == pytest.approx(3.0, rel=1e-6) and float(prob.tau) < 1e-7
    lam, x0 = np.asarray(prob.hessian[0], np.float64), np.asarray(prob.x0, np.float64)
    res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, KEY, local_steps=7, rounds=6, step_size=0.5)
    np.testing.assert_allclose(res.params, (1 - 0.5 * lam) ** 42 * x0, rtol=1e-4, atol=1e-6)


def test_accelerated_matches_an_independent_ac_sa_recursion():
    prob = dd.heterogeneous_quadratic(2, 8, zeta=1.0)  # tau = 0: the mini-batch gradient is exact
    lam, x0 = np.asarray(prob.hessian[0], np.float64), np.asarray(prob.x0, np.float64)
    eta, R = 0.4, 15
    x, x_ag = x0.copy(), x0.copy()
    for t in range(1, R + 1):  # Lan (2012), beta_t = (t+1)/2, gamma_t = (t+1) eta/2
        beta, gamma = (t + 1) / 2, (t + 1) * eta / 2
        x_md = x / beta + (1 - 1 / beta) * x_ag
        x = x - gamma * lam * x_md
        x_ag = x / beta + (1 - 1 / beta) * x_ag
    res = dd.accelerated_minibatch_sgd(prob.grad_fn, prob.data, prob.x0, KEY, local_steps=3, rounds=R, step_size=eta)
    np.testing.assert_allclose(res.params, x_ag, rtol=1e-4, atol=1e-7)


def test_local_sgd_with_one_local_step_is_minibatch_sgd_step_by_step():
    prob = dd.heterogeneous_quadratic(4, 10, zeta=1.0, tau=0.5, sigma=2.0)
    kw = dict(local_steps=1, rounds=20, step_size=0.3, record=lambda x: x)
    a = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, KEY, **kw)
    b = dd.minibatch_sgd(prob.grad_fn, prob.data, prob.x0, KEY, **kw)
    np.testing.assert_allclose(a.trace, b.trace, rtol=1e-5, atol=1e-7)
    assert float(jnp.max(jnp.abs(a.trace[-1] - a.trace[0]))) > 0.05  # it moved


def _expected_suboptimality(lam, x0, eta, steps, noise_var):
    """E[F(x_T)] for x <- (1 - eta lam) x - eta xi, Var xi = noise_var per coordinate."""
    c = (1 - eta * lam) ** 2
    return 0.5 * np.sum(lam * (c**steps * x0**2 + eta**2 * noise_var * (1 - c**steps) / (1 - c)))


def test_homogeneous_noisy_local_sgd_matches_sgd_theory_with_KR_steps():
    """tau = 0 (any zeta): local SGD's average is SGD with K R steps and noise sigma^2/(d M);
    mini-batch SGD is SGD with R steps and noise sigma^2/(d M K). Expectations are exact."""
    M, d, K, R, sigma, eta, n = 4, 6, 4, 10, 1.0, 0.5, 400
    prob = dd.heterogeneous_quadratic(M, d, zeta=1.0, sigma=sigma, decay=1.0)
    lam, x0 = np.asarray(prob.hessian[0], np.float64), np.asarray(prob.x0, np.float64)
    keys = jax.random.split(jax.random.PRNGKey(1), n)
    for alg, steps, var in (("local", K * R, sigma**2 / (d * M)), ("minibatch", R, sigma**2 / (d * M * K))):
        run = jax.jit(jax.vmap(lambda k: prob.suboptimality(dd.run_rounds(
            alg, prob.grad_fn, prob.data, prob.x0, k, eta, local_steps=K, rounds=R)[0])))
        sub = np.asarray(run(keys), np.float64)
        assert_within_sigma(sub.mean(), _expected_suboptimality(lam, x0, eta, steps, var),
                            sub.std(ddof=1) / np.sqrt(n), n_sigma=4, what=f"{alg} E[F - F*]")


def test_heterogeneous_local_sgd_converges_to_its_biased_fixed_point():
    """tau > 0, zeta > 0, no noise: local SGD converges to the closed-form fixed point
    x = -mean(g (1 - c^K)/h) / (1 - mean(c^K)), c = 1 - eta h, which is not x* = 0."""
    prob = dd.heterogeneous_quadratic(4, 3, zeta=1.0, tau=0.6, decay=0.5, dtype=jnp.float32)
    h, g = np.asarray(prob.hessian, np.float64), np.asarray(prob.linear, np.float64)
    eta, K = 0.5, 6
    c = (1 - eta * h) ** K
    fixed = -np.mean(g * (1 - c) / h, 0) / (1 - np.mean(c, 0))
    res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, KEY, local_steps=K, rounds=200, step_size=eta)
    assert np.min(np.abs(fixed)) > 0.05  # biased
    np.testing.assert_allclose(res.params, fixed, rtol=1e-4, atol=1e-6)
    mb = dd.minibatch_sgd(prob.grad_fn, prob.data, prob.x0, KEY, local_steps=K, rounds=200, step_size=eta)
    assert float(prob.suboptimality(mb.params)) < 1e-3 * float(prob.suboptimality(res.params))


def test_logistic_optimum_is_exact_and_sgd_approaches_it():
    prob = dd.heterogeneous_logistic(jax.random.PRNGKey(2), 4, 50, 5, shift=2.0, reg=0.05, batch_size=10)
    jax.config.update("jax_enable_x64", True)
    try:
        w = jnp.asarray(prob.w_star, jnp.float64)
        obj = lambda w: (jnp.mean(jnp.logaddexp(0.0, -prob.labels.astype(jnp.float64) * jnp.einsum(
            "mnd,d->mn", prob.features.astype(jnp.float64), w))) + 0.5 * prob.reg * jnp.sum(w**2))
        assert float(jnp.linalg.norm(jax.grad(obj)(w))) < 1e-6  # float32-rounded optimum
    finally:
        jax.config.update("jax_enable_x64", False)
    res = dd.minibatch_sgd(prob.grad_fn, prob.data, jnp.zeros(5), KEY, local_steps=4, rounds=150, step_size=0.5,
                           record=prob.suboptimality)
    sub = np.asarray(res.trace)
    assert np.all(sub > -1e-5) and sub[-1] < 0.02 * sub[0]


def test_communication_bytes_and_result_fields():
    prob = dd.heterogeneous_quadratic(6, 10)
    res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, KEY, local_steps=2, rounds=3, step_size=0.1)
    assert res.bytes_per_round == 6 * 10 * 4 and res.machines == 6 and res.devices == 1
    assert res.sq_norm.shape == (4,)


@pytest.mark.parametrize("kw, match", [
    (dict(local_steps=0), "local_steps K"),
    (dict(rounds=-1), "rounds R"),
    (dict(step_size=-0.1), "step_size"),
])
def test_bad_sizes_raise(kw, match):
    prob = dd.heterogeneous_quadratic(2, 4)
    args = dict(local_steps=2, rounds=3, step_size=0.1) | kw
    with pytest.raises(ValueError, match=match):
        dd.local_sgd(prob.grad_fn, prob.data, prob.x0, KEY, **args)


def test_no_machines_and_bad_problem_raise():
    prob = dd.heterogeneous_quadratic(2, 4)
    empty = {k: v[:0] for k, v in prob.data.items()}
    with pytest.raises(ValueError, match="machines M"):
        dd.minibatch_sgd(prob.grad_fn, empty, prob.x0, KEY, local_steps=1, rounds=1, step_size=0.1)
    with pytest.raises(ValueError, match="machines=3"):
        dd.heterogeneous_quadratic(3, 4, zeta=1.0)
    with pytest.raises(ValueError, match="tau=1.5"):
        dd.heterogeneous_quadratic(2, 4, tau=1.5)
    with pytest.raises(ValueError, match="mesh of 2 devices is larger"):
        dd.machine_mesh(len(jax.devices()) + 1)


def test_diverging_step_size_names_the_round():
    prob = dd.heterogeneous_quadratic(2, 4)
    eta = 10.0  # |1 - eta lam_1| = 9: |x_r|^2 grows by ~81 per round
    x_sq = lambda r: np.sum(((1 - eta * np.asarray(prob.hessian[0], np.float64)) ** r * np.asarray(prob.x0)) ** 2)
    first = next(r for r in range(100) if x_sq(r) > 1e12)
    with pytest.raises(dd.DivergenceError, match=f"diverged at round {first} of 50.*step_size=10.0"):
        dd.minibatch_sgd(prob.grad_fn, prob.data, prob.x0, KEY, local_steps=1, rounds=50, step_size=eta)


def test_data_parallel_batch_must_divide_over_machines():
    import equinox as eqx

    model = eqx.nn.Linear(2, 2, key=KEY)
    loss = lambda m, b, k: jnp.mean((jax.vmap(m)(b) - b) ** 2)
    with pytest.raises(ValueError, match="30 samples do not divide over machines M=4"):
        dd.data_parallel_sgd(loss, model, jnp.zeros((30, 2)), KEY, machines=4, local_steps=1, rounds=1,
                             batch_size=2, step_size=0.1)


def test_step_size_sweep_equals_single_runs():
    """The vmap-of-vmap sweep gives, for every (step size, seed), the trace of a single run."""
    prob = dd.heterogeneous_quadratic(4, 6, zeta=1.0, tau=0.3, sigma=0.5)
    keys, etas = jax.random.split(KEY, 2), jnp.asarray([0.5, 0.25, 0.125])
    sub = dd.step_size_sweep("local", prob, keys, etas, local_steps=3, rounds=5)
    assert sub.shape == (3, 2, 6)
    for i, eta in enumerate(etas):
        for j, key in enumerate(keys):
            res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, local_steps=3, rounds=5, step_size=float(eta),
                               record=prob.suboptimality)
            np.testing.assert_allclose(sub[i, j], res.trace, rtol=1e-6)
    with pytest.raises(ValueError, match="rounds R"):
        dd.step_size_sweep("local", prob, keys, etas, local_steps=3, rounds=0)

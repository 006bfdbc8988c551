"""U(1) diffusion: wrapped-noise DSM target, exact gauge covariance of the plaquette score, the
zero-noise limit and the physics conditioning against the exact drift, the HMC refinement against
u1_exact, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

import dphys.diffusion as dd
from dphys.lattice import U1Action, gauge_transform, plaquette_angles, u1_exact, u1_observables
from dphys.lattice.u1_diffusion import (
    ConditionedU1Score,
    U1Score,
    U1ScoreNet,
    check_links,
    hmc_refine,
    local_plaquette_field,
    one_plaquette_field,
    plaquette_adjoint,
    sample_u1,
    topological_field,
    topological_log_weight,
    u1_dsm_loss,
    u1_proposals,
    villain_beta,
    wrapped_normal_log_prob,
    wrapped_normal_score,
)
from tests.helpers import assert_within_sigma

L = 4


@pytest.fixture(scope="module")
def score():
    net = U1ScoreNet(8, 2, key=jax.random.PRNGKey(0))
    # a non-trivial residual: scale up the (small) initial projection
    net = eqx.tree_at(lambda n: n.project.weight, net, 20 * net.project.weight)
    return U1Score(net, dd.VEGeometric(0.01, 3.0), beta=1.0, L=L)


def _links(key, n=None):
    shape = (2, L, L) if n is None else (n, 2, L, L)
    return jax.random.uniform(key, shape, minval=-np.pi, maxval=np.pi)


def test_wrapped_normal_score_matches_finite_differences():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x = rng.uniform(-np.pi, np.pi, 40)
        x0 = rng.uniform(-np.pi, np.pi, 40)
        for s in (0.05, 0.3, 1.0, 2.5):
            def log_density(x):  # many images, no shortcut
                k = np.arange(-30, 31)
                d = x[:, None] - x0[:, None] + 2 * np.pi * k
                return scipy.special.logsumexp(-0.5 * (d / s) ** 2, axis=1)

            h = 1e-6
            fd = (log_density(x + h) - log_density(x - h)) / (2 * h)
            ours = np.asarray(wrapped_normal_score(jnp.asarray(x), jnp.asarray(x0), s))
            np.testing.assert_allclose(ours, fd, rtol=1e-6, atol=1e-6 / s**2, err_msg=f"s={s}")
            # 2 pi periodic in x
            np.testing.assert_allclose(np.asarray(wrapped_normal_score(jnp.asarray(x + 2 * np.pi), x0, s)), ours,
                                       atol=1e-9)


def test_plaquette_adjoint_is_the_transpose_and_gives_the_exact_drift():
    x = _links(jax.random.PRNGKey(1))
    h = jax.random.normal(jax.random.PRNGKey(2), (L, L))
    _, vjp = jax.vjp(plaquette_angles, x)
    np.testing.assert_allclose(plaquette_adjoint(h), vjp(h)[0], atol=1e-6)
    drift = -jax.grad(U1Action(2.5))(x)
    np.testing.assert_allclose(plaquette_adjoint(-2.5 * jnp.sin(plaquette_angles(x))), drift, atol=1e-5)


def test_score_is_exactly_gauge_invariant_translation_equivariant_and_periodic(score):
    x = _links(jax.random.PRNGKey(3))
    t = 0.4
    score = eqx.filter_jit(score)
    base = score(x, t)
    alpha = jax.random.uniform(jax.random.PRNGKey(4), (L, L), minval=-np.pi, maxval=np.pi)
    np.testing.assert_allclose(score(gauge_transform(x, alpha), t), base, atol=2e-5)
    np.testing.assert_allclose(score(jnp.roll(x, (1, 2), axis=(1, 2)), t), jnp.roll(base, (1, 2), axis=(1, 2)),
                               atol=2e-5)
    shift = 2 * np.pi * jax.random.randint(jax.random.PRNGKey(5), x.shape, -2, 3)
    np.testing.assert_allclose(score(x + shift, t), base, atol=2e-5)
    assert float(jnp.max(jnp.abs(base))) > 0.1  # not trivially zero


def test_conditioning_against_its_definition_and_the_exact_drift(score):
    x = _links(jax.random.PRNGKey(6))
    t = 0.5
    _, s = score.process.mean_std(t)
    tp = plaquette_angles(x)
    r = score.net(tp, jnp.log(s))
    for mode, rho in (("scale", 5.0), ("villain", 5.0 * (1 + 4 * s**2) / (1 + 20 * s**2)), ("keep", 1.0),
                      ("drop", 0.0)):
        cond = ConditionedU1Score(score, 5.0, s_exact=0.0, mode=mode)
        np.testing.assert_allclose(cond.ratio(s), rho, rtol=1e-6)
        # the analytic physics field at the target beta plus the learned residual times rho
        h = local_plaquette_field(tp, 5.0, s) + topological_field(tp, 5.0, s) + rho * r
        np.testing.assert_allclose(cond(x, t), plaquette_adjoint(h), rtol=1e-5, atol=1e-5, err_msg=mode)
    # at the training beta with the residual kept, the conditioned score is the score itself
    np.testing.assert_allclose(ConditionedU1Score(score, 1.0, s_exact=0.0, mode="keep")(x, t), score(x, t), atol=1e-5)
    local = U1Score(score.net, score.process, 1.0, L, topological=False)
    np.testing.assert_allclose(local(x, t), plaquette_adjoint(local_plaquette_field(tp, 1.0, s) + r), atol=1e-5)
    # the exact-drift blend: at s << s_exact the target drift, whatever the network says
    cond = ConditionedU1Score(score, 7.0, s_exact=1.0, mode="scale")
    t_small = score.process.t_of_std(0.01)
    np.testing.assert_allclose(cond(x, t_small), -jax.grad(U1Action(7.0))(x), rtol=2e-3, atol=2e-3)


def test_local_field_against_quadrature_and_the_gaussian_limit():
    # one plaquette: e^{beta cos} convolved with N(0, 4 s^2), against float64 quadrature on a fine grid
    theta = np.linspace(-np.pi, np.pi, 41)
    for beta, s in ((1.0, 0.0), (7.0, 0.05), (7.0, 0.3), (15.0, 0.25), (3.0, 1.0)):
        eps = np.linspace(-24 * s, 24 * s, 20001) if s > 0 else np.zeros(1)
        e = (-0.5 * (eps / (2 * s)) ** 2 if s > 0 else 0.0) + beta * np.cos(theta[:, None] - eps)
        p = np.exp(e - e.max(1, keepdims=True))
        exact = np.sum(p * -beta * np.sin(theta[:, None] - eps), 1) / p.sum(1)
        np.testing.assert_allclose(one_plaquette_field(jnp.asarray(theta, jnp.float32), beta, s), exact,
                                   atol=2.5e-3 * beta, err_msg=f"beta={beta} s={s}")
    # at zero noise the local field is the exact Wilson drift
    t = jnp.asarray(np.random.default_rng(1).uniform(-np.pi, np.pi, (4, 4)), jnp.float32)
    np.testing.assert_allclose(local_plaquette_field(t, 7.0, 0.0), -7.0 * jnp.sin(t), atol=1e-4)
    # large beta, windings decided: the exact score of lifted plaquettes N(0, C), C = 1/beta_V + s^2 Delta
    # (Delta: plaquette Laplacian), from a dense solve; the uniform mode, which plaquette_adjoint
    # removes, is left out of the comparison
    n = 4
    idx = np.arange(n * n).reshape(n, n)
    lap = 4 * np.eye(n * n)
    for shift in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        lap[idx.reshape(-1), np.roll(idx, shift, axis=(0, 1)).reshape(-1)] -= 1
    small = np.random.default_rng(2).normal(0, 0.05, (n, n))
    beta, s = 400.0, 0.02
    bv = float(villain_beta(beta))
    exact = -np.linalg.solve(np.eye(n * n) / bv + s**2 * lap, small.reshape(-1)).reshape(n, n)
    ours = np.asarray(local_plaquette_field(jnp.asarray(small, jnp.float32), beta, s))
    np.testing.assert_allclose(ours - ours.mean(), exact - exact.mean(), rtol=0.02, atol=0.02 * np.abs(exact).max())
    # no force from very large noise
    assert float(jnp.max(jnp.abs(local_plaquette_field(t, 3.0, 3.0)))) < 1e-3


def test_villain_beta_and_the_topological_weight_against_enumeration():
    # the Villain coupling reproduces the Wilson plaquette I_1/I_0 = exp(-1/(2 beta_V))
    for beta in (0.5, 1.0, 7.0):
        ratio = scipy.special.i1(beta) / scipy.special.i0(beta)
        assert float(villain_beta(beta)) == pytest.approx(-0.5 / np.log(ratio), rel=1e-5)
    assert float(villain_beta(1.0)) == pytest.approx(0.62, abs=0.01)
    theta = jnp.array([[0.3, -1.2], [2.0, -0.4]])
    assert float(topological_log_weight(theta, 5.0, 0.0)) == 0.0  # no noise: nothing is missing
    np.testing.assert_array_equal(topological_field(theta, 5.0, 0.0), 0.0)
    # against the exact sum over independent windings j_P (|j| <= 4, by convolution):
    # E[exp(-a Q0^2)], Q0 = sum_P (theta_P + 2 pi j_P)/2 pi, weights N(theta + 2 pi j; 0, v)
    rng = np.random.default_rng(0)
    for L_, beta, s, tol in ((8, 50.0, 0.02, 1e-4), (8, 7.0, 0.5, 0.2), (8, 7.0, 0.8, 0.05), (16, 3.0, 0.5, 0.05)):
        bv = float(villain_beta(beta))
        v = 1 / bv + 4 * s**2
        a = 2 * np.pi**2 * (bv - bv / (1 + 4 * bv * s**2)) / L_**2
        # plaquettes of a noised ensemble, one moved so that they sum to 2 pi Q (a valid configuration)
        theta = np.angle(np.exp(1j * rng.normal(0, np.sqrt(v), (L_, L_))))
        theta[0, 0] -= theta.sum() - 2 * np.pi * np.round(theta.sum() / (2 * np.pi))
        theta = np.angle(np.exp(1j * theta))
        d = theta.reshape(-1, 1) + 2 * np.pi * np.arange(-4, 5)
        p = np.exp(-0.5 * d**2 / v)
        p /= p.sum(1, keepdims=True)
        dist = np.array([1.0])
        for row in p:
            dist = np.convolve(dist, row)
        q0 = theta.sum() / (2 * np.pi) + np.arange(len(dist)) - 4 * L_**2
        exact = np.log(np.sum(dist * np.exp(-a * q0**2)))
        ours = float(topological_log_weight(jnp.asarray(theta), beta, s))
        assert ours == pytest.approx(exact, abs=tol), (L_, beta, s)


@pytest.mark.slow
def test_dsm_loss_is_finite_and_differentiable(score):  # the loss is trained in the workflow test
    x0 = _links(jax.random.PRNGKey(7), 8)
    loss, grads = eqx.filter_jit(eqx.filter_value_and_grad(lambda m: u1_dsm_loss(m, x0, jax.random.PRNGKey(8))))(score)
    assert np.isfinite(float(loss)) and loss > 0
    assert float(jnp.max(jnp.abs(grads.net.project.weight))) > 0


@pytest.mark.slow  # 13 s; HMC itself is checked against u1_exact in tests/workflows/test_lattice_mc.py
def test_hmc_refine_reaches_the_exact_plaquette():
    """From configurations far from equilibrium (uniform links), 30 trajectories at beta = 2 on 4x4
    give the exact plaquette within 4 standard errors (fixed seed)."""
    x = _links(jax.random.PRNGKey(9), 256)
    y, acc = hmc_refine(jax.random.PRNGKey(10), x, 2.0, n_trajectories=30)
    assert 0.6 < acc <= 1
    obs = u1_observables(np.asarray(y))
    exact = u1_exact(2.0, L)
    assert_within_sigma(obs["plaquette"].value, exact["plaquette"], obs["plaquette"].error, 4.0, "plaquette")
    assert_within_sigma(obs["chi_t"].value, exact["chi_t"], obs["chi_t"].error, 4.0, "chi_t")


@pytest.mark.slow
def test_sample_u1_shapes_and_wrapping(score):  # sample_u1 runs in the workflow test too
    x = sample_u1(ConditionedU1Score(score, 2.0), jax.random.PRNGKey(11), L, 5, steps=5)
    assert x.shape == (5, 2, L, L)
    assert float(jnp.max(jnp.abs(x))) <= np.pi + 1e-6


def test_wrapped_normal_log_prob_is_a_normalised_periodic_density():
    with jax.enable_x64(True):
        x = jnp.linspace(-np.pi, np.pi, 2001, dtype=jnp.float64)[:-1]
        p = jnp.exp(jax.vmap(lambda v: wrapped_normal_log_prob(v, 1.3))(x))
        np.testing.assert_allclose(float(jnp.sum(p) * (x[1] - x[0])), 1.0, rtol=1e-12)
    v = jnp.array([0.3, -2.0, 3.0])
    np.testing.assert_allclose(float(wrapped_normal_log_prob(v + 2 * np.pi * jnp.array([1, -3, 2]), 1.3)),
                               float(wrapped_normal_log_prob(v, 1.3)), rtol=1e-6)
    direct = sum(np.log(sum(np.exp(-0.5 * ((a + 2 * np.pi * k) / 1.3) ** 2) for k in range(-30, 31))
                        / np.sqrt(2 * np.pi * 1.3**2)) for a in np.asarray(v, np.float64))
    np.testing.assert_allclose(float(wrapped_normal_log_prob(v, 1.3)), direct, rtol=1e-6)


def test_independence_metropolis_with_u1_proposals_is_exact():
    """Heun proposals (8 steps) of the analytic physics field at beta = 0.5 (no network), far too
    disordered for the target beta = 1 on 4x4 (plaquette 0.24 against 0.45; a proposal wider than
    the target keeps the weights p/q bounded), corrected with their exact torus density: plaquette
    and chi_t agree with u1_exact within 4 standard errors (fixed seed)."""
    net = U1ScoreNet(4, 1, key=jax.random.PRNGKey(12))
    model = ConditionedU1Score(U1Score(net, dd.VEGeometric(0.01, 3.0), beta=1.0, L=L), 0.5, mode="drop")
    x, log_q = u1_proposals(model, jax.random.PRNGKey(13), L, 2000, steps=8)
    assert float(jnp.max(jnp.abs(x))) <= np.pi + 1e-6
    log_p = jax.vmap(lambda u: -U1Action(jnp.asarray(1.0))(u))(x)
    chain, acceptance = dd.metropolis_correct(jax.random.PRNGKey(14), x, log_q, log_p)
    assert 0.05 < acceptance < 1
    exact = u1_exact(1.0, L)
    obs = u1_observables(np.asarray(chain))
    for name in ("plaquette", "chi_t"):
        assert_within_sigma(obs[name].value, exact[name], obs[name].error, 4.0, name)
    raw = u1_observables(np.asarray(x))
    assert abs(raw["plaquette"].value - exact["plaquette"]) > 20 * raw["plaquette"].error


@pytest.mark.slow  # 8000 proposals of 10 Heun steps with 32x32 Jacobians: about 40 s
def test_exact_metropolis_rejects_folded_proposals_at_beta_7():
    """The analytic physics field alone at beta = 7 (L = 4, 10 Heun steps) folds: a quarter of the
    proposals pass through a step with det J < 0, where the single-term density is wrong. With
    those rejected (the default) the chain gives the exact plaquette and chi_t within 4 standard
    errors; with the sign-blind density (fold="ignore", the former behaviour) the plaquette is
    more than 4 standard errors low (5.8 measured; its chi_t is 7 times the exact value but with
    an error as large as itself). Fixed seeds."""
    beta = 7.0
    net = U1ScoreNet(4, 1, key=jax.random.PRNGKey(12))
    model = ConditionedU1Score(U1Score(net, dd.VEGeometric(0.01, 3.0), beta=1.0, L=L), beta, mode="drop",
                               max_ratio=10)
    key = jax.random.PRNGKey(13)
    x, log_q = u1_proposals(model, key, L, 8000, steps=10)
    log_p = jax.vmap(lambda u: -U1Action(jnp.asarray(beta))(u))(x)
    exact = u1_exact(beta, L)
    chain, acceptance = dd.metropolis_correct(jax.random.PRNGKey(14), x, log_q, log_p)
    obs = u1_observables(np.asarray(chain))
    for name in ("plaquette", "chi_t"):
        assert_within_sigma(obs[name].value, exact[name], obs[name].error, 4.0, name)
    folded = np.isinf(np.asarray(log_q))
    assert 0.2 < folded.mean() < 0.3
    x_blind, log_q_blind = u1_proposals(model, key, L, 8000, steps=10, fold="ignore")
    np.testing.assert_array_equal(np.asarray(x_blind), np.asarray(x))
    blind, _ = dd.metropolis_correct(jax.random.PRNGKey(14), x, log_q_blind, log_p)
    p = u1_observables(np.asarray(blind))["plaquette"]
    assert (exact["plaquette"] - p.value) / p.error > 4.0


def test_bad_input(score):
    with pytest.raises(ValueError, match=r"2, L, L\)"):
        check_links(np.zeros((3, L, L)))
    with pytest.raises(ValueError, match=r"2, L, L\)"):
        score(jnp.zeros((2, L, L + 1)), 0.5)
    with pytest.raises(ValueError, match="trained on 4x4"):
        score(jnp.zeros((2, 6, 6)), 0.5)
    assert score.on_lattice(6)(jnp.zeros((2, 6, 6)), 0.5).shape == (2, 6, 6)  # the documented transfer
    with pytest.raises(ValueError, match="trained on 4x4"):
        sample_u1(score, jax.random.PRNGKey(0), 6, 2, steps=2)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            U1Score(score.net, score.process, bad, L)
        with pytest.raises(ValueError, match="beta_target"):
            ConditionedU1Score(score, bad)
        with pytest.raises(ValueError, match="beta"):
            hmc_refine(jax.random.PRNGKey(0), jnp.zeros((2, 2, L, L)), bad)
    with pytest.warns(UserWarning, match="beyond the factor"):
        ConditionedU1Score(score, 50.0)
    with pytest.raises(ValueError, match="mode"):
        ConditionedU1Score(score, 2.0, mode="magic")
    with pytest.raises(ValueError, match="variance-exploding"):
        U1Score(score.net, dd.VP(), 1.0, L)

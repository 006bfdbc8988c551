"""The U(1) generator (dphys.generative.u1): exact gauge covariance of the plaquette score, the
physics conditioning (every mode, DM4U1's included) against its definition and the exact drift,
the annealed Langevin sampler's Metropolis step and the HMC refinement against u1_exact, the
exact independence Metropolis, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.diffusion as dd
from dphys.generative.u1 import (
    ConditionedU1Score,
    U1Score,
    annealed_langevin,
    diffusion_ensemble,
    hmc_refine,
    sample_u1,
    train_u1_score,
    u1_dsm_loss,
    u1_exact_metropolis,
    u1_hmc_ensemble,
    u1_proposals,
)
from dphys.lattice import (
    U1Action,
    check_links,
    gauge_transform,
    local_plaquette_field,
    plaquette_adjoint,
    plaquette_angles,
    topological_field,
    u1_exact,
    u1_observables,
)
from dphys.nn import U1ScoreNet
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
    # DM4U1: the whole score learned at beta = 1 (physics field there + residual) times 5 / 1
    cond = ConditionedU1Score(score, 5.0, s_exact=0.0, mode="dm4u1")
    h = 5.0 * (local_plaquette_field(tp, 1.0, s) + topological_field(tp, 1.0, s) + r)
    np.testing.assert_allclose(cond(x, t), plaquette_adjoint(h), rtol=1e-5, atol=1e-5, err_msg="dm4u1")
    np.testing.assert_allclose(cond(x, t), 5.0 * score(x, t), rtol=1e-5, atol=1e-5)
    # at the training beta with the residual kept, the conditioned score is the score itself
    np.testing.assert_allclose(ConditionedU1Score(score, 1.0, s_exact=0.0, mode="keep")(x, t), score(x, t), atol=1e-5)
    local = U1Score(score.net, score.process, 1.0, L, topological=False)
    np.testing.assert_allclose(local(x, t), plaquette_adjoint(local_plaquette_field(tp, 1.0, s) + r), atol=1e-5)
    # the exact-drift blend: at s << s_exact the target drift, whatever the network says
    cond = ConditionedU1Score(score, 7.0, s_exact=1.0, mode="scale")
    t_small = score.process.t_of_std(0.01)
    np.testing.assert_allclose(cond(x, t_small), -jax.grad(U1Action(7.0))(x), rtol=2e-3, atol=2e-3)


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


def test_annealed_langevin_metropolis_step_is_exact():
    """Every step of DM4U1's annealed Langevin sampler Metropolis-adjusted (s_metropolis above the
    largest noise) at the exact action at beta = 1 on 4x4, whatever the (untrained) score's drift:
    from the prior, 40 levels x 3 steps give the exact plaquette and chi_t within 4 standard
    errors (128 independent chains, fixed seed); without the Metropolis step (s_metropolis = 0)
    the same drift, DM4U1's whole score scaled from beta = 1 to 1.5, misses the plaquette of
    beta = 1.5 by more than 4 standard errors."""
    net = U1ScoreNet(4, 1, key=jax.random.PRNGKey(30))
    base = U1Score(net, dd.VEGeometric(0.01, 3.0), beta=1.0, L=L)
    cond = ConditionedU1Score(base, 1.0, s_exact=0.0, mode="dm4u1")
    x, acc = annealed_langevin(cond, jax.random.PRNGKey(31), L, 128, levels=40, n_langevin=3, s_metropolis=10.0)
    assert 0.2 < float(acc) < 1
    obs, exact = u1_observables(np.asarray(x)), u1_exact(1.0, L)
    for name in ("plaquette", "chi_t"):
        assert_within_sigma(obs[name].value, exact[name], obs[name].error, 4.0, name)
    x2, acc2 = annealed_langevin(ConditionedU1Score(base, 1.5, s_exact=0.0, mode="dm4u1"), jax.random.PRNGKey(31),
                                 L, 128, levels=40, n_langevin=3, s_metropolis=0.0)
    assert float(acc2) == 1.0
    p = u1_observables(np.asarray(x2))["plaquette"]
    assert abs(p.value - u1_exact(1.5, L)["plaquette"]) > 4 * p.error


@pytest.mark.slow  # 13 s; like tests/test_jit_vmap.py, the jit/vmap checks run with -m slow
def test_annealed_langevin_under_jit_and_vmap(score):
    cond = ConditionedU1Score(score, 2.0, mode="dm4u1")

    def run(key):
        return annealed_langevin(cond, key, L, 2, levels=3, n_langevin=1, s_metropolis=1.0)

    keys = jax.random.split(jax.random.PRNGKey(40), 2)
    x, acc = jax.jit(run)(keys[0])  # the eager call is itself one jitted scan
    xv, accv = jax.vmap(run)(keys)
    np.testing.assert_allclose(xv[0], x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(accv[0], acc, rtol=1e-6)
    assert xv.shape == (2, 2, 2, L, L) and float(jnp.max(jnp.abs(xv[1] - x))) > 0.1 and 0 <= float(accv[1]) <= 1


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
    with pytest.raises(ValueError, match="sampler"):
        sample_u1(score, jax.random.PRNGKey(0), L, 2, sampler="ode")
    with pytest.raises(ValueError, match="s_metropolis"):
        annealed_langevin(score, jax.random.PRNGKey(0), L, 2, s_metropolis=-1.0)
    with pytest.raises(ValueError, match="n >= 2|expected >= 2"):
        u1_exact_metropolis(score, 2.0, jax.random.PRNGKey(0), n=1)
    kw = dict(chains=2, samples=4, therm=2, n_leapfrog=2, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="start"):
        u1_hmc_ensemble(2.0, L, start="warm", **kw)
    with pytest.raises(ValueError, match="beta"):
        u1_hmc_ensemble(-2.0, L, **kw)
    with pytest.raises(ValueError, match="s_min"):
        train_u1_score(np.zeros((4, 2, L, L)), 1.0, width=2, depth=1, s_min=3.0, s_max=1.0, steps=1, batch_size=2,
                       lr=1e-3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="n_refine"):
        diffusion_ensemble(score, 2.0, jax.random.PRNGKey(0), n=2, n_refine=-1)

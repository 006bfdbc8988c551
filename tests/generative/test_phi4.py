"""dphys.generative.phi4 against exact results: the free field (lam = 0), where the zero mode gives
Var(M) = 1 / (2 V (1 - 2 kappa d)) and equipartition <S>/V = 1/2, sampled by an independence-Metropolis
chain over Gaussian proposals with their exact log q and (slow) by HMC; two HMC ensembles of the
interacting theory from two keys; tau_int of an AR(1)
magnetisation against (1 + rho^2) / (2 (1 - rho^2)) (M^2 of a Gaussian AR(1)); the block rule of
phi4_estimates; bad input."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.generative import phi4 as g
from dphys.lattice import Phi4Action, phi4_observables
from dphys.stats import Estimate

L, KAPPA = 4, 0.1
V, D = L * L, 2
FREE = Phi4Action(kappa=KAPPA, lam=0.0)
CHI2 = 1 / (2 * (1 - 2 * KAPPA * D))  # V Var(M) of the free field (zero mode)


def _within(est, exact, n_sigma=3.0):
    assert est.error > 0
    assert abs(est.value - exact) < n_sigma * est.error, (est, exact)


# the action and shapes of tests/workflows/test_phi4_diffusion.py (L = 4, 4 chains, 150 samples, 30
# adaptation steps): the HMC runner is compiled once for both (an action with other couplings recompiles)
WORKFLOW_ACTION = Phi4Action(kappa=0.27, lam=0.022)
HMC_SHAPE = dict(chains=4, samples=150, n_adapt=30)


@pytest.fixture(scope="module")
def hmc():
    return g.phi4_hmc_ensemble(WORKFLOW_ACTION, L, **HMC_SHAPE, key=jax.random.PRNGKey(1))


def test_hmc_ensemble_shapes_and_tau(hmc):
    assert hmc.samples.shape == (150, 4, L, L)
    assert 0.5 < hmc.acceptance <= 1 and hmc.step_size > 0
    tau, err = g.chain_tau(hmc.samples, WORKFLOW_ACTION)
    assert hmc.tau == tau and hmc.tau_error == err and tau > 0.5  # near the transition: correlated


def test_independent_ensembles_from_two_keys_differ_and_agree(hmc):
    other = g.phi4_hmc_ensemble(WORKFLOW_ACTION, L, **HMC_SHAPE, key=jax.random.PRNGKey(2))
    assert not np.allclose(other.samples[0], hmc.samples[0])
    devs = g.deviations(g.phi4_estimates(other.samples, WORKFLOW_ACTION, other.tau),
                        g.phi4_estimates(hmc.samples, WORKFLOW_ACTION, hmc.tau))
    assert max(devs.values()) < 3, devs


@pytest.mark.slow  # 15 s: its own compilation of the HMC runner
def test_hmc_ensemble_of_the_free_field_is_exact():
    ens = g.phi4_hmc_ensemble(FREE, L, chains=4, samples=600, n_adapt=100, key=jax.random.PRNGKey(1))
    obs = g.phi4_estimates(ens.samples, FREE, ens.tau)
    _within(obs["chi2"], CHI2)
    _within(obs["action_density"], 0.5)


def test_metropolis_over_gaussian_proposals_is_exact():
    """Proposals N(0, s^2) per site with their exact log q: the corrected chain samples e^{-S}."""
    n, s = 3000, 0.9
    k_x, k_mh = jax.random.split(jax.random.PRNGKey(3))
    x = s * jax.random.normal(k_x, (n, L, L))
    log_q = -jnp.sum(x**2, axis=(1, 2)) / (2 * s**2) - V * math.log(s * math.sqrt(2 * math.pi))
    mh = g.phi4_metropolis(k_mh, FREE, x, log_q)
    assert 0.1 < mh.acceptance < 0.95 and mh.folded_fraction == 0 and mh.n_distinct > n // 10
    assert mh.tau is not None and mh.tau > 0.5
    obs = g.phi4_estimates(mh.chain, FREE, mh.tau)
    _within(obs["chi2"], CHI2)
    _within(obs["action_density"], 0.5)


def test_chain_tau_of_an_ar1_magnetisation():
    rho, n = 0.8, 40000
    rng = np.random.default_rng(0)
    m = np.empty(n)
    m[0] = rng.normal()
    noise = rng.normal(size=n) * math.sqrt(1 - rho**2)
    for t in range(1, n):
        m[t] = rho * m[t - 1] + noise[t]
    x = m[:, None, None] * np.ones((1, 2, 2))
    tau, err = g.chain_tau(x)
    exact = (1 + rho**2) / (2 * (1 - rho**2))  # M^2: correlation rho^(2t); |M| has less
    assert abs(tau - exact) < 3 * err, (tau, err, exact)
    assert g.chain_tau(np.ones((10, 2, 2))) is None  # never moved


def test_estimates_block_rule():
    x = np.random.default_rng(1).normal(size=(240, 4, 4))
    ref = phi4_observables(x, n_blocks=20)
    assert g.phi4_estimates(x)["chi2"].error == pytest.approx(ref["chi2"].error)
    blocked = phi4_observables(x, n_blocks=240 // 12)  # tau = 3: blocks of 12
    assert g.phi4_estimates(x, tau=3.0)["chi2"].error == pytest.approx(blocked["chi2"].error)
    two = phi4_observables(x, n_blocks=2)  # tau = 100: at least 2 blocks
    assert g.phi4_estimates(x, tau=100.0)["chi2"].error == pytest.approx(two["chi2"].error)


def test_deviations_and_cost_helpers():
    devs = g.deviations({"a": Estimate(1.0, 0.3)}, {"a": Estimate(1.5, 0.4)}, ("a",))
    assert devs["a"] == pytest.approx(0.5 / 0.5)
    assert g.fewest_agreeing([10, 20, 40, 80], [True, False, True, True]) == 40
    assert g.fewest_agreeing([10, 20], [True, False]) is None
    assert g.cost_per_independent(2.5, 0.1) == pytest.approx(0.5)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="process"):
        g.train_phi4_score(np.zeros((4, 4, 4)), channels=(4,), steps=1, key=jax.random.PRNGKey(0), process="vp")
    with pytest.raises(ValueError, match="expected \\(n, L, L\\)"):
        g.train_phi4_score(np.zeros((4, 4)), channels=(4,), steps=1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="kind"):
        g.phi4_proposals(None, jax.random.PRNGKey(0), 4, 4, "em")
    with pytest.raises(ValueError, match="samples"):
        g.phi4_hmc_ensemble(FREE, 4, chains=2, samples=2, n_adapt=1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="L="):
        g.phi4_hmc_ensemble(FREE, 1, chains=2, samples=10, n_adapt=1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="tau"):
        g.phi4_estimates(np.zeros((10, 4, 4)), tau=-1.0)
    with pytest.raises(ValueError, match="log_q"):
        g.phi4_metropolis(jax.random.PRNGKey(0), FREE, np.zeros((8, 4, 4)), np.zeros(7))
    with pytest.raises(ValueError, match="flags"):
        g.fewest_agreeing([1, 2], [True])

"""Lattice super-resolution helpers: the HMC ensemble against the exact single-site distribution at
kappa = 0, the site correlator against a direct sum, the two-point comparison on known differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import dphys.superres as sr
from dphys.lattice.phi4 import Phi4Action
from dphys.stats import jackknife
from tests.helpers import assert_within_sigma


def test_hmc_ensemble_reproduces_the_exact_single_site_moment():
    """kappa = 0 decouples the sites: p(phi) ~ exp(-(1 - 2 lam) phi^2 - lam phi^4), <phi^2> by quadrature;
    the ensemble's <phi^2> (blocked jackknife over Monte Carlo time) within 4 standard errors."""
    lam = 0.5
    action = Phi4Action(kappa=0.0, lam=lam)
    phis, acceptance = sr.phi4_hmc_ensemble(jax.random.PRNGKey(0), action, 4, 400, chains=8)
    assert phis.shape == (50, 8, 4, 4) and 0.5 < acceptance <= 1
    w = lambda x: np.exp(-(1 - 2 * lam) * x**2 - lam * x**4)
    exact = quad(lambda x: x**2 * w(x), -np.inf, np.inf)[0] / quad(w, -np.inf, np.inf)[0]
    est = jackknife(lambda p: np.mean(p**2), np.asarray(phis), 10)
    assert_within_sigma(est.value, exact, est.error, 4.0, "<phi^2>")
    with pytest.raises(ValueError, match="n_samples"):
        sr.phi4_hmc_ensemble(jax.random.PRNGKey(0), action, 4, 4, chains=8)


def test_site_correlator_against_a_direct_sum():
    phis = np.random.default_rng(1).normal(size=(3, 6, 6))
    c = sr.site_correlator(phis)
    direct = np.array([[0.5 * np.mean(p * np.roll(p, -r, 0) + p * np.roll(p, -r, 1)) for r in range(4)] for p in phis])
    np.testing.assert_allclose(c, direct, rtol=1e-12, atol=1e-12)


def test_two_point_comparison_on_known_differences():
    """A candidate = 1.1 x truth has C exactly 1.21 x the truth's, so the paired difference is 0.21 C_true;
    a noisy copy (independent noise of variance 0.04 per site) adds exactly 0.04 to C(0) on average."""
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(40, 2, 4, 4)) + 0.3
    noisy = truth + 0.2 * rng.normal(size=truth.shape)
    cmp = sr.two_point_comparison(truth, {"scaled": 1.1 * truth, "noisy": noisy}, n_blocks=10)
    np.testing.assert_allclose(cmp["paired"]["scaled"].value, 0.21 * cmp["C"]["truth"].value, rtol=1e-10)
    paired = cmp["paired"]["noisy"]
    assert_within_sigma(paired.value[0], 0.04, paired.error[0], 4.0, "noise excess of C(0)")
    assert cmp["maxdev"]["C_scaled"] > 0 and set(cmp["G"]) == {"truth", "scaled", "noisy"}
    fine = truth.reshape(-1, 4, 4)
    coarse = np.asarray(sr.block_average(jnp.asarray(fine), 2))
    assert sr.block_residual_rms(fine, coarse, 2) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="n_blocks=100"):
        sr.two_point_comparison(truth, {"copy": truth}, n_blocks=100)

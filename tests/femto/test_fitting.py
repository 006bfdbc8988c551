"""dphys.femto.fitting: Levenberg-Marquardt against the analytic (generalised) least-squares solution, the
chi^2 distribution and the parameter pulls over many pseudo-experiments, errors against a finite-difference
Hessian, optax fits against the ridge solution, ensemble spread against the parameter errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from dphys.femto.data import CorrelationData
from dphys.femto.fitting import (
    chi2,
    compare,
    effective_parameters,
    fit_ensemble,
    fit_least_squares,
    fit_optax,
    p_value,
)
from tests.helpers import assert_within_sigma

X = np.linspace(0.1, 2.0, 30)
SIGMA = 0.01 * (1 + X)  # heteroscedastic errors
TRUE_QUAD = np.array([1.0, 0.5, -0.2])
DESIGN = np.stack([np.ones_like(X), X, X**2], axis=1)


def quadratic(p):
    x = jnp.asarray(X)
    return p["a"] + p["b"] * x + p["c"] * x**2


def quad_data(seed, cov=None):
    rng = np.random.default_rng(seed)
    if cov is None:
        return CorrelationData(X, DESIGN @ TRUE_QUAD + SIGMA * rng.normal(size=X.size), SIGMA)
    y = DESIGN @ TRUE_QUAD + np.linalg.cholesky(cov) @ rng.normal(size=X.size)
    return CorrelationData(X, y, np.sqrt(np.diag(cov)), covariance=cov)


def as_vector(tree):
    return np.array([tree["a"], tree["b"], tree["c"]], dtype=np.float64)


def test_quadratic_fit_is_the_weighted_least_squares_solution_with_its_covariance():
    data = quad_data(0)
    res = fit_least_squares(quadratic, {"a": 0.0, "b": 0.0, "c": 0.0}, data)
    A = DESIGN / SIGMA[:, None]
    cov = np.linalg.inv(A.T @ A)
    beta = cov @ A.T @ (data.C / SIGMA)
    np.testing.assert_allclose(as_vector(res.params), beta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.covariance, cov, rtol=1e-8)
    np.testing.assert_allclose(as_vector(res.errors), np.sqrt(np.diag(cov)), rtol=1e-8)
    resid = (DESIGN @ beta - data.C) / SIGMA
    assert res.chi2 == pytest.approx(resid @ resid, rel=1e-10)
    assert res.ndf == X.size - 3 and res.chi2_ndf == pytest.approx(res.chi2 / res.ndf)
    assert res.p_value == pytest.approx(scipy.stats.chi2.sf(res.chi2, res.ndf), rel=1e-8)
    assert res.success
    np.testing.assert_allclose(res.prediction, DESIGN @ beta, rtol=1e-10)


def test_fit_with_a_full_covariance_is_the_generalised_least_squares_solution():
    corr = 0.6 ** np.abs(np.subtract.outer(np.arange(X.size), np.arange(X.size)))
    cov = corr * np.outer(SIGMA, SIGMA)
    data = quad_data(1, cov)
    res = fit_least_squares(quadratic, {"a": 0.5, "b": 0.0, "c": 0.0}, data)
    ci = np.linalg.inv(cov)
    pcov = np.linalg.inv(DESIGN.T @ ci @ DESIGN)
    beta = pcov @ DESIGN.T @ ci @ data.C
    np.testing.assert_allclose(as_vector(res.params), beta, rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(res.covariance, pcov, rtol=1e-7)
    r = DESIGN @ beta - data.C
    assert res.chi2 == pytest.approx(r @ ci @ r, rel=1e-8)
    with jax.enable_x64(True):
        assert float(chi2(jnp.asarray(DESIGN @ beta), data)) == pytest.approx(r @ ci @ r, rel=1e-8)


# a non-linear model: C = 1 + lam exp(-4 k^2 R^2) (free boson-like correlation)
def bose(p):
    x = jnp.asarray(X)
    return 1 + p["lam"] * jnp.exp(-4 * x**2 * p["R"] ** 2)


TRUE_BOSE = {"lam": 0.5, "R": 1.2}


def bose_data(seed, noise=True):
    rng = np.random.default_rng(seed)
    c = 1 + 0.5 * np.exp(-4 * X**2 * 1.2**2)
    return CorrelationData(X, c + (SIGMA * rng.normal(size=X.size) if noise else 0.0), SIGMA)


def test_chi2_distribution_and_parameter_pulls_over_pseudo_experiments():
    n_exp = 300
    chi2s, pulls = [], []
    for seed in range(n_exp):
        res = fit_least_squares(bose, {"lam": 0.3, "R": 1.0}, bose_data(100 + seed))
        assert res.success
        chi2s.append(res.chi2)
        pulls.append([(res.params[n] - TRUE_BOSE[n]) / res.errors[n] for n in ("lam", "R")])
    chi2s, pulls = np.array(chi2s), np.array(pulls)
    ndf = X.size - 2
    # mean of chi^2 = ndf, with standard error sqrt(2 ndf / n)
    assert_within_sigma(chi2s.mean(), ndf, np.sqrt(2 * ndf / n_exp), what="mean chi2")
    # its variance = 2 ndf; the sample variance of n chi^2_ndf values has variance
    # (mu4 - sigma^4)/n with mu4 = 12 ndf (ndf + 4) for a chi^2 distribution
    mu4 = 12 * ndf * (ndf + 4)
    assert_within_sigma(chi2s.var(ddof=1), 2 * ndf, np.sqrt((mu4 - (2 * ndf) ** 2) / n_exp), what="var chi2")
    # the whole distribution: Kolmogorov-Smirnov (fixed seeds, so a fixed outcome)
    assert scipy.stats.kstest(chi2s, scipy.stats.chi2(ndf).cdf).pvalue > 1e-3
    # pulls: mean 0, standard deviation 1 (the quoted errors are the real spread)
    assert_within_sigma(pulls.mean(axis=0), 0.0, 1 / np.sqrt(n_exp), what="mean pull")
    assert_within_sigma(pulls.std(axis=0, ddof=1), 1.0, 1 / np.sqrt(2 * (n_exp - 1)), what="pull width")


def finite_difference_hessian(fn, p0, eps):
    n = p0.size
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * eps, np.eye(n)[j] * eps
            H[i, j] = (fn(p0 + ei + ej) - fn(p0 + ei - ej) - fn(p0 - ei + ej) + fn(p0 - ei - ej)) / (4 * eps**2)
    return H


@pytest.mark.parametrize("noise", [False, True])
def test_errors_against_a_finite_difference_hessian_of_chi2(noise):
    data = bose_data(7, noise=noise)

    def half_chi2(v):  # v = (R, lam): ravel_pytree orders dict keys alphabetically
        p = {"R": v[0], "lam": v[1]}
        c = 1 + p["lam"] * np.exp(-4 * X**2 * p["R"] ** 2)
        return 0.5 * np.sum(((c - data.C) / SIGMA) ** 2)

    exact = fit_least_squares(bose, {"lam": 0.3, "R": 1.0}, data, errors="hessian")
    best = np.array([exact.params["R"], exact.params["lam"]])
    H = finite_difference_hessian(half_chi2, best, 1e-4)  # truncation O(eps^2) ~ 1e-8 relative
    np.testing.assert_allclose(exact.covariance, np.linalg.inv(H), rtol=1e-5)
    gauss_newton = fit_least_squares(bose, {"lam": 0.3, "R": 1.0}, data)
    if not noise:  # zero residuals: (J^T J)^-1 is the inverse Hessian exactly
        np.testing.assert_allclose(gauss_newton.covariance, np.linalg.inv(H), rtol=1e-5)
    else:  # they differ by sum_i r_i d^2 r_i, small but not zero
        assert not np.allclose(gauss_newton.covariance, exact.covariance, rtol=1e-6)
        np.testing.assert_allclose(gauss_newton.covariance, exact.covariance, rtol=0.2)


def test_bad_fits_raise_value_error():
    small = CorrelationData(X[:3], np.ones(3), SIGMA[:3])
    with pytest.raises(ValueError, match="3 parameters for 3 data points"):
        fit_least_squares(lambda p: p["a"] + p["b"] * jnp.asarray(X[:3]) + p["c"], {"a": 0.0, "b": 0.0, "c": 0.0},
                          small)
    with pytest.raises(ValueError, match="errors='fisher'"):
        fit_least_squares(quadratic, {"a": 0.0, "b": 0.0, "c": 0.0}, quad_data(0), errors="fisher")
    with pytest.raises(ValueError, match=r"shape \(29,\)"):
        fit_least_squares(lambda p: quadratic(p)[1:], {"a": 0.0, "b": 0.0, "c": 0.0}, quad_data(0))
    with pytest.raises(ValueError, match="not determined"):  # only a + b enters
        fit_least_squares(lambda p: p["a"] + p["b"] + 0 * jnp.asarray(X), {"a": 0.0, "b": 0.0}, quad_data(0))
    with pytest.raises(ValueError, match="shape"):
        chi2(jnp.ones(3), quad_data(0))
    with pytest.raises(ValueError, match="weight_decay"):
        fit_optax(quadratic, {"a": 0.0, "b": 0.0, "c": 0.0}, quad_data(0), steps=10, key=jax.random.PRNGKey(0),
                  weight_decay=0.0)


def test_optax_fit_reaches_the_ridge_solution_and_counts_effective_parameters():
    data = quad_data(3)
    alpha = 30.0  # strong enough that the prior visibly pulls the poorly determined directions
    res = fit_optax(quadratic, {"a": 0.0, "b": 0.0, "c": 0.0}, data, steps=3000, key=jax.random.PRNGKey(0),
                    learning_rate=0.05, weight_decay=alpha, progress=False)
    A = DESIGN / SIGMA[:, None]
    ridge = np.linalg.solve(A.T @ A + alpha * np.eye(3), A.T @ (data.C / SIGMA))
    lm = np.linalg.solve(A.T @ A, A.T @ (data.C / SIGMA))
    errors = np.sqrt(np.diag(np.linalg.inv(A.T @ A)))
    assert np.max(np.abs(as_vector(res.params) - ridge) / errors) < 1e-3
    assert np.max(np.abs(ridge - lm) / errors) > 0.05  # the check distinguishes ridge from plain LS
    s2 = np.linalg.svd(A, compute_uv=False) ** 2
    gamma = np.sum(s2 / (s2 + alpha))
    assert res.n_params == pytest.approx(gamma, rel=1e-8) and 2.0 < gamma < 3.0
    assert res.ndf == pytest.approx(X.size - gamma)
    assert effective_parameters(quadratic, res.params, data, 1e-12) == pytest.approx(3.0, rel=1e-9)
    assert res.p_value == pytest.approx(p_value(res.chi2, res.ndf))
    table = compare({"ridge": res, "lm": fit_least_squares(quadratic, {"a": 0.0, "b": 0.0, "c": 0.0}, data)})
    assert table.splitlines()[1].split()[0] in ("ridge", "lm") and len(table.splitlines()) == 3


def test_ensemble_spread_is_the_parameter_covariance_of_a_linear_model():
    data = quad_data(4)
    members = 64

    def make(key):
        return {"a": jax.random.normal(key), "b": jnp.zeros(()), "c": jnp.zeros(())}

    ens = fit_ensemble(quadratic, make, data, members=members, steps=2500, key=jax.random.PRNGKey(1),
                       learning_rate=0.05, weight_decay=1e-8, progress=False)
    lm = fit_least_squares(quadratic, {"a": 0.0, "b": 0.0, "c": 0.0}, data)
    params = np.stack([np.asarray(ens.models[n]) for n in ("a", "b", "c")], axis=1)
    errors = as_vector(lm.errors)
    # member 0 fits the data themselves: the least-squares solution
    assert np.max(np.abs(params[0] - as_vector(lm.params)) / errors) < 1e-3
    np.testing.assert_allclose(ens.replicas[0], data.C)
    assert ens.chi2[0] == pytest.approx(lm.chi2, rel=1e-5)
    # the other members: a parametric bootstrap, whose spread is the covariance (J^T J)^-1
    spread = params[1:].std(axis=0, ddof=1)
    assert_within_sigma(spread, errors, errors / np.sqrt(2 * (members - 2)), what="ensemble spread")
    np.testing.assert_allclose(ens.chi2_data, np.sum(((ens.predictions - data.C) / SIGMA) ** 2, axis=1))


def test_anchored_ensemble_draws_from_the_bayesian_posterior_of_a_linear_model():
    # prior theta ~ N(0, s^2) per parameter (anchors drawn from it), likelihood chi^2: the posterior
    # is Gaussian with covariance (A^T A + I/s^2)^-1 and randomise-then-optimise samples it exactly
    data = quad_data(5)
    members, s = 96, 0.01  # a prior narrow enough to matter against the data

    def make(key):
        a, b, c = s * jax.random.normal(key, (3,))
        return {"a": a, "b": b, "c": c}

    ens = fit_ensemble(quadratic, make, data, members=members, steps=2500, key=jax.random.PRNGKey(2),
                       include_data=False, anchored=True, weight_decay=1 / s**2, learning_rate=0.02,
                       progress=False)
    A = DESIGN / SIGMA[:, None]
    post_cov = np.linalg.inv(A.T @ A + np.eye(3) / s**2)
    post_mean = post_cov @ A.T @ (data.C / SIGMA)
    params = np.stack([np.asarray(ens.models[n]) for n in ("a", "b", "c")], axis=1)
    sd = np.sqrt(np.diag(post_cov))
    assert np.max(np.abs(np.diag(post_cov) - np.diag(np.linalg.inv(A.T @ A))) / np.diag(post_cov)) > 1.0
    assert_within_sigma(params.mean(axis=0), post_mean, sd / np.sqrt(members), what="posterior mean")
    assert_within_sigma(params.std(axis=0, ddof=1), sd, sd / np.sqrt(2 * (members - 1)), what="posterior sd")
    # the default precision is that of the initialisation: 1/s^2 up to sampling
    from dphys.femto.fitting import prior_precision

    models = jax.vmap(make)(jax.random.split(jax.random.PRNGKey(3), 400))
    prec = prior_precision(models)
    assert_within_sigma(prec["a"] * s**2, 1.0, np.sqrt(2 / 400), what="prior precision")

r"""Fitting models of $C(k)$ to correlation data: $\chi^2$, Levenberg-Marquardt fits with parameter
errors, gradient-descent (optax) fits of neural models and ensembles, and model comparison.

The figure of merit is

$$ \chi^2 = r^T r, \qquad r = L^{-1}\,(C_\mathrm{model} - C), \qquad \mathrm{cov} = L L^T, $$

with $L$ the Cholesky factor of the data's covariance, or simply $r_i = (C_{\mathrm{model},i} - C_i)
/\sigma_i$ with the total errors $\sigma_i = \sqrt{\sigma_{\mathrm{stat},i}^2 + \sigma_{\mathrm{syst},i}^2}$
when no covariance is given.

- [`fit_least_squares`][dphys.femto.fitting.fit_least_squares]: few-parameter models, minimised with
  optimistix's Levenberg-Marquardt on the whitened residuals; the parameter covariance is
  $(J^T J)^{-1}$ at the minimum ($J = \partial r/\partial p$, the Gauss-Newton approximation of
  $2 (\partial^2\chi^2/\partial p^2)^{-1}$) or, with `errors="hessian"`, the inverse of the exact
  Hessian of $\chi^2/2$.
- [`fit_optax`][dphys.femto.fitting.fit_optax]: any model (e.g. a neural source), trained with optax
  (`dphys.train.fit`: jitted chunks, progress bar, NaN guard) on $\chi^2 + \alpha\,|\theta|^2$, a
  Gaussian prior of width $1/\sqrt{\alpha}$ on the weights. Its number of degrees of freedom is
  $n - \gamma$ with MacKay's effective number of parameters
  $\gamma = \sum_i s_i^2/(s_i^2 + \alpha)$ ($s_i$ the singular values of $J$), the number of
  weight-space directions the data determine better than the prior does.
- [`fit_ensemble`][dphys.femto.fitting.fit_ensemble]: `members` such fits at once (one vmap), each on
  its own parametric-bootstrap replica of the data ($C + L z$, $z \sim N(0, 1)$) and, with
  `anchored=True`, regularised towards its own random initialisation (randomise-then-optimise:
  exact posterior draws for linear models, anchored ensembles for networks): the spread of the
  members is the uncertainty band of the model.
- [`compare`][dphys.femto.fitting.compare]: a table of fits ranked by $\chi^2/\mathrm{ndf}$.

Fits run in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import optimistix as optx
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from dphys.femto.data import CorrelationData
from dphys.train import fit as train_fit

__all__ = [
    "EnsembleFit",
    "FitResult",
    "chi2",
    "compare",
    "effective_parameters",
    "fit_ensemble",
    "fit_least_squares",
    "fit_optax",
    "p_value",
    "prior_precision",
    "whitening",
]


class FitResult(NamedTuple):
    r"""The outcome of a fit.

    **Fields:**

    - `params`: the best-fit parameters (same structure as the initial ones: a dict of floats, an
      array, or a trained model).
    - `errors`: their standard errors (same structure), or None for optax fits of neural models.
    - `covariance`: parameter covariance over the flattened parameters (`ravel_pytree` order), or None.
    - `chi2`: $\chi^2$ at the minimum; `ndf`: degrees of freedom $n - n_\mathrm{params}$ (effective
      for neural fits); `chi2_ndf`: their ratio; `p_value`: $P(\chi^2_\mathrm{ndf} \ge \chi^2)$.
    - `n_params`: number of (effective) parameters.
    - `prediction`: the model's $C(k)$ at the data's momenta.
    - `success`: whether the optimiser converged.
    """

    params: Any
    errors: Any
    covariance: np.ndarray | None
    chi2: float
    ndf: float
    chi2_ndf: float
    p_value: float
    n_params: float
    prediction: np.ndarray
    success: bool


def whitening(data: CorrelationData) -> Float[np.ndarray, "n n"]:
    r"""The matrix $W$ with $W^T W = \mathrm{cov}^{-1}$ that whitens residuals, $r = W (C_\mathrm{model}
    - C)$: $L^{-1}$ for the Cholesky factor $L$ of the data's covariance, or $\mathrm{diag}(1/\sigma)$."""
    if data.covariance is None:
        return np.diag(1.0 / data.error)
    L = np.linalg.cholesky(data.covariance)
    return np.linalg.solve(L, np.eye(len(data)))


def chi2(prediction: Float[Array, " n"], data: CorrelationData) -> Float[Array, ""]:
    r"""$\chi^2$ of `prediction` (the model's $C$ at `data.k`) with the data's errors or covariance.
    Differentiable in `prediction`; computed in JAX's current precision (enable float64 for
    full accuracy, as every femtoscopy computation needs)."""
    prediction = jnp.asarray(prediction)
    if prediction.shape != data.C.shape:
        raise ValueError(f"chi2: prediction has shape {prediction.shape}, expected {data.C.shape} (one value "
                         "per data point)")
    r = jnp.asarray(whitening(data)) @ (prediction - jnp.asarray(data.C))
    return jnp.sum(r**2)


def p_value(chi2_value: float, ndf: float) -> float:
    r"""$P(\chi^2_\mathrm{ndf} \ge \chi^2)$ (regularised upper incomplete gamma function)."""
    if not ndf > 0:
        return float("nan")
    with jax.enable_x64(True):
        return float(jax.scipy.special.gammaincc(ndf / 2, chi2_value / 2))


def _check_points(name: str, n_params: float, data: CorrelationData) -> None:
    if n_params >= len(data):
        raise ValueError(f"{name}: {n_params:g} parameters for {len(data)} data points; a fit needs more points "
                         "than parameters (ndf >= 1)")


def fit_least_squares(
    predict: Callable[[PyTree], Float[Array, " n"]],
    params: PyTree,
    data: CorrelationData,
    *,
    errors: str = "jacobian",
    rtol: float = 1e-10,
    atol: float = 1e-10,
    max_steps: int = 256,
) -> FitResult:
    r"""Minimise $\chi^2$ of a few-parameter model with Levenberg-Marquardt (optimistix) on the whitened
    residuals $r = W(C_\mathrm{model}(p) - C)$ (`whitening`).

    Parameter errors from the covariance at the minimum: `errors="jacobian"` (default)
    $(J^T J)^{-1}$ with $J = \partial r/\partial p$, the standard Gauss-Newton (linearised) covariance;
    `errors="hessian"` $H^{-1}$ with $H = \frac12\partial^2\chi^2/\partial p^2$ exactly (the two agree
    when the residuals vanish or the model is linear in $p$).

    **Arguments:**

    - `predict`: `predict(params) -> C` at the data's momenta `data.k` (jax-traceable).
    - `params`: initial parameters, any PyTree of floats (e.g. `{"radius": 1.2}`).
    - `data`: a [`CorrelationData`][dphys.femto.data.CorrelationData].
    - `errors`: `"jacobian"` or `"hessian"`.
    - `rtol`, `atol`, `max_steps`: Levenberg-Marquardt tolerances and step limit.

    **Returns:** a [`FitResult`][dphys.femto.fitting.FitResult] with errors of the same structure as `params`.

    Raises `ValueError` when there are not more points than parameters, for an unknown `errors`, or
    when the parameters are not determined by the data (singular $J^T J$).
    """
    if errors not in ("jacobian", "hessian"):
        raise ValueError(f"fit_least_squares: errors={errors!r}, expected 'jacobian' or 'hessian'")
    with jax.enable_x64(True):
        flat0, unravel = ravel_pytree(jax.tree.map(lambda x: jnp.asarray(x, dtype=jnp.float64), params))
        _check_points("fit_least_squares", flat0.size, data)
        W, C = jnp.asarray(whitening(data)), jnp.asarray(data.C)
        pred0 = jax.eval_shape(lambda p: predict(unravel(p)), flat0)
        if pred0.shape != data.C.shape:
            raise ValueError(f"fit_least_squares: predict returns shape {pred0.shape}, expected {data.C.shape} "
                             "(C at the data's momenta)")
        flat, J, H, result, pred = _least_squares(predict, unravel, flat0, W, C, float(rtol), float(atol),
                                                  int(max_steps), errors == "hessian")
        flat, J, pred = np.asarray(flat), np.asarray(J), np.asarray(pred)
    success = bool(result == optx.RESULTS.successful)
    curvature = np.asarray(H) if errors == "hessian" else J.T @ J
    try:
        np.linalg.cholesky(curvature)
        cov = np.linalg.inv(curvature)
    except np.linalg.LinAlgError:
        raise ValueError(f"fit_least_squares: the {'Hessian' if errors == 'hessian' else 'J^T J'} at the minimum "
                         f"is not positive definite (eigenvalues {np.linalg.eigvalsh(curvature)}): some parameters "
                         "are not determined by the data") from None
    chi2_value = float(np.sum((np.asarray(W) @ (pred - data.C)) ** 2))
    ndf = len(data) - flat.size
    with jax.enable_x64(True):
        best, errs = (jax.tree.map(np.asarray, unravel(jnp.asarray(x))) for x in (flat, np.sqrt(np.diag(cov))))
    return FitResult(
        params=best, errors=errs, covariance=cov, chi2=chi2_value,
        ndf=float(ndf), chi2_ndf=chi2_value / ndf, p_value=p_value(chi2_value, ndf), n_params=float(flat.size),
        prediction=pred, success=success,
    )


@eqx.filter_jit
def _least_squares(predict, unravel, flat0, W, C, rtol, atol, max_steps, hessian):
    def residuals(p, args):
        W, C = args
        return W @ (predict(unravel(p)) - C)

    solver = optx.LevenbergMarquardt(rtol=rtol, atol=atol)
    sol = optx.least_squares(residuals, solver, flat0, (W, C), max_steps=max_steps, throw=False)
    J = jax.jacfwd(residuals)(sol.value, (W, C))
    H = jax.hessian(lambda p: 0.5 * jnp.sum(residuals(p, (W, C)) ** 2))(sol.value) if hessian else None
    return sol.value, J, H, sol.result, predict(unravel(sol.value))


# ----------------------------------------------------------------------------------------------- #
# Gradient-descent fits (neural models)
# ----------------------------------------------------------------------------------------------- #


def _default_optimizer(learning_rate: float, steps: int) -> optax.GradientTransformation:
    schedule = optax.warmup_cosine_decay_schedule(0.0, learning_rate, max(1, steps // 20), steps, learning_rate / 50)
    return optax.adam(schedule)


def _trainable(tree) -> PyTree:
    return eqx.filter(tree, eqx.is_inexact_array)


def _check_precision(name: str, weight_decay, template) -> PyTree:
    """`weight_decay` as a PyTree of positive per-leaf precisions matching the trainable arrays of
    `template` (a float applies to every leaf)."""
    params = _trainable(template)
    if isinstance(weight_decay, (int, float, np.floating)):
        if not weight_decay > 0:
            raise ValueError(f"{name}: weight_decay (the prior precision) must be > 0, got {weight_decay}")
        return jax.tree.map(lambda _: float(weight_decay), params)
    try:
        alphas = jax.tree.map(lambda _, a: a, params, weight_decay)
    except ValueError as err:
        raise ValueError(f"{name}: weight_decay must be a float or a PyTree of floats with the structure of the "
                         f"model's trainable arrays ({err})") from None
    leaves = [float(np.min(np.asarray(a))) for a in jax.tree.leaves(alphas)]
    if not all(np.isfinite(v) and v > 0 for v in leaves):
        raise ValueError(f"{name}: every prior precision in weight_decay must be finite and > 0, got {leaves}")
    return alphas


def _penalty(params, alphas, anchors=None) -> Array:
    r"""$\sum_\mathrm{leaves} \alpha_\mathrm{leaf} |\theta - \theta_0|^2$ over the trainable arrays."""
    params = _trainable(params)
    if anchors is not None:
        params = jax.tree.map(jnp.subtract, params, anchors)
    terms = jax.tree.leaves(jax.tree.map(lambda x, a: a * jnp.sum(x**2), params, alphas))
    return sum(terms) if terms else jnp.zeros(())


def prior_precision(models: PyTree) -> PyTree:
    r"""Per-leaf prior precisions $1/\mathrm{Var}$ of an initialisation: for models stacked along a
    leading axis (e.g. `eqx.filter_vmap(make_model)(keys)`), the inverse variance of each trainable
    array's entries over members and entries, so that the Gaussian prior of
    [`fit_ensemble`][dphys.femto.fitting.fit_ensemble] matches the distribution the anchors are drawn from."""
    def precision(x):
        var = float(np.var(np.asarray(x, dtype=np.float64)))
        if not var > 0:
            raise ValueError(f"prior_precision: an initial array of shape {np.shape(x)} has zero variance")
        return 1.0 / var

    return jax.tree.map(precision, _trainable(models))


def effective_parameters(predict: Callable, model: PyTree, data: CorrelationData,
                         weight_decay: float | PyTree) -> float:
    r"""MacKay's effective number of parameters $\gamma = \mathrm{tr}\,[J^TJ\,(J^TJ + A)^{-1}]$ of `model`
    at its current weights: $J = W\,\partial C/\partial\theta$ the whitened Jacobian, $A =
    \mathrm{diag}(\alpha)$ the prior precision (`weight_decay`: a float > 0 or per-leaf floats, the
    prior $\sum\alpha|\theta|^2$ of `fit_optax`/`fit_ensemble`). For one $\alpha$,
    $\gamma = \sum_i s_i^2/(s_i^2 + \alpha)$ with $s_i$ the singular values of $J$."""
    alphas = _check_precision("effective_parameters", weight_decay, model)
    with jax.enable_x64(True):
        params, static = eqx.partition(model, eqx.is_inexact_array)
        flat, unravel = ravel_pytree(params)
        scale, _ = ravel_pytree(jax.tree.map(lambda x, a: jnp.full(jnp.shape(x), a ** -0.5), params, alphas))
        W = jnp.asarray(whitening(data))
        jac = jax.jacrev if flat.size > len(data) else jax.jacfwd
        J = jax.jit(jac(lambda p: W @ predict(eqx.combine(unravel(p), static))))(flat)
        # in units of the prior widths, A = 1: gamma = sum s^2 / (s^2 + 1)
        s2 = np.linalg.svd(np.asarray(J * scale[None, :], dtype=np.float64), compute_uv=False) ** 2
    return float(np.sum(s2 / (s2 + 1.0)))


def fit_optax(
    predict: Callable[[PyTree], Float[Array, " n"]],
    model: PyTree,
    data: CorrelationData,
    *,
    steps: int,
    key: PRNGKeyArray,
    learning_rate: float = 1e-2,
    weight_decay: float | PyTree = 1e-2,
    optimizer: optax.GradientTransformation | None = None,
    progress: bool = True,
    desc: str = "fit",
    checkpoint_dir: str | None = None,
) -> FitResult:
    r"""Fit any model (e.g. a neural source inside `predict`) by minimising $\chi^2 + \sum\alpha|\theta|^2$
    over its floating-point arrays $\theta$ with optax (Adam with warm-up and cosine decay by
    default), through `dphys.train.fit` (progress bar, NaN guard, optional checkpoints). The
    penalty is a Gaussian prior of precision $\alpha$ (standard deviation $1/\sqrt\alpha$).

    The degrees of freedom are $n - \gamma$ with the effective number of parameters $\gamma$
    (`effective_parameters`, module docstring), so $\chi^2/\mathrm{ndf}$ compares with few-parameter fits.

    **Arguments:**

    - `predict`: `predict(model) -> C` at `data.k`.
    - `model`: the initial model (PyTree; its inexact arrays are trained; Python floats are
      converted to float64 arrays).
    - `data`: the data; `steps`: optimiser steps; `key`: PRNG key (passed to `dphys.train.fit`).
    - `learning_rate`: peak learning rate of the default optimiser; `optimizer` overrides it.
    - `weight_decay`: the prior precision $\alpha > 0$, one float or per-leaf floats.
    - `progress`, `desc`, `checkpoint_dir`: as in `dphys.train.fit`.

    **Returns:** a [`FitResult`][dphys.femto.fitting.FitResult] whose `params` is the trained model
    (`errors` and `covariance` are None).
    """
    model = jax.tree.map(lambda x: np.asarray(x, np.float64) if isinstance(x, float) else x, model)
    alphas = _check_precision("fit_optax", weight_decay, model)
    with jax.enable_x64(True):
        W, C = jnp.asarray(whitening(data)), jnp.asarray(data.C)

        def loss(m, batch, _key):
            r = W @ (predict(m) - C)
            return jnp.sum(r**2) + _penalty(m, alphas)

        opt = optimizer if optimizer is not None else _default_optimizer(learning_rate, steps)
        out = train_fit(loss, model, opt, lambda k: jnp.zeros(()), steps=steps, key=key,
                        log_every=max(1, min(200, steps // 10)), progress=progress, desc=desc,
                        checkpoint_dir=checkpoint_dir)
        model = out.model
        pred = np.asarray(eqx.filter_jit(predict)(model))
    gamma = effective_parameters(predict, model, data, alphas)
    _check_points("fit_optax", gamma, data)
    chi2_value = float(np.sum((whitening(data) @ (pred - data.C)) ** 2))
    ndf = len(data) - gamma
    return FitResult(params=model, errors=None, covariance=None, chi2=chi2_value, ndf=ndf,
                     chi2_ndf=chi2_value / ndf, p_value=p_value(chi2_value, ndf), n_params=gamma,
                     prediction=pred, success=bool(np.isfinite(chi2_value)))


class EnsembleFit(NamedTuple):
    r"""An ensemble of fits ([`fit_ensemble`][dphys.femto.fitting.fit_ensemble]).

    **Fields:** `models` the trained members stacked along a leading axis (`member(i)` picks one;
    call all with `eqx.filter_vmap`); `replicas` the data each member was fitted to (members x n;
    row 0 is the data itself when `include_data`); `chi2` of each member against its replica;
    `chi2_data` of each member against the original data; `predictions` (members x n);
    `precision` the per-leaf prior precisions used.
    """

    models: Any
    replicas: np.ndarray
    chi2: np.ndarray
    chi2_data: np.ndarray
    predictions: np.ndarray
    precision: Any

    def member(self, i: int) -> Any:
        """The `i`-th trained member."""
        return jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, self.models)


def fit_ensemble(
    predict: Callable[[PyTree], Float[Array, " n"]],
    make_model: Callable[[PRNGKeyArray], PyTree],
    data: CorrelationData,
    *,
    members: int,
    steps: int,
    key: PRNGKeyArray,
    include_data: bool = True,
    anchored: bool = False,
    learning_rate: float = 1e-2,
    weight_decay: float | PyTree | None = 1e-2,
    optimizer: optax.GradientTransformation | None = None,
    progress: bool = True,
    desc: str = "ensemble fit",
) -> EnsembleFit:
    r"""`members` independent fits of a model in one vmapped training run: member $m$ starts from
    $\theta_{0,m}$ = `make_model(key_m)` and minimises

    $$ \chi^2(C + L z_m) + \sum \alpha\, |\theta - a_m|^2, \qquad z_m \sim N(0, 1), $$

    against its own parametric-bootstrap replica $C + L z_m$ ($L L^T$ the data covariance; with
    `include_data` member 0 fits the data themselves, $z_0 = 0$), with the anchor $a_m = 0$ (plain
    weight decay) or, with `anchored`, $a_m = \theta_{0,m}$, its own draw from the prior.

    With `anchored=True` and `weight_decay=None` (the precision $1/\mathrm{Var}$ of the
    initialisation, `prior_precision`) this is *randomise-then-optimise*: for a model linear in
    $\theta$ with prior $N(0, \alpha^{-1})$ every member is an exact, independent draw from the
    Bayesian posterior, for a network an approximate one (anchored ensembles, Pearce et al. 2020),
    so the members' spread covers both the data's noise and the directions the data do not determine
    (there the prior's spread survives). Without anchoring the members only spread with the data's
    noise, which underestimates the uncertainty of an ill-posed inversion.

    Adam acts elementwise, so training the summed loss of all members is the same as training each
    alone (at the cost of one).

    **Arguments:** as [`fit_optax`][dphys.femto.fitting.fit_optax], plus `make_model(key) -> model`
    (same structure for every key), `members` >= 1, `include_data` and `anchored`;
    `weight_decay=None` takes `prior_precision` of the initial members.

    **Returns:** an [`EnsembleFit`][dphys.femto.fitting.EnsembleFit].
    """
    if not (isinstance(members, int) and members >= 1):
        raise ValueError(f"fit_ensemble: members must be an int >= 1, got {members!r}")
    with jax.enable_x64(True):
        init_key, noise_key, train_key = jax.random.split(key, 3)
        models = eqx.filter_jit(eqx.filter_vmap(make_model))(jax.random.split(init_key, members))
        single = jax.tree.map(lambda x: x[0] if eqx.is_array(x) else x, models)
        if weight_decay is None:
            if members < 2:
                raise ValueError("fit_ensemble: weight_decay=None (the initialisation's precision) needs members >= 2")
            weight_decay = prior_precision(models)
        alphas = _check_precision("fit_ensemble", weight_decay, single)
        L = np.linalg.cholesky(data.covariance_matrix())
        z = np.array(jax.random.normal(noise_key, (members, len(data)), dtype=jnp.float64))
        if include_data:
            z[0] = 0.0
        replicas = data.C[None, :] + z @ L.T
        W, Cs = jnp.asarray(whitening(data)), jnp.asarray(replicas)
        batched_predict = eqx.filter_vmap(predict)
        anchors = _trainable(models) if anchored else None

        def loss(ms, batch, _key):
            r = (batched_predict(ms) - Cs) @ W.T
            return jnp.sum(r**2) + _penalty(ms, alphas, anchors)

        opt = optimizer if optimizer is not None else _default_optimizer(learning_rate, steps)
        out = train_fit(loss, models, opt, lambda k: jnp.zeros(()), steps=steps, key=train_key,
                        log_every=max(1, min(200, steps // 10)), progress=progress, desc=desc)
        preds = np.asarray(eqx.filter_jit(batched_predict)(out.model))
    Wn = whitening(data)
    chi2_rep = np.sum(((preds - replicas) @ Wn.T) ** 2, axis=1)
    chi2_dat = np.sum(((preds - data.C[None]) @ Wn.T) ** 2, axis=1)
    return EnsembleFit(out.model, replicas, chi2_rep, chi2_dat, preds, alphas)


def compare(results: Mapping[str, FitResult]) -> str:
    r"""A table of fits ranked by $\chi^2/\mathrm{ndf}$ (best first): name, $\chi^2$, ndf, $\chi^2/\mathrm{ndf}$,
    p-value, number of (effective) parameters."""
    lines = [f"{'model':<20} {'chi2':>10} {'ndf':>7} {'chi2/ndf':>9} {'p':>9} {'params':>7}"]
    for name, r in sorted(results.items(), key=lambda item: item[1].chi2_ndf):
        lines.append(f"{name:<20} {r.chi2:>10.3f} {r.ndf:>7.2f} {r.chi2_ndf:>9.3f} {r.p_value:>9.3g} "
                     f"{r.n_params:>7.2f}")
    return "\n".join(lines)

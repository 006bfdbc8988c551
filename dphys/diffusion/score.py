r"""Score models and denoising score matching.

A *score* is any callable `score(x, t) -> like x` on one state with a `process` attribute
(the forward process it belongs to); `ScoreModel` turns a network `net(x, noise_level)` into
one, the exact scores of `dphys.diffusion.exact` are others. Samplers and likelihoods vmap
over the batch.

Parametrisation (`ScoreModel`): with $x_t = \alpha_t x_0 + s_t z$ and the input scale
$c_{in} = 1/\sqrt{\alpha_t^2\sigma_d^2 + s_t^2}$ (unit-variance input for data of standard
deviation $\sigma_d$),

- default: $\nabla\log p_t(x) \approx F(c_{in} x, c)/s_t$, i.e. the network predicts $-z$;
- EDM preconditioning (Karras et al. 2022): with $\hat x = x/\alpha_t$, $\sigma = s_t/\alpha_t$,
  the denoiser $D(\hat x;\sigma) = c_{skip}\hat x + c_{out} F(c_{in}\hat x, c_{noise})$,
  $c_{skip} = \sigma_d^2/(\sigma^2+\sigma_d^2)$, $c_{out} = \sigma\sigma_d/\sqrt{\sigma^2+\sigma_d^2}$,
  $c_{in} = 1/\sqrt{\sigma^2+\sigma_d^2}$, $c_{noise} = \ln(\sigma)/4$, and Tweedie's formula
  $\nabla\log p_t(x) = (D - \hat x)/(\alpha_t\sigma^2)$.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from dphys.diffusion.processes import EDM, AbstractProcess

__all__ = ["ScoreModel", "dsm_loss", "WEIGHTINGS", "check_score", "get_process"]

WEIGHTINGS = {
    "sigma2": r"lambda(t) = s_t^2, t ~ U(t_min, t_max) (Song et al. 2021)",
    "ncsn": r"lambda = s_t^2, ln sigma_t ~ U (noise levels uniform in log: NCSN, Song & Ermon 2019)",
    "likelihood": r"lambda(t) = g(t)^2, t ~ U(t_min, t_max): a bound on the negative log-likelihood "
    "(Song, Durkan, Murray, Ermon 2021)",
    "edm": r"EDM: lambda(sigma) = (sigma^2 + sigma_d^2)/(sigma sigma_d)^2 on the denoiser, "
    "ln sigma ~ N(-1.2, 1.2^2) (Karras et al. 2022)",
}
_EDM_P_MEAN, _EDM_P_STD = -1.2, 1.2


def get_process(score: Any, process: AbstractProcess | None = None, name: str = "score") -> AbstractProcess:
    """The forward process of `score` (its `process` attribute) or the one given explicitly."""
    process = getattr(score, "process", None) if process is None else process
    if not isinstance(process, AbstractProcess):
        raise ValueError(
            f"{name}: the score {type(score).__name__} has no `process` attribute and none was passed; "
            f"expected a dphys.diffusion process (VESong, VEGeometric, VP, EDM), got {process!r}"
        )
    return process


def _struct(x: PyTree) -> PyTree:
    return jtu.tree_map(lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)), x)


def check_score(name: str, score: Callable, x: PyTree, t: float) -> None:
    """Raise ValueError unless `score(x, t)` (one state) returns a PyTree shaped like `x`."""
    if isinstance(score, ScoreModel):  # check the network itself for a clear message
        level = jax.ShapeDtypeStruct((), jnp.result_type(float))
        out = jax.eval_shape(score.net, _struct(x), level)
        what = "network output"
    else:
        out = jax.eval_shape(score, _struct(x), jax.ShapeDtypeStruct((), jnp.result_type(float)))
        what = "score"
    xs, os_ = jtu.tree_structure(x), jtu.tree_structure(out)
    if xs != os_:
        raise ValueError(f"{name}: the {what} has PyTree structure {os_}, expected the input's {xs}")
    for a, b in zip(jtu.tree_leaves(x), jtu.tree_leaves(out)):
        if tuple(jnp.shape(a)) != tuple(b.shape):
            raise ValueError(
                f"{name}: the {what} has shape {tuple(b.shape)} for an input of shape {tuple(jnp.shape(a))}; "
                "expected the same shape"
            )


class ScoreModel(eqx.Module):
    r"""A learned score $\nabla_x \log p_t(x) \approx$ `ScoreModel(net, process)(x, t)` for one state.

    **Arguments:**

    - `net`: `net(x, noise_level) -> like x` on one state (e.g. a `dphys.nn` network); its
      floating-point arrays are the trainable parameters (the process has none).
    - `process`: the forward process (`VESong`, `VEGeometric`, `VP`, `EDM`).
    - `edm_precondition`: use the EDM denoiser parametrisation (module docstring).
    - `sigma_data`: data standard deviation of the input scaling and preconditioning;
      default `process.sigma_data` for `EDM`, else 1.
    """

    net: Callable
    process: AbstractProcess
    edm_precondition: bool = eqx.field(static=True, default=False)
    sigma_data: float = eqx.field(static=True, default=1.0)

    def __init__(self, net: Callable, process: AbstractProcess, edm_precondition: bool = False,
                 sigma_data: float | None = None):
        if not callable(net):
            raise ValueError(f"ScoreModel: net must be callable net(x, noise_level), got {net!r}")
        if not isinstance(process, AbstractProcess):
            raise ValueError(f"ScoreModel: process must be a dphys.diffusion process, got {process!r}")
        if sigma_data is None:
            sigma_data = process.sigma_data if isinstance(process, EDM) else 1.0
        sigma_data = float(sigma_data)
        if not (math.isfinite(sigma_data) and sigma_data > 0):
            raise ValueError(f"ScoreModel: sigma_data must be a finite number > 0, got {sigma_data}")
        self.net, self.process = net, process
        self.edm_precondition, self.sigma_data = bool(edm_precondition), sigma_data

    def __call__(self, x: PyTree[Float[Array, "..."]], t: Float[ArrayLike, ""]) -> PyTree[Float[Array, "..."]]:
        """The score at state `x` (one sample) and time `t`, a PyTree like `x`."""
        alpha, s = self.process.mean_std(t)
        sd2 = self.sigma_data**2
        if not self.edm_precondition:
            c_in = jax.lax.rsqrt(alpha**2 * sd2 + s**2)
            out = self.net(jtu.tree_map(lambda a: c_in * a, x), self.process.noise_level(t))
            return jtu.tree_map(lambda o: o / s, out)
        sigma = s / alpha
        c_in = jax.lax.rsqrt(sigma**2 + sd2)
        x_hat = jtu.tree_map(lambda a: a / alpha, x)
        f = self.net(jtu.tree_map(lambda a: c_in * a, x_hat), 0.25 * jnp.log(sigma))
        # (D - x_hat)/(alpha sigma^2) with c_skip - 1 = -sigma^2/(sigma^2 + sd^2) and
        # c_out/sigma^2 = sd c_in/sigma taken analytically (no cancellation at small sigma)
        return jtu.tree_map(lambda xh, o: (-xh * c_in**2 + self.sigma_data * c_in * o / sigma) / alpha, x_hat, f)


def check_data(name: str, x0: PyTree) -> PyTree:
    leaves = jtu.tree_leaves(x0)
    if not leaves:
        raise ValueError(f"{name}: the data x0 have no array leaves")
    n = {jnp.shape(a)[0] if jnp.ndim(a) else None for a in leaves}
    if None in n or len(n) != 1:
        raise ValueError(f"{name}: every leaf of x0 needs the same leading (batch) axis, got {n}")
    for a in leaves:
        if not jnp.issubdtype(jnp.result_type(a), jnp.inexact):
            raise ValueError(f"{name}: the data must be floating point, got dtype {jnp.result_type(a)}")
        if not isinstance(a, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(a))):
            bad = int(np.sum(~np.isfinite(np.asarray(a))))
            raise ValueError(f"{name}: the data x0 contain {bad} non-finite value(s) (NaN or inf)")
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(a)) for a in leaves]))
    return eqx.error_if(x0, ~finite, f"{name}: the data x0 contain NaN or inf")


def _log_sigma_range(process: AbstractProcess) -> tuple[Array, Array]:
    return jnp.log(process.sigma_of_t(process.t_min)), jnp.log(process.sigma_of_t(process.t_max))


def sample_training_times(process: AbstractProcess, key: PRNGKeyArray, n: int, weighting: str):
    r"""Training times and importance weights of `dsm_loss`. The noise-to-signal ratio
    $\sigma_t = s_t/\alpha_t$ is drawn log-uniformly on $[\sigma(t_{min}), \sigma(t_{max})]$ (one
    stratum per sample: a stratified draw), $t = $ `process.t_of_sigma`$(\sigma)$, with density
    $q(t) = (d\ln\sigma_t/dt)/\ln(\sigma_{max}/\sigma_{min})$; the weights $w = \lambda(t)/(s_t^2 q(t))$
    turn the draw into the expectation of the chosen `weighting` (`WEIGHTINGS`). $\ln\sigma$ (unlike
    $\ln s$, which saturates under VP) keeps $q$ away from zero, so the weights stay bounded.

    **Returns:** `(t, w)`, arrays of shape `(n,)`.
    """
    lo, hi = _log_sigma_range(process)
    u = (jnp.arange(n) + jax.random.uniform(key, (n,))) / n
    log_sigma = lo + (hi - lo) * u
    t = jnp.clip(jax.vmap(process.t_of_sigma)(jnp.exp(log_sigma)), process.t_min, process.t_max)
    dlogsig_dt = jax.vmap(jax.grad(lambda t: jnp.log(process.sigma_of_t(t))))(t)
    q = dlogsig_dt / (hi - lo)  # density of t
    alpha, s = jax.vmap(process.mean_std)(t)
    span = process.t_max - process.t_min
    if weighting == "sigma2":  # lambda = s^2, t uniform: w = 1/(span q)
        w = 1.0 / (span * q)
    elif weighting == "ncsn":  # lambda = s^2, ln sigma uniform: the draw itself
        w = jnp.ones_like(t)
    elif weighting == "likelihood":  # lambda = g^2, t uniform
        g = jax.vmap(process.diffusion)(t)
        w = g**2 / s**2 / (span * q)
    elif weighting == "edm":  # lambda(sigma) sigma^2 = (sigma^2 + sd^2)/sd^2, ln sigma ~ N(P_mean, P_std^2)
        sd = process.sigma_data if isinstance(process, EDM) else 1.0
        sigma = s / alpha
        z = (jnp.log(sigma) - _EDM_P_MEAN) / _EDM_P_STD
        p_logsig = jnp.exp(-0.5 * z**2) / (_EDM_P_STD * math.sqrt(2 * math.pi))
        w = p_logsig * (hi - lo) * (sigma**2 + sd**2) / sd**2
    else:
        raise ValueError(f"dsm_loss: unknown weighting {weighting!r}; expected one of {sorted(WEIGHTINGS)}")
    return t, jax.lax.stop_gradient(w)


def dsm_loss(
    score: Callable,
    x0: PyTree[Float[Array, "batch ..."]],
    key: PRNGKeyArray,
    weighting: str = "ncsn",
    *,
    process: AbstractProcess | None = None,
) -> Float[Array, ""]:
    r"""Denoising score matching loss on a batch of clean data `x0` (leading axis = batch):

    $$ L = \mathbb E_t\, \lambda(t)\, \mathbb E_{x_0, z} \frac1d \big\| \nabla\log p_t(x_t) + z/s_t \big\|^2,
       \qquad x_t = \alpha_t x_0 + s_t z, $$

    whose minimiser over all functions is the exact score of the noised data. The weighting
    $\lambda$ (`WEIGHTINGS`): `"ncsn"` (default: $s_t^2$ with $\ln\sigma_t$ uniform, every noise
    decade weighted alike; on the $\pm\mu$ toy under Song's VE it learns $\kappa_4$ to 1% where
    `"sigma2"`, which spends most draws at large noise, misses by 14%: the `cumulants` workflow),
    `"sigma2"` ($s_t^2$, $t$ uniform), `"likelihood"` ($g(t)^2$, $t$
    uniform, normalised by $1/(t_{max} - t_{min})$), `"edm"` (EDM's weighting and lognormal noise
    levels). All three draw one time per sample uniformly in $\ln(s_t/\alpha_t)$ (stratified over the
    batch) with importance weights (`sample_training_times`), which lowers the variance of the estimate.
    Usable as the loss of `dphys.fit`: `lambda model, batch, key: dsm_loss(model, batch, key)`.

    **Arguments:**

    - `score`: a `ScoreModel` (or any `score(x, t)` with a `process`).
    - `x0`: data, a PyTree of arrays with a common leading batch axis; finite.
    - `key`: PRNG key of the noise and times.
    - `weighting`: `"ncsn"`, `"sigma2"`, `"likelihood"` or `"edm"`.
    - `process`: the forward process if `score` has none.

    **Returns:** the scalar loss (dimensionless, per component).
    """
    name = "dsm_loss"
    process = get_process(score, process, name)
    if weighting not in WEIGHTINGS:
        raise ValueError(f"{name}: unknown weighting {weighting!r}; expected one of {sorted(WEIGHTINGS)}")
    x0 = check_data(name, x0)
    one = jtu.tree_map(lambda a: a[0], x0)
    check_score(name, score, one, process.t_max)
    n = jtu.tree_leaves(x0)[0].shape[0]
    t_key, z_key = jax.random.split(key)
    t, w = sample_training_times(process, t_key, n, weighting)
    leaves, tree = jtu.tree_flatten(x0)
    zs = [jax.random.normal(k, jnp.shape(a), jnp.result_type(a))
          for a, k in zip(leaves, jax.random.split(z_key, len(leaves)))]
    z = jtu.tree_unflatten(tree, zs)
    alpha, s = jax.vmap(process.mean_std)(t)

    def expand(c, a):
        return c.reshape((-1,) + (1,) * (jnp.ndim(a) - 1))

    xt = jtu.tree_map(lambda a, e: expand(alpha, a) * a + expand(s, a) * e, x0, z)
    sc = jax.vmap(score)(xt, t)
    resid = jtu.tree_map(lambda sa, e: (expand(s, sa) * sa + e) ** 2, sc, z)
    d = sum(int(np.prod(jnp.shape(a)[1:])) for a in leaves)
    per_sample = sum(jnp.sum(r.reshape(n, -1), axis=1) for r in jtu.tree_leaves(resid)) / d
    return jnp.mean(w * per_sample)

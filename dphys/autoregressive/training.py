r"""Training of continuous-mixture autoregressive networks and uses of their exact density.

- Maximum likelihood on an ensemble: minimise $-\frac1B\sum_b \log p_\theta(x_b \mid c_b)$.
- Reverse KL against a known action (variational): minimise
  $\mathrm{KL}(p_\theta\|e^{-S}/Z) = E_{p_\theta}[\log p_\theta + S] + \log Z$ with the
  score-function gradient $E[(\log p_\theta + S - b)\nabla\log p_\theta]$, baseline $b$ the
  batch mean (Wu, Wang & Zhang 2019).
- Effective action $S_\theta(x) = -\log p_\theta(x) - \log Z_\text{est}$, the constant fitted as
  the mean of $-\log p_\theta - S$ over calibration configurations.
- Independence Metropolis with $p_\theta$ as proposal; $\log Z = \log E_{p_\theta}[e^{-S-\log p_\theta}]$
  by importance sampling, hence free-energy differences.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys._checks import positive_int
from dphys.autoregressive.network import CANetwork, log_prob, sample_with_log_prob
from dphys.mcmc import independence_chain
from dphys.train import TrainResult, fit

__all__ = ["nll_loss", "reverse_kl_loss", "train_ml", "train_reverse_kl", "fit_log_z", "action_error",
           "relative_action_error",
           "independence_metropolis", "log_partition"]


def nll_loss(model: CANetwork, batch: tuple[Array, Array] | Array, key: PRNGKeyArray | None = None) -> Float[Array, ""]:
    r"""Mean negative log-likelihood per configuration (nats) of `batch`: `x` of shape
    `(B, *shape)` or `(x, cond)` with `cond` of shape `(B,)`."""
    if isinstance(batch, (tuple, list)):
        x, cond = batch
        return -jnp.mean(jax.vmap(model.log_prob)(x, cond))
    return -jnp.mean(jax.vmap(lambda xi: model.log_prob(xi))(batch))


def reverse_kl_loss(model: CANetwork, action: Callable, key: PRNGKeyArray, n: int, cond=None) -> Float[Array, ""]:
    r"""Surrogate loss whose gradient is the score-function estimate of
    $\nabla_\theta\,\mathrm{KL}(p_\theta\|e^{-S}/Z)$ from `n` samples of the network (no
    gradient through the samples); its value is not the KL. `cond`: scalar or `None`."""
    keys = jax.random.split(key, n)
    frozen = jax.lax.stop_gradient(model)
    if cond is None:
        x, _ = jax.vmap(lambda k: frozen.sample_one(k))(keys)
        logq = jax.vmap(lambda xi: model.log_prob(xi))(x)
    else:
        x, _ = jax.vmap(lambda k: frozen.sample_one(k, cond))(keys)
        logq = jax.vmap(lambda xi: model.log_prob(xi, cond))(x)
    f = jax.lax.stop_gradient(logq + jax.vmap(action)(x))
    return jnp.mean((f - jnp.mean(f)) * logq)


def train_ml(model: CANetwork, x: Float[ArrayLike, "n ..."], cond: Float[ArrayLike, " n"] | None = None, *,
             steps: int, key: PRNGKeyArray, batch_size: int = 256, learning_rate: float = 3e-3,
             progress: bool = True, checkpoint_dir=None, desc: str = "CAN maximum likelihood") -> TrainResult:
    r"""Maximum-likelihood training with `dphys.fit` (Adam, cosine-decayed learning rate, gradient
    clipping at norm 1).

    **Arguments:** `model`; `x` configurations `(n, *shape)`; `cond` one conditioning value per
    configuration (conditional networks); `steps`, `key`, `batch_size` (at most n),
    `learning_rate` > 0, `progress`, `checkpoint_dir` (see `dphys.fit`).

    **Returns:** `dphys.TrainResult` (`.model`, `.losses` in nats per configuration).
    """
    x = jnp.asarray(x)
    if x.ndim < 2 or x.shape[1:] != model.shape:
        raise ValueError(f"x of shape {x.shape}: expected (n, *{model.shape})")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate={learning_rate!r}: expected > 0")
    steps = positive_int("fit_log_z", "steps", steps)
    if cond is None:
        model._cond(None)
        data = x
    else:
        cond = jnp.broadcast_to(jnp.asarray(cond, float), x.shape[:1])
        model._cond(cond[0])
        data = (x, cond)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0),
                            optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=0.05)))
    return fit(nll_loss, model, optimizer, data, steps=steps, key=key, batch_size=min(batch_size, x.shape[0]),
               log_every=max(1, min(100, steps)), progress=progress, checkpoint_dir=checkpoint_dir, desc=desc)


def train_reverse_kl(model: CANetwork, action: Callable, *, steps: int, key: PRNGKeyArray, batch_size: int = 128,
                     cond: float | None = None, learning_rate: float = 1e-3, progress: bool = True) -> TrainResult:
    r"""Variational training against a known action `action(x) -> S` (one configuration) by the
    reverse KL (`reverse_kl_loss`), `batch_size` network samples per step, with `dphys.fit`."""
    steps = positive_int("train_reverse_kl", "steps", steps)
    batch_size = positive_int("train_reverse_kl", "batch_size", batch_size)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate={learning_rate!r}: expected > 0")
    model._cond(cond)
    model.check_cond(cond)
    dummy = lambda k: jnp.zeros(())  # noqa: E731 (fit needs data; the samples come from the model)
    loss = lambda m, _, k: reverse_kl_loss(m, action, k, batch_size, cond)  # noqa: E731
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(learning_rate))
    return fit(loss, model, optimizer, dummy, steps=steps, key=key, log_every=max(1, min(50, steps)),
               progress=progress, desc="CAN reverse KL")


def _actions(action: Callable | ArrayLike, x: Array) -> np.ndarray:
    values = jax.vmap(action)(x) if callable(action) else jnp.asarray(action)
    values = np.asarray(values, np.float64)
    if values.shape != x.shape[:1]:
        raise ValueError(f"action values of shape {values.shape}: expected one per configuration, {x.shape[:1]}")
    return values


def fit_log_z(model: CANetwork, x: Float[ArrayLike, "n ..."], action: Callable | ArrayLike, cond=None) -> float:
    r"""The constant of $S_\theta = -\log p_\theta - \log Z_\text{est}$ fitted on `x`:
    $\log Z_\text{est} = \overline{(-\log p_\theta - S)}$ (least squares)."""
    x = jnp.asarray(x)
    s = _actions(action, x)
    return float(np.mean(-np.asarray(log_prob(model, x, cond), np.float64) - s))


def relative_action_error(log_q: Float[ArrayLike, " n"], s: Float[ArrayLike, " n"], n_calibrate: int | None = None
                          ) -> dict[str, float | np.ndarray]:
    r"""$r = \mathrm{RMS}(S_\theta - S)/\mathrm{std}(S)$ for log-densities `log_q` and actions `s`
    of the same configurations, $S_\theta = -\log q - \log Z_\text{est}$.

    The first `n_calibrate` values (default half) fix $\log Z_\text{est} = \overline{(-\log q - S)}$;
    $r$ is measured on the rest. For the exact density ($\log q = -S - \log Z$) $r = 0$ up to
    round-off; a density whose error $\log q + S + \log Z$ has standard deviation $\sigma$
    gives $r \approx \sigma/\mathrm{std}(S)$ (plus $O(1/\sqrt{n_\text{cal}})$ from the fitted constant).

    **Returns:** dict with `"rel_rms"`, `"rms"`, `"std_S"`, `"log_z"`, and the arrays `"S"`,
    `"S_theta"` of the evaluation configurations.
    """
    log_q, s = np.asarray(log_q, np.float64), np.asarray(s, np.float64)
    if log_q.ndim != 1 or log_q.shape != s.shape:
        raise ValueError(f"log_q of shape {log_q.shape} and s of shape {s.shape}: expected two equal 1D arrays")
    n = s.shape[0]
    n_cal = n // 2 if n_calibrate is None else int(n_calibrate)
    if not 1 <= n_cal < n - 1:
        raise ValueError(f"n_calibrate={n_calibrate}: needs 1 <= n_calibrate < n - 1 = {n - 1}")
    s_net = -log_q
    log_z = float(np.mean(s_net[:n_cal] - s[:n_cal]))
    s_theta = s_net[n_cal:] - log_z
    diff = s_theta - s[n_cal:]
    rms = float(np.sqrt(np.mean(diff**2)))
    std = float(np.std(s[n_cal:], ddof=1))
    return {"rel_rms": rms / std, "rms": rms, "std_S": std, "log_z": log_z, "S": s[n_cal:], "S_theta": s_theta}


def action_error(model: CANetwork, x: Float[ArrayLike, "n ..."], action: Callable | ArrayLike, cond=None, *,
                 n_calibrate: int | None = None) -> dict[str, float | np.ndarray]:
    r"""Error of the effective action $S_\theta = -\log p_\theta - \log Z_\text{est}$ on
    configurations `x` (e.g. held-out HMC samples): `relative_action_error` of the network's
    log-densities and the actions (`action` a function of one configuration, or the values).

    The first `n_calibrate` configurations (default half) fix $\log Z_\text{est}$; on the rest,
    $r = \mathrm{RMS}(S_\theta - S)/\mathrm{std}(S)$.

    **Returns:** dict with `"rel_rms"`, `"rms"`, `"std_S"`, `"log_z"`, and the arrays `"S"`,
    `"S_theta"` of the evaluation configurations.
    """
    x = jnp.asarray(x)
    s = _actions(action, x)
    return relative_action_error(np.asarray(log_prob(model, x, cond), np.float64), s, n_calibrate)


def independence_metropolis(model: CANetwork, key: PRNGKeyArray, n: int, action: Callable, cond=None
                            ) -> tuple[Array, float, Array]:
    r"""`n` network proposals turned into an exact Markov chain for $e^{-S}$ by independence
    Metropolis (`dphys.mcmc.independence_chain`).

    **Returns:** `(chain, acceptance, proposals)`; the chain has repeated states at rejections.
    """
    k1, k2 = jax.random.split(key)
    x, logq = sample_with_log_prob(model, k1, n, cond)
    logp = -jax.vmap(action)(x)
    chain, info = independence_chain(k2, x, logq, logp)
    return chain, float(info.acceptance), x


def log_partition(model: CANetwork, key: PRNGKeyArray, n: int, action: Callable, cond=None) -> tuple[float, float]:
    r"""$\log Z = \log\int e^{-S(x)}dx$ by importance sampling with `n` network samples,
    $\log\frac1n\sum e^{w}$, $w = -S - \log p_\theta$; error by the delta method,
    $\mathrm{std}(e^{w})/(\sqrt n\,\overline{e^{w}})$. Unbiased in $Z$; $\log Z$ is biased low by
    about half the squared error.

    **Returns:** `(log_z, error)`.
    """
    x, logq = sample_with_log_prob(model, key, n, cond)
    w = np.asarray(-jax.vmap(action)(x) - logq, np.float64)
    m = w.max()
    e = np.exp(w - m)
    return float(m + np.log(e.mean())), float(e.std(ddof=1) / (np.sqrt(len(e)) * e.mean()))

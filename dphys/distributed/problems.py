r"""Distributed test problems with controlled heterogeneity and an exactly known optimum.

**Quadratics** (`heterogeneous_quadratic`): machine m owns
$f_m(x) = \tfrac12 x^\top H_m x + g_m^\top x$ with diagonal $H_m = \mathrm{diag}(\lambda \odot (1 + r s_m))$,
$\lambda_i = H\, i^{-p}$ ($i = 1..d$), signs $s_{m,i} = \pm 1$ with $\sum_m s_{m,i} = 0$ and
$g_m = \zeta\, s_m / \sqrt d$. Then $\bar H = \mathrm{diag}(\lambda)$, $\sum_m g_m = 0$, so
$x^\star = 0$, $F^\star = 0$, and exactly:

- first-order heterogeneity $\zeta^2 = \frac1M \sum_m \|\nabla f_m(x^\star)\|^2$,
- second-order heterogeneity $\tau = \max_m \|H_m - \bar H\|_{op} = r H$ (each $f_m$ stays convex for
  $\tau < H$), smoothness $(1 + r) H$,
- the oracle adds $\mathcal N(0, \sigma^2/d\, I)$ noise, so $E\|g - \nabla f_m\|^2 = \sigma^2$.

Because $g_m$ and $H_m$ share the signs $s_m$, the machines' own minimisers $-H_m^{-1} g_m$ do not
average to $x^\star$ when $\tau > 0$: local SGD is biased (loses to mini-batch SGD at large K R),
while for $\tau = 0$ the averaged local iterate follows exact gradient descent on F with K R steps
(local SGD wins). The spectrum $\lambda_i \propto i^{-p}$ and $x_0 \propto i^{-1/2}$ (with
$\|x_0 - x^\star\| = B$) make gradient descent decay like $1/T$ and accelerated descent like $1/T^2$
over a long range of T before the smallest eigenvalue is resolved: the convex worst-case rates.

**Logistic regression** (`heterogeneous_logistic`): machine m holds n samples with features
$a \sim \mathcal N(\mu_m, I)$, $\|\mu_m\| =$ `shift`, labels $y = \pm1$ from a common teacher;
$F(w) = \frac1{Mn}\sum \log(1 + e^{-y w\cdot a}) + \tfrac{\rho}{2}\|w\|^2$. The optimum is found by
Newton's method in float64 to machine precision.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = ["QuadraticProblem", "heterogeneous_quadratic", "quadratic_grad", "LogisticProblem",
           "heterogeneous_logistic", "LogisticGrad"]


def quadratic_grad(x: Float[Array, " d"], machine: dict, key: PRNGKeyArray) -> Float[Array, " d"]:
    """Stochastic gradient of machine m's quadratic: $H_m x + g_m + \\sigma \\xi/\\sqrt d$."""
    noise = jax.random.normal(key, x.shape, x.dtype) * (machine["sigma"] / math.sqrt(x.shape[-1]))
    return (machine["hessian"] * x + machine["linear"] + noise).astype(x.dtype)


class QuadraticProblem(eqx.Module):
    """M diagonal quadratics $f_m(x) = \\frac12 x^T \\mathrm{diag}(h_m) x + g_m^T x$ with noise sigma.

    **Fields:** `hessian` (M, d), `linear` (M, d), `sigma` (M,), `x0` (d,).
    `data` and `grad_fn` plug into `dphys.distributed.local_sgd` & co.
    """

    hessian: Float[Array, "M d"]
    linear: Float[Array, "M d"]
    sigma: Float[Array, " M"]
    x0: Float[Array, " d"]

    @property
    def data(self) -> dict:
        return {"hessian": self.hessian, "linear": self.linear, "sigma": self.sigma}

    @property
    def grad_fn(self):
        return quadratic_grad

    @property
    def x_star(self) -> Float[Array, " d"]:
        """$x^\\star = -\\bar H^{-1} \\bar g$."""
        return -jnp.mean(self.linear, 0) / jnp.mean(self.hessian, 0)

    def objective(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """$F(x) = \\frac1M \\sum_m f_m(x)$."""
        return jnp.mean(0.5 * jnp.sum(self.hessian * x**2, -1) + jnp.sum(self.linear * x, -1))

    def suboptimality(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """$F(x) - F^\\star = \\frac12 (x - x^\\star)^T \\bar H (x - x^\\star)$ (exact, no cancellation)."""
        e = x - self.x_star
        return 0.5 * jnp.sum(jnp.mean(self.hessian, 0) * e**2)

    @property
    def zeta(self) -> Float[Array, ""]:
        """$\\zeta = (\\frac1M \\sum_m \\|\\nabla f_m(x^\\star)\\|^2)^{1/2}$."""
        g = self.hessian * self.x_star + self.linear
        return jnp.sqrt(jnp.mean(jnp.sum(g**2, -1)))

    @property
    def tau(self) -> Float[Array, ""]:
        """$\\tau = \\max_m \\|H_m - \\bar H\\|_{op}$."""
        return jnp.max(jnp.abs(self.hessian - jnp.mean(self.hessian, 0)))

    @property
    def smoothness(self) -> Float[Array, ""]:
        """The largest eigenvalue of any $H_m$."""
        return jnp.max(self.hessian)


def heterogeneous_quadratic(
    machines: int, dim: int, *, zeta: float = 0.0, tau: float = 0.0, sigma: float = 0.0,
    smoothness: float = 1.0, decay: float = 3.0, distance: float = 1.0, key: PRNGKeyArray | None = None,
    dtype=jnp.float32,
) -> QuadraticProblem:
    """The quadratic construction of the module docstring.

    **Arguments:** `machines` M (even when `zeta` or `tau` > 0), `dim` d; heterogeneities `zeta`
    ($\\ge 0$) and `tau` ($0 \\le \\tau <$ `smoothness`); gradient noise `sigma` ($\\ge 0$);
    `smoothness` H of $\\bar F$; spectral `decay` p; `distance` $B = \\|x_0 - x^\\star\\|$; `key`
    shuffles which machines get $s = +1$ per coordinate (default: alternating).

    **Returns:** a `QuadraticProblem` with $x^\\star = 0$, $F^\\star = 0$.
    """
    for name, v in (("machines", machines), ("dim", dim)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    for name, v in (("zeta", zeta), ("tau", tau), ("sigma", sigma)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if not (np.isfinite(smoothness) and smoothness > 0) or not (np.isfinite(distance) and distance > 0):
        raise ValueError(f"smoothness and distance must be > 0, got {smoothness!r}, {distance!r}")
    if tau >= smoothness:
        raise ValueError(f"tau={tau} must be < smoothness={smoothness} so every local objective is convex")
    if (zeta > 0 or tau > 0) and machines % 2:
        raise ValueError(f"machines={machines} must be even for heterogeneity (signs +-1 in pairs)")
    signs = np.where(np.arange(machines)[:, None] % 2 == 0, 1.0, -1.0) * np.ones((1, dim))
    if key is not None:
        perm = jax.vmap(lambda k: jax.random.permutation(k, machines))(jax.random.split(key, dim))
        signs = np.take_along_axis(signs, np.asarray(perm).T, axis=0)
    i = np.arange(1, dim + 1)
    lam = smoothness * i ** (-float(decay))
    hessian = lam[None] * (1.0 + (tau / smoothness) * signs)
    linear = zeta * signs / np.sqrt(dim)
    x0 = i**-0.5
    x0 = distance * x0 / np.linalg.norm(x0)
    return QuadraticProblem(jnp.asarray(hessian, dtype), jnp.asarray(linear, dtype),
                            jnp.full((machines,), sigma, dtype), jnp.asarray(x0, dtype))


class LogisticGrad(eqx.Module):
    """Stochastic gradient of regularised logistic loss on `batch_size` samples of one machine
    (uniform with replacement)."""

    batch_size: int = eqx.field(static=True)
    reg: float = eqx.field(static=True)

    def __call__(self, w, machine, key):
        idx = jax.random.randint(key, (self.batch_size,), 0, machine["labels"].shape[0])
        a, y = machine["features"][idx], machine["labels"][idx]
        margin = y * (a @ w)
        return -(a * (y * jax.nn.sigmoid(-margin))[:, None]).mean(0) + self.reg * w


class LogisticProblem(eqx.Module):
    """M machines of logistic-regression data with the exact optimum `w_star`, `f_star`."""

    features: Float[Array, "M n d"]
    labels: Float[Array, "M n"]
    reg: float = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)
    w_star: Float[Array, " d"]
    f_star: float = eqx.field(static=True)

    @property
    def data(self) -> dict:
        return {"features": self.features, "labels": self.labels}

    @property
    def grad_fn(self) -> LogisticGrad:
        return LogisticGrad(self.batch_size, self.reg)

    def objective(self, w: Float[Array, " d"]) -> Float[Array, ""]:
        margin = self.labels * jnp.einsum("mnd,d->mn", self.features, w)
        return jnp.mean(jnp.logaddexp(0.0, -margin)) + 0.5 * self.reg * jnp.sum(w**2)

    def suboptimality(self, w: Float[Array, " d"]) -> Float[Array, ""]:
        return self.objective(w) - self.f_star


def heterogeneous_logistic(key: PRNGKeyArray, machines: int, samples: int, dim: int, *, shift: float = 1.0,
                           reg: float = 1e-2, batch_size: int = 8, dtype=jnp.float32) -> LogisticProblem:
    """Logistic regression with heterogeneous splits (module docstring); `shift` = $\\|\\mu_m\\|$
    sets the heterogeneity, `reg` > 0 the ridge term, `batch_size` the oracle's mini-batch."""
    for name, v in (("machines", machines), ("samples", samples), ("dim", dim), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not (reg > 0 and np.isfinite(reg)) or not (shift >= 0 and np.isfinite(shift)):
        raise ValueError(f"reg must be > 0 and shift >= 0, got reg={reg!r}, shift={shift!r}")
    k_mu, k_a, k_w, k_y = jax.random.split(key, 4)
    mu = np.asarray(jax.random.normal(k_mu, (machines, dim)), np.float64)
    mu = shift * mu / np.linalg.norm(mu, axis=1, keepdims=True)
    a = np.asarray(jax.random.normal(k_a, (machines, samples, dim)), np.float64) + mu[:, None]
    w_true = np.asarray(jax.random.normal(k_w, (dim,)), np.float64)
    p = 1.0 / (1.0 + np.exp(-a @ w_true))
    y = np.where(np.asarray(jax.random.uniform(k_y, (machines, samples))) < p, 1.0, -1.0)
    flat_a, flat_y = a.reshape(-1, dim), y.reshape(-1)
    w = np.zeros(dim)
    for _ in range(100):  # Newton in float64: quadratic convergence to machine precision
        s = 1.0 / (1.0 + np.exp(flat_y * (flat_a @ w)))  # sigmoid(-margin)
        grad = -(flat_a * (flat_y * s)[:, None]).mean(0) + reg * w
        hess = (flat_a.T * (s * (1 - s))) @ flat_a / flat_a.shape[0] + reg * np.eye(dim)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.linalg.norm(step) < 1e-15 * (1 + np.linalg.norm(w)):
            break
    f_star = float(np.mean(np.logaddexp(0.0, -flat_y * (flat_a @ w))) + 0.5 * reg * w @ w)
    return LogisticProblem(jnp.asarray(a, dtype), jnp.asarray(y, dtype), float(reg), int(batch_size),
                           jnp.asarray(w, dtype), f_star)

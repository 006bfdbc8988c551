r"""Exact autoregressive conditionals of a nearest-neighbour chain on a ring, from its transfer
matrix: the reference a CAN of such an action must learn.

For $S = \sum_{i=0}^{N-1}[(x_{i+1}-x_i)^2/2a + aV(x_i)]$ with $x_N \equiv x_0$, write
$e^{-S} = (2\pi a)^{N/2}\prod_i T(x_i, x_{i+1})$ with the symmetric kernel
$T(x, y) = (2\pi a)^{-1/2} e^{-aV(x)/2 - (x-y)^2/2a - aV(y)/2}$ and $T^m$ its $m$-th operator
power. Integrating out $x_{i+1}, \dots, x_{N-1}$ leaves $T^{N-i}(x_i, x_0)$, so

$$ p(x_0) = \frac{T^N(x_0, x_0)}{\mathrm{Tr}\,T^N}, \qquad
   p(x_i \mid x_{<i}) = p(x_i \mid x_{i-1}, x_0)
   = \frac{T(x_{i-1}, x_i)\, T^{N-i}(x_i, x_0)}{T^{N-i+1}(x_{i-1}, x_0)} \quad (i \ge 1). $$

$T^m(x, y) = \Delta x\; t(x)^\top A^{m-2}\, t(y)$ for $m \ge 2$, with $t(x)_k = T(x, g_k)$ on a
uniform grid $g$ and $A_{kl} = T(g_k, g_l)\Delta x$; so the kernel is exact in $x, y$ (not
interpolated) and the only approximation is the quadrature over intermediate sites, which
converges exponentially once $\Delta x \ll \sqrt a$. The sum over sites telescopes to
$\log p(x) = -S(x) - \log Z$ exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from jaxtyping import ArrayLike, Float

__all__ = ["chain_log_conditionals", "double_well_log_conditionals"]


def chain_log_conditionals(x: Float[ArrayLike, "n N"], a: float, potential: Callable, *, x_max: float,
                           n_grid: int) -> np.ndarray:
    r"""Exact $\log p(x_i \mid x_{<i})$ (nats, float64) of every site of periodic paths `x`
    under $e^{-S}/Z$, $S = \sum_i[(x_{i+1}-x_i)^2/2a + aV(x_i)]$ (module docstring).

    **Arguments:** `x` paths `(n, N)`, $N \ge 2$; `a` > 0 the time spacing; `potential` $V$ of a
    NumPy array; `x_max`, `n_grid` the quadrature grid on $[-x_\text{max}, x_\text{max}]$
    (the wave functions must be negligible at its ends, spacing well below $\sqrt a$).

    **Returns:** `(n, N)` array; its row sums are $-S(x) - \log Z$.
    """
    x = np.asarray(x, np.float64)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"x of shape {x.shape}: expected (n, N) periodic paths with N >= 2")
    if not a > 0:
        raise ValueError(f"a={a!r}: expected a time spacing a > 0")
    if not (x_max > 0 and int(n_grid) >= 3):
        raise ValueError(f"x_max={x_max!r}, n_grid={n_grid!r}: expected x_max > 0, n_grid >= 3")
    n_sites = x.shape[1]
    grid = np.linspace(-x_max, x_max, int(n_grid))
    dx = grid[1] - grid[0]
    log_norm = -0.5 * np.log(2 * np.pi * a)

    def log_kernel(u, v):  # log T(u, v), broadcasting
        return (log_norm - a * np.asarray(potential(u), np.float64) / 2 - (u - v) ** 2 / (2 * a)
                - a * np.asarray(potential(v), np.float64) / 2)

    mat = np.exp(log_kernel(grid[:, None], grid[None, :])) * dx
    lam, vec = np.linalg.eigh(mat)
    lam = np.clip(lam, 0.0, None)
    lam0 = lam.max()
    r = lam / lam0

    def log_tv(u):  # t(u) on the grid (..., G) divided by its row maximum, and the log of that maximum
        lt = log_kernel(u[..., None], grid)
        m = lt.max(axis=-1, keepdims=True)
        return np.exp(lt - m), m[..., 0]

    def log_power(m, u, v):  # log T^m(u, v), m >= 1, u and v of the same shape
        if m == 1:
            return log_kernel(u, v)
        tu, mu = log_tv(u)
        tv, mv = log_tv(v)
        cu, cv = tu @ vec, tv @ vec  # projections on the eigenvectors of A
        s = np.sum(cu * cv * r ** (m - 2), axis=-1)
        return np.log(np.clip(s, 1e-300, None)) + (m - 2) * np.log(lam0) + np.log(dx) + mu + mv

    out = np.empty_like(x)
    log_trace = n_sites * np.log(lam0) + np.log(np.sum(r**n_sites))
    out[:, 0] = log_power(n_sites, x[:, 0], x[:, 0]) - log_trace
    for i in range(1, n_sites):
        out[:, i] = (log_kernel(x[:, i - 1], x[:, i]) + log_power(n_sites - i, x[:, i], x[:, 0])
                     - log_power(n_sites - i + 1, x[:, i - 1], x[:, 0]))
    return out


def double_well_log_conditionals(x: Float[ArrayLike, "n N"], a: float, lam: float, eta: float) -> np.ndarray:
    r"""`chain_log_conditionals` of the double well $V(x) = \lambda(x^2-\eta^2)^2$ on a grid that
    resolves it: to $x_\text{max}$ with $\lambda(x_\text{max}^2-\eta^2)^2 = 40$ (or 1.2 times past
    the paths), spacing about $\sqrt a/8$.

    **Arguments:** `x` paths `(n, N)`; `a` > 0; `lam` > 0; `eta`.

    **Returns:** `(n, N)` exact $\log p(x_i \mid x_{<i})$; row sums $-S(x) - \log Z$.
    """
    if not lam > 0:
        raise ValueError(f"lam={lam!r}: expected a quartic coupling lam > 0")
    if not a > 0:
        raise ValueError(f"a={a!r}: expected a time spacing a > 0")
    x = np.asarray(x, np.float64)
    x_max = max(math.sqrt(eta**2 + math.sqrt(40 / lam)), 1.2 * float(np.max(np.abs(x))))
    n_grid = 2 * int(math.ceil(8 * x_max / math.sqrt(a))) + 1
    return chain_log_conditionals(x, a, lambda y: lam * (y**2 - eta**2) ** 2, x_max=x_max, n_grid=n_grid)

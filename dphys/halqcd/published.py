r"""Published HAL QCD potentials as data: the Xi-Xi $^1S_0$ leading-order potentials of Iritani et al.
(HAL QCD), PRD 99 (2019) 014514, on $L = 40$ (wall and exponentially smeared sources, $t = 10 \ldots 16$),
fitted by a sum of Gaussians and by a neural potential, with bootstrap errors, and their scattering.

**Data** (`../shared/data/halqcd_xixi_L40_PRD99/pot_1s0_xixi_L40.npz`, PROVENANCE.txt there): per
source and $t$ an array (1771, 9) in lattice units, columns $r$, $V_{H0}$, err, $V_{dt}$, err,
$V_{dt2}$, err, $V$ (the LO potential), err, on the points $0 \le i_z \le i_y \le i_x \le 20$.
`load_published` converts to fm and MeV with $a^{-1} = 2194$ MeV.

**Fits.** `fit_gaussians`: $V(r) = \sum_{i} c_i e^{-(r/d_i)^2}$ by weighted least squares
($\chi^2 = \sum_j (V_j - V(r_j))^2/\sigma_j^2$ over $r_j \le r_\max$) with variable projection: for
given widths the amplitudes are the linear least-squares solution (normal equations), and the widths are
found by Levenberg-Marquardt (a fixed number of damped Gauss-Newton
iterations, Jacobian by forward-mode autodiff), all in one jitted program vmapped over data replicas.
Two safeguards against the classic degeneracies of Gaussian sums at noisy late $t$ (two Gaussians
merging with huge opposite amplitudes; a width running away into a constant offset): the widths are
$d_i = d_\min + (d_\max - d_\min)\,\sigma(x_i)$ in (0.02, 2) fm, and the amplitudes carry a weak
ridge prior $\sum_i (c_i/1000\,\text{MeV})^2$ added to $\chi^2$ (about 5 for the fitted potentials,
against $\chi^2 \approx 10^3$; the quoted $\chi^2$ excludes it).
`bootstrap_replicas` draws replicas $V_j + \sigma_j z_j$ (independent normal $z$; the published
errors are per point, their correlations between points are not published, so they are neglected:
the band is the uncertainty implied by the quoted errors, not a full jackknife). `fit_neural`
trains one `NeuralPotential` per replica on the same $\chi^2$ (Adam, vmapped).

The $t$-dependence of the fitted potentials and of their phase shifts (`t = 10 ... 16`) is the
systematic error of the leading-order truncation and of inelastic-state contamination; report the
spread over $t$ next to the statistical band, never inside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from dphys.constants import HBARC
from dphys.halqcd.lattice import XIXI_AINV
from dphys.scattering.potentials import GaussianSum, NeuralPotential
from dphys.train import TrainResult, fit

__all__ = [
    "GaussianFit",
    "PublishedPotential",
    "bootstrap_replicas",
    "fit_gaussians",
    "fit_neural",
    "load_published",
]

SOURCES = ("wall", "exp")


class PublishedPotential(NamedTuple):
    """One published LO potential: `source` ('wall' or 'exp'), `t` (lattice units), `r` [fm],
    `v` [MeV] the LO potential and `err` [MeV] its error, `terms` [MeV] (3, n) the $V_{H0}$,
    $V_{dt}$, $V_{dt2}$ parts, `raw` the (n, 9) array in lattice units."""

    source: str
    t: int
    r: np.ndarray
    v: np.ndarray
    err: np.ndarray
    terms: np.ndarray
    raw: np.ndarray


def load_published(path: str | os.PathLike, ainv: float = XIXI_AINV) -> dict[tuple[str, int], PublishedPotential]:
    """Read `pot_1s0_xixi_L40.npz` (module docstring) into `{(source, t): PublishedPotential}`.

    **Arguments:** `path` of the .npz (or the folder holding it); `ainv` $a^{-1}$ [MeV].

    **Returns:** the dictionary, sorted by source then t. Raises ValueError naming the file for a
    missing file, an array that is not (n, 9), or a total column that is not the sum of its terms.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "pot_1s0_xixi_L40.npz"
    if not p.is_file():
        raise ValueError(f"load_published: no file {os.fspath(p)!r}")
    a = HBARC / ainv
    out = {}
    with np.load(p, allow_pickle=False) as f:
        for name in sorted(f.files, key=lambda s: (SOURCES.index(s.split("_t")[0]) if s.split("_t")[0] in SOURCES
                                                   else 9, s)):
            src, _, t = name.partition("_t")
            raw = np.asarray(f[name], dtype=np.float64)
            if src not in SOURCES or not t.isdigit() or raw.ndim != 2 or raw.shape[1] != 9:
                raise ValueError(f"{os.fspath(p)}: array {name!r} with shape {raw.shape}: expected '<wall|exp>_t<t>' "
                                 f"arrays of shape (n, 9)")
            if np.max(np.abs(raw[:, 7] - raw[:, 1] - raw[:, 3] - raw[:, 5])) > 1e-5 * np.max(np.abs(raw[:, 7])):
                raise ValueError(f"{os.fspath(p)}: array {name!r}: column 7 is not the sum of columns 1, 3, 5")
            out[(src, int(t))] = PublishedPotential(src, int(t), raw[:, 0] * a, raw[:, 7] * ainv, raw[:, 8] * ainv,
                                                    raw[:, [1, 3, 5]].T * ainv, raw)
    return out


def bootstrap_replicas(key: PRNGKeyArray, v: Float[ArrayLike, " n"], err: Float[ArrayLike, " n"],
                       replicas: int) -> Float[Array, "B n"]:
    r"""`replicas` copies $V_j + \sigma_j z_j$, $z_j$ independent standard normal (module docstring),
    replica 0 being the data themselves. Units of `v`."""
    if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 2:
        raise ValueError(f"bootstrap_replicas: replicas must be an int >= 2, got {replicas!r}")
    v, err = jnp.asarray(v), jnp.asarray(err)
    z = jax.random.normal(key, (replicas, v.size), dtype=v.dtype).at[0].set(0.0)
    return v + err * z


class GaussianFit(NamedTuple):
    """A multi-Gaussian fit per replica: `c` [MeV] (B, G), `d` [fm] (B, G), `chi2` (B,), `dof`;
    `potential(b)` the `GaussianSum` of replica b."""

    c: Array
    d: Array
    chi2: Array
    dof: int

    def potential(self, b: int = 0) -> GaussianSum:
        return GaussianSum(c=self.c[b], d=self.d[b])


D_MIN, D_MAX = 0.02, 2.0  # [fm] the Gaussian widths are kept in (D_MIN, D_MAX)
C_SCALE = 1000.0  # [MeV] scale of the weak ridge prior sum_i (c_i / C_SCALE)^2 on the amplitudes


def _widths(x):
    return D_MIN + (D_MAX - D_MIN) * jax.nn.sigmoid(x)


def _solve_spd(M, b):
    """Solve M x = b for a small symmetric positive-definite M by an unrolled Cholesky in plain jnp
    (no LAPACK call: jaxlib's CPU LAPACK goes through a threaded OpenBLAS, which deadlocked in vmapped
    loops on the project's 2-core machines)."""
    n = M.shape[0]
    L = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = M[i, j] - sum((L[i][k] * L[j][k] for k in range(j)), 0.0)
            L[i][j] = jnp.sqrt(jnp.maximum(s, 1e-300)) if i == j else s / L[j][j]
    y = []
    for i in range(n):
        y.append((b[i] - sum((L[i][k] * y[k] for k in range(i)), 0.0)) / L[i][i])
    x = [None] * n
    for i in reversed(range(n)):
        x[i] = (y[i] - sum((L[k][i] * x[k] for k in range(i + 1, n)), 0.0)) / L[i][i]
    return jnp.stack(x)


def _amplitudes(x, r, v, w):
    A = jnp.exp(-((r[:, None] / _widths(x)) ** 2)) * w[:, None]
    G = x.size
    A_aug = jnp.concatenate([A, jnp.eye(G) / C_SCALE])  # the ridge prior as extra residuals
    b_aug = jnp.concatenate([v * w, jnp.zeros(G)])
    c = _solve_spd(A_aug.T @ A_aug, A_aug.T @ b_aug)
    return c, A_aug @ c - b_aug


@eqx.filter_jit
def _fit_all(logd0, r, vs, w, iterations):
    """Levenberg-Marquardt on the log-widths (fixed number of iterations, vmapped over replicas)."""

    def one(v):
        res = lambda x: _amplitudes(x, r, v, w)[1]  # noqa: E731
        cost = lambda x: jnp.sum(res(x) ** 2)  # noqa: E731

        def step(_, state):
            x, lam, c0 = state
            J = jax.jacfwd(res)(x)
            g, H = J.T @ res(x), J.T @ J
            dx = -_solve_spd(H + lam * jnp.diag(jnp.diag(H) + 1e-12), g)
            c1 = cost(x + dx)
            better = jnp.isfinite(c1) & (c1 < c0)
            return (jnp.where(better, x + dx, x), jnp.where(better, lam / 3, lam * 4), jnp.where(better, c1, c0))

        x, _, _ = jax.lax.fori_loop(0, iterations, step, (logd0, jnp.asarray(1e-2), cost(logd0)))
        c, rr = _amplitudes(x, r, v, w)
        order = jnp.argsort(x)
        return c[order], _widths(x)[order], jnp.sum(rr[: r.size] ** 2)

    return jax.vmap(one)(vs)


def fit_gaussians(r: Float[ArrayLike, " n"], v: Float[ArrayLike, "B n"], err: Float[ArrayLike, " n"], *,
                  widths: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0), rmax: float = 2.0,
                  iterations: int = 100) -> GaussianFit:
    r"""Weighted least-squares fits of $\sum_i c_i e^{-(r/d_i)^2}$ (module docstring) to each replica.

    **Arguments:** `r` [fm] (n,); `v` [MeV] (B, n) replicas (or (n,)); `err` [MeV] (n,) > 0;
    `widths` the initial $d_i$ [fm] (their number is the number of Gaussians); `rmax` [fm] the
    fit range; `iterations` of Levenberg-Marquardt.

    **Returns:** a `GaussianFit` (widths ascending).
    """
    r, v, err = np.asarray(r, dtype=np.float64), np.asarray(v, dtype=np.float64), np.asarray(err, dtype=np.float64)
    if v.ndim == 1:
        v = v[None]
    if r.ndim != 1 or v.shape[-1] != r.size or err.shape != r.shape:
        raise ValueError(
            f"fit_gaussians: r (n,), v (B, n) and err (n,) must agree, got {r.shape}, {v.shape}, {err.shape}")
    if np.any(~(err > 0)):
        raise ValueError(f"fit_gaussians: errors must be > 0 [MeV], got min {err.min()}")
    if len(widths) < 1 or any(not D_MIN < w < D_MAX for w in widths):
        raise ValueError(f"fit_gaussians: the initial widths must lie in ({D_MIN}, {D_MAX}) fm, got {widths}")
    sel = r <= rmax
    if sel.sum() <= 2 * len(widths):
        raise ValueError(f"fit_gaussians: {sel.sum()} points within rmax = {rmax} fm for {2 * len(widths)} parameters")
    u = (np.asarray(widths, dtype=np.float64) - D_MIN) / (D_MAX - D_MIN)
    c, d, chi2 = _fit_all(jnp.asarray(np.log(u / (1 - u))), jnp.asarray(r[sel]), jnp.asarray(v[:, sel]),
                          jnp.asarray(1 / err[sel]), int(iterations))
    return GaussianFit(c, d, chi2, int(sel.sum() - 2 * len(widths)))


def fit_neural(key: PRNGKeyArray, r: Float[ArrayLike, " n"], v: Float[ArrayLike, "B n"], err: Float[ArrayLike, " n"],
               *, rmax: float = 2.0, steps: int = 3000, learning_rate: float = 3e-3, width: int = 32,
               depth: int = 3, length: float = 1.0, scale: float = 1000.0, progress: bool = False) -> TrainResult:
    r"""One `NeuralPotential` $V_\theta(r)$ (Gaussian envelope) per replica trained on
    $\chi^2/n = \sum_j (V_j - V_\theta(r_j))^2/(n\sigma_j^2)$ over $r_j \le r_\max$ (Adam, cosine decay,
    one vmapped program).

    **Arguments:** `key`; `r` [fm]; `v` [MeV] (B, n) replicas (of one or several data sets); `err`
    [MeV] (n,) or (B, n); `rmax` [fm]; `steps`;
    `learning_rate`; `width`, `depth`, `length` [fm], `scale` [MeV] of the network.

    **Returns:** `dphys.TrainResult` whose `model` is the ensemble over replicas (leading axis)
    and whose `losses` are the summed $\chi^2/n$.
    """
    r, v, err = np.asarray(r, dtype=np.float64), np.asarray(v, dtype=np.float64), np.asarray(err, dtype=np.float64)
    if v.ndim == 1:
        v = v[None]
    if r.ndim != 1 or v.shape[-1] != r.size or err.shape[-1] != r.size or err.ndim > 2 or np.any(~(err > 0)):
        raise ValueError(f"fit_neural: r (n,), v (B, n), err (n,) or (B, n) > 0 must agree, got {r.shape}, {v.shape}, "
                         f"{err.shape}")
    sel = r <= rmax
    rr, vv = jnp.asarray(r[sel]), jnp.asarray(v[:, sel])
    ww = jnp.broadcast_to(jnp.asarray(1 / err[..., sel]), vv.shape)
    B = vv.shape[0]
    init = lambda k: NeuralPotential(k, width=width, depth=depth, length=length, scale=scale,  # noqa: E731
                                     envelope="gaussian")
    ensemble = eqx.filter_vmap(init)(jax.random.split(key, B))

    def loss_fn(model, batch, _):
        y, w = batch
        per = eqx.filter_vmap(lambda m, yy, ws: jnp.mean(((m(rr) - yy) * ws) ** 2))(model, y, w)
        return jnp.sum(per)

    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=1e-3))
    return fit(loss_fn, ensemble, opt, lambda _: (vv, ww), steps=steps, key=jax.random.fold_in(key, 1),
               log_every=min(250, steps), progress=progress, desc="halqcd V(r) fit")

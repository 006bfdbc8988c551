r"""0+1-dimensional quantum mechanics on a periodic imaginary-time lattice: the double well.

A configuration is a closed path $x_i$, $i = 0 \dots N-1$, $x_N = x_0$, at time spacing $a$,
for a particle of mass 1 with $\hbar = 1$ (so $x$, $a$, energies are in units fixed by the
couplings). The Euclidean lattice action

$$S = \sum_i \Big[ \frac{(x_{i+1} - x_i)^2}{2a} + a\lambda (x_i^2 - \eta^2)^2 \Big]$$

describes $H = p^2/2 + \lambda(x^2 - \eta^2)^2$ at temperature $T = 1/(Na)$. At low temperature
paths sit in one well and tunnel by kinks (instantons); the energy gap $E_1 - E_0$ (the
tunnelling splitting) sets the decay of the correlator. Exact lattice references:
`dphys.lattice.exact.double_well_exact` (transfer matrix) and `double_well_hamiltonian`.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from dphys._checks import check_concrete, check_int_range
from dphys.lattice.measure import jackknife_dict, measure
from dphys.lattice.phi4 import (
    check_lattice_shape,
    effective_mass,
    two_point,
)
from dphys.stats import Estimate

__all__ = ["DoubleWellAction", "correlator", "count_kinks", "qm_observables", "temperature"]


def _check_path(x: Array) -> int:
    if jnp.ndim(x) != 1:
        raise ValueError(f"path of shape {jnp.shape(x)}: expected one periodic path of shape (N,)")
    return check_lattice_shape(jnp.shape(x), "path")[0]


class DoubleWellAction(eqx.Module):
    r"""Lattice action of the double well, for one periodic path `x` of shape `(N,)`:

    $$S = \sum_i \Big[ \frac{(x_{i+1} - x_i)^2}{2a} + a\lambda (x_i^2 - \eta^2)^2 \Big].$$

    **Arguments:** `a` (time spacing, > 0), `lam` ($\lambda \ge 0$), `eta` (well positions
    $\pm\eta$). Differentiable fields; concrete values outside these ranges raise `ValueError`.
    """

    a: Float[ArrayLike, ""]
    lam: Float[ArrayLike, ""]
    eta: Float[ArrayLike, ""]

    def __check_init__(self):
        check_concrete(self.a, "a", lambda v: v > 0, "a time spacing a > 0")
        check_concrete(self.lam, "lam", lambda v: v >= 0, "lam >= 0 (the action is unbounded below for lam < 0)")

    def __call__(self, x: Float[Array, " N"]) -> Float[Array, ""]:
        _check_path(x)
        kinetic = (jnp.roll(x, -1) - x) ** 2 / (2 * self.a)
        return jnp.sum(kinetic + self.a * self.lam * (x**2 - self.eta**2) ** 2)


def temperature(N: int, a: float) -> float:
    r"""Temperature $T = 1/(Na)$ of a periodic lattice of `N` sites at spacing `a` (inverse time)."""
    N = check_int_range(N, "N", 1)
    check_concrete(a, "a", lambda v: v > 0, "a time spacing a > 0")
    return 1 / (N * a)


def correlator(x: Float[Array, " N"]) -> Float[Array, " N"]:
    r"""Euclidean correlator of one path, $C(\tau) = \frac{1}{N}\sum_i x_i x_{i+\tau}$ with
    periodic indices, $\tau = 0 \dots N-1$ (in units of $a$); $C(0)$ is the path average of $x^2$.
    Not connected: $\langle x\rangle = 0$ by symmetry of the double well."""
    _check_path(x)
    return two_point(x)


def count_kinks(x: Float[Array, " N"], threshold: Float[ArrayLike, ""]) -> Int[Array, ""]:
    r"""Number of sign changes (kinks plus anti-kinks) of a periodic path, with hysteresis.

    The path is in the state $+1$ after it was last above $+$`threshold`, $-1$ after it was last
    below $-$`threshold`; crossings inside the band $|x| \le$ `threshold` do not change the state,
    so quantum fluctuations around $x = 0$ (or within a well) are not counted. A kink is a change
    of state. The state at $i = 0$ is the one the path has after a full period (the path is
    scanned twice, counting in the second pass), so the count is even and translation invariant.
    A path that never leaves the band has no kinks. Use e.g. `threshold = eta / 2`.

    **Arguments:** `x` of shape `(N,)`; `threshold` > 0 in units of $x$.

    **Returns:** integer scalar.
    """
    n = _check_path(x)
    level = jnp.where(x > threshold, 1, jnp.where(x < -threshold, -1, 0))

    def step(state, lv):
        new = jnp.where(lv == 0, state, lv)
        return new, (state != 0) & (new != state)

    _, flips = jax.lax.scan(step, jnp.zeros((), level.dtype), jnp.concatenate([level, level]))
    return jnp.sum(flips[n:])


def _qm_measure(x: Array, threshold: Array) -> dict[str, Array]:
    return {"C": correlator(x), "kinks": count_kinks(x, threshold)}


def qm_observables(
    xs: Float[ArrayLike, "n_samples *chains N"],
    a: float,
    *,
    plateau: tuple[int, int] | None = None,
    kink_threshold: float | None = None,
    n_blocks: int = 20,
) -> dict[str, Estimate]:
    r"""Ensemble averages of the double-well path observables with block-jackknife errors.

    - `"x2"`: $\langle x^2\rangle = \langle C(0)\rangle$;
    - `"correlator"`: $\langle C(\tau)\rangle$, $\tau = 0 \dots N-1$ (see `correlator`);
    - `"effective_gap"`: $m_\text{eff}(\tau)/a$ from `effective_mass` (the cosh form on the
      periodic lattice), $\tau = 1 \dots N/2$, in energy units;
    - `"gap"`: energy gap $E_1 - E_0$, the average of `"effective_gap"` over the plateau
      $\tau_\text{min} \le \tau \le \tau_\text{max}$ (NaN if it is undefined anywhere there);
    - `"kinks"`: mean number of kinks plus anti-kinks per path (`count_kinks`).

    The cosh form is exact for a single state; at small $\tau$ heavier states ($E_3 - E_0$)
    contaminate it, at large $\tau$ noise dominates and the thermal (finite-$N$) states enter, so
    choose the plateau from the `"effective_gap"` curve. Errors: delete-one-block jackknife over
    `n_blocks` contiguous blocks in Monte Carlo time (chains removed together), including the
    nonlinear effective mass.

    **Arguments:**

    - `xs`: paths of shape `(n_samples, N)` or `(n_samples, n_chains, N)`.
    - `a`: time spacing (the unit of the returned energies is $1/a$ times lattice units).
    - `plateau`: `(tau_min, tau_max)` with `1 <= tau_min <= tau_max <= N // 2`; default
      `(max(1, N // 8), max(1, N // 4))`.
    - `kink_threshold`: hysteresis level of `count_kinks`; default half the root mean square
      position of the ensemble, $\sqrt{\langle x^2\rangle}/2 \approx \eta/2$ for deep wells.
    - `n_blocks`: jackknife blocks, `2 <= n_blocks <= n_samples`.

    **Returns:** dict of `dphys.stats.Estimate`.
    """
    check_concrete(a, "a", lambda v: v > 0, "a time spacing a > 0")
    if np.ndim(xs) not in (2, 3):
        raise ValueError(f"xs of shape {np.shape(xs)}: expected (n_samples, N) or (n_samples, n_chains, N)")
    n = check_lattice_shape(np.shape(xs)[-1:], "xs (trailing time axis)")[0]
    if plateau is None:
        plateau = (max(1, n // 8), max(1, n // 4))
    t_min = check_int_range(plateau[0], "plateau[0] (tau_min)", 1, n // 2)
    t_max = check_int_range(plateau[1], "plateau[1] (tau_max)", t_min, n // 2)
    if kink_threshold is None:
        kink_threshold = 0.5 * float(np.sqrt(np.mean(np.square(np.asarray(xs, np.float64)))))
    check_concrete(kink_threshold, "kink_threshold", lambda v: v > 0, "a positive hysteresis level")
    data, n_lead = measure(_qm_measure, xs, 1, args=(jnp.asarray(kink_threshold),))
    axes = tuple(range(n_lead))

    def estimates(d: dict) -> dict:
        c = np.mean(d["C"], axis=axes)
        e_eff = effective_mass(c) / a
        return {
            "x2": c[0],
            "correlator": c,
            "effective_gap": e_eff,
            "gap": np.mean(e_eff[t_min - 1 : t_max]),
            "kinks": np.mean(d["kinks"], axis=axes),
        }

    return jackknife_dict(estimates, data, n_blocks)

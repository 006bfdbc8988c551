r"""Stochastic and ordinary differential equations on PyTree states, on top of diffrax.

`integrate_sde` solves the Ito SDE

$$ dx = f(t, x, \text{args})\, dt + g(t, x, \text{args}) \odot dW_t $$

with *diagonal* noise: every component of every leaf of `x` has its own Brownian motion and
`g` multiplies it elementwise (a scalar `g` is broadcast). This is the form of Langevin
dynamics (stochastic quantisation), complex Langevin with real noise and the forward and
reverse processes of score-based diffusion models. `integrate_ode` solves `dx/dt = f(t, x, args)`
with adaptive or fixed steps.

Two paths through the Brownian motion:

- **sampling** (`differentiable=False`, default): `diffrax.UnsafeBrownianPath` with forward-mode
  adjoint, fixed steps. The noise is drawn step by step like a hand-written `lax.scan`
  Euler-Maruyama, at about the same cost (benchmarks/bench_sde.py). No reverse-mode gradients.
- **differentiable** (`differentiable=True`): `diffrax.VirtualBrownianTree`, a Brownian path that
  can be re-evaluated, so reverse-mode gradients flow through the solution to the parameters
  of `f`, `g` and `x0` (recursive checkpointing). Several times slower; use it only for gradients.

Both paths are pure functions of `key`: the same key gives the same path. Chains come from
`jax.vmap` over keys (and initial states) or, cheaper when each chain's state is small, from a
leading chain axis of the state itself (diagonal noise keeps the components independent): for
1000 scalar chains and 2000 steps, one solve of a (1000,) state cost 1.4x a hand-written
`lax.scan`, a vmap over 1000 keys 5.5x (per-chain noise generation and loop bookkeeping); for
64 chains of a 32x32 lattice the vmap costs 1.09x (benchmarks/bench_sde.py). Time may run backwards (decreasing
`ts`), as in the reverse process of a diffusion model: then the steps are negative and the noise increments
have variance `|dt|`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.core
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import numpy.typing as npt
from jaxtyping import Array, ArrayLike, PRNGKeyArray, PyTree

from dphys._checks import positive_number

__all__ = ["ODE_SOLVERS", "SDE_SOLVERS", "integrate_ode", "integrate_sde", "time_grid"]

VectorField = Callable[[Any, PyTree, Any], PyTree]

# name -> (diffrax solver class, Brownian increment type it needs, description)
SDE_SOLVERS: dict[str, tuple[type[dfx.AbstractSolver], type, str]] = {
    "euler": (
        dfx.Euler,
        dfx.BrownianIncrement,
        "Euler-Maruyama (Ito): any diagonal noise; strong order 0.5 (1 for additive noise), weak order 1; "
        "one drift evaluation per step",
    ),
    "sea": (
        dfx.SEA,
        dfx.SpaceTimeLevyArea,
        "Shifted Euler: additive noise only; strong order 1; one drift evaluation per step",
    ),
    "shark": (
        dfx.ShARK,
        dfx.SpaceTimeLevyArea,
        "Shifted additive-noise Runge-Kutta: additive noise only; strong order 1.5, weak order 2; "
        "two drift evaluations per step",
    ),
}

ODE_SOLVERS: dict[str, type[dfx.AbstractSolver]] = {
    "euler": dfx.Euler,
    "heun": dfx.Heun,
    "midpoint": dfx.Midpoint,
    "bosh3": dfx.Bosh3,
    "tsit5": dfx.Tsit5,
    "dopri5": dfx.Dopri5,
    "dopri8": dfx.Dopri8,
    "kvaerno5": dfx.Kvaerno5,
}


class _DiagonalNoise(dfx.ControlTerm):
    """`g(t, x, args) * dW`, elementwise per leaf; a single-array `g` is broadcast to every leaf."""

    def prod(self, vf, control):
        if jtu.tree_structure(vf) == jtu.tree_structure(control):
            return jtu.tree_map(operator.mul, vf, control)
        return jtu.tree_map(lambda dw: vf * dw, control)


class _Reversed(eqx.Module):
    """A vector field in reversed time s = -t: f_s(s, x) = sign * f(-s, x)."""

    fn: VectorField
    sign: float = eqx.field(static=True)

    def __call__(self, s, x, args):
        out = self.fn(-s, x, args)
        return out if self.sign == 1.0 else jtu.tree_map(operator.neg, out)


def _concrete_times(name: str, ts: npt.ArrayLike) -> np.ndarray:
    try:
        out = np.asarray(ts, dtype=np.float64)
    except jax.errors.TracerArrayConversionError:
        raise ValueError(
            f"{name} must be concrete (a NumPy array or Python numbers), not a traced value: "
            "the step grid is built before tracing. Pass it outside jax.jit/vmap as a static value."
        ) from None
    return out


def _check_times(ts: npt.ArrayLike, t0: float | None) -> tuple[np.ndarray, float]:
    ts = _concrete_times("ts", ts)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"ts must be a non-empty 1D array of save times, got shape {ts.shape}")
    if not np.all(np.isfinite(ts)):
        raise ValueError(f"ts must be finite, got {ts}")
    t0 = float(ts[0]) if t0 is None else float(_concrete_times("t0", t0))
    times = np.concatenate([[t0], ts])
    steps = np.diff(times)
    if not (np.all(steps >= 0) or np.all(steps <= 0)) or times[-1] == t0:
        raise ValueError(
            f"the times t0={t0}, ts={ts} must run monotonically (all increasing or all "
            "decreasing) and end away from t0"
        )
    return ts, t0


def time_grid(t0: float, ts: npt.ArrayLike, dt: float) -> np.ndarray:
    """The step grid of a fixed-step solve: each interval between consecutive save times
    (starting at `t0`) is cut into `ceil(length / |dt|)` equal steps, so every save time is
    a grid point and no step exceeds `|dt|`.

    **Arguments:** `t0` start time; `ts` save times (monotonic); `dt` step size (> 0).

    **Returns:** the grid, a float64 NumPy array from `t0` to `ts[-1]`.
    """
    knots = np.concatenate([[float(t0)], np.asarray(ts, dtype=np.float64)])
    pieces = [knots[:1]]
    for a, b in zip(knots[:-1], knots[1:]):
        n = max(math.ceil(abs(b - a) / dt * (1 - 1e-12)), 1) if b != a else 0
        pieces.append(np.linspace(a, b, n + 1)[1:])
    return np.concatenate(pieces)


def _check_state(name: str, x0: PyTree, out: PyTree, what: str) -> None:
    """Check that `out` (ShapeDtypeStructs of a vector field's output) matches the state `x0`."""
    x_struct, o_struct = jtu.tree_structure(x0), jtu.tree_structure(out)
    if what == "diffusion" and o_struct.num_leaves == 1 and x_struct.num_leaves != 1:
        leaves = [jtu.tree_leaves(out)[0]] * x_struct.num_leaves  # broadcast to every leaf
    elif x_struct != o_struct:
        raise ValueError(
            f"{name}: the {what} returned a PyTree of structure {o_struct}, expected the structure "
            f"of the state x0, {x_struct}"
        )
    else:
        leaves = jtu.tree_leaves(out)
    for x, o in zip(jtu.tree_leaves(x0), leaves):
        x_shape = jnp.shape(x)
        ok = _broadcasts(o.shape, x_shape) if what == "diffusion" else o.shape == x_shape
        if not ok:
            need = "a shape that broadcasts to it" if what == "diffusion" else "the same shape"
            raise ValueError(
                f"{name}: the {what} returned shape {o.shape} for a state leaf of shape "
                f"{x_shape}; expected {need}"
            )


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _check_finite_state(name: str, x0: PyTree) -> PyTree:
    """Reject a non-finite initial state: at once when it is concrete, at run time when traced.
    Returns x0 with every leaf a JAX array (Python numbers are accepted)."""
    x0 = jtu.tree_map(jnp.asarray, x0)
    leaves = jtu.tree_leaves(x0)
    if not leaves:
        raise ValueError(f"{name}: the initial state x0 has no array leaves")
    for leaf in leaves:
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
            raise ValueError(
                f"{name}: x0 leaves must be floating point, got dtype {jnp.result_type(leaf)}"
            )
        if not isinstance(leaf, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(leaf))):
            raise ValueError(f"{name}: the initial state x0 is not finite: {np.asarray(leaf)}")
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in leaves]))
    return eqx.error_if(x0, ~finite, f"{name}: the initial state x0 is not finite")


_check_positive = positive_number


def _raise_on_failure(name: str, solver: str, sol: dfx.Solution, max_steps: int | None) -> PyTree:
    ys = eqx.error_if(
        sol.ys,
        sol.result == dfx.RESULTS.max_steps_reached,
        f"{name}: solver '{solver}' reached max_steps={max_steps} before the last save time; "
        "raise max_steps or loosen rtol/atol",
    )
    return eqx.error_if(
        ys,
        sol.result != dfx.RESULTS.successful,
        f"{name}: solver '{solver}' failed (step size collapsed or non-finite state); "
        "check the vector field for NaN/inf or tighten the initial step",
    )


def integrate_sde(
    drift: VectorField,
    diffusion: VectorField,
    x0: PyTree[ArrayLike],
    ts: npt.ArrayLike,
    key: PRNGKeyArray,
    *,
    dt: float,
    args: Any = None,
    t0: float | None = None,
    solver: str = "euler",
    differentiable: bool = False,
) -> PyTree[Array]:
    r"""Integrate the Ito SDE $dx = f(t, x, \text{args})\,dt + g(t, x, \text{args}) \odot dW_t$
    with fixed steps and return the state at the save times `ts`.

    Noise is diagonal: `g` returns a PyTree like `x` (or one array broadcast to every leaf,
    e.g. `jnp.sqrt(2.0)` for Langevin dynamics), multiplied elementwise into independent
    Brownian increments. Each interval between consecutive save times is cut into equal steps
    no longer than `dt` (see `time_grid`), so the state is saved exactly, never interpolated.

    **Arguments:**

    - `drift`: `f(t, x, args)`, a PyTree of the same structure and shapes as `x`.
    - `diffusion`: `g(t, x, args)`, same structure as `x` with leaves broadcastable to it,
      or a single array for all leaves.
    - `x0`: initial state, a PyTree of floating-point arrays (finite).
    - `ts`: save times, concrete and monotonic (decreasing ts integrate backwards in time).
    - `key`: PRNG key of the Brownian motion; the same key gives the same path.
    - `dt`: largest step size in units of t (> 0).
    - `args`: passed to `drift` and `diffusion`; differentiable.
    - `t0`: start time, default `ts[0]` (then the first saved state is `x0`).
    - `solver`: one of `SDE_SOLVERS`: `"euler"` (any noise), `"sea"` or `"shark"` (additive
      noise, i.e. `g` independent of `x`, only).
    - `differentiable`: `False` for the fast sampling path (no reverse-mode gradients through
      the noise), `True` for a reverse-mode differentiable solution (VirtualBrownianTree).

    **Returns:** the states at `ts`: a PyTree like `x0` with a leading axis of length `len(ts)`.
    """
    name = "integrate_sde"
    if solver not in SDE_SOLVERS:
        raise ValueError(f"{name}: unknown solver {solver!r}; expected one of {sorted(SDE_SOLVERS)}")
    dt = _check_positive(name, "dt", dt)
    ts, t0 = _check_times(ts, t0)
    x0 = _check_finite_state(name, x0)
    _check_state(name, x0, jax.eval_shape(drift, t0, x0, args), "drift")
    _check_state(name, x0, jax.eval_shape(diffusion, t0, x0, args), "diffusion")

    if ts[-1] < t0:  # backwards in time: integrate forwards in s = -t, where the drift flips sign
        drift, diffusion = _Reversed(drift, -1.0), _Reversed(diffusion, 1.0)
        ts, t0 = -ts, -t0
    grid = time_grid(t0, ts, dt)
    solver_cls, levy_area, _ = SDE_SOLVERS[solver]
    shape = jtu.tree_map(lambda x: jax.ShapeDtypeStruct(jnp.shape(x), jnp.result_type(x)), x0)
    if differentiable:
        # Resolve the tree below the step so that increments over a step are Brownian increments,
        # not interpolations; always with space-time Levy area so that every solver (and every
        # dt on a dyadic grid) sees the same Brownian path for the same key.
        path = dfx.VirtualBrownianTree(
            grid[0], grid[-1], tol=float(np.min(np.diff(grid))) / 8, shape=shape, key=key,
            levy_area=dfx.SpaceTimeLevyArea,
        )
        adjoint = dfx.RecursiveCheckpointAdjoint()
    else:
        path = dfx.UnsafeBrownianPath(shape=shape, key=key, levy_area=levy_area)
        adjoint = dfx.ForwardMode()
    terms = dfx.MultiTerm(dfx.ODETerm(drift), _DiagonalNoise(diffusion, path))
    n_steps = len(grid) - 1
    sol = dfx.diffeqsolve(
        terms,
        solver_cls(),
        t0=grid[0],
        t1=grid[-1],
        dt0=None,
        y0=x0,
        args=args,
        saveat=dfx.SaveAt(ts=jnp.asarray(ts)),
        stepsize_controller=dfx.StepTo(ts=grid),
        adjoint=adjoint,
        max_steps=n_steps,
        throw=False,
    )
    return _raise_on_failure(name, solver, sol, n_steps)


def integrate_ode(
    vector_field: VectorField,
    x0: PyTree[ArrayLike],
    ts: npt.ArrayLike,
    *,
    args: Any = None,
    t0: float | None = None,
    solver: str = "tsit5",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    dt: float | None = None,
    max_steps: int = 100_000,
) -> PyTree[Array]:
    r"""Integrate $dx/dt = f(t, x, \text{args})$ and return the state at the save times `ts`.

    Adaptive steps (PID controller with tolerances `rtol`, `atol`) by default; a fixed step
    when `dt` is given. Reverse-mode gradients flow to `args` and `x0` by recursive
    checkpointing. Time may run backwards (decreasing `ts`).

    **Arguments:**

    - `vector_field`: `f(t, x, args)`, same PyTree structure and shapes as `x`.
    - `x0`: initial state, a PyTree of floating-point arrays.
    - `ts`: save times, concrete and monotonic.
    - `args`: passed to `f`; differentiable.
    - `t0`: start time, default `ts[0]`.
    - `solver`: one of `ODE_SOLVERS` (`"tsit5"` default; `"kvaerno5"` for stiff problems;
      `"dopri8"` for tight tolerances).
    - `rtol`, `atol`: relative and absolute tolerances of the adaptive step.
    - `dt`: fixed step size (> 0) instead of adaptive steps.
    - `max_steps`: the solve fails with a clear error if it needs more steps.

    **Returns:** the states at `ts`: a PyTree like `x0` with a leading axis of length `len(ts)`.
    """
    name = "integrate_ode"
    if solver not in ODE_SOLVERS:
        raise ValueError(f"{name}: unknown solver {solver!r}; expected one of {sorted(ODE_SOLVERS)}")
    ts, t0 = _check_times(ts, t0)
    if not (isinstance(max_steps, int) and max_steps > 0):
        raise ValueError(f"{name}: max_steps must be a positive int, got {max_steps!r}")
    x0 = _check_finite_state(name, x0)
    _check_state(name, x0, jax.eval_shape(vector_field, t0, x0, args), "vector field")
    if dt is None:
        rtol = _check_positive(name, "rtol", rtol)
        atol = _check_positive(name, "atol", atol)
        controller, dt0 = dfx.PIDController(rtol=rtol, atol=atol), None
    else:
        dt = _check_positive(name, "dt", dt)
        controller, dt0 = dfx.ConstantStepSize(), math.copysign(dt, ts[-1] - t0)
    sol = dfx.diffeqsolve(
        dfx.ODETerm(vector_field),
        ODE_SOLVERS[solver](),
        t0=t0,
        t1=float(ts[-1]),
        dt0=dt0,
        y0=x0,
        args=args,
        saveat=dfx.SaveAt(ts=jnp.asarray(ts)),
        stepsize_controller=controller,
        max_steps=max_steps,
        throw=False,
    )
    return _raise_on_failure(name, solver, sol, max_steps)

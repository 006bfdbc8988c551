r"""Mini-batch SGD, local SGD and accelerated mini-batch SGD over $M$ machines that communicate
every $K$ local steps, for $R$ rounds (intermittent communication; Woodworth, Patel & Srebro,
NeurIPS 2020, "Minibatch vs Local SGD for Heterogeneous Distributed Learning").

Machine $m$ owns an objective $f_m$ and a stochastic gradient oracle
`grad_fn(x, data_m, key) -> g` (one machine's slice `data_m` of a PyTree `data` whose leaves carry a
leading machine axis $M$); the global objective is $F = \frac1M \sum_m f_m$. One round costs each
machine $K$ oracle calls and one averaging (all-reduce) over the machines:

- **mini-batch SGD**: $x_{r+1} = x_r - \eta\, \frac{1}{MK}\sum_{m,k} g_m(x_r; \xi_{m,k})$.
- **local SGD** (FedAvg): every machine runs $x_m^{k+1} = x_m^k - \eta\, g_m(x_m^k; \xi_{m,k})$ from
  $x_m^0 = x_r$, then $x_{r+1} = \frac1M \sum_m x_m^K$.
- **accelerated mini-batch SGD**: AC-SA (Lan, Math. Program. 133, 365 (2012); Ghadimi & Lan,
  SIAM J. Optim. 22, 1469 (2012)) with the mini-batch gradient above, $t = r + 1$,
  $\beta_t = (t+1)/2$, $\gamma_t = (t+1)\eta/2$:
  $x^{md}_t = \beta_t^{-1} x_t + (1-\beta_t^{-1}) x^{ag}_t$,
  $x_{t+1} = x_t - \gamma_t\, g(x^{md}_t)$,
  $x^{ag}_{t+1} = \beta_t^{-1} x_{t+1} + (1-\beta_t^{-1}) x^{ag}_t$; the iterate is $x^{ag}$
  (stable for $\eta \lesssim 1/(2H)$).

The noise of oracle call $k$ of machine $m$ in round $r$ uses the key
`fold_in(fold_in(fold_in(key, r), k), m)`, so a run is a pure function of `key` whatever the
device layout, and local SGD with $K = 1$ is mini-batch SGD with batch $M$ step by step.

The per-machine code runs over a block of machines with a leading axis (`jax.vmap`); averaging is a
mean over the block followed, when sharded, by `jax.lax.pmean` over the mesh axis. The same function
therefore runs vmapped on one device (`mesh=None`) or under `jax.shard_map` over a device mesh
(`dphys.distributed.machine_mesh`), and the two give the same iterates up to floating-point order.

This module is the pure core; `runners` compiles it (vmapped or sharded), `algorithms` validates
and runs it, `data_parallel` trains models with it.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

__all__ = ["ALGORITHMS", "GradFn", "DistributedResult", "DivergenceError", "run_rounds", "communication_bytes",
           "n_machines"]

ALGORITHMS = ("minibatch", "local", "accelerated")
GradFn = Callable[[PyTree, PyTree, PRNGKeyArray], PyTree]


class DivergenceError(FloatingPointError):
    """A distributed run whose averaged iterate became non-finite or exceeded the divergence
    threshold; the message names the first such round and the step size."""


class DistributedResult(eqx.Module):
    """Outcome of a distributed run.

    **Fields:** `params` (the final averaged iterate; for the accelerated method $x^{ag}$),
    `trace` (`record(x)` of the averaged iterate after rounds 0..R, leading axis R + 1),
    `sq_norm` ($\\|x_r\\|^2$ after rounds 0..R), `bytes_per_round` (bytes the M machines send into
    one averaging: M times the size of the iterate), `machines`, `devices`.
    """

    params: PyTree
    trace: PyTree
    sq_norm: Float[Array, " rounds_plus_one"]
    bytes_per_round: int = eqx.field(static=True)
    machines: int = eqx.field(static=True)
    devices: int = eqx.field(static=True)


def _tree_sq_norm(x: PyTree) -> Array:
    return sum(jnp.sum(jnp.abs(a) ** 2) for a in jtu.tree_leaves(x))


def n_machines(data: PyTree) -> int:
    """The number of machines M: the common leading axis of every leaf of `data`.

    **Raises:** `ValueError` when `data` has no array or its leaves disagree."""
    leaves = jtu.tree_leaves(data)
    if not leaves:
        raise ValueError("data must hold at least one array with a leading machine axis")
    sizes = {int(np.shape(a)[0]) if np.ndim(a) else -1 for a in leaves}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(f"every leaf of data needs the same leading machine axis; got leading sizes {sorted(sizes)}")
    return sizes.pop()


def run_rounds(
    algorithm: str,
    grad_fn: GradFn,
    data: PyTree,
    x0: PyTree,
    key: PRNGKeyArray,
    step_size: Float[Array, ""] | float,
    *,
    local_steps: int,
    rounds: int,
    record: Callable[[PyTree], PyTree] | None = None,
    machine_ids: Array | None = None,
    axis_name: str | None = None,
) -> tuple[PyTree, PyTree, Array]:
    """The pure core of every algorithm (no validation, no divergence check): jit-, vmap- (e.g.
    over `step_size`) and `shard_map`-compatible.

    **Arguments:** `algorithm` in `ALGORITHMS`; `grad_fn(x, data_m, key)`; `data` (leading axis:
    the machines of this block); `x0`; `key`; `step_size` $\\eta$; `local_steps` K; `rounds` R;
    `record(x)` (default: nothing); `machine_ids` (global index of each machine of the block,
    default `arange`); `axis_name` (mesh axis to `pmean` over, None when all machines are here).

    **Returns:** `(x_R, trace, sq_norms)` with `trace`/`sq_norms` over rounds 0..R.
    """
    n_block = n_machines(data)
    ids = jnp.arange(n_block) if machine_ids is None else machine_ids
    record = (lambda x: ()) if record is None else record
    eta = jnp.asarray(step_size)

    def mean_machines(tree):
        out = jtu.tree_map(lambda a: jnp.mean(a, axis=0), tree)
        return out if axis_name is None else jax.lax.pmean(out, axis_name)

    def grads(xs, r, k):
        keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, r), k), i))(ids)
        return jax.vmap(grad_fn)(xs, data, keys)

    def broadcast(x):  # per-machine copies; under shard_map they vary over the mesh axis
        xs = jtu.tree_map(lambda a: jnp.broadcast_to(a, (n_block,) + jnp.shape(a)), x)
        return xs if axis_name is None else jax.lax.pcast(xs, (axis_name,), to="varying")

    def minibatch_gradient(x, r):
        xs = broadcast(x)

        def body(acc, k):
            return jtu.tree_map(jnp.add, acc, grads(xs, r, k)), None

        zero = jtu.tree_map(jnp.zeros_like, xs)
        total, _ = jax.lax.scan(body, zero, jnp.arange(local_steps))
        return mean_machines(jtu.tree_map(lambda a: a / local_steps, total))

    def axpy(a, x, y):  # a x + y, in the dtype of y (the iterate)
        return jtu.tree_map(lambda u, v: (a * u + v).astype(v.dtype), x, y)

    if algorithm == "minibatch":
        def round_fn(x, r):
            x = axpy(-eta, minibatch_gradient(x, r), x)
            return x, (record(x), _tree_sq_norm(x))
        init, out = x0, lambda c: c
    elif algorithm == "local":
        def round_fn(x, r):
            def body(xs, k):
                return axpy(-eta, grads(xs, r, k), xs), None

            xs, _ = jax.lax.scan(body, broadcast(x), jnp.arange(local_steps))
            x = mean_machines(xs)
            return x, (record(x), _tree_sq_norm(x))
        init, out = x0, lambda c: c
    elif algorithm == "accelerated":
        def round_fn(carry, r):
            x, x_ag = carry
            t = (r + 1).astype(eta.dtype)
            inv_beta, gamma = 2.0 / (t + 1.0), (t + 1.0) * eta / 2.0
            x_md = jtu.tree_map(lambda u, v: (inv_beta * u + (1 - inv_beta) * v).astype(u.dtype), x, x_ag)
            x = axpy(-gamma, minibatch_gradient(x_md, r), x)
            x_ag = jtu.tree_map(lambda u, v: (inv_beta * u + (1 - inv_beta) * v).astype(u.dtype), x, x_ag)
            return (x, x_ag), (record(x_ag), _tree_sq_norm(x_ag))
        init, out = (x0, x0), lambda c: c[1]
    else:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")

    final, (trace, sq) = jax.lax.scan(round_fn, init, jnp.arange(rounds))
    trace = jtu.tree_map(lambda a0, a: jnp.concatenate([a0[None], a]), record(x0), trace)
    sq = jnp.concatenate([_tree_sq_norm(x0)[None], sq])
    return out(final), trace, sq


def communication_bytes(x: PyTree, machines: int) -> int:
    """Bytes the `machines` send into one averaging of an iterate (or gradient) shaped like `x`:
    M times its size. (A ring all-reduce over D devices moves 2 (D - 1)/D of this per device.)"""
    return int(machines) * sum(int(np.size(a)) * np.dtype(jnp.result_type(a)).itemsize for a in jtu.tree_leaves(x))

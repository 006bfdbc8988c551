r"""The distributed algorithms with validation and a divergence check: `distributed_sgd` and its three
named forms. The updates are those of `dphys.distributed.core` (see its docstring); this module
validates the sizes, picks the vmapped or sharded runner and turns a diverged run into an error naming
the round.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from dphys._checks import positive_int, positive_number
from dphys.distributed.core import (
    ALGORITHMS,
    DistributedResult,
    DivergenceError,
    GradFn,
    communication_bytes,
    n_machines,
)
from dphys.distributed.runners import sharded_runner, vmapped_runner

__all__ = ["distributed_sgd", "minibatch_sgd", "local_sgd", "accelerated_minibatch_sgd"]


def distributed_sgd(
    algorithm: str,
    grad_fn: GradFn,
    data: PyTree,
    x0: PyTree,
    key: PRNGKeyArray,
    *,
    local_steps: int,
    rounds: int,
    step_size: float,
    mesh: jax.sharding.Mesh | None = None,
    record: Callable[[PyTree], PyTree] | None = None,
    divergence_threshold: float = 1e12,
) -> DistributedResult:
    """Run `algorithm` ("minibatch", "local" or "accelerated") for `rounds` rounds of `local_steps`
    oracle calls per machine; see the module docstring for the updates.

    **Arguments:**

    - `grad_fn(x, data_m, key) -> like x`: stochastic gradient of machine m's objective.
    - `data`: PyTree whose leaves have a leading machine axis M.
    - `x0`: starting point (PyTree of arrays), `key`: PRNG key of the gradient noise.
    - `local_steps` K, `rounds` R: positive integers; `step_size` $\\eta > 0$.
    - `mesh`: None (all machines vmapped on the default device) or a 1-D mesh
      (`machine_mesh`) whose devices each hold M / D machines via `jax.shard_map`.
    - `record(x)`: what to keep of the averaged iterate after every round (default nothing).
    - `divergence_threshold`: a squared norm of the iterate above it (or a non-finite one) raises.

    **Returns:** a `DistributedResult`. **Raises:** `ValueError` for bad sizes (M, K, R not
    positive, M not divisible by the devices of the mesh), `DivergenceError` naming the first
    round whose iterate diverged.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    name = f"{algorithm} SGD"
    machines = positive_int(name, "machines M (leading axis of data)", n_machines(data))
    kw = dict(local_steps=positive_int(name, "local_steps K", local_steps),
              rounds=positive_int(name, "rounds R", rounds), record=record)
    positive_number(name, "step_size", step_size)
    if mesh is None:
        devices, fn = 1, vmapped_runner(algorithm, grad_fn, **kw)
    else:
        devices, fn = mesh.devices.size, sharded_runner(algorithm, grad_fn, mesh, machines, **kw)
    params, trace, sq = fn(data, x0, key, step_size)
    sq_np = np.asarray(sq)
    bad = np.flatnonzero(~np.isfinite(sq_np) | (sq_np > divergence_threshold))
    if bad.size:
        r = int(bad[0])
        raise DivergenceError(
            f"{algorithm} SGD diverged at round {r} of {rounds} (|x|^2 = {sq_np[r]:.3g} > "
            f"{divergence_threshold:.3g} or not finite) with step_size={step_size}; reduce the step size"
        )
    return DistributedResult(params, trace, sq, communication_bytes(x0, machines), machines, devices)


def minibatch_sgd(grad_fn: GradFn, data: PyTree, x0: PyTree, key: PRNGKeyArray, **kwargs) -> DistributedResult:
    """Mini-batch SGD: each round averages M K stochastic gradients at the shared iterate, then
    steps once. Keyword arguments as `distributed_sgd`."""
    return distributed_sgd("minibatch", grad_fn, data, x0, key, **kwargs)


def local_sgd(grad_fn: GradFn, data: PyTree, x0: PyTree, key: PRNGKeyArray, **kwargs) -> DistributedResult:
    """Local SGD: K SGD steps on every machine, then the iterates are averaged. Keyword arguments
    as `distributed_sgd`."""
    return distributed_sgd("local", grad_fn, data, x0, key, **kwargs)


def accelerated_minibatch_sgd(grad_fn: GradFn, data: PyTree, x0: PyTree, key: PRNGKeyArray,
                              **kwargs) -> DistributedResult:
    """Accelerated mini-batch SGD (AC-SA, Lan 2012) with the mini-batch gradient of M K oracle
    calls per round. Keyword arguments as `distributed_sgd`."""
    return distributed_sgd("accelerated", grad_fn, data, x0, key, **kwargs)

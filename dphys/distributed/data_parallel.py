r"""Data-parallel training of equinox models with the distributed algorithms: the samples are split
into equal shards, one per machine, and each oracle call draws a mini-batch from its machine's shard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from dphys._checks import positive_int
from dphys.distributed.algorithms import distributed_sgd
from dphys.distributed.core import DistributedResult

__all__ = ["data_parallel_sgd"]


class _ModelGrad(eqx.Module):
    """Stochastic gradient of `loss_fn(model, batch, key)` on `batch_size` samples of one machine's
    shard, drawn uniformly with replacement."""

    loss_fn: Callable = eqx.field(static=True)
    static: Any = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)

    def __call__(self, params, shard, key):
        k_idx, k_loss = jax.random.split(key)
        n = jtu.tree_leaves(shard)[0].shape[0]
        idx = jax.random.randint(k_idx, (self.batch_size,), 0, n)
        batch = jtu.tree_map(lambda a: a[idx], shard)
        return jax.grad(lambda p: self.loss_fn(eqx.combine(p, self.static), batch, k_loss))(params)


def data_parallel_sgd(
    loss_fn: Callable[[Any, PyTree, PRNGKeyArray], Any],
    model: Any,
    data: PyTree,
    key: PRNGKeyArray,
    *,
    algorithm: str = "local",
    machines: int,
    local_steps: int,
    rounds: int,
    batch_size: int,
    step_size: float,
    mesh: jax.sharding.Mesh | None = None,
    record: Callable[[Any], PyTree] | None = None,
) -> tuple[Any, DistributedResult]:
    """Data-parallel training of an equinox `model` with local, mini-batch or accelerated
    mini-batch SGD: the N samples of `data` (leading axis) are split into `machines` equal shards,
    each machine draws `batch_size` samples per oracle call from its own shard.

    **Arguments:** `loss_fn(model, batch, key) -> scalar` (as for `dphys.fit`); `model`; `data`;
    `key`; `algorithm` in `ALGORITHMS`; `machines` M, `local_steps` K, `rounds` R, `batch_size`,
    `step_size`; `mesh` (None: vmapped on one device; else a `machine_mesh`); `record(model)`
    evaluated on the averaged model after every round.

    **Returns:** `(trained model, DistributedResult)`. **Raises:** `ValueError` if N is not
    divisible by M or M by the devices of the mesh; `DivergenceError` naming the round.
    """
    positive_int("data_parallel_sgd", "machines M", machines)
    positive_int("data_parallel_sgd", "batch_size", batch_size)
    n = {int(np.shape(a)[0]) for a in jtu.tree_leaves(data)}
    if len(n) != 1:
        raise ValueError(f"every leaf of data needs the same number of samples; got {sorted(n)}")
    n = n.pop()
    if n % machines:
        raise ValueError(f"{n} samples do not divide over machines M={machines}; use a multiple of M")
    if mesh is not None and machines % mesh.devices.size:
        raise ValueError(f"machines M={machines} do not divide over the {mesh.devices.size} devices of the mesh")
    shards = jtu.tree_map(lambda a: jnp.reshape(a, (machines, n // machines) + a.shape[1:]), data)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    rec = None if record is None else (lambda p: record(eqx.combine(p, static)))
    result = distributed_sgd(algorithm, _ModelGrad(loss_fn, static, batch_size), shards, params, key,
                             local_steps=local_steps, rounds=rounds, step_size=step_size, mesh=mesh, record=rec)
    return eqx.combine(result.params, static), result

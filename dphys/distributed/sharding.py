r"""Running the distributed algorithms over real devices, and data-parallel training of models.

The machines of `dphys.distributed.algorithms` are laid out over a 1-D device mesh: each of the D
devices holds M / D machines (vmapped), and the averaging of a round is a mean over the local block
followed by `jax.lax.pmean` over the mesh axis, inside `jax.shard_map`. This is JAX's own
runtime: the same code runs on D simulated CPU devices, on the GPUs of one host, or on many hosts
after `jax.distributed.initialize()` (then `jax.devices()` lists every device of every process;
see `examples/multihost_launch.py`).

On a CPU, simulate D devices by setting, before JAX initialises its backend,
`XLA_FLAGS=--xla_force_host_platform_device_count=D` or `jax.config.update("jax_num_cpu_devices", D)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.sharding import PartitionSpec as P
from jaxtyping import PRNGKeyArray, PyTree

from dphys.distributed.algorithms import ALGORITHMS, DistributedResult, _check_positive_int, distributed_sgd, run_rounds

__all__ = ["machine_mesh", "sharded_runner", "data_parallel_sgd"]


def machine_mesh(devices: int | None = None, axis_name: str = "machines") -> jax.sharding.Mesh:
    """A 1-D mesh over the first `devices` devices (default all of `jax.devices()`, every host).

    **Raises:** `ValueError` when `devices` is not positive or exceeds the devices present."""
    present = jax.devices()
    n = len(present) if devices is None else devices
    _check_positive_int("devices", n)
    if n > len(present):
        raise ValueError(
            f"a mesh of {n} devices is larger than the {len(present)} {present[0].platform} device(s) present; "
            "on a CPU simulate more with XLA_FLAGS=--xla_force_host_platform_device_count=N or "
            "jax.config.update('jax_num_cpu_devices', N) before JAX is first used")
    return jax.sharding.Mesh(np.asarray(present[:n]), (axis_name,))


def sharded_runner(algorithm: str, grad_fn: Callable, mesh: jax.sharding.Mesh, machines: int, *,
                   local_steps: int, rounds: int, record: Callable | None = None) -> Callable:
    """A jitted `(data, x0, key, step_size) -> (x_R, trace, sq_norms)` running `run_rounds` under
    `jax.shard_map` with the machine axis of `data` split over the 1-D `mesh`.

    **Raises:** `ValueError` if the mesh is not 1-D or M is not divisible by its devices."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if len(mesh.axis_names) != 1:
        raise ValueError(f"need a 1-D mesh (one machine axis), got axes {mesh.axis_names}")
    axis, n_dev = mesh.axis_names[0], mesh.devices.size
    if machines % n_dev:
        raise ValueError(f"machines M={machines} do not divide over the {n_dev} devices of the mesh; "
                         "use a multiple of the device count")

    def body(data, ids, x0, key, eta):
        return run_rounds(algorithm, grad_fn, data, x0, key, eta, local_steps=local_steps, rounds=rounds,
                          record=record, machine_ids=ids, axis_name=axis)

    # check_vma=False: user gradients may contain equinox runtime checks (eqx.error_if, a lax.cond)
    # whose branches the varying-axis type check rejects; every output is pmean-ed, so replicated.
    fn = jax.jit(jax.shard_map(body, mesh=mesh, in_specs=(P(axis), P(axis), P(), P(), P()),
                               out_specs=(P(), P(), P()), check_vma=False))
    ids = jnp.arange(machines)
    return lambda data, x0, key, eta: fn(data, ids, x0, key, jnp.asarray(eta))


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
    _check_positive_int("machines M", machines)
    _check_positive_int("batch_size", batch_size)
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

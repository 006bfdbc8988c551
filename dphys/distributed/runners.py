r"""Compiled runners of `core.run_rounds`: vmapped over the machines on one device, or sharded over a
1-D device mesh.

The machines are laid out over the mesh: each of the D devices holds M / D machines (vmapped), and the
averaging of a round is a mean over the local block followed by `jax.lax.pmean` over the mesh axis,
inside `jax.shard_map`. This is JAX's own runtime: the same code runs on D simulated CPU devices, on the
GPUs of one host, or on many hosts after `jax.distributed.initialize()` (then `jax.devices()` lists
every device of every process; see `examples/multihost_launch.py`).

On a CPU, simulate D devices by setting, before JAX initialises its backend,
`XLA_FLAGS=--xla_force_host_platform_device_count=D` or `jax.config.update("jax_num_cpu_devices", D)`.

Compilation is cached by `jax.jit` itself: the algorithm, gradient oracle, sizes and `record` are
static arguments, so a second call with the same ones (and data of the same shapes) reuses the
executable. A static argument that cannot be hashed (an equinox module holding arrays) is compiled
afresh on every call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from dphys._checks import positive_int
from dphys.distributed.core import ALGORITHMS, GradFn, run_rounds

__all__ = ["machine_mesh", "vmapped_runner", "sharded_runner", "step_size_sweep"]

_STATIC = ("algorithm", "grad_fn", "local_steps", "rounds", "record")


def machine_mesh(devices: int | None = None, axis_name: str = "machines") -> jax.sharding.Mesh:
    """A 1-D mesh over the first `devices` devices (default all of `jax.devices()`, every host).

    **Raises:** `ValueError` when `devices` is not positive or exceeds the devices present."""
    present = jax.devices()
    n = positive_int("machine_mesh", "devices", len(present) if devices is None else devices)
    if n > len(present):
        raise ValueError(
            f"a mesh of {n} devices is larger than the {len(present)} {present[0].platform} device(s) present; "
            "on a CPU simulate more with XLA_FLAGS=--xla_force_host_platform_device_count=N or "
            "jax.config.update('jax_num_cpu_devices', N) before JAX is first used")
    return jax.sharding.Mesh(np.asarray(present[:n]), (axis_name,))


def _jit(fn: Callable, static: tuple[str, ...], **kwargs) -> Callable:
    """`fn` jitted with `kwargs` static: through the shared jit cache when they hash, else afresh."""
    try:
        hash(tuple(kwargs.values()))
    except TypeError:
        return jax.jit(partial(fn, **kwargs))
    return partial(jax.jit(fn, static_argnames=static), **kwargs)


def _vmapped(data, x0, key, eta, *, algorithm, grad_fn, local_steps, rounds, record):
    return run_rounds(algorithm, grad_fn, data, x0, key, eta, local_steps=local_steps, rounds=rounds,
                      record=record)


def vmapped_runner(algorithm: str, grad_fn: GradFn, *, local_steps: int, rounds: int,
                   record: Callable | None = None) -> Callable:
    """A jitted `(data, x0, key, step_size) -> (x_R, trace, sq_norms)`: `run_rounds` with every
    machine on the default device (vmapped)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return _jit(_vmapped, _STATIC, algorithm=algorithm, grad_fn=grad_fn, local_steps=local_steps,
                rounds=rounds, record=record)


def _sharded(data, ids, x0, key, eta, *, algorithm, grad_fn, mesh, local_steps, rounds, record):
    axis = mesh.axis_names[0]

    def body(data, ids, x0, key, eta):
        return run_rounds(algorithm, grad_fn, data, x0, key, eta, local_steps=local_steps, rounds=rounds,
                          record=record, machine_ids=ids, axis_name=axis)

    # check_vma=False: user gradients may contain equinox runtime checks (eqx.error_if, a lax.cond)
    # whose branches the varying-axis type check rejects; every output is pmean-ed, so replicated.
    return jax.shard_map(body, mesh=mesh, in_specs=(P(axis), P(axis), P(), P(), P()),
                         out_specs=(P(), P(), P()), check_vma=False)(data, ids, x0, key, eta)


def sharded_runner(algorithm: str, grad_fn: GradFn, mesh: jax.sharding.Mesh, machines: int, *,
                   local_steps: int, rounds: int, record: Callable | None = None) -> Callable:
    """A jitted `(data, x0, key, step_size) -> (x_R, trace, sq_norms)` running `run_rounds` under
    `jax.shard_map` with the machine axis of `data` split over the 1-D `mesh`.

    **Raises:** `ValueError` if the mesh is not 1-D or M is not divisible by its devices."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if len(mesh.axis_names) != 1:
        raise ValueError(f"need a 1-D mesh (one machine axis), got axes {mesh.axis_names}")
    n_dev = mesh.devices.size
    if machines % n_dev:
        raise ValueError(f"machines M={machines} do not divide over the {n_dev} devices of the mesh; "
                         "use a multiple of the device count")
    fn = _jit(_sharded, _STATIC + ("mesh",), algorithm=algorithm, grad_fn=grad_fn, mesh=mesh,
              local_steps=local_steps, rounds=rounds, record=record)
    ids = jnp.arange(machines)
    return lambda data, x0, key, eta: fn(data, ids, x0, key, jnp.asarray(eta))


def _sweep(problem, keys, step_sizes, *, algorithm, local_steps, rounds):
    def one(key, eta):
        return run_rounds(algorithm, problem.grad_fn, problem.data, problem.x0, key, eta,
                          local_steps=local_steps, rounds=rounds, record=problem.suboptimality)[1]

    return jax.vmap(jax.vmap(one, in_axes=(0, None)), in_axes=(None, 0))(keys, step_sizes)


_sweep_jit = jax.jit(_sweep, static_argnames=("algorithm", "local_steps", "rounds"))


def step_size_sweep(algorithm: str, problem: PyTree, keys: PRNGKeyArray, step_sizes: Float[Array, " n_eta"], *,
                    local_steps: int, rounds: int) -> Float[Array, "n_eta n_seeds rounds_plus_one"]:
    r"""$F(x_r) - F^\star$ after rounds $r = 0..R$ for every step size and every seed, in one jitted
    vmap-of-vmap (compiled once per algorithm, sizes and shapes; the problem's arrays are traced).

    **Arguments:** `algorithm` in `ALGORITHMS`; `problem` with `grad_fn`, `data`, `x0` and
    `suboptimality(x)` (e.g. `heterogeneous_quadratic(...)`; `grad_fn` must not depend on its arrays);
    `keys` (n_seeds,) PRNG keys; `step_sizes` (n_eta,); `local_steps` K, `rounds` R.

    **Returns:** an array (n_eta, n_seeds, R + 1).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return _sweep_jit(problem, keys, jnp.asarray(step_sizes), algorithm=algorithm,
                      local_steps=positive_int("step_size_sweep", "local_steps K", local_steps),
                      rounds=positive_int("step_size_sweep", "rounds R", rounds))

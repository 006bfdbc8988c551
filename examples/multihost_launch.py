"""Multi-host data-parallel local SGD on JAX's own distributed runtime.

Every process (one per host, or one per GPU) runs this same script. `jax.distributed.initialize`
connects them; afterwards `jax.devices()` lists the devices of all processes, and
`dphys.distributed.machine_mesh()` spans them all, so the `pmean` of each round crosses hosts.

Launch by hand (2 hosts; the coordinator is process 0, reachable at HOST0:1234):

    # on host 0
    DPHYS_COORDINATOR=HOST0:1234 DPHYS_NUM_PROCESSES=2 DPHYS_PROCESS_ID=0 python examples/multihost_launch.py
    # on host 1
    DPHYS_COORDINATOR=HOST0:1234 DPHYS_NUM_PROCESSES=2 DPHYS_PROCESS_ID=1 python examples/multihost_launch.py

Under SLURM (or Open MPI / Cloud TPU) `jax.distributed.initialize()` needs no arguments:

    srun --nodes=2 --ntasks-per-node=1 python examples/multihost_launch.py

On one machine, try it with 2 local processes of 4 simulated CPU devices each:

    for i in 0 1; do DPHYS_COORDINATOR=localhost:12345 DPHYS_NUM_PROCESSES=2 DPHYS_PROCESS_ID=$i \
        DPHYS_CPU_DEVICES=4 python examples/multihost_launch.py & done; wait

Without the variables it runs single-process on the local devices. Every process must hold the
same `data` (here: generated from the same key); each device then uses its own machines' slice.
"""

import os

import jax

if "DPHYS_CPU_DEVICES" in os.environ:
    jax.config.update("jax_num_cpu_devices", int(os.environ["DPHYS_CPU_DEVICES"]))
if "DPHYS_COORDINATOR" in os.environ:
    jax.distributed.initialize(coordinator_address=os.environ["DPHYS_COORDINATOR"],
                               num_processes=int(os.environ["DPHYS_NUM_PROCESSES"]),
                               process_id=int(os.environ["DPHYS_PROCESS_ID"]))
elif "SLURM_JOB_ID" in os.environ:
    jax.distributed.initialize()

import dphys.distributed as dd  # noqa: E402

mesh = dd.machine_mesh()  # every device of every process
machines = 2 * mesh.devices.size
prob = dd.heterogeneous_quadratic(machines, 100, zeta=1.0, tau=0.2, sigma=0.1)
res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, jax.random.PRNGKey(0), local_steps=8, rounds=50,
                   step_size=0.5, mesh=mesh, record=prob.suboptimality)
if jax.process_index() == 0:
    print(f"{jax.process_count()} process(es), {mesh.devices.size} devices, {machines} machines: "
          f"F - F* = {float(res.trace[0]):.3e} -> {float(res.trace[-1]):.3e}, "
          f"{res.bytes_per_round} bytes averaged per round")

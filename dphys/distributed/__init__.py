r"""Distributed optimisation: mini-batch SGD, local SGD and accelerated mini-batch SGD over M
machines with K local steps per communication round, vmapped on one device or sharded over a
device mesh with `jax.shard_map` (the same code, the same iterates), problems with controlled
heterogeneity and exact optima, and data-parallel training of equinox models.

A problem is a stochastic gradient `grad_fn(x, machine_data, key)` and data with a leading machine
axis M; step sizes are in the problem's units (quadratics: a fraction of 1/smoothness); a result's
`trace` holds what `record` returns after each round r = 0..R.

```python
import equinox as eqx
import jax
import jax.numpy as jnp

import dphys.distributed as dd

key = jax.random.PRNGKey(0)
prob = dd.heterogeneous_quadratic(8, 10, zeta=1.0, tau=0.5, sigma=0.1)  # M = 8 machines, d = 10, exact F*
res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, local_steps=4, rounds=20,
                   step_size=0.5, record=prob.suboptimality)  # res.trace: F - F* per round
mesh = dd.machine_mesh()                                      # all devices (or simulated CPUs)
res = dd.minibatch_sgd(prob.grad_fn, prob.data, prob.x0, key, local_steps=4, rounds=20,
                       step_size=0.5, mesh=mesh)              # sharded with jax.shard_map, same iterates
sub = dd.step_size_sweep("local", prob, jax.random.split(key, 2), jnp.array([0.25, 0.5]),
                         local_steps=4, rounds=20)            # (eta, seed, R + 1)
data = jax.random.normal(key, (256, 2))                       # data-parallel training of an equinox model
loss = lambda m, x, k: jnp.mean((jax.vmap(m)(x) - x[:, ::-1]) ** 2)
model, res = dd.data_parallel_sgd(loss, eqx.nn.Linear(2, 2, key=key), data, key, machines=8,
                                  local_steps=4, rounds=10, batch_size=8, step_size=0.1, mesh=mesh)
```

Modules, each importing only those above it: `core` (the pure round update `run_rounds`, result
and error types), `runners` (jitted vmapped and sharded runners, device meshes, step-size sweeps),
`algorithms` (validated `distributed_sgd` and its named forms), `data_parallel` (equinox models);
`problems` (quadratic and logistic test problems) stands alone.

Algorithms (`algorithms`, `data_parallel`):
- `distributed_sgd(algorithm, ...)` with `algorithm` in `ALGORITHMS` ("minibatch", "local", "accelerated"),
  and its named forms `minibatch_sgd`, `local_sgd`, `accelerated_minibatch_sgd` (AC-SA, Lan 2012).
- `data_parallel_sgd`: the same algorithms training an equinox model on data split over the machines.

Core and runners (`core`, `runners`):
- `run_rounds`: the pure round update (jit-, vmap- and shard_map-able, no validation).
- `DistributedResult` (params, trace, sq_norm, bytes_per_round, ...), `DivergenceError`,
  `communication_bytes` (bytes sent per averaging).
- `vmapped_runner`, `sharded_runner`: jitted runners on one device or over a mesh; `machine_mesh`: a 1-D
  device mesh; `step_size_sweep`: F - F* for every step size and seed in one jitted call.

Problems (`problems`):
- `heterogeneous_quadratic` (a `QuadraticProblem`, first- and second-order heterogeneity zeta, tau, noise
  sigma) with `quadratic_grad`; `heterogeneous_logistic` (a `LogisticProblem`) with `LogisticGrad`.
"""

from dphys.distributed.algorithms import accelerated_minibatch_sgd as accelerated_minibatch_sgd
from dphys.distributed.algorithms import distributed_sgd as distributed_sgd
from dphys.distributed.algorithms import local_sgd as local_sgd
from dphys.distributed.algorithms import minibatch_sgd as minibatch_sgd
from dphys.distributed.core import ALGORITHMS as ALGORITHMS
from dphys.distributed.core import DistributedResult as DistributedResult
from dphys.distributed.core import DivergenceError as DivergenceError
from dphys.distributed.core import communication_bytes as communication_bytes
from dphys.distributed.core import run_rounds as run_rounds
from dphys.distributed.data_parallel import data_parallel_sgd as data_parallel_sgd
from dphys.distributed.problems import LogisticGrad as LogisticGrad
from dphys.distributed.problems import LogisticProblem as LogisticProblem
from dphys.distributed.problems import QuadraticProblem as QuadraticProblem
from dphys.distributed.problems import heterogeneous_logistic as heterogeneous_logistic
from dphys.distributed.problems import heterogeneous_quadratic as heterogeneous_quadratic
from dphys.distributed.problems import quadratic_grad as quadratic_grad
from dphys.distributed.runners import machine_mesh as machine_mesh
from dphys.distributed.runners import sharded_runner as sharded_runner
from dphys.distributed.runners import step_size_sweep as step_size_sweep
from dphys.distributed.runners import vmapped_runner as vmapped_runner

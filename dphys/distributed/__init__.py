r"""Distributed optimisation: mini-batch SGD, local SGD and accelerated mini-batch SGD over M
machines with K local steps per communication round, vmapped on one device or sharded over a
device mesh with `jax.shard_map` (the same code, the same iterates), problems with controlled
heterogeneity and exact optima, and data-parallel training of equinox models.

```python
import dphys.distributed as dd

prob = dd.heterogeneous_quadratic(16, 50, zeta=1.0, tau=0.5, sigma=0.1)
res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, local_steps=8, rounds=100,
                   step_size=0.5, record=prob.suboptimality)      # res.trace: F - F* per round
mesh = dd.machine_mesh(8)                                        # 8 devices (or simulated CPUs)
res = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, local_steps=8, rounds=100,
                   step_size=0.5, mesh=mesh)                     # sharded, same iterates
model, res = dd.data_parallel_sgd(loss_fn, model, data, key, machines=8, local_steps=4,
                                  rounds=50, batch_size=32, step_size=1e-2, mesh=mesh)
sub = dd.step_size_sweep("local", prob, keys, etas, local_steps=8, rounds=100)  # (eta, seed, R+1)
```

Modules, each importing only those above it: `core` (the pure round update `run_rounds`, result
and error types), `runners` (jitted vmapped and sharded runners, device meshes, step-size sweeps),
`algorithms` (validated `distributed_sgd` and its named forms), `data_parallel` (equinox models);
`problems` (quadratic and logistic test problems) stands alone.
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

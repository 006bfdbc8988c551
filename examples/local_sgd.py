"""Local SGD vs mini-batch SGD vs accelerated mini-batch SGD, then data-parallel training of a
score model with local SGD on 8 (simulated) devices.

    python examples/local_sgd.py          # about a minute on a laptop CPU

Part 1: on quadratics with exact optimum, local SGD wins when the machines' Hessians agree
(tau = 0) and loses to mini-batch SGD when they differ (tau > 0) at the same number of rounds.
Part 2: the same algorithms train a `dphys.diffusion.ScoreModel` by denoising score matching,
sharded over a device mesh (`jax.shard_map`), with the same iterates as the one-device run.
"""

import jax

jax.config.update("jax_num_cpu_devices", 8)  # simulate 8 CPU devices (before JAX is first used)

import jax.numpy as jnp  # noqa: E402

import dphys.diffusion as dif  # noqa: E402
import dphys.distributed as dd  # noqa: E402
from dphys.nn import ScoreMLP  # noqa: E402

key = jax.random.PRNGKey(0)

# --- 1. Theory: which algorithm wins at R = 100 rounds, K = 16 local steps, M = 8 machines
for tau in (0.0, 0.5):
    prob = dd.heterogeneous_quadratic(8, 50, zeta=1.0, tau=tau)
    best = {}
    for alg in dd.ALGORITHMS:
        subopt = []
        for eta in (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03):  # tune the step size, as in the literature
            try:
                res = dd.distributed_sgd(alg, prob.grad_fn, prob.data, prob.x0, key, local_steps=16,
                                         rounds=100, step_size=eta / float(prob.smoothness))
                subopt.append(float(prob.suboptimality(res.params)))
            except dd.DivergenceError:
                pass
        best[alg] = min(subopt)
    print(f"zeta=1, tau={tau}: F - F* after 100 rounds: " + ", ".join(f"{a} {v:.2e}" for a, v in best.items()))

# --- 2. Practice: data-parallel local SGD of a score network over 8 devices
mesh = dd.machine_mesh(8)
process = dif.VEGeometric(sigma_min=0.05, sigma_max=5.0)
model = dif.ScoreModel(ScoreMLP(2, width=32, depth=2, key=key), process)
data = jax.random.normal(jax.random.PRNGKey(1), (1024, 2))  # N(0, 1): exact score known
loss = lambda m, batch, k: dif.dsm_loss(m, batch, k)
eval_loss = lambda m: dif.dsm_loss(m, data, jax.random.PRNGKey(2))
kw = dict(algorithm="local", machines=8, local_steps=8, rounds=40, batch_size=32, step_size=0.3,
          record=eval_loss)
model_8, res_8 = dd.data_parallel_sgd(loss, model, data, key, mesh=mesh, **kw)
model_1, res_1 = dd.data_parallel_sgd(loss, model, data, key, **kw)  # same machines, vmapped on 1 device
diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree_util.tree_leaves(res_8.params),
                                                          jax.tree_util.tree_leaves(res_1.params)))
print(f"DSM loss {float(res_8.trace[0]):.3f} -> {float(res_8.trace[-1]):.3f} "
      f"(exact score: {float(eval_loss(dif.GaussianScore(process, std=1.0))):.3f}); "
      f"{res_8.bytes_per_round} bytes per round; max |sharded - vmapped| = {diff:.1e}")

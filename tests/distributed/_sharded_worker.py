"""Run in a fresh process with 8 simulated CPU devices (see test_sharded.py); prints one JSON line."""

import jax

jax.config.update("jax_num_cpu_devices", 8)

import json  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import dphys.distributed as dd  # noqa: E402


def main(part: str) -> None:
    out: dict = {"devices": len(jax.devices())}
    key = jax.random.PRNGKey(3)
    mesh = dd.machine_mesh(8)
    if part == "model":
        out.update(model(mesh))
    else:
        out.update(algorithms(mesh, key))
    print("RESULT " + json.dumps(out))


def algorithms(mesh, key) -> dict:
    out: dict = {}
    prob = dd.heterogeneous_quadratic(16, 20, zeta=1.0, tau=0.5, sigma=0.5, key=jax.random.PRNGKey(4))
    kw = dict(local_steps=4, rounds=12, step_size=0.4, record=lambda x: x)
    for alg in dd.ALGORITHMS:
        a = dd.distributed_sgd(alg, prob.grad_fn, prob.data, prob.x0, key, **kw)
        b = dd.distributed_sgd(alg, prob.grad_fn, prob.data, prob.x0, key, mesh=mesh, **kw)
        out[alg] = {"max_diff": float(jnp.max(jnp.abs(a.trace - b.trace))),
                    "scale": float(jnp.max(jnp.abs(a.trace))),
                    "moved": float(jnp.max(jnp.abs(a.trace[-1] - a.trace[0]))),
                    "devices": b.devices, "sharded": str(b.params.sharding)}
    # mesh on 4 of the 8 devices (4 machines each): same iterates again
    c = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, mesh=dd.machine_mesh(4), **kw)
    a = dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, **kw)
    out["mesh4_max_diff"] = float(jnp.max(jnp.abs(a.trace - c.trace)))

    # bad layouts
    errors = {}
    for name, fn in {
        "machines_not_divisible": lambda: dd.local_sgd(
            prob.grad_fn, {k: v[:12] for k, v in prob.data.items()}, prob.x0, key, mesh=mesh, **kw),
        "mesh_too_large": lambda: dd.machine_mesh(16),
    }.items():
        try:
            fn()
            errors[name] = None
        except ValueError as e:
            errors[name] = str(e)
    out["errors"] = errors
    return out


def model(mesh) -> dict:
    out: dict = {}
    # data-parallel training of a dphys score model (denoising score matching, 2-D Gaussian data)
    import dphys.diffusion as dif
    from dphys.nn import ScoreMLP

    process = dif.VEGeometric(sigma_min=0.05, sigma_max=5.0)
    model = dif.ScoreModel(ScoreMLP(2, width=16, depth=2, embed_dim=8, key=jax.random.PRNGKey(5)), process)
    data = jax.random.normal(jax.random.PRNGKey(6), (256, 2))  # N(0, 1): exact score known
    loss = lambda m, batch, k: dif.dsm_loss(m, batch, k)
    eval_loss = lambda m: dif.dsm_loss(m, data, jax.random.PRNGKey(7))
    out["loss_floor"] = float(eval_loss(dif.GaussianScore(process, std=1.0)))  # the exact score's loss
    dkw = dict(machines=8, local_steps=4, rounds=30, batch_size=16, step_size=0.4, record=eval_loss)
    for alg in ("local",):
        m1, r1 = dd.data_parallel_sgd(loss, model, data, jax.random.PRNGKey(8), algorithm=alg, **dkw)
        m8, r8 = dd.data_parallel_sgd(loss, model, data, jax.random.PRNGKey(8), algorithm=alg, mesh=mesh, **dkw)
        leaves1 = jax.tree_util.tree_leaves(r1.params)
        leaves8 = jax.tree_util.tree_leaves(r8.params)
        out[f"model_{alg}"] = {
            "max_param_diff": max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(leaves1, leaves8)),
            "loss_first": float(r1.trace[0]), "loss_last": float(r1.trace[-1]),
            "loss_last_sharded": float(r8.trace[-1]), "bytes_per_round": r8.bytes_per_round,
            "param_bytes": sum(int(np.size(x)) * 4 for x in leaves1),
        }
    return out


if __name__ == "__main__":
    import sys

    main(sys.argv[1])

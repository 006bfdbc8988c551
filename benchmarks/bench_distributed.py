"""Data-parallel local SGD sharded over 8 simulated CPU devices (jax.shard_map + pmean) against
the same computation with the 8 machines vmapped on 1 device.

Problems: (a) local SGD training of a dphys score model (`ScoreMLP`, width 64, DSM loss) on 2-D
data, 8 machines, K = 4 local steps, batch 64 per machine and step, 5 rounds; (b) local SGD on a
d = 1000 heterogeneous quadratic, 8 machines, K = 8, 20 rounds (little compute per byte sent:
the communication-bound end). A ratio below 1 is a speed-up from sharding. The case names carry
the bytes the 8 machines send per round (8 x the parameter size).

Simulated devices share the host's cores, so on a 2-core machine expect no speed-up (the ratio
measures the overhead of the collectives); on a host with >= 8 cores, or real accelerators, it
measures scaling. When JAX was already initialised with fewer than 8 devices (another benchmark
ran first), the cases use every device present, down to 1 (then the ratio is pure shard_map
overhead). For a clean run: `python benchmarks/run.py --only distributed` or
`python -m benchmarks.bench_distributed`.
"""

import jax

try:  # must happen before JAX initialises its backend
    jax.config.update("jax_num_cpu_devices", 8)
except Exception:  # noqa: BLE001  (already initialised: use the devices present)
    pass


import dphys.distributed as dd  # noqa: E402
from benchmarks.harness import Case  # noqa: E402


def cases(quick: bool) -> list[Case]:
    import dphys.diffusion as dif
    from dphys.nn import ScoreMLP

    n_dev = min(8, len(jax.devices()))
    mesh = dd.machine_mesh(n_dev)
    M, repeats = 8, 3 if quick else 7
    key = jax.random.PRNGKey(0)

    # (a) score model
    process = dif.VEGeometric(sigma_min=0.05, sigma_max=5.0)
    model = dif.ScoreModel(ScoreMLP(2, width=64, depth=3, key=key), process)
    data = jax.random.normal(jax.random.PRNGKey(1), (M * 512, 2))
    loss = lambda m, batch, k: dif.dsm_loss(m, batch, k)
    kw = dict(machines=M, local_steps=4, rounds=2 if quick else 5, batch_size=64, step_size=0.1)
    _, probe = dd.data_parallel_sgd(loss, model, data, key, **kw)

    def train(mesh_):
        return lambda: dd.data_parallel_sgd(loss, model, data, key, mesh=mesh_, **kw)[1].params

    # (b) quadratic
    prob = dd.heterogeneous_quadratic(M, 1000, zeta=1.0, tau=0.5, sigma=0.1)
    qkw = dict(local_steps=8, rounds=20, step_size=0.5)

    def quad(mesh_):
        return lambda: dd.local_sgd(prob.grad_fn, prob.data, prob.x0, key, mesh=mesh_, **qkw).params

    q_bytes = dd.communication_bytes(prob.x0, M)
    return [
        Case(f"local SGD score net {n_dev} dev ({probe.bytes_per_round} B/round)", train(mesh),
             "same, 8 machines vmapped on 1 device", train(None), repeats),
        Case(f"local SGD quadratic d=1000 {n_dev} dev ({q_bytes} B/round)", quad(mesh),
             "same, 8 machines vmapped on 1 device", quad(None), repeats),
    ]


if __name__ == "__main__":
    from benchmarks.harness import measure

    for case in cases(quick=False):
        row = measure(case)
        print(f"{row['name']:<56} {row['dphys_s']:.4f}s vs {row['baseline_s']:.4f}s  ratio {row['ratio']:.2f}")

"""Cumulants of the exactly solvable diffusion toy x0 = +/- mu through the backward process,
with the exact score and with a small score network trained by denoising score matching.

Under VE noise the cumulants kappa_n, n >= 3, are conserved along the forward process, so the
backward process must end with kappa_4 = -2 mu^4 and kappa_6 = 16 mu^6. Prints a table of
kappa_1..kappa_6 with jackknife errors and writes diffusion_cumulants.png (kappa_4 against t).

Runs in about a minute on a laptop CPU.  python examples/diffusion_cumulants.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import optax

import dphys
import dphys.diffusion as dd
from dphys.stats import cumulants

mu, n, steps = 1.0, 20_000, 400
process = dd.VESong(sigma=25.0, t_min=1e-3)


class Net(eqx.Module):
    """net(x, noise_level) -> like x: an MLP on x and sin/cos features of the noise level (log s)."""

    mlp: eqx.nn.MLP

    def __init__(self, key):
        self.mlp = eqx.nn.MLP(1 + 8, 1, 64, 2, activation=jax.nn.silu, key=key)

    def __call__(self, x, noise_level):
        freqs = 0.5 * 2.0 ** jnp.arange(4)
        emb = jnp.concatenate([jnp.sin(freqs * noise_level), jnp.cos(freqs * noise_level)])
        f = lambda v: self.mlp(jnp.concatenate([v, emb]))
        return 0.5 * (f(x) - f(-x))  # odd, like the score of a symmetric distribution


# training data and a DSM fit (uniform in log sigma: the NCSN weighting)
data = mu * jax.random.rademacher(jax.random.PRNGKey(0), (8192, 1), dtype=jnp.float32)
model = dd.ScoreModel(Net(jax.random.PRNGKey(1)), process, sigma_data=mu)
result = dphys.fit(lambda m, batch, key: dd.dsm_loss(m, batch, key, "ncsn"), model,
                   optax.adam(optax.cosine_decay_schedule(3e-3, 1500)), data, steps=1500,
                   key=jax.random.PRNGKey(2), batch_size=256, desc="DSM")

scores = {"exact score": dd.TwoPointScore(process, mu), "learned score": result.model}
exact = dd.two_point_cumulants(process, mu, process.t_min)
print(f"{'':>14}" + "".join(f"{'kappa_' + str(k):>18}" for k in range(1, 7)))
print(f"{'closed form':>14}" + "".join(f"{v:>18.4f}" for v in exact))
fig, ax = plt.subplots(figsize=(6, 4))
t_fine = np.linspace(process.t_min, 1, 200)
ax.plot(t_fine, dd.two_point_cumulants(process, mu, t_fine)[3], "k-", label="closed form (conserved)")
for i, (name, score) in enumerate(scores.items()):
    x, info = dd.sample(score, jax.random.PRNGKey(3), (1,), n_samples=n, sampler="em", steps=steps,
                        save_every=steps // 10)
    k = cumulants(np.asarray(x[:, 0], np.float64))
    print(f"{name:>14}" + "".join(f"{v:>10.4f} +-{e:6.4f}" for v, e in zip(k.value, k.error)))
    times, states = info.trajectory
    traj = [cumulants(np.asarray(s[:, 0], np.float64), max_order=4) for s in states]
    ax.errorbar(times + 0.005 * i, [c.value[3] for c in traj], [c.error[3] for c in traj], fmt="os"[i],
                capsize=2, label=f"backward, {name}")
ax.set(xlabel="t", ylabel=r"$\kappa_4$", ylim=(-6, 2), title=r"VE diffusion of $x_0 = \pm\mu$")
ax.legend()
fig.tight_layout()
fig.savefig("diffusion_cumulants.png", dpi=120)
print(f"score evaluations per sample: {info.n_score_evals:.0f}; wrote diffusion_cumulants.png")

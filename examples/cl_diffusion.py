"""A diffusion model learns the complex Langevin distribution P(x, y) of S = sigma z^2/2, sigma = 1 + i.

Complex Langevin (real noise) samples P(x, y), here a known 2D Gaussian; a small score network is
trained on the samples by denoising score matching, new (x, y) are generated, and <z^2>, <x^2>,
<y^2>, <xy> of the generated states are compared with the exact values; the learned log-density
(probability-flow ODE) is compared with the closed-form P(x, y) at a few points.
Runs in about a minute on a laptop CPU.  python examples/cl_diffusion.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import dphys.diffusion as dd
import dphys.lattice as lat
from dphys.diffusion.training import fit_score
from dphys.nn import ScoreMLP

action = lat.GaussianAction(sigma=1 + 1j)
chains = 256
keys = jax.random.split(jax.random.PRNGKey(0), chains)
# 200 measurements per chain, one every 0.2 Langevin time, ShARK steps of 0.01
z, w = lat.cl_chains(action, keys, jnp.zeros(chains, jnp.complex64), dt=0.01, n_samples=200, thin=20,
                     n_therm=500, solver="shark")
xy = jnp.stack([z.real, z.imag], axis=-1).reshape(-1, 2)  # training states (x, y)

process = dd.VEGeometric(sigma_min=0.01, sigma_max=10.0)
net = ScoreMLP(2, width=128, depth=3, z2_odd=True, key=jax.random.PRNGKey(1))  # odd: P(x, y) = P(-x, -y)
model = dd.ScoreModel(net, process, sigma_data=float(jnp.sqrt(jnp.mean(xy**2))))
# NCSN-weighted DSM, Adam with a cosine-decayed learning rate
model, losses = fit_score(model, xy, jax.random.PRNGKey(2), steps=4000, learning_rate=2e-3, batch_size=512,
                          progress=True)

gen, _ = dd.sample(model, jax.random.PRNGKey(3), (2,), n_samples=20000, sampler="em", steps=300)
gen = np.asarray(gen, np.float64)
zg = gen[:, 0] + 1j * gen[:, 1]
cov = action.cl_covariance()  # exact [[<x^2>, <xy>], [<xy>, <y^2>]]
cl = lat.cl_observables(z, w)  # the training data (autocorrelated: jackknife over chains)
n = len(zg)
# the learned distribution inherits the fluctuation of its training set: compare the diffusion
# estimate with the exact value using both errors
for name, key, values, exact in [("Re<z^2>", "z2_re", (zg**2).real, (1 / action.sigma).real),
                                 ("Im<z^2>", "z2_im", (zg**2).imag, (1 / action.sigma).imag),
                                 ("<x^2>", "x2", gen[:, 0] ** 2, cov[0, 0]), ("<y^2>", "y2", gen[:, 1] ** 2, cov[1, 1]),
                                 ("<xy>", "xy", gen[:, 0] * gen[:, 1], cov[0, 1])]:
    print(f"{name:8s} CL {cl[key].value:+.4f} +- {cl[key].error:.4f}   diffusion {values.mean():+.4f} "
          f"+- {values.std() / np.sqrt(n):.4f}   exact {exact:+.4f}")

points = jnp.array([[0.0, 0.0], [1.0, -0.5], [-1.0, 0.2]], jnp.float32)
logp, _ = dd.log_likelihood(model, points)
exact_logp = np.log(action.cl_density(np.asarray(points[:, 0]), np.asarray(points[:, 1])))
for p, a, b in zip(np.asarray(points), np.asarray(logp), exact_logp):
    print(f"log P({p[0]:+.1f}, {p[1]:+.1f}): learned {a:.4f}, exact {b:.4f}")

"""From correlation functions back to the interaction: learn the map C(k) -> (potential, source size).

A Gaussian well V(r) = -V0 exp(-(r/b)^2) for a neutral pair with the nucleon reduced mass, a
Gaussian source of width R: correlation functions for many (V0, b, R) in one vmap over potentials
(the kernel of each potential is folded with several radii), a small MLP trained with optax on
noisy copies, and the scattering length of predicted vs true held-out potentials.
Runs in one to two minutes on a laptop CPU; `dphys run femto-inverse` is the full study.

    python examples/femto_inverse.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

jax.config.update("jax_enable_x64", True)  # the scattering solvers need float64

from dphys.constants import HBARC, M_NUCLEON  # noqa: E402
from dphys.femto.data import default_errors  # noqa: E402
from dphys.femto.inverse import gaussian_well, simulate_correlations, well_depth  # noqa: E402
from dphys.scattering import effective_range  # noqa: E402
from dphys.train import fit  # noqa: E402

MASS = M_NUCLEON / 2  # reduced mass [MeV]
k = np.linspace(5.0, 300.0, 16) / HBARC  # [fm^-1]
# strength s = 2 mu V0 b^2 / (hbar c)^2 (no bound state below ~2.68), range b and source width R [fm]
box = dict(s_range=(0.3, 2.3), b_range=(0.8, 1.6), radius_range=(0.8, 1.6), mass=MASS)
y, C, _ = simulate_correlations(jax.random.PRNGKey(0), 256, 8, k, **box)  # targets (s, b, R), C(k)
y_test, C_test, pot_test = simulate_correlations(jax.random.PRNGKey(1), 64, 1, k, **box)
sigma = np.hypot(*default_errors(k, C))  # ALICE-like errors

x_mean, x_std, y_mean, y_std = C.mean(0), C.std(0), y.mean(0), y.std(0)
X, E, Y = (jnp.asarray(a, jnp.float32) for a in ((C - x_mean) / x_std, sigma / x_std, (y - y_mean) / y_std))


def batch(key):  # a minibatch with fresh noise of the data's size
    ki, kn = jax.random.split(key)
    i = jax.random.choice(ki, len(X), (256,), replace=False)
    return X[i] + E[i] * jax.random.normal(kn, X[i].shape), Y[i]


def loss(net, b, key):
    return jnp.mean((jax.vmap(net)(b[0]) - b[1]) ** 2)


net = eqx.nn.MLP(k.size, 3, 64, 3, activation=jnp.tanh, key=jax.random.PRNGKey(2))
net = fit(loss, net, optax.adam(3e-3), batch, steps=2000, key=jax.random.PRNGKey(3)).model

noisy = C_test + np.hypot(*default_errors(k, C_test)) * np.random.default_rng(0).normal(size=C_test.shape)
pred = np.asarray(jax.vmap(net)(jnp.asarray((noisy - x_mean) / x_std, jnp.float32))) * y_std + y_mean
for i, name in enumerate(("s", "b [fm]", "R [fm]")):
    rmse = np.sqrt(np.mean((pred[:, i] - y_test[:, i]) ** 2))
    print(f"{name}: held-out RMSE / std = {rmse / y_test[:, i].std():.3f}")

ere = jax.jit(jax.vmap(lambda s, b: effective_range(gaussian_well(s, b, MASS), mass=MASS)))
true, guess = ere(pot_test[:5, 0], pot_test[:5, 1]), ere(jnp.asarray(pred[:5, 0]), jnp.asarray(pred[:5, 1]))
for i in range(5):
    print(f"V0 = {well_depth(*pot_test[i], MASS):6.1f} MeV: "
          f"a = {float(true.a[i]):6.2f} fm (predicted {float(guess.a[i]):6.2f}), "
          f"r = {float(true.r[i]):5.2f} fm (predicted {float(guess.r[i]):5.2f})")

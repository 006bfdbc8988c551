r"""Training sets for the inverse problem of femtoscopy, $C(k) \mapsto$ (potential, source):
correlation functions of a family of Gaussian wells and Gaussian sources, one vmap over potentials.

The well $V(r) = -V_0 e^{-(r/b)^2}$ is parametrised by its range $b$ [fm] and its dimensionless
strength $s = 2\mu V_0 b^2/(\hbar c)^2$ (`well_depth`, `gaussian_well`): for $s \lesssim 2.68$
there is no bound state, and $s$ and $b$ set the scattering length and effective range. Each
potential's kernel $K(k, r)$ (`dphys.femto.pair_kernel`, one spin channel of weight 1, no Coulomb)
is folded (`dphys.femto.fold`) with several `GaussianSource` radii. `train_inverse_network` fits
an MLP from such (noisy) correlation functions back to the parameters (`InverseNetwork`).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray
from tqdm.auto import tqdm

from dphys._checks import positive_int
from dphys.constants import HBARC
from dphys.femto import correlation
from dphys.femto.sources import GaussianSource
from dphys.scattering import GaussianSum
from dphys.train import fit

__all__ = ["InverseNetwork", "gaussian_well", "simulate_correlations", "train_inverse_network", "well_depth"]


def well_depth(s: Float[ArrayLike, "..."], b: Float[ArrayLike, "..."], mass: float) -> Float[Array, "..."]:
    r"""$V_0 = s\,(\hbar c)^2 / (2\mu b^2)$ [MeV] of the well of strength `s` and range `b` [fm] for
    the reduced mass `mass` [MeV]."""
    return jnp.asarray(s) * HBARC**2 / (2 * mass * jnp.asarray(b) ** 2)


def gaussian_well(s: Float[ArrayLike, ""], b: Float[ArrayLike, ""], mass: float) -> GaussianSum:
    r"""The well $V(r) = -V_0 e^{-(r/b)^2}$ of strength `s` and range `b` [fm] (`well_depth`) as a
    `dphys.scattering.GaussianSum`; differentiable in `s` and `b`."""
    return GaussianSum(c=jnp.stack([-well_depth(s, b, mass)]), d=jnp.stack([jnp.asarray(b)]))


@functools.lru_cache(maxsize=4)
def _kernels(k: tuple[float, ...], mass: float, r_max: float):
    """The jitted kernels of a batch of wells (s, b): one `Kernel` with a leading batch axis; one
    compilation per momentum grid, mass and radial grid."""
    k_arr = np.asarray(k)
    grid = correlation.radial_quadrature(r_max)
    n_l = correlation.n_partial_waves(k_arr, r_max)

    def one(s, b):
        channel = correlation.SpinChannel(1.0, gaussian_well(s, b, mass))
        return correlation.pair_kernel(k_arr, mass=mass, channels=[channel], grid=grid, n_l=n_l)

    return jax.jit(jax.vmap(one))


@jax.jit
def _fold_radii(kernels: correlation.Kernel, radii: Array) -> Array:
    """C (batch, radii, nk): every kernel folded with every Gaussian source radius of its row."""
    fold_one = lambda kernel, R: correlation.fold(GaussianSource(R), kernel)
    return jax.vmap(lambda kernel, rs: jax.vmap(lambda R: fold_one(kernel, R))(rs))(kernels, radii)


def simulate_correlations(
    key: PRNGKeyArray,
    n_potentials: int,
    radii_per_potential: int,
    k: Float[ArrayLike, " nk"],
    *,
    s_range: tuple[float, float],
    b_range: tuple[float, float],
    radius_range: tuple[float, float],
    mass: float,
    r_max: float = 60.0,
    chunk: int = 64,
    progress: bool | str = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Noise-free correlation functions of wells drawn uniformly in the box `s_range` x `b_range`,
    each folded with `radii_per_potential` Gaussian source radii $R$ drawn uniformly in `radius_range`.

    **Arguments:** `key`; `n_potentials`, `radii_per_potential` >= 1; `k` [fm^-1]; the boxes
    (`b_range`, `radius_range` [fm]); `mass` the reduced mass [MeV]; `r_max` [fm] the radial grid
    (`radial_quadrature`); `chunk` wells per compiled call (the last chunk padded); `progress` a
    progress bar (a string is its label).

    **Returns:** `(targets, C, wells)`: targets `(n, 3)` = $(s, b, R)$ with $n$ = `n_potentials` x
    `radii_per_potential` (the radii of one well consecutive), $C(k)$ `(n, nk)` and the wells'
    $(s, b)$ `(n_potentials, 2)`.
    """
    name = "simulate_correlations"
    n_potentials = positive_int(name, "n_potentials", n_potentials)
    radii_per_potential = positive_int(name, "radii_per_potential", radii_per_potential)
    chunk = positive_int(name, "chunk", chunk)
    for what, (lo, hi) in (("s_range", s_range), ("b_range", b_range), ("radius_range", radius_range)):
        if not 0 < lo < hi:
            raise ValueError(f"{name}: {what} must be (low, high) with 0 < low < high, got {(lo, hi)}")
    k = np.asarray(k, dtype=np.float64)
    kp, kr = jax.random.split(key)
    u = np.asarray(jax.random.uniform(kp, (n_potentials, 2), dtype=jnp.float64))
    s = s_range[0] + (s_range[1] - s_range[0]) * u[:, 0]
    b = b_range[0] + (b_range[1] - b_range[0]) * u[:, 1]
    radii = np.asarray(jax.random.uniform(kr, (n_potentials, radii_per_potential), dtype=jnp.float64,
                                          minval=radius_range[0], maxval=radius_range[1]))
    kernels = _kernels(tuple(float(x) for x in k), float(mass), float(r_max))
    pad = (-n_potentials) % chunk  # whole chunks: one compiled shape
    sp, bp, rp = (np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]) for x in (s, b, radii))
    label = progress if isinstance(progress, str) else name
    out = []
    for i in tqdm(range(0, n_potentials + pad, chunk), desc=label, unit="chunk", disable=not progress):
        batch = slice(i, i + chunk)
        out.append(np.asarray(_fold_radii(kernels(jnp.asarray(sp[batch]), jnp.asarray(bp[batch])),
                                          jnp.asarray(rp[batch]))))
    C = np.concatenate(out)[:n_potentials].reshape(-1, k.size)
    targets = np.stack([np.repeat(s, radii_per_potential), np.repeat(b, radii_per_potential), radii.ravel()], axis=1)
    return targets, C, np.stack([s, b], axis=1)


class InverseNetwork(eqx.Module):
    r"""An MLP from a correlation function to parameters, with the standardisation of its
    training set: `predict(C)` is $\hat y = \mu_y + \sigma_y\,\mathrm{net}((C - \mu_C)/\sigma_C)$.

    **Fields:** `net` (float32 MLP), `c_mean`, `c_std` (nk), `y_mean`, `y_std` (n_params): NumPy
    float64 statistics of the clean training set.
    """

    net: eqx.nn.MLP
    c_mean: np.ndarray
    c_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray

    def predict(self, C: Float[ArrayLike, "*n nk"]) -> np.ndarray:
        """Parameters (float64) of one correlation function `(nk,)` or of a batch `(n, nk)`."""
        x = jnp.asarray((np.asarray(C) - self.c_mean) / self.c_std, dtype=jnp.float32)
        out = self.net(x) if x.ndim == 1 else jax.vmap(self.net)(x)
        return np.asarray(out, dtype=np.float64) * self.y_std + self.y_mean


def train_inverse_network(
    C: Float[ArrayLike, "n nk"],
    targets: Float[ArrayLike, "n p"],
    errors: Float[ArrayLike, "*n nk"],
    *,
    key_init: PRNGKeyArray,
    key_fit: PRNGKeyArray,
    width: int,
    depth: int,
    steps: int,
    batch_size: int,
    learning_rate: float,
    noise_max: float,
    desc: str = "inverse network",
) -> InverseNetwork:
    r"""Train an `InverseNetwork` (tanh MLP, `depth` hidden layers of `width`) on noise-free
    correlation functions `C` and their `targets` by the mean squared error of the standardised
    targets, with fresh noise in every minibatch: $C + \nu\,\sigma\,\epsilon$, $\epsilon$ standard
    normal, the level $\nu$ uniform in $[0, \nu_\text{max}]$ per sample, $\sigma$ = `errors` (one
    row per sample, or one row for all). Adam with a warm-up cosine schedule (peak
    `learning_rate`, 5 % warm-up, final `learning_rate`/30), through `dphys.fit`.

    **Returns:** the trained `InverseNetwork`.
    """
    C, targets = np.asarray(C, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if C.ndim != 2 or targets.ndim != 2 or len(C) != len(targets):
        raise ValueError(f"train_inverse_network: C (n, nk) and targets (n, p) expected, got {C.shape}, "
                         f"{targets.shape}")
    errors = np.broadcast_to(np.asarray(errors, dtype=np.float64), C.shape)
    c_mean, c_std = C.mean(0), C.std(0)
    y_mean, y_std = targets.mean(0), targets.std(0)
    X, E, Y = (jnp.asarray(a, dtype=jnp.float32) for a in ((C - c_mean) / c_std, errors / c_std,
                                                            (targets - y_mean) / y_std))
    n_train, nk = X.shape
    batch_size = min(positive_int("train_inverse_network", "batch_size", batch_size), n_train)

    def batch_fn(key):
        ki, kn, kl = jax.random.split(key, 3)
        idx = jax.random.choice(ki, n_train, (batch_size,), replace=False)
        level = jax.random.uniform(kl, (batch_size, 1), maxval=noise_max)
        return X[idx] + level * E[idx] * jax.random.normal(kn, (batch_size, nk)), Y[idx]

    def loss(model, batch, _key):
        x, y = batch
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    steps = positive_int("train_inverse_network", "steps", steps)
    schedule = optax.warmup_cosine_decay_schedule(0.0, learning_rate, max(1, steps // 20), steps, learning_rate / 30)
    net = eqx.nn.MLP(nk, Y.shape[1], width, depth, activation=jnp.tanh, key=key_init)
    net = fit(loss, net, optax.adam(schedule), batch_fn, steps=steps, key=key_fit,
              log_every=max(1, min(250, steps // 10)), desc=desc).model
    return InverseNetwork(net, c_mean, c_std, y_mean, y_std)

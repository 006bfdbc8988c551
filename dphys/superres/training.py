r"""Training of the super-resolution models with `dphys.train.fit`: the deterministic regression
baseline by mean squared error and the conditional score by denoising score matching (EDM), both
with a warmup + cosine Adam schedule, checkpoints and exact resume; and the lattice augmentation
(translations by multiples of the coarse-graining factor, $\phi \to -\phi$).

```python
import dphys.superres as sr

reg, _ = sr.train_regression(key, train.condition, train.target, factor=2, channels=(16, 32), steps=600)
residual = train.target - sr.predict(reg, train.condition)                   # CorrDiff residual target
score, _ = sr.train_diffusion(key, train.condition, residual, factor=2, channels=(16, 32), steps=1500,
                              sigma_data=float(jnp.sqrt(jnp.mean(residual**2))))
```
"""

from __future__ import annotations

import os
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

import dphys.diffusion as dd
from dphys._checks import positive_int, positive_number
from dphys.superres.data import check_pair_shapes
from dphys.superres.model import ConditionalScore, RegressionNet, conditional_dsm_loss, regression_loss
from dphys.train import TrainResult, fit, warmup_cosine_adam

__all__ = ["lattice_augment", "log_interval", "train_diffusion", "train_regression"]

Augment = Callable[[PRNGKeyArray, Array, Array], tuple[Array, Array]]


def log_interval(steps: int) -> int:
    """The `log_every` of the training runs here: a tenth of `steps`, between 1 and 100."""
    return max(1, min(100, steps // 10))


def _check_training(name, cond, target, factor, channels, steps, batch_size, lr):
    check_pair_shapes(cond.shape, target.shape, factor, name)
    positive_int(name, "steps (optimiser steps)", steps)
    positive_int(name, "batch_size", batch_size)
    positive_number(name, "lr (peak learning rate)", lr)
    if batch_size > cond.shape[0]:
        raise ValueError(f"{name}: batch_size={batch_size} must be <= the number of training pairs {cond.shape[0]}")
    if len(channels) < 1:
        raise ValueError(f"{name}: channels must list the U-Net widths per level, got {channels!r}")
    for c in channels:
        positive_int(name, "channels (U-Net widths)", c)


def train_regression(key: PRNGKeyArray, cond: Float[ArrayLike, "n C_c h w"], target: Float[ArrayLike, "n C_t H W"],
                     *, factor: int, channels: tuple[int, ...] = (16, 32), steps: int = 600, batch_size: int = 32,
                     lr: float = 2e-3, checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
                     desc: str = "superres regression") -> tuple[RegressionNet, TrainResult]:
    r"""Train the deterministic baseline `RegressionNet` (a U-Net on the upsampled condition) by mean
    squared error, $L = \langle (f(c) - y)^2 \rangle$ over minibatches (`regression_loss`), with
    Adam on a warmup + cosine schedule (`dphys.train.warmup_cosine_adam`). With `factor` 1 it is a
    retrieval on the condition's own grid (the 2 km product behind the bicubic baseline).

    **Arguments:** `key` (network initialisation, then the minibatches); `cond` (n, C_c, h, w) and
    `target` (n, C_t, factor h, factor w), standardised (dimensionless); `factor` >= 1;
    `channels` the U-Net widths per level; `steps`, `batch_size` (<= n) and the peak learning rate
    `lr`; `checkpoint_dir` (resume exactly from a checkpoint there), `progress`, `desc` as `fit`.

    **Returns:** `(model, result)`: the trained `RegressionNet` and `fit`'s `TrainResult` (losses).
    """
    cond, target = jnp.asarray(cond), jnp.asarray(target)
    _check_training("train_regression", cond, target, factor, channels, steps, batch_size, lr)
    k_net, k_fit = jax.random.split(key)
    model = RegressionNet(target.shape[1], cond.shape[1], factor, channels=tuple(channels), key=k_net)
    result = fit(lambda m, b, k: regression_loss(m, b[0], b[1]), model, warmup_cosine_adam(lr, steps),
                 (cond, target), steps=steps, batch_size=batch_size, key=k_fit,
                 log_every=log_interval(steps), checkpoint_dir=checkpoint_dir, progress=progress, desc=desc)
    return result.model, result


def train_diffusion(key: PRNGKeyArray, cond: Float[ArrayLike, "n C_c h w"], target: Float[ArrayLike, "n C_t H W"],
                    *, factor: int, channels: tuple[int, ...] = (16, 32), steps: int = 1500, batch_size: int = 32,
                    lr: float = 2e-3, p_uncond: float = 0.1, sigma_data: float = 1.0, augment: Augment | None = None,
                    checkpoint_dir: str | os.PathLike | None = None, progress: bool = True,
                    desc: str = "superres diffusion") -> tuple[ConditionalScore, TrainResult]:
    r"""Train a `ConditionalScore` (U-Net on [noisy target, upsampled condition, flag], EDM
    preconditioning with $\sigma \in [0.002, 80]$ and data scale `sigma_data`) by conditional
    denoising score matching with condition dropout `p_uncond` (`conditional_dsm_loss`, EDM
    weighting), Adam on a warmup + cosine schedule. For the CorrDiff residual mode pass
    target - regression output as `target` and its RMS as `sigma_data`.

    **Arguments:** `key` (network initialisation, then minibatches and noise); `cond`
    (n, C_c, h, w), `target` (n, C_t, factor h, factor w), standardised; `factor` >= 1; `channels`;
    `steps`, `batch_size` (<= n, drawn without replacement), `lr`; `p_uncond` in [0, 1);
    `sigma_data` > 0 (same units as `target`); `augment(key, cond, target) -> (cond, target)`
    applied to every minibatch (e.g. `lattice_augment`); `checkpoint_dir`, `progress`, `desc` as `fit`.

    **Returns:** `(score, result)`: the trained `ConditionalScore` and `fit`'s `TrainResult`.
    """
    cond, target = jnp.asarray(cond), jnp.asarray(target)
    _check_training("train_diffusion", cond, target, factor, channels, steps, batch_size, lr)
    positive_number("train_diffusion", "sigma_data (data scale of the target)", sigma_data)
    if not 0 <= p_uncond < 1:
        raise ValueError(f"train_diffusion: p_uncond (condition dropout probability) must be in [0, 1), got {p_uncond}")
    k_net, k_fit = jax.random.split(key)
    process = dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=sigma_data)
    score = ConditionalScore(target.shape[1], cond.shape[1], factor, process=process, channels=tuple(channels),
                             key=k_net)
    n = target.shape[0]

    def batch_fn(k):
        k_idx, k_aug = jax.random.split(k)
        idx = jax.random.choice(k_idx, n, (batch_size,), replace=False)
        c, t = cond[idx], target[idx]
        return (c, t) if augment is None else augment(k_aug, c, t)

    result = fit(lambda m, b, k: conditional_dsm_loss(m, b[0], b[1], k, p_uncond=p_uncond), score,
                 warmup_cosine_adam(lr, steps), batch_fn, steps=steps, key=k_fit, log_every=log_interval(steps),
                 checkpoint_dir=checkpoint_dir, progress=progress, desc=desc)
    return result.model, result


def lattice_augment(factor: int) -> Augment:
    r"""A minibatch augmentation for lattice super-resolution that keeps (condition, target) pairs
    exact: a random periodic translation of each pair, by $(a, b)$ coarse sites and $(a f, b f)$
    fine sites, and a random global sign $\phi \to -\phi$ (the $Z_2$ symmetry of $\phi^4$; the
    block average is linear, so the condition flips with it).

    **Arguments:** `factor` (coarse-graining factor f >= 1).

    **Returns:** `augment(key, cond, target) -> (cond, target)` for `train_diffusion`, on
    `cond` (n, C, h, w) and `target` (n, C, f h, f w).
    """
    factor = positive_int("lattice_augment", "factor (coarse-graining factor)", factor)

    def augment(key, cond, target):
        k1, k2, k3 = jax.random.split(key, 3)
        n, h = cond.shape[0], cond.shape[-1]
        sx = jax.random.randint(k1, (n,), 0, h)
        sy = jax.random.randint(k2, (n,), 0, h)
        sign = jnp.where(jax.random.bernoulli(k3, 0.5, (n,)), 1.0, -1.0)[:, None, None, None]

        def roll(x, a, b, f):
            return jnp.roll(jnp.roll(x, a * f, axis=-2), b * f, axis=-1)

        cond = jax.vmap(lambda x, a, b: roll(x, a, b, 1))(cond, sx, sy) * sign
        target = jax.vmap(lambda x, a, b: roll(x, a, b, factor))(target, sx, sy) * sign
        return cond, target

    return augment

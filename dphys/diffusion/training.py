r"""Training a score model by denoising score matching in one call.

`fit_score` is `dphys.train.fit` on `dsm_loss` with Adam and a cosine-decayed learning rate,
the recipe of the cumulant and complex-Langevin diffusion studies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from dphys.diffusion.score import WEIGHTINGS, dsm_loss
from dphys.train import fit

__all__ = ["fit_score"]


def fit_score(
    model: Any,
    data: PyTree[Float[Array, "n ..."]] | Callable[[PRNGKeyArray], PyTree],
    key: PRNGKeyArray,
    *,
    steps: int,
    learning_rate: float,
    weighting: str = "ncsn",
    batch_size: int | None = None,
    log_every: int | None = None,
    progress: bool = False,
    desc: str = "DSM",
) -> tuple[Any, np.ndarray]:
    r"""Train the score model `model` (a `ScoreModel`) by minimising `dsm_loss` with `weighting`,

    $$ L = \mathbb E_t\,\lambda(t)\,\mathbb E_{x_0,z}\tfrac1d\|s_\theta(x_t, t) + z/s_t\|^2, $$

    with Adam at the learning rate `learning_rate` decayed to 0 by a cosine over `steps`
    (`optax.cosine_decay_schedule`), through `dphys.fit`.

    **Arguments:**

    - `model`: the `ScoreModel` to train (its network's floating-point arrays are trained).
    - `data`: clean states with a leading sample axis (minibatches of `batch_size` drawn by `fit`),
      or a `batch_fn(key) -> batch` (e.g. `dphys.train.augmented_batches`).
    - `key`: PRNG key of the batches, times and noise.
    - `steps` >= 1, `learning_rate` > 0 (per step, dimensionless), `weighting` (`WEIGHTINGS`),
      `batch_size` (arrays only; default: `min(256, n)`), `log_every` (default `steps // 10`),
      `progress`, `desc`.

    **Returns:** `(model, losses)`: the trained model and the loss of every step (float64 array).
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"fit_score: weighting={weighting!r}; expected one of {sorted(WEIGHTINGS)}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"fit_score: steps={steps!r} must be a positive int")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"fit_score: learning_rate={learning_rate!r} must be a finite number > 0")
    if not callable(data) and batch_size is None:
        batch_size = min(256, jax.tree.leaves(data)[0].shape[0])
    schedule = optax.cosine_decay_schedule(learning_rate, steps)
    result = fit(lambda m, batch, k: dsm_loss(m, batch, k, weighting), model, optax.adam(schedule), data,
                 steps=steps, key=key, batch_size=None if callable(data) else batch_size,
                 log_every=log_every or max(1, steps // 10), progress=progress, desc=desc)
    return result.model, np.asarray(result.losses, np.float64)

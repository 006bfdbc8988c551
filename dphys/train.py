"""Optax training loop shared by every dphys workflow.

[`fit`][dphys.train.fit] minimises ``loss_fn(model, batch, key)`` over the
floating-point arrays of an equinox model with an optax optimiser. It is built
for three things:

- **Speed.** Steps run in chunks of ``log_every`` steps, each chunk one call to
  a single jitted function that `jax.lax.scan`s over the steps. The host is
  only involved between chunks (progress bar, divergence check, checkpoint).
- **Safety.** After every chunk the losses are checked; the first non-finite
  loss raises [`TrainingDivergedError`][dphys.train.TrainingDivergedError]
  naming the exact step. Checkpoints are written atomically (temporary file,
  ``fsync``, ``os.replace``), so killing the process never corrupts one.
- **Exact resume.** All randomness of step ``i`` is a pure function of
  ``(key, i)`` and every step runs through the same compiled program, so a run
  resumed from a checkpoint is bit-for-bit identical to an uninterrupted one.

Steps are numbered from 0: step ``i`` evaluates ``losses[i]`` at the
parameters produced by the ``i`` updates before it, then applies update
``i + 1``. "A checkpoint at step 100" holds the state after 100 updates, and
resuming from it runs step 100 next.

Checkpoint layout (inside ``checkpoint_dir``):

- ``checkpoint.eqx`` — the authoritative, self-contained checkpoint: a
  NumPy-saved JSON header (format, step, shape and dtype of every array), then
  the trainable part of the model and the optimiser state written with
  `equinox.tree_serialise_leaves`, then the loss history saved with NumPy.
- ``checkpoint.json`` — a human-readable sidecar ``{"step", "steps", "loss"}``,
  written after the checkpoint; informational only, never read back.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree
from tqdm.auto import tqdm

from dphys._io import atomic_write

__all__ = ["TrainResult", "TrainingDivergedError", "augmented_batches", "fit", "warmup_cosine_adam"]

CHECKPOINT_NAME = "checkpoint.eqx"
SIDECAR_NAME = "checkpoint.json"
_FORMAT = "dphys.train/1"

LossFn = Callable[[Any, Any, PRNGKeyArray], Float[Array, ""]]


class TrainResult(eqx.Module):
    """Outcome of [`fit`][dphys.train.fit].

    **Fields**

    - `model`: the trained model (same structure as the model passed in).
    - `opt_state`: the final optimiser state.
    - `losses`: float64 array of the loss at every step of the whole run,
      including any part done before a resume; ``losses[i]`` is step ``i``.
    - `step`: number of steps done (``len(losses)``).
    """

    model: Any
    opt_state: optax.OptState
    losses: Float[np.ndarray, " step"]
    step: int


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite during [`fit`][dphys.train.fit].

    **Attributes**

    - `step`: the first step whose loss is not finite.
    - `loss`: that loss value.
    - `checkpoint_step`: step of the last checkpoint written (or found) before
      the divergence, or `None` if there is none.
    """

    def __init__(self, step: int, loss: float, checkpoint_step: int | None):
        self.step = step
        self.loss = loss
        self.checkpoint_step = checkpoint_step
        where = (
            f"last checkpoint at step {checkpoint_step}"
            if checkpoint_step is not None
            else "no checkpoint was written"
        )
        super().__init__(
            f"loss became {loss} at step {step} (lower the learning rate, "
            f"check the data or the loss for invalid values); {where}"
        )

    def __reduce__(self):  # keep it picklable despite the custom __init__
        return type(self), (self.step, self.loss, self.checkpoint_step)


def augmented_batches(data: ArrayLike, batch_size: int, augment: Callable) -> Callable[[PRNGKeyArray], Array]:
    """A `batch_fn(key)` for `fit`: `batch_size` configurations drawn uniformly (with replacement)
    from `data` (leading sample axis), then `augment(key, batch)` (random symmetry transformations
    of the action: lattice translations and signs, gauge transformations, ...)."""
    data = jnp.asarray(data)
    n = data.shape[0]

    def batch_fn(key):
        k_idx, k_aug = jax.random.split(key)
        return augment(k_aug, data[jax.random.randint(k_idx, (batch_size,), 0, n)])

    return batch_fn


def warmup_cosine_adam(learning_rate: float, steps: int, *, clip_norm: float = 1.0,
                       final_fraction: float = 0.05) -> optax.GradientTransformation:
    """The optimiser of the diffusion workflows: Adam after clipping the global gradient norm to
    `clip_norm`, its learning rate warmed up linearly from 0 over `min(100, steps // 10 + 1)`
    steps to `learning_rate`, then decayed by a cosine to `final_fraction * learning_rate` at
    `steps` (for a run shorter than 2 steps, at the step after the warm-up)."""
    warmup = min(100, steps // 10 + 1)
    schedule = optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup, max(steps, warmup + 1),
                                                  final_fraction * learning_rate)
    return optax.chain(optax.clip_by_global_norm(clip_norm), optax.adam(schedule))


def fit(
    loss_fn: LossFn,
    model: PyTree,
    optimizer: optax.GradientTransformation,
    data: PyTree[Array] | Callable[[PRNGKeyArray], PyTree],
    *,
    steps: Any,
    key: Any,
    batch_size: int | None = None,
    log_every: int = 50,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Train `model` for `steps` optimiser steps, with checkpointing and exact resume.

    Only the floating-point arrays of `model` (`eqx.is_inexact_array`) are
    trained; everything else is held fixed. Step ``i`` uses the key
    ``jax.random.fold_in(key, i)``, split into a batch key (minibatch indices
    or `batch_fn` argument) and a loss key (passed to `loss_fn`).

    Steps run in chunks that cover the absolute step ranges
    ``[k * log_every, (k + 1) * log_every)`` (the last one stops at `steps`),
    so a resumed run visits the same chunks as an uninterrupted one. All chunks
    run through one compiled program (steps past the chunk's end are masked
    out), which makes the result bit-for-bit reproducible. Resuming is exact
    only if `loss_fn`, `model` structure, `optimizer`, `data`, `key` and
    `log_every` are the same as in the interrupted run.

    If `checkpoint_dir` already holds a checkpoint, training continues from it
    (the passed `model` and a fresh optimiser state serve as the template); if
    its step is ``>= steps`` the stored state is returned at once.

    All arguments are checked before anything is compiled.

    **Arguments**

    - `loss_fn`: ``loss_fn(model, batch, key) -> scalar loss``. `key` is a
      fresh PRNG key for every step, for randomness inside the loss (e.g.
      diffusion noise levels); ignore it if the loss is deterministic.
    - `model`: the initial model (any PyTree, typically an `eqx.Module`).
    - `optimizer`: an optax gradient transformation.
    - `data`: either a PyTree of arrays sharing a leading sample axis, from
      which each step draws `batch_size` distinct samples (the batch passed to
      `loss_fn` has the same structure), or a callable ``batch_fn(key) ->
      batch`` that generates a fresh batch every step (must be traceable).
    - `steps`: total number of steps of the run (including resumed ones).
    - `key`: a JAX PRNG key (``jax.random.key`` or ``jax.random.PRNGKey``).
    - `batch_size`: minibatch size; required for array data, must be at most
      the number of samples; must be `None` when `data` is a callable.
    - `log_every`: steps per chunk: the progress bar, the divergence check
      and checkpoints happen at chunk ends.
    - `checkpoint_dir`: directory for ``checkpoint.eqx`` and
      ``checkpoint.json`` (created if missing); `None` disables checkpoints.
    - `checkpoint_every`: steps between checkpoints, a multiple of
      `log_every` (default: `log_every`). A checkpoint is also written at the
      end. Only allowed together with `checkpoint_dir`.
    - `progress`: show a tqdm progress bar with the current loss.
    - `desc`: label of the progress bar.

    **Returns**

    A [`TrainResult`][dphys.train.TrainResult] with the trained model, the
    optimiser state, the loss of every step and the number of steps done.

    **Raises**

    - `ValueError` for invalid arguments, an unwritable `checkpoint_dir` or a
      checkpoint that does not match the model/optimiser.
    - `TrainingDivergedError` at the first non-finite loss.
    """
    checkpoint_every = _check_arguments(
        steps, batch_size, log_every, checkpoint_dir, checkpoint_every, key, loss_fn
    )
    sample, data = _make_sampler(data, batch_size)
    ckpt = None if checkpoint_dir is None else _prepare_checkpoint_dir(checkpoint_dir)

    params, static = eqx.partition(model, eqx.is_inexact_array)
    # Fresh, strongly typed copies: the first chunk then sees exactly the same
    # argument types as every later one (and as a resumed run).
    params = _strong_copy(params)
    opt_state = _strong_copy(optimizer.init(params))
    losses = np.zeros(0, np.float64)
    if ckpt is not None and ckpt.exists():
        params, opt_state, losses = _load_checkpoint(ckpt, params, opt_state)
    start = len(losses)
    checkpoint_step = start if start else None  # start > 0 only after a resume
    if start >= steps:
        return TrainResult(eqx.combine(params, static), opt_state, losses, start)

    run_chunk = _make_chunk_runner(loss_fn, optimizer, static, sample, log_every)
    losses = np.concatenate([losses, np.full(steps - start, np.nan)])
    with tqdm(
        total=steps, initial=start, desc=desc, disable=not progress, unit="step"
    ) as bar:
        step = start
        while step < steps:
            end = min((step // log_every + 1) * log_every, steps)
            params, opt_state, chunk = run_chunk(
                params, opt_state, key, data, jnp.int32(step), jnp.int32(end)
            )
            chunk = np.asarray(chunk[: end - step], dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(chunk))
            if bad.size:
                raise TrainingDivergedError(
                    step + int(bad[0]), float(chunk[bad[0]]), checkpoint_step
                )
            losses[step:end] = chunk
            step = end
            bar.set_postfix(loss=f"{chunk[-1]:.4g}", refresh=False)
            bar.update(len(chunk))
            if ckpt is not None and (step % checkpoint_every == 0 or step == steps):
                _save_checkpoint(ckpt, params, opt_state, losses[:step], steps)
                checkpoint_step = step
    return TrainResult(eqx.combine(params, static), opt_state, losses, step)


# --------------------------------------------------------------------------- #
# Argument checks
# --------------------------------------------------------------------------- #


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")


def _check_arguments(
    steps, batch_size, log_every, checkpoint_dir, checkpoint_every, key, loss_fn
) -> int:
    """Validate the scalar arguments of `fit`; return the effective checkpoint_every."""
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {loss_fn!r}")
    if not isinstance(key, jax.Array):
        raise ValueError(
            f"key must be a JAX PRNG key (jax.random.key(seed)), got {key!r}"
        )
    _check_positive_int("steps", steps)
    _check_positive_int("log_every", log_every)
    if batch_size is not None:
        _check_positive_int("batch_size", batch_size)
    if checkpoint_every is None:
        return log_every
    if checkpoint_dir is None:
        raise ValueError(
            f"checkpoint_every={checkpoint_every!r} was given but checkpoint_dir "
            "is None; pass a checkpoint_dir or drop checkpoint_every"
        )
    _check_positive_int("checkpoint_every", checkpoint_every)
    if checkpoint_every % log_every:
        raise ValueError(
            f"checkpoint_every={checkpoint_every} must be a multiple of "
            f"log_every={log_every} (checkpoints are written at chunk ends)"
        )
    return checkpoint_every


def _make_sampler(data, batch_size):
    """Validate `data`; return ``(sample(key, data) -> batch, data for the jit)``."""
    if callable(data):
        if batch_size is not None:
            raise ValueError(
                f"batch_size={batch_size} must be None when data is a batch "
                "function (the function decides the batch size)"
            )
        return (lambda key, _: data(key)), None

    leaves = jtu.tree_flatten_with_path(data)[0]
    if not leaves:
        raise ValueError("data must be a PyTree of arrays or a callable, got an empty PyTree")
    if batch_size is None:
        raise ValueError(
            "batch_size is required when data is a PyTree of arrays "
            "(it is the number of samples drawn per step)"
        )
    sizes = {}
    for path, leaf in leaves:
        if not hasattr(leaf, "shape") or len(leaf.shape) == 0:
            raise ValueError(
                f"data leaf data{jtu.keystr(path)} must be an array with a leading "
                f"sample axis, got {type(leaf).__name__} of shape {np.shape(leaf)}"
            )
        sizes[f"data{jtu.keystr(path)}"] = leaf.shape[0]
    n = next(iter(sizes.values()))
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{p}: {s}" for p, s in sizes.items())
        raise ValueError(
            f"all data leaves must have the same leading (sample) size, got {listing}"
        )
    if batch_size > n:
        raise ValueError(
            f"batch_size={batch_size} is larger than the number of samples in "
            f"data ({n}); expected batch_size <= {n}"
        )

    def sample(key, data):
        idx = jax.random.choice(key, n, (batch_size,), replace=False)
        return jax.tree.map(lambda x: x[idx], data)

    return sample, jax.tree.map(jnp.asarray, data)


def _strong_copy(tree: PyTree) -> PyTree:
    return jax.tree.map(
        lambda x: jnp.array(x, dtype=x.dtype) if eqx.is_array(x) else x, tree
    )


# --------------------------------------------------------------------------- #
# The compiled chunk
# --------------------------------------------------------------------------- #


def _make_chunk_runner(loss_fn, optimizer, static, sample, chunk_len):
    """Return the jitted ``run_chunk(params, opt_state, key, data, start, stop)``.

    It scans over `chunk_len` steps ``start, start + 1, ...``; steps ``>= stop``
    leave the state untouched and report a NaN loss (to be discarded). `start`
    and `stop` are traced, so one compiled program serves every chunk.
    """

    def one_step(carry, key, data, step):
        params, opt_state = carry
        batch_key, loss_key = jax.random.split(jax.random.fold_in(key, step))
        batch = sample(batch_key, data)

        def loss_of(p):
            loss = loss_fn(eqx.combine(p, static), batch, loss_key)
            if jnp.shape(loss) != ():
                raise ValueError(
                    f"loss_fn must return a scalar, got shape {jnp.shape(loss)}"
                )
            return loss

        loss, grads = jax.value_and_grad(loss_of)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    @eqx.filter_jit
    def run_chunk(params, opt_state, key, data, start, stop):
        def body(carry, i):
            step = start + i
            take = lambda c: one_step(c, key, data, step)  # noqa: E731
            loss_dtype = jax.eval_shape(take, carry)[1].dtype
            skip = lambda c: (c, jnp.full((), jnp.nan, loss_dtype))  # noqa: E731
            return jax.lax.cond(step < stop, take, skip, carry)

        carry, losses = jax.lax.scan(
            body, (params, opt_state), jnp.arange(chunk_len, dtype=jnp.int32)
        )
        return *carry, losses

    return run_chunk


# --------------------------------------------------------------------------- #
# Checkpoints
# --------------------------------------------------------------------------- #


def _prepare_checkpoint_dir(checkpoint_dir: str | os.PathLike) -> Path:
    """Create the directory, prove it is writable, drop stale temporary files."""
    directory = Path(checkpoint_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(
            f"checkpoint_dir {str(directory)!r} is not a writable directory: {err}"
        ) from err
    for stale in directory.glob(".checkpoint.*.tmp"):
        stale.unlink(missing_ok=True)
    return directory / CHECKPOINT_NAME


def _leaf_specs(params: PyTree, opt_state: PyTree) -> list[list]:
    """``[path, shape, dtype]`` of every array that equinox serialises, in order."""
    specs = []
    for prefix, tree in (("model", params), ("opt_state", opt_state)):
        for path, leaf in jtu.tree_flatten_with_path(tree)[0]:
            if eqx.is_array_like(leaf):
                dtype = leaf.dtype if hasattr(leaf, "dtype") else jnp.result_type(leaf)
                specs.append([prefix + jtu.keystr(path), list(np.shape(leaf)), str(dtype)])
    return specs


def _save_checkpoint(path: Path, params, opt_state, losses: np.ndarray, steps: int) -> None:
    header = {"format": _FORMAT, "step": len(losses), "leaves": _leaf_specs(params, opt_state)}

    def write(f: BinaryIO) -> None:
        np.save(f, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
        eqx.tree_serialise_leaves(f, (params, opt_state))
        np.save(f, losses)

    atomic_write(path, write)
    sidecar = {"step": len(losses), "steps": steps, "loss": float(losses[-1])}
    atomic_write(
        path.with_name(SIDECAR_NAME), lambda f: f.write(json.dumps(sidecar).encode())
    )


def _read_header(f: BinaryIO, path: Path) -> dict:
    try:
        header = json.loads(np.load(f, allow_pickle=False).tobytes())
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown format {header.get('format')!r}")
    except Exception as err:
        raise ValueError(
            f"{str(path)!r} is not a dphys.train checkpoint ({err}); delete it "
            "or use another checkpoint_dir"
        ) from err
    return header


def _load_checkpoint(path: Path, params, opt_state):
    """Load ``(params, opt_state, losses)``, checking the stored arrays against
    the templates before deserialising."""
    with open(path, "rb") as f:
        header = _read_header(f, path)
        stored, expected = header["leaves"], _leaf_specs(params, opt_state)
        for (s_path, s_shape, s_dtype), (e_path, e_shape, e_dtype) in zip(stored, expected):
            if (s_path, s_shape, s_dtype) != (e_path, e_shape, e_dtype):
                raise ValueError(
                    f"checkpoint {str(path)!r} holds a leaf of shape {tuple(s_shape)} "
                    f"{s_dtype} at {s_path} where the model has {tuple(e_shape)} "
                    f"{e_dtype} at {e_path}: it was written for a different model or "
                    "optimiser; delete it or use another checkpoint_dir"
                )
        if len(stored) != len(expected):
            raise ValueError(
                f"checkpoint {str(path)!r} holds {len(stored)} arrays where the model "
                f"and optimiser state have {len(expected)}: it was written for a "
                "different model or optimiser; delete it or use another checkpoint_dir"
            )
        params, opt_state = eqx.tree_deserialise_leaves(f, (params, opt_state))
        losses = np.load(f, allow_pickle=False)
    if len(losses) != header["step"]:
        raise ValueError(
            f"checkpoint {str(path)!r} is inconsistent: step {header['step']} but "
            f"{len(losses)} losses"
        )
    return params, opt_state, losses

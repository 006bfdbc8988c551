"""Tests for dphys.train: convergence, sampling, checkpoints, exact resume
(in-process and after SIGKILL), divergence guard and argument validation."""

import importlib.util
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dphys import train
from dphys.train import TrainingDivergedError, TrainResult, fit, warmup_cosine_adam

WORKER = Path(__file__).with_name("_train_worker.py")
_spec = importlib.util.spec_from_file_location("_train_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


def assert_bitwise_equal(a: TrainResult, b: TrainResult) -> None:
    assert a.step == b.step
    np.testing.assert_array_equal(a.losses, b.losses)
    leaves_a, leaves_b = (jax.tree.leaves(eqx.filter(r.model, eqx.is_array)) for r in (a, b))
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    for x, y in zip(jax.tree.leaves(a.opt_state), jax.tree.leaves(b.opt_state)):
        assert np.array_equal(x, y)


def checkpoint_step(directory: Path) -> int:
    """Step stored in the (authoritative) checkpoint file of `directory`."""
    path = directory / train.CHECKPOINT_NAME
    with open(path, "rb") as f:
        return train._read_header(f, path)["step"]


# --------------------------------------------------------------------------- #
# Convergence and sampling
# --------------------------------------------------------------------------- #


def test_linear_regression_reaches_least_squares_solution():
    kx, kn, kw = jax.random.split(jax.random.key(1), 3)
    x = jax.random.normal(kx, (64, 3))
    y = x @ jnp.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * jax.random.normal(kn, (64,))
    model = eqx.nn.Linear(3, "scalar", key=kw)

    def loss_fn(m, batch, key):
        xb, yb = batch
        return jnp.mean((jax.vmap(m)(xb) - yb) ** 2)

    # batch_size = number of samples: every step sees the full data set.
    result = fit(loss_fn, model, optax.sgd(0.1), (x, y), steps=1000, batch_size=64,
                 key=jax.random.key(0), progress=False)

    design = np.concatenate([np.asarray(x), np.ones((64, 1))], axis=1)
    exact, *_ = np.linalg.lstsq(design, np.asarray(y), rcond=None)
    np.testing.assert_allclose(result.model.weight[0], exact[:3], atol=1e-4)
    np.testing.assert_allclose(result.model.bias, exact[3], atol=1e-4)
    assert isinstance(result, TrainResult)
    assert result.step == 1000 and result.losses.shape == (1000,)
    assert result.losses.dtype == np.float64
    assert result.losses[-1] < 1e-2 * result.losses[0]


def test_batch_function_data_and_progress_bar(capsys):
    """Fresh data from batch_fn(key) every step; steps not a multiple of log_every."""

    def batch_fn(key):
        x = jax.random.uniform(key, (32, 1), minval=-1.0, maxval=1.0)
        return x, 2.0 * x[:, 0] + 1.0

    def loss_fn(m, batch, key):
        x, y = batch
        return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    model = eqx.nn.Linear(1, "scalar", key=jax.random.key(3))
    result = fit(loss_fn, model, optax.adam(0.05), batch_fn, steps=1010, log_every=100,
                 key=jax.random.key(4), desc="linefit")
    np.testing.assert_allclose(result.model.weight[0], [2.0], atol=1e-3)
    np.testing.assert_allclose(result.model.bias, 1.0, atol=1e-3)
    assert result.losses.shape == (1010,)
    err = capsys.readouterr().err
    assert "linefit" in err and "1010/1010" in err and "loss=" in err


def test_minibatches_are_distinct_samples_and_change_every_step():
    n, batch_size = 64, 16
    data = {"index": jnp.arange(n), "weight": jnp.ones((n, 2))}
    shapes = []

    def loss_fn(w, batch, key):
        shapes.append(jax.tree.map(jnp.shape, batch))
        distinct = jnp.sum(jnp.bincount(batch["index"], length=n) > 0)
        # Encodes (number of distinct indices, sum of indices) in one exact float.
        return 0.0 * w + 10_000.0 * distinct + jnp.sum(batch["index"])

    result = fit(loss_fn, jnp.zeros(()), optax.sgd(1.0), data, steps=200,
                 batch_size=batch_size, log_every=50, key=jax.random.key(5), progress=False)
    assert shapes[0] == {"index": (batch_size,), "weight": (batch_size, 2)}
    distinct, index_sum = np.divmod(result.losses, 10_000)
    assert np.all(distinct == batch_size)  # drawn without replacement
    assert len(np.unique(index_sum)) > 100  # a new minibatch every step


# --------------------------------------------------------------------------- #
# Checkpoints and resume
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def reference_200():
    return fit(**worker.problem(), steps=200)


@pytest.mark.parametrize("first_steps", [100, 73])
def test_in_process_resume_is_bitwise_identical(tmp_path, reference_200, first_steps):
    # 73 is not a chunk boundary: the resumed run must first finish chunk [60, 80).
    first = fit(**worker.problem(), steps=first_steps, checkpoint_dir=tmp_path)
    assert first.step == first_steps == checkpoint_step(tmp_path)
    sidecar = json.loads((tmp_path / train.SIDECAR_NAME).read_text())
    assert sidecar == {"step": first_steps, "steps": first_steps,
                       "loss": float(first.losses[-1])}

    resumed = fit(**worker.problem(), steps=200, checkpoint_dir=tmp_path)
    assert_bitwise_equal(resumed, reference_200)
    assert checkpoint_step(tmp_path) == 200

    # A checkpoint at or past `steps` is returned as it is.
    again = fit(**worker.problem(), steps=50, checkpoint_dir=tmp_path)
    assert_bitwise_equal(again, reference_200)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.eqx", "checkpoint.json"]


# About 1 s of training after the first checkpoint: ample time to kill the worker.
KILL_STEPS, KILL_LOG_EVERY, KILL_CHECKPOINT_EVERY = 12_000, 50, 100


def test_resume_after_sigkill_is_bitwise_identical(tmp_path):
    ckpt_dir, log_path = tmp_path / "ckpt", tmp_path / "worker.log"
    x64 = "1" if jax.config.jax_enable_x64 else "0"  # compile the same program as here
    args = [ckpt_dir, KILL_STEPS, KILL_LOG_EVERY, KILL_CHECKPOINT_EVERY, x64]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, WORKER, *map(str, args)],
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while not (ckpt_dir / train.CHECKPOINT_NAME).exists():
            assert proc.poll() is None, f"worker exited early:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, "worker wrote no checkpoint within 120 s"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, "worker finished before it was killed"
    killed_at = checkpoint_step(ckpt_dir)
    assert 0 < killed_at < KILL_STEPS, "worker was not killed mid-run; raise KILL_STEPS"

    problem = worker.problem(KILL_LOG_EVERY)
    resumed = fit(**problem, steps=KILL_STEPS, checkpoint_dir=ckpt_dir,
                  checkpoint_every=KILL_CHECKPOINT_EVERY)
    uninterrupted = fit(**problem, steps=KILL_STEPS)
    assert_bitwise_equal(resumed, uninterrupted)
    assert checkpoint_step(ckpt_dir) == KILL_STEPS
    assert not list(ckpt_dir.glob("*.tmp")), "temporary files left behind"


def test_checkpoint_of_a_different_model_is_rejected(tmp_path):
    problem = worker.problem()
    fit(**problem, steps=20, checkpoint_dir=tmp_path)

    wider = eqx.nn.MLP(1, 1, 32, 2, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"holds a leaf of shape \(16, 1\) float(32|64) at "
                       r"model\.layers\[0\]\.weight where the model has \(32, 1\)"):
        fit(**{**problem, "model": wider}, steps=40, checkpoint_dir=tmp_path)

    half = jax.tree.map(lambda x: x.astype(jnp.float16) if eqx.is_inexact_array(x) else x,
                        problem["model"])
    with pytest.raises(ValueError, match=r"\(16, 1\) float(32|64) at model\.layers\[0\]\.weight "
                       r"where the model has \(16, 1\) float16"):
        fit(**{**problem, "model": half}, steps=40, checkpoint_dir=tmp_path)

    with pytest.raises(ValueError, match="arrays where the model and optimiser state have"):
        fit(**{**problem, "optimizer": optax.sgd(0.1)}, steps=40, checkpoint_dir=tmp_path)

    (tmp_path / train.CHECKPOINT_NAME).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="is not a dphys.train checkpoint"):
        fit(**problem, steps=40, checkpoint_dir=tmp_path)


# --------------------------------------------------------------------------- #
# Divergence guard
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("bad", [jnp.nan, jnp.inf])
def test_divergence_names_the_exact_step(tmp_path, bad):
    # sgd(1.0) on loss -t moves t by exactly 1 per step, so t == step and the
    # loss first turns non-finite at step 37 (inside chunk [30, 40)).
    def loss_fn(t, batch, key):
        return jnp.where(t < 37, -t, bad)

    with pytest.raises(TrainingDivergedError,
                       match=rf"loss became {bad} at step 37 .*last checkpoint at step 30") as err:
        fit(loss_fn, jnp.zeros(()), optax.sgd(1.0), lambda key: None, steps=100,
            log_every=10, key=jax.random.key(0), checkpoint_dir=tmp_path, progress=False)
    assert isinstance(err.value, FloatingPointError)
    assert str(pickle.loads(pickle.dumps(err.value))) == str(err.value)
    assert (err.value.step, err.value.checkpoint_step) == (37, 30)
    assert checkpoint_step(tmp_path) == 30  # the diverged state was not saved


# --------------------------------------------------------------------------- #
# Argument validation (all before any tracing: the loss must never be called)
# --------------------------------------------------------------------------- #


def never_called(model, batch, key):
    raise AssertionError("validation must fail before the loss is traced")


DATA = (jnp.zeros((10, 2)), jnp.zeros((10,)))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"steps": 0}, r"steps must be a positive int, got 0"),
        ({"steps": 10.0}, r"steps must be a positive int, got 10\.0"),
        ({"steps": True}, r"steps must be a positive int, got True"),
        ({"log_every": -5}, r"log_every must be a positive int, got -5"),
        ({"batch_size": 0}, r"batch_size must be a positive int, got 0"),
        ({"batch_size": 11}, r"batch_size=11 is larger than the number of samples in data \(10\)"),
        ({"batch_size": None}, r"batch_size is required"),
        ({"data": (jnp.zeros((10, 2)), jnp.zeros((9,)))},
         r"same leading \(sample\) size, got data\[0\]: 10, data\[1\]: 9"),
        ({"data": {"x": jnp.zeros(())}}, r"data\['x'\] must be an array with a leading sample axis"),
        ({"data": lambda key: key, "batch_size": 4}, r"batch_size=4 must be None when data is a batch function"),
        ({"checkpoint_every": 10}, r"checkpoint_every=10 was given but checkpoint_dir is None"),
        ({"key": 0}, r"key must be a JAX PRNG key"),
    ],
)
def test_bad_arguments_are_rejected(overrides, message):
    kwargs = dict(steps=10, key=jax.random.key(0), batch_size=4, progress=False)
    data = overrides.pop("data", DATA)
    with pytest.raises(ValueError, match=message):
        fit(never_called, jnp.zeros(2), optax.sgd(0.1), data, **{**kwargs, **overrides})


@pytest.mark.parametrize(
    "checkpoint_every, message",
    [(0, r"checkpoint_every must be a positive int, got 0"),
     (30, r"checkpoint_every=30 must be a multiple of log_every=20")],
)
def test_bad_checkpoint_every_is_rejected(tmp_path, checkpoint_every, message):
    with pytest.raises(ValueError, match=message):
        fit(never_called, jnp.zeros(2), optax.sgd(0.1), DATA, steps=10, batch_size=4,
            key=jax.random.key(0), log_every=20, checkpoint_dir=tmp_path,
            checkpoint_every=checkpoint_every)


def test_unwritable_checkpoint_dir_is_rejected(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    target = tmp_path / "file" / "sub"
    with pytest.raises(ValueError, match=re.escape(f"checkpoint_dir '{target}' is not a writable directory")):
        fit(never_called, jnp.zeros(2), optax.sgd(0.1), DATA, steps=10, batch_size=4,
            key=jax.random.key(0), checkpoint_dir=target)


def test_non_scalar_loss_is_rejected():
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar, got shape \(2,\)"):
        fit(lambda m, b, k: m * 2.0, jnp.zeros(2), optax.sgd(0.1), lambda key: None,
            steps=10, key=jax.random.key(0), progress=False)


def test_augmented_batches_draw_rows_of_the_data_then_augment():
    from dphys.train import augmented_batches

    data = jnp.arange(30.0).reshape(10, 3)
    batch_fn = augmented_batches(data, 6, lambda k, b: -b)
    key = jax.random.PRNGKey(3)
    batch = np.asarray(batch_fn(key))
    idx = jax.random.randint(jax.random.split(key)[0], (6,), 0, 10)
    np.testing.assert_array_equal(batch, -np.asarray(data)[np.asarray(idx)])
    assert batch.shape == (6, 3)


@pytest.mark.parametrize("steps", [1, 2, 50, 300])
def test_warmup_cosine_adam_schedule(steps):
    """With a constant gradient Adam's normalised step is 1, so the update is -lr(t): 0 at the
    first step, the peak after min(100, steps // 10 + 1) warm-up steps, 5% of it at the end of a
    run longer than the warm-up. Any positive number of steps is accepted (1 step used to fail)."""
    lr, warmup = 1e-2, min(100, steps // 10 + 1)
    opt = warmup_cosine_adam(lr, steps)
    params = jnp.ones(3)
    state = opt.init(params)
    lrs = []
    for _ in range(max(steps, warmup) + 1):
        updates, state = opt.update(0.1 * jnp.ones(3), state, params)
        lrs.append(-float(updates[0]))
    assert lrs[0] == 0.0
    assert lrs[warmup] == pytest.approx(lr, rel=1e-4)
    if steps > warmup:
        assert lrs[steps] == pytest.approx(0.05 * lr, rel=1e-3)

"""A small, fully deterministic training problem for tests/test_train.py.

Imported by the tests (uninterrupted reference runs, in-process resumes) and
run as a script for the kill test:

    python tests/_train_worker.py CHECKPOINT_DIR STEPS LOG_EVERY CHECKPOINT_EVERY X64

where X64 is 1 or 0 and mirrors the parent's ``jax_enable_x64`` so that both
processes compile exactly the same program.
"""

import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import optax


def loss_fn(model, batch, key):
    """Mean squared error of `model` on `batch`, with input noise drawn from `key`."""
    x, y = batch
    x = x + 0.01 * jax.random.normal(key, x.shape, x.dtype)
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def problem(log_every: int = 20) -> dict:
    """Keyword arguments of `dphys.train.fit` for a tiny MLP fitting sin(x)."""
    model_key, data_key, train_key = jax.random.split(jax.random.key(0), 3)
    x = jax.random.uniform(data_key, (256, 1), minval=-3.0, maxval=3.0)
    return dict(
        loss_fn=loss_fn,
        model=eqx.nn.MLP(1, 1, 16, 2, key=model_key),
        optimizer=optax.adam(3e-3),
        data=(x, jnp.sin(x)),
        batch_size=32,
        key=train_key,
        log_every=log_every,
        progress=False,
    )


if __name__ == "__main__":
    checkpoint_dir, steps, log_every, checkpoint_every, x64 = sys.argv[1:]
    jax.config.update("jax_enable_x64", x64 == "1")
    from dphys.train import fit

    fit(
        **problem(int(log_every)),
        steps=int(steps),
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=int(checkpoint_every),
    )

"""Training wrappers of dphys.superres: argument checks before anything compiles, a regression that
learns an exactly learnable map, and the lattice augmentation keeping (condition, target) pairs exact."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.superres as sr


def test_bad_training_arguments_raise_before_compiling():
    cond, target = jnp.zeros((8, 1, 4, 4)), jnp.zeros((8, 1, 8, 8))
    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="steps"):
        sr.train_regression(key, cond, target, factor=2, steps=0)
    with pytest.raises(ValueError, match="batch_size=16 must be <= the number of training pairs 8"):
        sr.train_regression(key, cond, target, factor=2, batch_size=16)
    with pytest.raises(ValueError, match="lr"):
        sr.train_diffusion(key, cond, target, factor=2, batch_size=4, lr=-1.0)
    with pytest.raises(ValueError, match="ratio factor=4"):
        sr.train_diffusion(key, cond, target, factor=4, batch_size=4)
    with pytest.raises(ValueError, match="p_uncond"):
        sr.train_diffusion(key, cond, target, factor=2, batch_size=4, p_uncond=1.0)
    with pytest.raises(ValueError, match="sigma_data"):
        sr.train_diffusion(key, cond, target, factor=2, batch_size=4, sigma_data=0.0)
    with pytest.raises(ValueError, match="factor"):
        sr.lattice_augment(0)


@pytest.mark.slow
def test_regression_learns_an_exactly_learnable_map():
    """target = the bicubic-upsampled condition, the network's own input, so the exact optimum has zero error:
    150 steps bring the RMSE below 20 % of the target's RMS (the untrained network is at about 100 %)."""
    key = jax.random.PRNGKey(1)
    cond = jax.random.normal(key, (128, 1, 4, 4))
    target = sr.upsample_condition(cond, 2, "bicubic")
    model, result = sr.train_regression(jax.random.PRNGKey(2), cond, target, factor=2, channels=(8,), steps=150,
                                        batch_size=32, lr=3e-3, progress=False)
    rmse = float(jnp.sqrt(jnp.mean((sr.predict(model, cond) - target) ** 2)))
    assert rmse < 0.2 * float(jnp.sqrt(jnp.mean(target**2))), rmse
    assert result.losses[-1] < 0.1 * result.losses[0]


def test_lattice_augment_keeps_pairs_exact():
    """After a random translation by whole blocks and a global sign flip the block average of the target is
    still the condition; the translations and signs actually vary."""
    phis = jax.random.normal(jax.random.PRNGKey(3), (16, 8, 8))
    cond, target = sr.lattice_pairs(phis, 2)
    c2, t2 = sr.lattice_augment(2)(jax.random.PRNGKey(4), cond, target)
    np.testing.assert_allclose(np.asarray(sr.block_average(t2[:, 0], 2)), np.asarray(c2[:, 0]), atol=1e-6)
    assert not np.allclose(np.asarray(t2), np.asarray(target))
    signs = np.sign(np.asarray(t2).sum(axis=(1, 2, 3)) * np.asarray(target).sum(axis=(1, 2, 3)))
    assert (signs > 0).any() and (signs < 0).any()

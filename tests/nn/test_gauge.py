"""The plaquette network (dphys.nn.gauge): 2 pi periodic in every plaquette angle, exactly
translation equivariant, FiLM-modulated by the noise level, bad input refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.nn import FiLMConvBlock, U1ScoreNet


@pytest.fixture(scope="module")
def net():
    return U1ScoreNet(4, 2, embed_dim=8, key=jax.random.PRNGKey(0))


def test_periodic_translation_equivariant_and_noise_dependent(net):
    tp = jax.random.uniform(jax.random.PRNGKey(1), (5, 5), minval=-np.pi, maxval=np.pi)
    out = net(tp, jnp.log(0.3))
    assert out.shape == (5, 5) and float(jnp.max(jnp.abs(out))) > 0
    shift = 2 * np.pi * jax.random.randint(jax.random.PRNGKey(2), tp.shape, -2, 3)
    np.testing.assert_allclose(net(tp + shift, jnp.log(0.3)), out, atol=2e-5)
    np.testing.assert_allclose(net(jnp.roll(tp, (2, 1), axis=(0, 1)), jnp.log(0.3)),
                               jnp.roll(out, (2, 1), axis=(0, 1)), atol=2e-5)
    assert float(jnp.max(jnp.abs(net(tp, jnp.log(2.0)) - out))) > 1e-4  # the noise level enters


def test_film_block_and_bad_input():
    block = FiLMConvBlock(2, 3, 3, 4, key=jax.random.PRNGKey(3))
    assert block(jnp.ones((2, 4, 4)), jnp.ones(4)).shape == (3, 4, 4)
    for bad in (dict(width=0), dict(depth=0), dict(width=2.5), dict(embed_dim=-1)):
        with pytest.raises(ValueError, match="U1ScoreNet"):
            U1ScoreNet(**{"width": 4, "depth": 1, **bad}, key=jax.random.PRNGKey(0))

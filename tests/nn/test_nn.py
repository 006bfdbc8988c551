"""dphys.nn: shapes, exact symmetries (translations, phi -> -phi), the FFT convolution against an
independent direct convolution and a NumPy loop, noise-level dependence, gradients against
finite differences, and shape errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.nn import CircularConv2d, LatticeUNet, NoiseEmbedding, ScoreMLP, circular_conv2d
from tests.helpers import check_grad

KEY = jax.random.PRNGKey(0)


@eqx.filter_jit
def _call(net, x, nu):
    return net(x, nu)


@eqx.filter_jit
def batched_call(net, xs, nus):
    return jax.vmap(net)(xs, nus)


def call(net, x, nu):
    """One jitted call (eager op-by-op dispatch of a U-Net costs seconds on a loaded CPU); `nu` as
    an array, so that every noise level reuses the same compiled program."""
    return _call(net, jnp.asarray(x), jnp.asarray(nu, jnp.result_type(float)))


@pytest.fixture(scope="module")
def unet():
    return LatticeUNet(1, (8, 16), key=KEY)


@pytest.fixture(scope="module")
def two_channel():
    """(plain, z2_odd) two-channel U-Nets with the same weights."""
    return LatticeUNet(2, (4, 8), key=KEY), LatticeUNet(2, (4, 8), z2_odd=True, key=KEY)


def _field(shape, seed=1):
    return jax.random.normal(jax.random.PRNGKey(seed), shape)


def numpy_circular_conv(x, w):
    """y_o(a, b) = sum_{i, da, db} w[da + r, db + r, i, o] x_i((a + da) mod H, (b + db) mod W), by loops."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    c_in, h, wd = x.shape
    r = w.shape[0] // 2
    y = np.zeros((w.shape[3], h, wd))
    for a in range(h):
        for b in range(wd):
            for da in range(-r, r + 1):
                for db in range(-r, r + 1):
                    y[:, a, b] += x[:, (a + da) % h, (b + db) % wd] @ w[da + r, db + r]
    return y


@pytest.mark.parametrize("method", ["fft", "direct"])
@pytest.mark.parametrize("shape,k", [((2, 5, 6), 3), ((3, 4, 4), 5), ((1, 2, 3), 3)])
def test_circular_conv_matches_numpy_loops(method, shape, k):
    x = _field(shape)
    w = jax.random.normal(jax.random.PRNGKey(2), (k, k, shape[0], 4))
    with jax.enable_x64(True):
        conv = jax.jit(circular_conv2d, static_argnums=2)
        y = conv(jnp.asarray(x, jnp.float64), jnp.asarray(w, jnp.float64), method)
        np.testing.assert_allclose(np.asarray(y), numpy_circular_conv(x, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(8, 8), (8, 16)])
def test_output_shape_scalar_field(unet, shape):
    x = _field(shape)
    assert call(unet, x, 0.3).shape == shape


def test_output_shape_multichannel(two_channel):
    net = two_channel[0]
    x = _field((2, 8, 4))
    assert call(net, x, 1.0).shape == x.shape
    assert batched_call(net, jnp.stack([x, x, x]), jnp.array([0.1, 0.2, 0.3])).shape == (3,) + x.shape


def test_vmap_equals_loop(unet):
    xs, nus = _field((3, 8, 8)), jnp.array([0.01, 0.5, 3.0])
    batched = batched_call(unet, xs, nus)
    for i in range(3):
        np.testing.assert_allclose(batched[i], call(unet, xs[i], nus[i]), rtol=1e-5, atol=1e-7)


def test_translation_equivariance_every_shift_without_pooling():
    """channels=(c,): no pooling, so every lattice shift commutes with the network, in float64
    up to FFT rounding (~1e-15 relative; a non-equivariant network differs at O(output))."""
    with jax.enable_x64(True):
        net = LatticeUNet(1, (4,), embed_dim=8, key=KEY)
        x = jnp.asarray(_field((6, 5)), jnp.float64)
        shifts = [(1, 0), (0, 1), (2, 3), (5, 4)]
        rolled_in = jnp.stack([jnp.roll(x, s, axis=(0, 1)) for s in shifts])
        xs = jnp.concatenate([x[None], rolled_in])
        out = batched_call(net, xs, jnp.full(len(xs), 0.7))
        y = out[0]
        scale = float(jnp.max(jnp.abs(y)))
        assert scale > 0
        for shift, rolled in zip(shifts, out[1:]):
            err = float(jnp.max(jnp.abs(rolled - jnp.roll(y, shift, axis=(0, 1)))))
            assert err <= 1e-12 * scale, (shift, err, scale)


def test_translation_equivariance_unet_multiples_of_pooling(unet):
    x = _field((8, 8))
    y = call(unet, x, 0.2)
    scale = float(jnp.max(jnp.abs(y)))
    for shift in [(2, 0), (0, 4), (6, 2)]:
        err = float(jnp.max(jnp.abs(call(unet, jnp.roll(x, shift, (0, 1)), 0.2) - jnp.roll(y, shift, (0, 1)))))
        assert err <= 1e-5 * scale
    # an odd shift is not a symmetry of a pooled network: the check above can fail
    err = float(jnp.max(jnp.abs(call(unet, jnp.roll(x, 1, 0), 0.2) - jnp.roll(y, 1, 0))))
    assert err > 1e-3 * scale


def test_z2_odd_is_exact(two_channel):
    plain, net = two_channel
    x = _field((2, 8, 8))
    for nu in (0.01, 1.0):
        np.testing.assert_array_equal(np.asarray(call(net, -x, nu)), -np.asarray(call(net, x, nu)))
    assert float(jnp.max(jnp.abs(call(net, x, 1.0)))) > 0
    mlp = ScoreMLP(3, z2_odd=True, key=KEY)
    v = _field((3,))
    np.testing.assert_array_equal(np.asarray(call(mlp, -v, 0.5)), -np.asarray(call(mlp, v, 0.5)))
    # without the option the network is not odd (the check can fail)
    y = call(plain, x, 1.0)
    assert float(jnp.max(jnp.abs(call(plain, -x, 1.0) + y))) > 1e-4 * float(jnp.max(jnp.abs(y)))


def test_noise_level_dependence(unet):
    x = _field((8, 8))
    a, b = call(unet, x, -3.0), call(unet, x, 2.0)
    assert float(jnp.max(jnp.abs(a - b))) > 0.05 * float(jnp.max(jnp.abs(a)))
    mlp = ScoreMLP((2, 2), key=KEY)
    v = _field((2, 2))
    assert call(mlp, v, 0.0).shape == (2, 2)
    assert float(jnp.max(jnp.abs(call(mlp, v, 0.0) - call(mlp, v, 1.0)))) > 1e-4


def test_gradients_against_finite_differences():
    """d/dx and d/dparameters of sum(net(x, nu) * c) in float64, FFT path."""
    with jax.enable_x64(True):
        net = LatticeUNet(1, (2, 3), embed_dim=4, key=KEY)
        net = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64) if eqx.is_inexact_array(a) else a, net)
        x = jnp.asarray(_field((4, 4)), jnp.float64)
        c = jnp.asarray(_field((4, 4), seed=5), jnp.float64)
        check_grad(jax.jit(lambda x: jnp.sum(net(x, 0.4) * c)), x)
        check_grad(jax.jit(lambda conv: jnp.sum(conv(x[None]) * c)), net.lift)


def test_shape_errors(unet):
    with pytest.raises(ValueError, match=r"10x10.*pooling factor"):
        LatticeUNet(1, (4, 4, 4), key=KEY)(jnp.zeros((10, 10)), 0.1)
    net2 = LatticeUNet(2, (4,), key=KEY)
    with pytest.raises(ValueError, match=r"\(3, 8, 8\).*in_channels=2"):
        net2(jnp.zeros((3, 8, 8)), 0.1)
    with pytest.raises(ValueError, match=r"\(8, 8\).*in_channels=2"):
        net2(jnp.zeros((8, 8)), 0.1)
    with pytest.raises(ValueError, match=r"noise_level.*shape \(2,\)"):
        unet(jnp.zeros((8, 8)), jnp.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(4,\), expected \(3,\)"):
        ScoreMLP(3, key=KEY)(jnp.zeros(4), 0.1)
    with pytest.raises(ValueError, match="shape must be a positive int or a tuple of them, got True"):
        ScoreMLP(True, key=KEY)
    with pytest.raises(ValueError, match="kernel_size=4"):
        CircularConv2d(1, 1, 4, key=KEY)
    with pytest.raises(ValueError, match="method='spectral'"):
        circular_conv2d(jnp.zeros((1, 4, 4)), jnp.zeros((3, 3, 1, 1)), "spectral")
    with pytest.raises(ValueError, match="min_frequency=2"):
        NoiseEmbedding(4, min_frequency=2.0, max_frequency=1.0, key=KEY)
    with pytest.raises(ValueError, match=r"channels must name"):
        LatticeUNet(1, (), key=KEY)

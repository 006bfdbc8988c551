"""dphys.femto.inverse: the batched, chunked training-set generator against one correlation_function
call per (well, radius), and its argument checks."""

import jax
import numpy as np
import pytest

from dphys.constants import HBARC, M_NUCLEON
from dphys.femto import GaussianSource, SpinChannel, correlation_function, radial_quadrature
from dphys.femto.inverse import gaussian_well, simulate_correlations, train_inverse_network, well_depth

MASS = M_NUCLEON / 2
BOX = dict(s_range=(0.5, 2.0), b_range=(0.9, 1.4), radius_range=(1.0, 1.4), mass=MASS, r_max=30.0)


def test_batched_correlations_match_one_call_per_well_and_radius():
    k = np.linspace(10.0, 250.0, 4) / HBARC
    with jax.enable_x64(True):
        # 3 wells in chunks of 2: the last chunk is padded
        targets, C, wells = simulate_correlations(jax.random.PRNGKey(0), 3, 2, k, chunk=2, **BOX)
        assert targets.shape == (6, 3) and C.shape == (6, 4) and wells.shape == (3, 2)
        np.testing.assert_array_equal(targets[::2, :2], wells)  # the radii of one well are consecutive
        grid = radial_quadrature(30.0)

        @jax.jit
        def reference(s, b, R):
            channel = SpinChannel(1.0, gaussian_well(s, b, MASS))
            return correlation_function(GaussianSource(R), k, mass=MASS, channels=[channel], grid=grid)

        for i in (1, 4):  # a well of the first chunk and the one of the padded chunk
            np.testing.assert_allclose(C[i], np.asarray(reference(*targets[i])), rtol=1e-12, atol=1e-12)
    for column, (lo, hi) in enumerate((BOX["s_range"], BOX["b_range"], BOX["radius_range"])):
        assert np.all((targets[:, column] >= lo) & (targets[:, column] <= hi))
    # V0 = s (hbar c)^2 / (2 mu b^2), and the well is -V0 at r = 0
    assert float(well_depth(2.0, 1.0, MASS)) == pytest.approx(2.0 * HBARC**2 / (2 * MASS))
    assert float(gaussian_well(2.0, 1.0, MASS)(0.0)) == pytest.approx(-float(well_depth(2.0, 1.0, MASS)))


def test_bad_boxes_and_counts_raise_before_any_kernel():
    k = np.array([0.2, 0.5])
    with pytest.raises(ValueError, match="b_range"):
        simulate_correlations(jax.random.PRNGKey(0), 2, 1, k, **dict(BOX, b_range=(1.4, 0.9)))
    with pytest.raises(ValueError, match="n_potentials"):
        simulate_correlations(jax.random.PRNGKey(0), 0, 1, k, **BOX)


def test_inverse_network_learns_a_linear_map_back_and_rejects_bad_shapes():
    """C(k) linear in two parameters: the trained network recovers held-out parameters far better
    than predicting the mean (NRMSE 1), through its own standardisation."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(2, 6))
    y = rng.uniform(1.0, 2.0, size=(512, 2))
    C = 1 + 0.1 * y @ A
    net = train_inverse_network(C, y, 1e-3 * np.ones(6), key_init=jax.random.PRNGKey(0), key_fit=jax.random.PRNGKey(1),
                                width=32, depth=2, steps=600, batch_size=128, learning_rate=3e-3, noise_max=1.0)
    y_test = rng.uniform(1.0, 2.0, size=(64, 2))
    pred = net.predict(1 + 0.1 * y_test @ A)
    nrmse = np.sqrt(np.mean((pred - y_test) ** 2, axis=0)) / y_test.std(0)
    assert np.all(nrmse < 0.15), nrmse
    np.testing.assert_allclose(net.predict(1 + 0.1 * y_test[0] @ A), pred[0], rtol=1e-5)  # one C or a batch
    with pytest.raises(ValueError, match="targets"):
        train_inverse_network(C, y[:10], 1e-3, key_init=jax.random.PRNGKey(0), key_fit=jax.random.PRNGKey(1), width=8,
                              depth=1, steps=1, batch_size=8, learning_rate=1e-3, noise_max=1.0)

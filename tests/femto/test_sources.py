"""Sources: normalisation against independent quadrature (scipy.integrate.quad to infinity), the
Gaussian closed form and second moment, positivity and normalisation of the neural source for random
initialisations, and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from dphys.femto.sources import (
    CauchySource,
    CoreTailSource,
    DoubleGaussianSource,
    GaussianSource,
    NeuralSource,
    check_source,
    radial_integral,
)


def quad_norm(source, moment=0):
    s = eqx.filter_jit(lambda src, r: src(r))
    f = lambda r: 4 * np.pi * r ** (2 + moment) * float(s(source, jnp.asarray(r)))
    return sum(quad(f, a, b, limit=200, epsabs=1e-13, epsrel=1e-12)[0] for a, b in ((0, 5), (5, 50), (50, np.inf)))


SOURCES = [GaussianSource(1.2), CauchySource(0.9), DoubleGaussianSource(0.8, 2.5, 0.3),
           CoreTailSource(1.0, 3.0, 0.4)]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: type(s).__name__)
def test_analytic_sources_are_normalised(source):
    assert abs(quad_norm(source) - 1) < 1e-9
    assert abs(float(radial_integral(source, float(source.scale()), 192)) - 1) < 1e-9
    check_source(source)


def test_gaussian_closed_form_and_second_moment():
    R = 1.3
    r = np.linspace(0, 10, 11)
    np.testing.assert_allclose(GaussianSource(R)(r), (4 * np.pi * R**2) ** -1.5 * np.exp(-(r**2) / (4 * R**2)),
                               rtol=1e-14)
    # each Cartesian component of the relative distance has variance 2 R^2: <r^2> = 6 R^2
    assert abs(quad_norm(GaussianSource(R), moment=2) - 6 * R**2) < 1e-8


@pytest.mark.parametrize("seed, r_scale", [(0, 2.0), (1, 0.7), (2, 5.0), (3, 1.5)])
def test_neural_source_is_positive_and_normalised(seed, r_scale):
    source = NeuralSource(jax.random.PRNGKey(seed), width=8, depth=2, r_scale=r_scale)
    r = jnp.concatenate([jnp.zeros(1), jnp.geomspace(1e-3, 1e3, 200)])
    values = source(r)
    assert np.all(np.asarray(values) > 0)
    assert abs(quad_norm(source) - 1) < 1e-8  # independent of the built-in quadrature
    check_source(source)


@pytest.mark.slow
def test_neural_source_normalisation_survives_training_steps():
    # after arbitrary parameter changes (a "training step") it is still normalised
    source = NeuralSource(jax.random.PRNGKey(5), width=8, depth=1)
    grads = eqx.filter_grad(lambda s: jnp.sum(s(jnp.linspace(0.1, 5.0, 7)) ** 2))(source)
    moved = eqx.apply_updates(source, jax.tree_util.tree_map(lambda g: -30.0 * g, grads))
    assert not np.allclose(moved(1.0), source(1.0))
    assert abs(quad_norm(moved) - 1) < 1e-8


@pytest.mark.parametrize("make, bad", [
    (lambda: GaussianSource(0.0), "radius"), (lambda: GaussianSource(-1.0), "-1.0"),
    (lambda: CauchySource(float("nan")), "radius"), (lambda: DoubleGaussianSource(1.0, 2.0, 1.5), "1.5"),
    (lambda: CoreTailSource(1.0, -2.0, 0.1), "tail_length"), (lambda: CoreTailSource(1.0, 2.0, -0.1), "tail_fraction"),
    (lambda: NeuralSource(jax.random.PRNGKey(0), r_scale=0.0), "r_scale"),
])
def test_bad_parameters_raise(make, bad):
    with pytest.raises(ValueError, match=bad):
        make()


def test_check_source_rejects_negative_unnormalised_and_non_normalisable():
    with pytest.raises(ValueError, match=">= 0"):
        check_source(lambda r: GaussianSource(1.0)(r) - 1e-3 * jnp.exp(-r))
    with pytest.raises(ValueError, match="normalised to 1.*2"):
        check_source(lambda r: 2 * GaussianSource(1.0)(r))
    with pytest.raises(ValueError, match="not normalisable"):
        check_source(lambda r: 1 / (1 + r**3))
    with pytest.raises(ValueError, match="finite"):
        check_source(lambda r: jnp.where(r > 5, jnp.nan, GaussianSource(1.0)(r)))

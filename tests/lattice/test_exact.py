"""Quadrature references against scipy's adaptive quadrature and closed forms."""

import numpy as np
import pytest
from scipy import integrate, special

from dphys.lattice import AnharmonicAction, density_1d, expectation_1d, langevin_drift


def test_gaussian_moments_and_density_are_exact():
    action = AnharmonicAction(mu=2.0, g=0.0)  # Gaussian with variance 1/2
    m = expectation_1d(action, [lambda x: x**2, lambda x: x**4, np.abs])
    np.testing.assert_allclose(m[:2], [0.5, 3 * 0.25], rtol=1e-12)
    # |x| has a kink at 0: Euler-Maclaurin leaves 2 (h^2/12) f'(0+)/Z = h^2/(6 sqrt(pi)) with h = 16/2^16
    h = 16 / 2**16
    np.testing.assert_allclose(m[2], 1 / np.sqrt(np.pi), rtol=0, atol=2 * h**2 / (6 * np.sqrt(np.pi)))
    x = np.array([-1.0, 0.0, 0.3])
    np.testing.assert_allclose(density_1d(action, x), np.exp(-(x**2)) / np.sqrt(np.pi), rtol=1e-12)


@pytest.mark.parametrize("mu, g", [(-1.0, 0.4), (1.0, 2.0), (-3.0, 0.1)])
def test_anharmonic_moments_against_adaptive_quadrature(mu, g):
    s = lambda x: mu * x**2 / 2 + g * x**4 / 24
    z = integrate.quad(lambda x: np.exp(-s(x)), -np.inf, np.inf, epsabs=0, epsrel=1e-13)[0]
    expected = [integrate.quad(lambda x: x**n * np.exp(-s(x)), -np.inf, np.inf, epsabs=0, epsrel=1e-13)[0] / z
                for n in (2, 4, 6)]
    got = expectation_1d(AnharmonicAction(mu, g), [lambda x: x**2, lambda x: x**4, lambda x: x**6])
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_quartic_without_mass_term_has_a_gamma_function_closed_form():
    # S = g x^4/24: <x^2> = sqrt(24/g) Gamma(3/4)/Gamma(1/4)
    g = 0.7
    got = expectation_1d(AnharmonicAction(0.0, g), [lambda x: x**2])[0]
    np.testing.assert_allclose(got, np.sqrt(24 / g) * special.gamma(0.75) / special.gamma(0.25), rtol=1e-12)


def test_langevin_drift_is_minus_the_action_gradient():
    drift = langevin_drift(AnharmonicAction(-1.0, 0.4))
    x = np.array([0.3, -2.0])
    np.testing.assert_allclose(drift(0.0, x, None), -(-x + 0.4 * x**3 / 6), rtol=1e-6)


def test_unbounded_action_is_rejected():
    with pytest.raises(ValueError, match="does not decay"):
        expectation_1d(AnharmonicAction(1.0, -0.1), [lambda x: x**2])

"""The Lyapunov covariance of linear complex Langevin against the independent closed forms (one
variable; the mode sums of the Gaussian chain; the Euler step) and against a CL run for the
correlations between neighbouring sites, which no closed form in complex_models gives."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dphys.lattice import AnharmonicChainAction, GaussianAction, cl_chains
from dphys.lattice.cl_density import drift_matrix, gaussian_cl_covariance, gaussian_cl_log_density


@pytest.mark.parametrize("sigma", [1 + 1j, 0.5 - 2j, 2.0 + 0.3j])
def test_one_variable_matches_the_closed_form(sigma):
    cov = gaussian_cl_covariance(sigma)
    a, b = sigma.real, sigma.imag
    s2 = abs(sigma) ** 2
    # REFERENCES.md: <x^2> = (2A^2 + B^2)/(2A|s|^2), <y^2> = B^2/(2A|s|^2), <xy> = -B/(2|s|^2)
    np.testing.assert_allclose(cov, [[(2 * a**2 + b**2) / (2 * a * s2), -b / (2 * s2)],
                                     [-b / (2 * s2), b**2 / (2 * a * s2)]], rtol=1e-12)
    for dt in (0.01, 0.2):
        np.testing.assert_allclose(gaussian_cl_covariance(sigma, dt), GaussianAction(sigma).cl_covariance(dt),
                                   rtol=1e-10)


def test_log_density_is_the_normalised_closed_form_density():
    action = GaussianAction(1 + 1j)
    x, y = np.meshgrid(np.linspace(-3, 3, 7), np.linspace(-2, 2, 5), indexing="ij")
    logp = gaussian_cl_log_density(1 + 1j, np.stack([x, y], -1))
    np.testing.assert_allclose(logp, np.log(action.cl_density(x, y)), rtol=1e-12)


def test_chain_covariance_matches_the_mode_sums_and_a_cl_run():
    action = AnharmonicChainAction(sigma=1 + 1j, lam=0.0, a=0.5, n_sites=4)
    m = action.gaussian_matrix()
    cov = gaussian_cl_covariance(m)
    n = 4
    site = np.array([[cov[0, 0], cov[0, n]], [cov[n, 0], cov[n, n]]])
    np.testing.assert_allclose(site, action.cl_covariance(), rtol=1e-10)  # every site the same
    np.testing.assert_allclose(np.diag(cov)[:n], cov[0, 0], rtol=1e-10)
    # holomorphic averages: <z_0 z_t> = <x x> - <y y> + i(<x y> + <y x>) = (M^-1)_{0t}
    z0zt = cov[0, :n] - cov[n, n:] + 1j * (cov[0, n:] + cov[n, :n])
    np.testing.assert_allclose(z0zt, action.propagator(), rtol=1e-10)
    # the neighbour correlations <x_0 x_1>, <y_0 y_1>, <x_0 y_1> against complex Langevin
    chains = 256
    z, _ = cl_chains(action, jax.random.split(jax.random.PRNGKey(0), chains), jnp.zeros((chains, n), jnp.complex64),
                     dt=0.01, n_samples=100, thin=50, n_therm=1000, solver="shark")
    z = np.asarray(z, np.complex128)
    x, y = z.real, z.imag
    for value, ref in [(x[..., 0] * x[..., 1], cov[0, 1]), (y[..., 0] * y[..., 1], cov[n, n + 1]),
                       (x[..., 0] * y[..., 1], cov[0, n + 1])]:
        per_chain = value.mean(axis=0)  # chains are independent: errors from the spread between chains
        err = per_chain.std(ddof=1) / np.sqrt(chains)
        assert abs(per_chain.mean() - ref) < 3 * err, (per_chain.mean(), err, ref)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"eigenvalue .* with Re <= 0: the integral .* diverges"):
        gaussian_cl_covariance(-1 + 1j)
    with pytest.raises(ValueError, match="complex symmetric"):
        gaussian_cl_covariance(np.array([[1, 1j], [0, 1]]))
    with pytest.raises(ValueError, match="Euler scheme is unstable"):
        gaussian_cl_covariance(1 + 1j, dt=1.5)
    with pytest.raises(ValueError, match="degenerate"):
        gaussian_cl_log_density(2.0, np.zeros(2))
    with pytest.raises(ValueError, match=r"expected \(..., 2, 2\)"):
        gaussian_cl_log_density(np.eye(2) * (1 + 1j), np.zeros((5, 3, 2)))
    assert drift_matrix(1 + 2j).tolist() == [[-1, 2], [-2, -1]]

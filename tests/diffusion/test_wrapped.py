"""Wrapped-normal noise on the torus: the score against finite differences of a many-image sum,
the log-density normalised, periodic and equal to the direct sum."""

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from dphys.diffusion import wrapped_normal_log_prob, wrapped_normal_score


def test_wrapped_normal_score_matches_finite_differences():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x = rng.uniform(-np.pi, np.pi, 40)
        x0 = rng.uniform(-np.pi, np.pi, 40)
        for s in (0.05, 0.3, 1.0, 2.5):
            def log_density(x):  # many images, no shortcut
                k = np.arange(-30, 31)
                d = x[:, None] - x0[:, None] + 2 * np.pi * k
                return scipy.special.logsumexp(-0.5 * (d / s) ** 2, axis=1)

            h = 1e-6
            fd = (log_density(x + h) - log_density(x - h)) / (2 * h)
            ours = np.asarray(wrapped_normal_score(jnp.asarray(x), jnp.asarray(x0), s))
            np.testing.assert_allclose(ours, fd, rtol=1e-6, atol=1e-6 / s**2, err_msg=f"s={s}")
            # 2 pi periodic in x
            np.testing.assert_allclose(np.asarray(wrapped_normal_score(jnp.asarray(x + 2 * np.pi), x0, s)), ours,
                                       atol=1e-9)


def test_wrapped_normal_log_prob_is_a_normalised_periodic_density():
    with jax.enable_x64(True):
        x = jnp.linspace(-np.pi, np.pi, 2001, dtype=jnp.float64)[:-1]
        p = jnp.exp(jax.vmap(lambda v: wrapped_normal_log_prob(v, 1.3))(x))
        np.testing.assert_allclose(float(jnp.sum(p) * (x[1] - x[0])), 1.0, rtol=1e-12)
    v = jnp.array([0.3, -2.0, 3.0])
    np.testing.assert_allclose(float(wrapped_normal_log_prob(v + 2 * np.pi * jnp.array([1, -3, 2]), 1.3)),
                               float(wrapped_normal_log_prob(v, 1.3)), rtol=1e-6)
    direct = sum(np.log(sum(np.exp(-0.5 * ((a + 2 * np.pi * k) / 1.3) ** 2) for k in range(-30, 31))
                        / np.sqrt(2 * np.pi * 1.3**2)) for a in np.asarray(v, np.float64))
    np.testing.assert_allclose(float(wrapped_normal_log_prob(v, 1.3)), direct, rtol=1e-6)

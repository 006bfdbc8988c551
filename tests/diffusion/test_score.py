"""ScoreModel parametrisations (default and EDM preconditioning) reproduce exact scores with
exact networks; the DSM loss is minimised by the exact score, differentiable (finite differences),
and brief training on Gaussian data learns the exact score; bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import dphys.diffusion as dd
from dphys.train import fit
from tests.helpers import check_grad

SD = 0.6


@pytest.mark.parametrize("process", [dd.EDM(sigma_data=SD), dd.VESong(25.0), dd.VP()], ids=["edm", "ve", "vp"])
def test_edm_preconditioning_with_zero_network_is_the_gaussian_score(process):
    """For x0 ~ N(0, sd^2) the denoiser is c_skip x_hat exactly, so F = 0 must give the exact score."""
    model = dd.ScoreModel(lambda x, c: jnp.zeros_like(x), process, edm_precondition=True, sigma_data=SD)
    exact = dd.GaussianScore(process, std=SD)
    x = jnp.linspace(-3, 3, 7)
    for t in np.linspace(process.t_min, process.t_max, 5):
        np.testing.assert_allclose(model(x, t), exact(x, t), rtol=2e-5, atol=1e-6)


def test_default_parametrisation_with_exact_network_is_the_gaussian_score():
    """Default: score = F(c_in x, log s)/s with c_in = 1/sqrt(sd^2 + s^2); the exact F is
    -s c_in-scaled input / sqrt(var), written with the noise level log s the network receives."""
    process = dd.VEGeometric(0.01, 30.0)

    def net(x_in, noise_level):
        s = jnp.exp(noise_level)
        return -s * x_in / jnp.sqrt(SD**2 + s**2)

    model = dd.ScoreModel(net, process, sigma_data=SD)
    exact = dd.GaussianScore(process, std=SD)
    x = jnp.linspace(-2, 2, 5)
    for t in (0.0, 0.3, 1.0):
        np.testing.assert_allclose(model(x, t), exact(x, t), rtol=1e-5)


class Scaled(eqx.Module):
    """An exact score times (1 + eps): a perturbed score with a process."""

    exact: dd.GaussianScore
    eps: float

    @property
    def process(self):
        return self.exact.process

    def __call__(self, x, t):
        return (1 + self.eps) * self.exact(x, t)


@pytest.mark.parametrize("weighting", ["ncsn", "sigma2", "likelihood", "edm"])
@pytest.mark.parametrize("process", [dd.VESong(25.0), dd.VP(), dd.EDM(sigma_data=SD)], ids=["ve", "vp", "edm"])
def test_dsm_loss_is_minimised_by_the_exact_score(process, weighting):
    data = SD * jax.random.normal(jax.random.PRNGKey(0), (4096, 2))
    exact = dd.GaussianScore(process, std=SD)
    key = jax.random.PRNGKey(1)
    losses = [float(dd.dsm_loss(Scaled(exact, eps), data, key, weighting)) for eps in (-0.1, 0.0, 0.1)]
    assert losses[1] < losses[0] and losses[1] < losses[2], losses
    # the minimum of the quadratic in eps sits at eps ~ 0 (a 20% perturbation would be far off)
    curvature = losses[0] + losses[2] - 2 * losses[1]
    eps_min = 0.1 * (losses[0] - losses[2]) / (2 * curvature)
    assert abs(eps_min) < 0.03, (eps_min, losses)


def test_dsm_loss_gradient_matches_finite_differences():
    process = dd.VP()

    class Linear(eqx.Module):
        w: jax.Array
        b: jax.Array

        def __call__(self, x, c):
            return self.w * x + self.b * c

    data = jax.random.normal(jax.random.PRNGKey(0), (16, 3))
    key = jax.random.PRNGKey(2)

    def loss(params):
        return dd.dsm_loss(dd.ScoreModel(Linear(params["w"], params["b"]), process), data.astype(params["w"].dtype),
                           key, "likelihood")

    check_grad(loss, {"w": jnp.array([0.3, -0.2, 0.1]), "b": jnp.array([0.05, 0.0, -0.1])}, rtol=1e-6, atol=1e-9)


class TinyMLP(eqx.Module):
    layers: list

    def __init__(self, key, width=32):
        k1, k2, k3 = jax.random.split(key, 3)
        self.layers = [eqx.nn.Linear(2, width, key=k1), eqx.nn.Linear(width, width, key=k2),
                       eqx.nn.Linear(width, 1, key=k3)]

    def __call__(self, x, noise_level):
        h = jnp.concatenate([x, jnp.atleast_1d(noise_level)])
        for layer in self.layers[:-1]:
            h = jax.nn.silu(layer(h))
        return self.layers[-1](h)


@pytest.mark.slow
def test_brief_dsm_training_learns_the_gaussian_score():
    """2000 Adam steps of a 2-layer MLP on N(0, 0.6^2) data: the learned -E[z | x_t] = s_t score
    matches the exact one to a few per cent of its range where the noise is not tiny (at small s
    the DSM target is dominated by the noise z and the score's signal is learned slowly)."""
    process = dd.VEGeometric(0.05, 10.0)
    data = SD * jax.random.normal(jax.random.PRNGKey(0), (4096, 1))
    model = dd.ScoreModel(TinyMLP(jax.random.PRNGKey(1)), process, sigma_data=SD)
    result = fit(lambda m, batch, key: dd.dsm_loss(m, batch, key), model,
                 optax.adam(optax.cosine_decay_schedule(3e-3, 2000)), data, steps=2000, key=jax.random.PRNGKey(2),
                 batch_size=256, log_every=500, progress=False)
    exact = dd.GaussianScore(process, std=SD)
    for t in (0.4, 0.6, 0.8):
        s = float(process.mean_std(t)[1])
        x = jnp.linspace(-2, 2, 41)[:, None] * float(jnp.sqrt(exact.variance(t)))
        learned = jax.vmap(result.model, in_axes=(0, None))(x, t) * s
        target = jax.vmap(exact, in_axes=(0, None))(x, t) * s  # s * score = -E[z | x_t], of order one
        rms = float(jnp.sqrt(jnp.mean((learned - target) ** 2)))
        assert rms < 0.05 * float(jnp.max(jnp.abs(target))), (t, rms)
    # an untrained network is far off (the check can fail)
    fresh = dd.ScoreModel(TinyMLP(jax.random.PRNGKey(1)), process, sigma_data=SD)
    x = jnp.linspace(-2, 2, 41)[:, None]
    off = jax.vmap(fresh, in_axes=(0, None))(x, 0.4) - jax.vmap(exact, in_axes=(0, None))(x, 0.4)
    assert float(jnp.sqrt(jnp.mean((off * process.mean_std(0.4)[1]) ** 2))) > 0.2


def test_bad_score_model_and_loss_input():
    process = dd.VP()
    with pytest.raises(ValueError, match="net must be callable"):
        dd.ScoreModel(3.0, process)
    with pytest.raises(ValueError, match="sigma_data"):
        dd.ScoreModel(lambda x, c: x, process, sigma_data=0.0)
    bad = dd.ScoreModel(lambda x, c: jnp.concatenate([x, x]), process)
    with pytest.raises(ValueError, match=r"shape \(6,\) for an input of shape \(3,\)"):
        dd.dsm_loss(bad, jnp.zeros((4, 3)), jax.random.PRNGKey(0))
    good = dd.ScoreModel(lambda x, c: x, process)
    with pytest.raises(ValueError, match="non-finite"):
        dd.dsm_loss(good, jnp.array([[0.0, jnp.nan, 1.0]]), jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="weighting 'l2'"):
        dd.dsm_loss(good, jnp.zeros((4, 3)), jax.random.PRNGKey(0), weighting="l2")

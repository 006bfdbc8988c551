"""Conditional score model, loss and ensemble sampler, checked on a Gaussian conditional model
whose score is exact: target = nearest-upsampled condition + sigma0 * noise, so that under the EDM
process p_t(x | c) = N(up(c), (sigma0^2 + t^2) I) and grad log p_t = -(x - up(c))/(sigma0^2 + t^2)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.diffusion as dd
import dphys.superres as sr
from tests.helpers import assert_within_sigma

SIGMA0, FACTOR = 0.5, 2


class ExactGaussianConditional(eqx.Module):
    """The exact conditional score of the Gaussian model, with the interface of ConditionalScore;
    `scale` multiplies it (scale != 1: a wrong score)."""

    process: dd.AbstractProcess
    scale: jax.Array = eqx.field(default_factory=lambda: jnp.asarray(1.0))
    target_channels: int = eqx.field(static=True, default=1)
    condition_channels: int = eqx.field(static=True, default=1)
    factor: int = eqx.field(static=True, default=FACTOR)

    def condition_input(self, cond):
        return sr.upsample_condition(cond, self.factor, "nearest")

    def __call__(self, x, t, cond_fine, keep=True):
        alpha, s = self.process.mean_std(t)
        return -self.scale * (x - alpha * cond_fine) / (alpha**2 * SIGMA0**2 + s**2)

    def bind(self, cond, guidance=0.0):
        return sr.BoundScore(self, self.condition_input(cond), guidance)


PROCESS = dd.EDM(sigma_min=0.002, sigma_max=40.0, sigma_data=1.0)


def _pairs(key, n, h=4):
    k1, k2 = jax.random.split(key)
    cond = jax.random.normal(k1, (n, 1, h, h))
    target = sr.upsample_condition(cond, FACTOR, "nearest") + SIGMA0 * jax.random.normal(k2, (n, 1, 2 * h, 2 * h))
    return cond, target


def test_conditional_dsm_loss_is_minimised_by_the_exact_score():
    """With common random numbers the loss of the exact score is below that of scaled scores, and
    equals its expectation E_t w(t) sigma0^2/(sigma0^2 + s_t^2) given the drawn times within 4
    standard errors (per-sample scatter)."""
    cond, target = _pairs(jax.random.PRNGKey(0), 512)
    key = jax.random.PRNGKey(1)
    loss = eqx.filter_jit(sr.conditional_dsm_loss)  # one compile for all scales (an array field)
    losses = {a: float(loss(ExactGaussianConditional(PROCESS, jnp.asarray(a)), cond, target, key))
              for a in (0.8, 0.95, 1.0, 1.05, 1.25)}
    assert losses[1.0] < min(v for a, v in losses.items() if a != 1.0)
    t, w = dd.sample_training_times(PROCESS, jax.random.split(key, 3)[0], 512, "edm")
    s = jax.vmap(PROCESS.mean_std)(t)[1]
    expected = np.asarray(w * SIGMA0**2 / (SIGMA0**2 + s**2))
    # per-sample loss = w * mean over 64 pixels of chi^2_1 * (expected/w): relative scatter sqrt(2/64)
    se = np.sqrt(np.sum((expected * np.sqrt(2 / 64)) ** 2)) / 512
    assert_within_sigma(losses[1.0], expected.mean(), se, 4, "loss at the exact score")


def test_ensemble_sampler_on_the_exact_score():
    """Heun ensembles (72 steps: measured amplitude error < 1% on this model; 18 steps give 5%) bound
    to each scene's condition: members per scene have mean up(c) and
    standard deviation sigma0 (4 standard errors over all pixels), shape (scenes, members, C, H, W)."""
    cond, _ = _pairs(jax.random.PRNGKey(2), 3)
    exact = ExactGaussianConditional(PROCESS)
    m = 64
    x = sr.sample_ensemble(exact, jax.random.PRNGKey(3), cond, m, steps=72)
    assert x.shape == (3, m, 1, 8, 8)
    up = np.asarray(sr.upsample_condition(cond, FACTOR, "nearest"))[:, None]
    resid = np.asarray(x) - up
    n = resid.size
    assert_within_sigma(resid.mean(), 0.0, SIGMA0 / np.sqrt(n), 4, "ensemble mean - up(c)")
    var = resid.var()
    assert_within_sigma(var, SIGMA0**2, SIGMA0**2 * np.sqrt(2 / n), 4, "ensemble variance")
    one = sr.sample_ensemble(exact, jax.random.PRNGKey(3), cond[0], 5, steps=4)
    assert one.shape == (5, 1, 8, 8)
    # residual (CorrDiff) mode: the same draws, each scene's base added to all of its members
    base = jax.random.normal(jax.random.PRNGKey(4), (3, 1, 8, 8))
    shifted = sr.sample_ensemble(exact, jax.random.PRNGKey(3), cond, m, steps=72, base=base)
    np.testing.assert_allclose(shifted, x + base[:, None], rtol=1e-6, atol=1e-6)
    one_shifted = sr.sample_ensemble(exact, jax.random.PRNGKey(3), cond[0], 5, steps=4, base=base[0])
    np.testing.assert_allclose(one_shifted, one + base[0], rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def small_score():
    return sr.ConditionalScore(2, 3, 2, channels=(4,), embed_dim=8, key=jax.random.PRNGKey(0))


def test_conditional_score_shapes_guidance_and_baseline(small_score):
    cond = jax.random.normal(jax.random.PRNGKey(1), (3, 4, 4))
    x = jax.random.normal(jax.random.PRNGKey(2), (2, 8, 8))
    reg = sr.RegressionNet(2, 3, 2, channels=(4,), embed_dim=8, key=jax.random.PRNGKey(3))
    w = 1.5

    @eqx.filter_jit  # one compile for all evaluations
    def evaluate(score, reg, x, cond):
        fine = score.condition_input(cond)
        return (fine, score(x, 1.0, fine, True), score(x, 1.0, fine, False), score(x, 1.0, 0 * fine + 7.0, False),
                score.bind(cond, w)(x, 1.0), reg(cond), sr.regression_loss(reg, cond[None], x[None]))

    fine, s_c, s_u, s_u7, guided, r, loss = evaluate(small_score, reg, x, cond)
    assert fine.shape == (3, 8, 8)
    assert s_c.shape == x.shape and not np.allclose(s_c, s_u)
    np.testing.assert_allclose(s_u, s_u7, rtol=1e-6)  # the null condition ignores the condition entirely
    np.testing.assert_allclose(guided, (1 + w) * s_c - w * s_u, rtol=1e-5, atol=1e-6)
    assert r.shape == (2, 8, 8) and float(loss) > 0


def test_bad_input_raises_clear_errors(small_score):
    cond, target = jnp.zeros((4, 3, 4, 4)), jnp.zeros((4, 2, 8, 8))
    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="ensemble size"):
        sr.sample_ensemble(small_score, key, cond[0], 0)
    with pytest.raises(ValueError, match="ratio factor=2"):
        sr.conditional_dsm_loss(small_score, cond, jnp.zeros((4, 2, 12, 12)), key)
    with pytest.raises(ValueError, match="condition contains 1 NaN"):
        sr.conditional_dsm_loss(small_score, cond.at[0, 0, 0, 0].set(jnp.nan), target, key)
    with pytest.raises(ValueError, match="NaN"):
        sr.sample_ensemble(small_score, key, cond.at[1, 0, 0, 0].set(jnp.nan), 2)
    with pytest.raises(ValueError, match="guidance weight"):
        sr.sample_ensemble(small_score, key, cond, 2, guidance=-1.0)
    with pytest.raises(ValueError, match="expected .C_c=3"):
        sr.sample_ensemble(small_score, key, jnp.zeros((2, 5, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"base of shape \(4, 3, 8, 8\), expected \(4, 2, 8, 8\)"):
        sr.sample_ensemble(small_score, key, cond, 2, base=jnp.zeros((4, 3, 8, 8)))
    with pytest.raises(ValueError, match="p_uncond"):
        sr.conditional_dsm_loss(small_score, cond, target, key, p_uncond=1.0)
    with pytest.raises(ValueError, match="channels"):
        sr.decode_target(jnp.zeros((4, 8, 8)))

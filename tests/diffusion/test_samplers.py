"""Samplers with exact scores: the +/- mu toy (kappa_4 = -2 mu^4, kappa_6 = 16 mu^6), Gaussian
variances and the exact PF-ODE map, evaluation counts, trajectories, guidance, PyTrees, bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dphys.diffusion as dd
from dphys.stats import cumulants
from tests.helpers import assert_within_sigma

MU = 1.0


@pytest.mark.parametrize(
    "process, sampler, steps",
    [(dd.VESong(25.0), "em", 400), pytest.param(dd.VP(), "em", 400, marks=pytest.mark.slow),
     (dd.VEGeometric(0.01, 50.0), "pc", 200)],
    ids=["ve-song-em", "vp-em", "ve-geometric-pc"],
)
def test_two_point_toy_backward_with_exact_score_reproduces_cumulants(process, sampler, steps):
    """Backward process from the prior with the exact score of x0 = +/- mu. The states at t_min
    carry the discretisation's extra Gaussian-like width (O(dt), seen only by kappa_2), so there
    kappa_1 and kappa_3..6 are compared with the closed forms; Tweedie's denoised states (the
    posterior means, `denoise=True`) must reproduce all six data cumulants, kappa_4 = -2 mu^4 and
    kappa_6 = 16 mu^6 included."""
    x, info = dd.sample(dd.TwoPointScore(process, MU), jax.random.PRNGKey(0), (1,), n_samples=20_000,
                        sampler=sampler, steps=steps, denoise=True, save_every=steps)
    exact = dd.two_point_cumulants(process, MU, process.t_min)
    k = cumulants(np.asarray(info.trajectory[1][-1, :, 0], np.float64))
    keep = [0, 2, 3, 4, 5]
    assert_within_sigma(k.value[keep], exact[keep], k.error[keep], what=f"cumulants at t_min ({sampler})")
    k = cumulants(np.asarray(x[:, 0], np.float64))
    data = [0.0, MU**2, 0.0, -2 * MU**4, 0.0, 16 * MU**6]
    assert_within_sigma(k.value, data, k.error, what=f"denoised cumulants ({sampler})")
    assert info.n_score_evals == (steps if sampler == "em" else 2 * steps) + 1


GAUSS_STD = 0.8


@pytest.fixture(scope="module")
def gaussian():
    process = dd.VESong(25.0, t_min=1e-3)
    score = dd.GaussianScore(process, std=GAUSS_STD)
    x_T = process.prior_sample(jax.random.PRNGKey(3), (4000, 2))
    return process, score, x_T


@pytest.mark.parametrize("sampler, steps, rtol", [("ode", 10, 3e-4), ("heun", 40, 3e-3)])
def test_deterministic_samplers_follow_the_exact_gaussian_flow(gaussian, sampler, steps, rtol):
    """For Gaussian data the PF-ODE is linear: x_0 = x_T sqrt(var(t_min)/var(t_max)) exactly."""
    process, score, x_T = gaussian
    x, info = dd.sample(score, jax.random.PRNGKey(1), (2,), n_samples=x_T.shape[0], sampler=sampler,
                        steps=steps, x_init=x_T)
    ratio = np.sqrt(float(score.variance(process.t_min) / score.variance(process.t_max)))
    np.testing.assert_allclose(np.asarray(x), np.asarray(x_T) * ratio, rtol=rtol, atol=1e-6)
    # and the sample variance is the Gaussian's, given the prior's std (both within errors)
    var_expected = float(process.prior_std) ** 2 * ratio**2
    k = cumulants(np.asarray(x, np.float64).ravel(), max_order=2)
    assert_within_sigma(k.value[1], var_expected, k.error[1], what=f"{sampler} variance")
    assert var_expected == pytest.approx(GAUSS_STD**2, rel=0.02)  # the prior mismatch at t_max is small
    if sampler == "heun":
        assert info.n_score_evals == 2 * steps


@pytest.mark.parametrize("sampler", ["em", "pc"])
def test_stochastic_samplers_reproduce_the_gaussian_variance(gaussian, sampler):
    process, score, _ = gaussian
    x, _ = dd.sample(score, jax.random.PRNGKey(2), (2,), n_samples=5000, sampler=sampler, steps=200)
    k = cumulants(np.asarray(x, np.float64).ravel(), max_order=4)
    var0 = float(score.variance(process.t_min))
    assert_within_sigma(k.value[1:], [var0, 0.0, 0.0], k.error[1:], what=f"{sampler} kappa_2..4")


def test_ode_sampler_counts_its_score_evaluations_exactly():
    calls = []
    process = dd.VP()
    exact = dd.TwoPointScore(process, MU)

    def counted(x, t):
        jax.debug.callback(lambda: calls.append(1))
        return exact(x, t)

    for solver in ("tsit5",):
        calls.clear()
        _, info = dd.sample(counted, jax.random.PRNGKey(0), (3,), n_samples=1, sampler="ode", solver=solver,
                            process=process, rtol=1e-6, atol=1e-6)
        assert info.n_score_evals == len(calls) > 20
    calls.clear()
    _, info = dd.sample(counted, jax.random.PRNGKey(0), (3,), n_samples=1, sampler="pc", steps=7,
                        n_corrector=2, process=process, denoise=True)
    assert info.n_score_evals == len(calls) == 7 * 3 + 1


def test_trajectory_and_denoising(gaussian):
    process, score, _ = gaussian
    x, info = dd.sample(score, jax.random.PRNGKey(4), (2,), n_samples=3000, sampler="em", steps=100,
                        save_every=25, denoise=True)
    times, states = info.trajectory
    assert states.shape == (5, 3000, 2) and times.shape == (5,)
    assert times[0] == process.t_max and times[-1] == pytest.approx(process.t_min) and np.all(np.diff(times) < 0)
    # the saved variance follows the marginal variance along the way (prior at t_max)
    for t, s in zip(times, np.asarray(states)):
        k = cumulants(s.ravel().astype(np.float64), max_order=2)
        assert_within_sigma(k.value[1], float(score.variance(t)), k.error[1], what=f"variance at t={t:.3f}")
    # Tweedie denoising: E[x0 | x_tmin] = x sd^2/var, one extra evaluation
    assert info.n_score_evals == 101
    shrink = GAUSS_STD**2 / float(score.variance(process.t_min))
    np.testing.assert_allclose(np.asarray(x), np.asarray(states[-1]) * shrink, rtol=1e-5)


def test_guidance_is_added_to_the_score(gaussian):
    process, score, _ = gaussian

    class Half(eqx.Module):
        process: dd.AbstractProcess

        def __call__(self, x, t):
            return 0.5 * score(x, t)

    kwargs = dict(n_samples=64, sampler="pc", n_corrector=0, steps=50)
    full, _ = dd.sample(score, jax.random.PRNGKey(5), (2,), **kwargs)
    half, _ = dd.sample(Half(process), jax.random.PRNGKey(5), (2,), **kwargs)
    guided, _ = dd.sample(Half(process), jax.random.PRNGKey(5), (2,), guidance=lambda x, t: 0.5 * score(x, t),
                          **kwargs)
    np.testing.assert_allclose(np.asarray(guided), np.asarray(full), rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(np.asarray(half) - np.asarray(full))) > 0.1


def test_pytree_states(gaussian):
    process, score, _ = gaussian
    shape = {"a": jax.ShapeDtypeStruct((3,), jnp.float32), "b": jax.ShapeDtypeStruct((2, 2), jnp.float32)}
    x, _ = dd.sample(score, jax.random.PRNGKey(6), shape, n_samples=4000, sampler="heun", steps=30)
    assert x["a"].shape == (4000, 3) and x["b"].shape == (4000, 2, 2)
    flat = np.concatenate([np.asarray(x["a"]).ravel(), np.asarray(x["b"]).ravel()]).astype(np.float64)
    k = cumulants(flat, max_order=2)
    expected = float(process.prior_std) ** 2 * float(score.variance(process.t_min) / score.variance(process.t_max))
    assert_within_sigma(k.value[1], expected, k.error[1], what="PyTree variance")


def _bad_net(x, noise_level):
    return x[:1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(steps=0), "steps"),
        (dict(steps=-3), "steps"),
        (dict(n_samples=0), "n_samples"),
        (dict(sampler="ddim"), "ddim"),
        (dict(sampler="pc", snr=0.0), "snr"),
        (dict(sampler="ode", rtol=-1.0), "rtol"),
        (dict(sampler="ode", solver="kvaerno5"), "kvaerno5"),
        (dict(steps=10, save_every=3), "save_every=3"),
        (dict(guidance=lambda x, t: x[:1]), "guidance"),
    ],
)
def test_bad_sampler_arguments_raise(kwargs, match):
    score = dd.GaussianScore(dd.VP(), std=1.0)
    with pytest.raises(ValueError, match=match):
        dd.sample(score, jax.random.PRNGKey(0), (2,), **kwargs)


def test_network_output_shape_and_missing_process_raise():
    model = dd.ScoreModel(_bad_net, dd.VP())
    with pytest.raises(ValueError, match=r"shape \(1,\) for an input of shape \(2,\)"):
        dd.sample(model, jax.random.PRNGKey(0), (2,))
    with pytest.raises(ValueError, match="process"):
        dd.sample(lambda x, t: -x, jax.random.PRNGKey(0), (2,))


@pytest.mark.parametrize("which", ["fixed_step", pytest.param("ode", marks=pytest.mark.slow)])
def test_sampler_objects_are_the_named_samplers_and_know_their_cost(which):
    import diffrax as dfx

    process = dd.EDM(sigma_min=0.002, sigma_max=80.0, sigma_data=1.0)
    score = dd.GaussianScore(process, std=1.0)
    key = jax.random.PRNGKey(0)
    cases = [
        (dd.EulerMaruyama(8), {"sampler": "em", "steps": 8}),
        (dd.PredictorCorrector(8, snr=0.1, n_corrector=2), {"sampler": "pc", "steps": 8, "snr": 0.1, "n_corrector": 2}),
        (dd.EDMHeun(5, rho=5.0), {"sampler": "heun", "steps": 5, "rho": 5.0}),
        (dd.ProbabilityFlowODE(dfx.Dopri5(), rtol=1e-4, atol=1e-4),
         {"sampler": "ode", "solver": "dopri5", "rtol": 1e-4, "atol": 1e-4}),
    ]
    cases = cases[3:] if which == "ode" else cases[:3]
    for obj, kwargs in cases:
        x, info = dd.sample(score, key, (2,), 3, sampler=obj)
        x_ref, info_ref = dd.sample(score, key, (2,), 3, **kwargs)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(x_ref))
        assert info.sampler == obj.name and info.n_score_evals == info_ref.n_score_evals
        if obj.n_score_evals is not None:  # fixed-step samplers know their count beforehand
            assert info.n_score_evals == obj.n_score_evals
    if which == "ode":
        with pytest.raises(ValueError, match="ProbabilityFlowODE: solver"):
            dd.ProbabilityFlowODE(dfx.Euler())
        return
    x, info = jax.jit(lambda k: dd.sample(score, k, (2,), 3, sampler=dd.EDMHeun(5)))(key)
    assert x.shape == (3, 2) and float(info.n_score_evals) == 10 and info.sampler == "heun"

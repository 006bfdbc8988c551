"""cl-diffusion end to end with smaller-than-quick settings: a diffusion model trained on complex
Langevin samples of S = sigma z^2/2, sigma = 1 + i, reproduces the exact moments and the exact CL
covariance within 3 standard errors, its log-density (probability-flow ODE) matches the closed-form
2D Gaussian P(x, y) and its score the exact noised score; bad input is refused with clear messages."""

import json
import warnings

import jax
import numpy as np
import pytest

import dphys.diffusion as dd
from dphys.cli import main
from dphys.diffusion.training import fit_score
from dphys.lattice.cl_density import cl_ensemble, cl_model, moment_estimates
from dphys.lattice.complex_models import GaussianAction
from dphys.nn import ScoreMLP
from dphys.workflows import get_workflow, parse_orders

SMALL = dict(chains=128, time=20.0, chunks=1, train_steps=1500, width=64, depth=2, samples=8000, steps=200,
             grid=24)


@pytest.fixture(scope="module")
def gauss(tmp_path_factory):
    out = tmp_path_factory.mktemp("cl-diffusion")
    wf = get_workflow("cl-diffusion")
    config = wf.config(quick=True, seed=1, model="gauss", sigma="1+1j", **SMALL)
    config["progress"] = False
    wf.execute(config, str(out))
    return out, json.loads((out / "report.json").read_text())


def _within(metric, n_sigma=3.0):
    assert metric["error"] > 0 and metric["reference"] is not None, metric
    return abs(metric["value"] - metric["reference"]) < n_sigma * metric["error"]


def test_gaussian_diffusion_samples_reproduce_exact_moments_and_cl_covariance(gauss):
    _, rep = gauss
    m = rep["metrics"]
    # REFERENCES.md: <x^2> = (2A^2 + B^2)/(2A|s|^2) = 3/4, <y^2> = 1/4, <xy> = -1/4, <z^2> = 1/sigma
    assert m["diffusion_x2"]["reference"] == pytest.approx(0.75)
    assert m["diffusion_y2"]["reference"] == pytest.approx(0.25)
    assert m["diffusion_xy"]["reference"] == pytest.approx(-0.25)
    assert m["diffusion_z2_re"]["reference"] == pytest.approx(0.5)
    assert m["diffusion_z2_im"]["reference"] == pytest.approx(-0.5)
    for name in ("x2", "y2", "xy", "z2_re", "z2_im", "z4_re", "z4_im", "kappa4_re", "kappa4_im"):
        assert _within(m[f"diffusion_{name}"]), (name, m[f"diffusion_{name}"])
        assert _within(m[f"cl_{name}"]), (name, m[f"cl_{name}"])
    # a real measurement, not a smoke test: the generation error alone is small
    assert m["gen_error_x2"]["value"] < 0.03
    assert m["diffusion_x2"]["error"] > m["gen_error_x2"]["value"]  # the CL training-set error is included


def test_learned_density_and_score_match_the_exact_gaussian(gauss):
    out, rep = gauss
    m = rep["metrics"]
    # the learned density is closer to the exact P(x, y) than the histogram of the CL samples it
    # was trained on (seed 1 at these settings, ScoreMLP: L1 0.031 against 0.107; KL 1.1e-3)
    assert m["l1_learned_vs_exact"]["value"] < m["l1_histogram_vs_exact"]["value"]
    assert 0 <= m["kl_exact_learned"]["value"] < 1e-2
    assert m["learned_mass_on_grid"]["value"] == pytest.approx(1.0, abs=0.01)
    # the histogram noise estimate from two halves agrees with the exact histogram error
    assert m["l1_histogram_noise"]["value"] == pytest.approx(m["l1_histogram_vs_exact"]["value"], rel=0.3)
    mid = [name for name in m if name.startswith("score_rel_error_s")]
    assert len(mid) == 3 and min(m[n]["value"] for n in mid) < 0.05
    for name in ("xy_distributions", "moments", "score_field", "density"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    params = {p.name for p in get_workflow("cl-diffusion").params}
    assert params | {"quick", "seed", "progress"} == set(rep["config"])


def test_moment_orders_beyond_the_sample_size_warn():
    rng = np.random.default_rng(0)
    z = (rng.normal(size=400) + 0.3j * rng.normal(size=400))
    w = np.ones(400)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = moment_estimates(z, w, (2,))  # well supported: no warning
    assert est[2][0].value == pytest.approx(np.mean(z**2).real)
    assert est[2][1].value == pytest.approx(np.mean(z**2).imag)
    with pytest.warns(UserWarning, match=r"<z\^14>: the sample of 400 measurements cannot support order 14"):
        moment_estimates(z, w, (2, 14))


def test_runaway_complex_langevin_is_refused_before_training(tmp_path):
    wf = get_workflow("cl-diffusion")
    config = wf.config(quick=True, model="quartic", solver="euler", dt=0.9, chains=8, time=20.0, therm=1.0)
    config["progress"] = False
    with pytest.raises(ValueError, match="ran away.*refusing to train a diffusion model on runaway samples"):
        wf.execute(config, str(tmp_path))
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "gauss", "--sigma=-1+1j"],
         "needs Re sigma > 0 when the action is Gaussian: the integral diverges"),
        (["--model", "quartic", "--lam", "0", "--sigma", "0+1j"], "needs Re sigma > 0"),
        (["--lam", "-1"], "--lam='-1' needs Re lam > 0"),
        (["--orders", "2,x"], "--orders='2,x' is not a list of moment orders"),
        (["--orders", "0,2"], "--orders='0,2' is not a list of moment orders"),
        (["--sigma-min", "20"], "--sigma-min=20.0 must be < --sigma-max=10.0"),
    ],
)
def test_invalid_values_are_one_line_errors(argv, message, capsys, tmp_path):
    assert main(["run", "cl-diffusion", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_library_pieces_build_the_models_and_refuse_bad_input():
    action, shape, reference = cl_model("gauss", 1 + 1j)
    assert isinstance(action, GaussianAction) and shape == ()
    assert reference["x2"] == pytest.approx(0.75) and reference["z2_re"] == pytest.approx(0.5)  # REFERENCES.md
    assert cl_model("chain", 1 + 1j, 0, n_sites=4)[1] == (4,)
    with pytest.raises(ValueError, match="model='sextic': expected one of"):
        cl_model("sextic", 1)
    with pytest.raises(ValueError, match="needs Re sigma > 0"):
        cl_model("gauss", -1 + 1j)
    with pytest.raises(ValueError, match="needs Re lam > 0"):
        cl_model("quartic", 1, -1)
    with pytest.raises(ValueError, match=r"dt=-0.1 must be a finite number > 0"):
        cl_ensemble(action, jax.random.PRNGKey(0), dt=-0.1, chains=2, time=1.0, therm=0.0, measure_every=0.1)
    with pytest.raises(ValueError, match="chains=0 must be a positive int"):
        cl_ensemble(action, jax.random.PRNGKey(0), dt=0.01, chains=0, time=1.0, therm=0.0, measure_every=0.1)
    model = dd.ScoreModel(ScoreMLP(2, width=8, depth=1, key=jax.random.PRNGKey(0)), dd.VEGeometric())
    with pytest.raises(ValueError, match="weighting='l1'"):
        fit_score(model, np.zeros((8, 2), np.float32), jax.random.PRNGKey(0), steps=1, learning_rate=1e-3,
                  weighting="l1")
    with pytest.raises(ValueError, match="steps=0 must be a positive int"):
        fit_score(model, np.zeros((8, 2), np.float32), jax.random.PRNGKey(0), steps=0, learning_rate=1e-3)


def test_parse_orders():
    assert parse_orders("6, 2,4,2") == (2, 4, 6)
    with pytest.raises(ValueError, match="between 1 and 16"):
        parse_orders("17")


@pytest.mark.slow
def test_gaussian_chain_vector_state_reproduces_neighbour_correlations(tmp_path):
    """The state is a vector of 2N = 8 numbers: the learned distribution couples neighbouring sites
    as the exact CL covariance of the whole state (Lyapunov equation) says."""
    wf = get_workflow("cl-diffusion")
    config = wf.config(quick=True, seed=0, model="chain", lam="0", sites=4, **SMALL)
    config["progress"] = False
    m = wf.execute(config, str(tmp_path)).to_dict()["metrics"]
    for name in ("x0x1", "y0y1", "x0y1", "z2_re", "z2_im"):
        assert _within(m[f"diffusion_{name}"]), (name, m[f"diffusion_{name}"])
    assert m["diffusion_y0y1"]["reference"] > 5 * m["diffusion_y0y1"]["error"]  # a non-trivial correlation
    assert (tmp_path / "xy_distributions.png").exists() and not (tmp_path / "density.png").exists()


@pytest.mark.slow
def test_quartic_quick_run_reproduces_z2_and_z4(tmp_path):
    """Done criterion: sigma = 1 + i, lam = 1, the quick settings: <z^2>, <z^4> within 3 errors."""
    report = get_workflow("cl-diffusion")(str(tmp_path), quick=True, model="quartic").to_dict()
    m = report["metrics"]
    assert m["diffusion_z2_re"]["reference"] == pytest.approx(0.428142, abs=1e-6)  # REFERENCES.md
    assert m["diffusion_z4_im"]["reference"] == pytest.approx(-0.280132, abs=1e-6)
    for name in ("z2_re", "z2_im", "z4_re", "z4_im"):
        assert _within(m[f"diffusion_{name}"]), (name, m[f"diffusion_{name}"])
    assert m["l1_learned_vs_histogram"]["value"] < 2 * m["l1_histogram_noise"]["value"] + 0.02


@pytest.mark.slow
def test_chain_state_is_a_vector_and_site_moments_match_the_transfer_matrix(tmp_path):
    report = get_workflow("cl-diffusion")(str(tmp_path), quick=True, model="chain", sites=4).to_dict()
    m = report["metrics"]
    for name in ("z2_re", "z2_im", "z4_re", "z4_im"):
        assert _within(m[f"diffusion_{name}"]), (name, m[f"diffusion_{name}"])
    assert (tmp_path / "xy_distributions.png").exists() and not (tmp_path / "density.png").exists()

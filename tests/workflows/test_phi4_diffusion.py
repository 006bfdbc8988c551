"""phi4-diffusion end to end with smaller-than-quick overrides: every comparison metric is
reported with an error and the HMC value as reference, the Metropolis acceptance and the score
evaluations are reported, and the figures are written."""

import json

import pytest

from dphys.workflows.phi4_diffusion import WORKFLOW

TINY = dict(L=4, levels=1, width=4, chains=4, samples=40, therm=30, train_steps=60, batch=32, steps=20,
            n_gen=64, n_mh=16, n_cost=64, em_ladder="5", heun_ladder="2", ode_ladder="1e-2", z2_odd=True, cost_study=True,
            ode_rtol=1e-2)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("phi4_diffusion")
    WORKFLOW(str(out), quick=True, seed=0, **TINY)
    return out, json.loads((out / "report.json").read_text())["metrics"]


def test_metrics_with_errors_and_references(report):
    _, metrics = report
    for name in ("abs_M", "chi2", "binder", "action_density"):
        hmc = metrics[f"{name}_hmc"]
        assert hmc["error"] > 0
        # the Metropolis-corrected values exist whenever the chain moved (a stuck chain has no error)
        labels = ("gen", "mh") if metrics["mh_distinct_states"]["value"] >= 3 else ("gen",)
        for label in labels:
            m = metrics[f"{name}_{label}"]
            assert m["error"] > 0 and m["reference"] == pytest.approx(hmc["value"]), (name, label, m)
    assert 0 <= metrics["mh_acceptance"]["value"] <= 1
    assert metrics["score_evals_per_sample"]["value"] == 20  # Euler-Maruyama: one per step
    assert metrics["mh_score_evals_per_sample"]["value"] == 40  # Heun proposals: 20 steps, 2 evaluations each
    assert metrics["final_loss"]["value"] > 0
    assert 0.5 < metrics["hmc_acceptance"]["value"] <= 1
    assert any(k.startswith("cost_em_") for k in metrics) and any(k.startswith("cost_heun_") for k in metrics)


def test_figures_and_checkpoint_written(report):
    out, _ = report
    for name in ("magnetisation_histogram", "action_histogram", "two_point", "trajectories",
                 "trajectory_magnetisation", "quality_per_cost"):
        assert (out / f"{name}.png").stat().st_size > 1000, name
    assert (out / "checkpoints" / "checkpoint.eqx").exists()


def test_bad_configuration_is_rejected_before_running():
    with pytest.raises(ValueError, match="divisible by the pooling factor"):
        WORKFLOW.config(quick=True, L=6, levels=3)
    with pytest.raises(ValueError, match="em-ladder"):
        WORKFLOW.config(quick=True, em_ladder="10,x")


@pytest.mark.slow  # 25 s; the EDM process and preconditioning are tested in tests/diffusion
def test_edm_process_and_ode_proposals_run_end_to_end(tmp_path):
    WORKFLOW(str(tmp_path), quick=True, seed=0, **dict(TINY, process="edm", cost_study=False, n_mh=8,
                                                       mh_proposals="ode"))
    metrics = json.loads((tmp_path / "report.json").read_text())["metrics"]
    assert metrics["chi2_gen"]["error"] > 0 and metrics["final_loss"]["value"] > 0
    assert metrics["score_evals_per_sample"]["value"] == 20
    assert 0 <= metrics["mh_acceptance"]["value"] <= 1 and metrics["mh_score_evals_per_sample"]["value"] > 20

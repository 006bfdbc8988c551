"""u1-diffusion end to end with smaller-than-quick overrides: every observable at every target beta
is reported with an error and its exact reference, for the diffusion samples and for HMC; tau_int(Q),
the costs and their ratio are reported; the figures are written; bad parameters are refused."""

import json

import pytest

from dphys.lattice import u1_exact
from dphys.workflows import get_workflow

WORKFLOW = get_workflow("u1-diffusion")

TINY = dict(L=4, chains=4, samples=30, therm=20, width=4, depth=1, train_steps=20, batch=16, steps=10, n_gen=16,
            n_refine=2, hmc_chains=4, hmc_samples=30, betas="2,3", n_mh=8, mh_steps=2)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("u1_diffusion")
    WORKFLOW(str(out), quick=True, seed=0, **TINY)
    return out, json.loads((out / "report.json").read_text())["metrics"]


def test_metrics_with_errors_and_exact_references(report):
    out, metrics = report
    for beta, tag in ((2.0, "b2"), (3.0, "b3")):
        exact = u1_exact(beta, 4)
        for label in ("diff", "raw", "hmc"):
            for name in ("plaquette", "wilson_1x2", "wilson_2x2"):
                m = metrics[f"{name}_{tag}_{label}"]
                assert m["reference"] == pytest.approx(exact[name]) and m["error"] > 0, (name, tag, label)
            assert metrics[f"chi_t_{tag}_{label}"]["reference"] == pytest.approx(exact["chi_t"])
        assert 0 < metrics[f"{tag}_refine_acceptance"]["value"] <= 1
        assert 0 <= metrics[f"{tag}_mh_acceptance"]["value"] <= 1
        assert 0 < metrics[f"{tag}_mh_ess_fraction"]["value"] <= 1
        assert 1 <= metrics[f"{tag}_mh_distinct_states"]["value"] <= 8
        assert metrics[f"{tag}_tau_int_Q_diff"]["value"] > 0 and metrics[f"{tag}_tau_int_Q_hmc"]["value"] > 0
        ratio = metrics[f"{tag}_cost_ratio_hmc_over_diff"]["value"]
        assert ratio == pytest.approx(metrics[f"{tag}_cost_per_indep_hmc"]["value"]
                                      / metrics[f"{tag}_cost_per_indep_diff"]["value"])
    assert metrics["chi_t_train_hmc"]["reference"] == pytest.approx(u1_exact(1.0, 4)["chi_t"])
    assert metrics["final_loss"]["value"] > 0
    assert (out / "chi_t_vs_beta.png").exists() and (out / "q_history.png").exists()


def test_bad_parameters():
    for bad in ("3,-1", "0", "x", ""):
        with pytest.raises(ValueError, match="betas"):
            WORKFLOW.config(quick=True, betas=bad)
    with pytest.raises(ValueError, match="s-min"):
        WORKFLOW.config(quick=True, s_min=5.0)
    with pytest.raises(ValueError, match="beta-train"):
        WORKFLOW.config(quick=True, beta_train=0.0)

"""cumulants workflow end to end with smaller-than-quick settings: the exact-score backward
process and the forward SDE reproduce the closed-form cumulants within errors, the learned
models give bimodal (kappa_4 < 0) samples, figures and config are written."""

import json

import pytest

from dphys.workflows import get_workflow

SMALL = dict(samples=4000, train_samples=1024, steps=100, track_points=5, train_steps=800, batch_size=256,
             width=48, L=4, chains=4, hmc_samples=100, therm=50, lattice_train_steps=200, lattice_width=64,
             phi4_samples=1000, processes="ve")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("cumulants")
    wf = get_workflow("cumulants")
    config = wf.config(quick=True, seed=3, **SMALL)
    config["progress"] = False
    wf.execute(config, str(out))
    return out, json.loads((out / "report.json").read_text())


def test_exact_score_and_forward_cumulants_match_closed_forms(report):
    _, rep = report
    m = rep["metrics"]
    checked = 0
    for name, metric in m.items():
        if ("_exact_k" in name and not name.endswith("k2")) or "_forward_k" in name:
            assert metric["error"] > 0 and metric["reference"] is not None
            assert abs(metric["value"] - metric["reference"]) <= 4 * metric["error"], (name, metric)
            checked += 1
    assert checked == 5 + 3
    assert m["toy_ve_exact_k4"]["reference"] == pytest.approx(-2.0)
    assert m["toy_ve_exact_k6"]["reference"] == pytest.approx(16.0)


def test_learned_models_and_phi4_report(report):
    out, rep = report
    m = rep["metrics"]
    assert m["toy_ve_learned_ncsn_k4"]["value"] < -1.0  # bimodal samples
    assert m["phi4_hmc_M_k2"]["value"] > 0 and m["phi4_generated_M_k2"]["value"] > 0
    assert m["phi4_generated_M_k2"]["reference"] == pytest.approx(m["phi4_hmc_M_k2"]["value"], rel=0.01)
    # the forward SDE keeps kappa_2(M_t) = kappa_2(M_0) + s_t^2/V within errors
    f = next(v for k, v in m.items() if k.startswith("phi4_forward_M_k2"))
    assert abs(f["value"] - f["reference"]) <= 4 * f["error"]
    for fig in ("toy_cumulants_ve", "phi4_M_cumulants", "phi4_M_histogram"):
        assert (out / f"{fig}.png").stat().st_size > 10_000
    params = {p.name for p in get_workflow("cumulants").params}
    assert params <= set(rep["config"])


def test_bad_config_raises():
    wf = get_workflow("cumulants")
    with pytest.raises(ValueError, match="weightings"):
        wf.config(quick=True, weightings="ncsn,l1")
    with pytest.raises(ValueError, match="processes"):
        wf.config(quick=True, processes="ve,ou")
    with pytest.raises(ValueError, match="track-points"):
        wf.config(quick=True, steps=101, track_points=10)

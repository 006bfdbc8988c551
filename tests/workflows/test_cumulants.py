"""cumulants workflow end to end.

Default run: the exact-score backward process and the forward SDE reproduce the closed-form
cumulants (the learning is not needed; a one-step network). Slow (2 x 3000 training steps take
minutes on 2 shared cores): the learned score, 3000 steps of a width-64 network, batch 1024, 4000
samples, 100 sampler steps, gives kappa_4 and kappa_6 of the +/- mu toy within 3 standard errors of
-2 mu^4 and 16 mu^6 under VE and VP (seed 0: VE +2.95/-2.85, VP -1.36/+1.03 sigma); the same for
`--quick` (seed 0: VE +2.51/-2.49, VP -1.51/+1.33 sigma), and the generated
kappa_2, kappa_4 of M and the Binder cumulant of phi^4 against an independent HMC ensemble within
3 combined errors (seed 0: +0.07, +0.47, -1.01 sigma). These are the README's figures."""

import json

import pytest

from dphys.workflows import get_workflow

TOY = dict(phi4=False, samples=4000, track_points=5, steps=100, width=64, batch_size=1024)


def _pull(metric):
    assert metric["error"] > 0 and metric["reference"] is not None, metric
    return (metric["value"] - metric["reference"]) / metric["error"]


def _run(tmp_path_factory, **overrides):
    out = tmp_path_factory.mktemp("cumulants")
    wf = get_workflow("cumulants")
    config = wf.config(quick=True, seed=0, **overrides)
    config["progress"] = False
    wf.execute(config, str(out))
    return out, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def exact_only(tmp_path_factory):
    """The toy with a one-step (untrained) network: what does not depend on the learning, cheaply."""
    return _run(tmp_path_factory, **dict(TOY, train_steps=1))


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return _run(tmp_path_factory, **TOY)


def test_exact_score_and_forward_cumulants_match_closed_forms(exact_only):
    _, rep = exact_only
    m = rep["metrics"]
    checked = 0
    for name, metric in m.items():
        if ("_exact_k" in name and not name.endswith("k2")) or "_forward_k" in name:
            assert abs(_pull(metric)) <= 3, (name, metric)
            checked += 1
    assert checked == 2 * (5 + 3)
    assert m["toy_ve_exact_k4"]["reference"] == pytest.approx(-2.0)
    assert m["toy_ve_exact_k6"]["reference"] == pytest.approx(16.0)
    # VP damps kappa_n as alpha^n: at t_min = 1e-3, alpha^4 = 0.9998
    assert m["toy_vp_exact_k4"]["reference"] == pytest.approx(-2.0, rel=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("process", ["ve", "vp"])
def test_learned_score_rebuilds_kappa4_and_kappa6(toy, process):
    """The README's figure: learned kappa_4, kappa_6 within 3 sigma of the closed forms (seed 0)."""
    out, rep = toy
    m = rep["metrics"]
    for order in (4, 6):
        metric = m[f"toy_{process}_learned_ncsn_k{order}"]
        assert abs(_pull(metric)) < 3, (process, order, metric)
    assert m[f"toy_{process}_learned_ncsn_k4"]["error"] < 0.02  # a measurement, not a wide error bar
    # the learned score is accurate where the samples are (relative L2 error at s = 0.1 and 1)
    assert m[f"toy_{process}_score_rel_error_ncsn_s0.1"]["value"] < 0.15
    assert (out / f"toy_cumulants_{process}.png").stat().st_size > 10_000


def test_bad_config_raises():
    wf = get_workflow("cumulants")
    with pytest.raises(ValueError, match="weightings"):
        wf.config(quick=True, weightings="ncsn,l1")
    with pytest.raises(ValueError, match="processes"):
        wf.config(quick=True, processes="ve,ou")
    with pytest.raises(ValueError, match="track-points"):
        wf.config(quick=True, steps=101, track_points=10)
    with pytest.raises(ValueError, match="nothing to run"):
        wf.config(quick=True, toy=False, phi4=False)


@pytest.mark.slow
def test_quick_toy_learned_kappa4_and_kappa6_within_3_sigma(tmp_path):
    wf = get_workflow("cumulants")
    config = wf.config(quick=True, seed=0, phi4=False)
    config["progress"] = False
    m = wf.execute(config, str(tmp_path)).to_dict()["metrics"]
    for process in ("ve", "vp"):
        assert abs(_pull(m[f"toy_{process}_exact_k4"])) < 3
        for order in (4, 6):
            metric = m[f"toy_{process}_learned_ncsn_k{order}"]
            assert abs(_pull(metric)) < 3, (process, order, metric)
        assert m[f"toy_{process}_learned_ncsn_k4"]["error"] < 0.01


@pytest.mark.slow
def test_quick_phi4_generated_cumulants_agree_with_an_independent_hmc_ensemble(tmp_path):
    wf = get_workflow("cumulants")
    config = wf.config(quick=True, seed=0, toy=False)
    config["progress"] = False
    m = wf.execute(config, str(tmp_path)).to_dict()["metrics"]
    for name in ("phi4_generated_M_k2", "phi4_generated_M_k4", "phi4_generated_binder_U4"):
        assert abs(_pull(m[name])) < 3, (name, m[name])
    # the reference is the independent ensemble, not the training set
    assert m["phi4_generated_M_k4"]["reference"] == m["phi4_reference_M_k4"]["value"]
    assert m["phi4_reference_M_k4"]["value"] != m["phi4_hmc_M_k4"]["value"]
    assert m["phi4_reference_M_k4"]["value"] < -3 * m["phi4_reference_M_k4"]["error"]  # kappa_4 != 0 resolved
    f = next(v for k, v in m.items() if k.startswith("phi4_forward_M_k2"))
    assert abs(_pull(f)) <= 3
    for fig in ("phi4_M_cumulants", "phi4_M_histogram"):
        assert (tmp_path / f"{fig}.png").stat().st_size > 10_000
    params = {p.name for p in get_workflow("cumulants").params}
    assert params <= set(config)

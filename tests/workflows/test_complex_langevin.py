"""complex-langevin end to end: exact moments within 3 standard errors, figures, one-line CLI errors."""

import json

import pytest

from dphys.cli import main
from dphys.workflows import get_workflow, parse_complex


def assert_metrics_within_three_sigma(report, expected_names):
    checked = {name for name, m in report["metrics"].items() if m["reference"] is not None}
    assert checked == set(expected_names)
    for name in checked:
        m = report["metrics"][name]
        assert m["error"] > 0 and abs(m["value"] - m["reference"]) < 3 * m["error"], (name, m)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("complex-langevin")
    assert main(["run", "complex-langevin", "--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "report.json").read_text())


def test_quick_quartic_run_reproduces_exact_moments_and_cumulants(quick_report):
    out, report = quick_report
    moments = [f"{k}{n}_{p}" for k in ("z", "kappa") for n in (2, 4, 6) for p in ("re", "im")]
    assert_metrics_within_three_sigma(report, moments)
    assert report["metrics"]["z2_re"]["reference"] == pytest.approx(0.428142, abs=1e-6)  # REFERENCES.md
    assert report["metrics"]["z2_re"]["error"] < 0.01  # a real result, not a smoke test
    params = {p.name for p in get_workflow("complex-langevin").params}
    assert params | {"quick", "seed"} == set(report["config"])
    for name in ("xy_distribution", "moments"):
        assert (out / f"{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("model", ["gauss", "chain"])
def test_gaussian_models_reproduce_the_exact_cl_distribution(model, tmp_path):
    overrides = dict(model=model, chains=64, time=20.0, sites=4) | ({"lam": "0"} if model == "chain" else {})
    report = get_workflow("complex-langevin")(str(tmp_path), quick=True, **overrides).to_dict()
    names = [f"z{n}_{p}" for n in (2, 4, 6) for p in ("re", "im")]
    names += [f"kappa{n}_{p}" for n in (2, 4, 6) for p in ("re", "im")] + ["x2", "y2", "xy"]
    assert_metrics_within_three_sigma(json.loads((tmp_path / "report.json").read_text()), names)
    assert report["config"]["model"] == model and (tmp_path / "xy_distribution.png").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--sigma", "1+i"], "--sigma='1+i' is not a finite complex number: expected e.g. 1+1j"),
        (["--sigma", "nan"], "--sigma='nan' is not a finite complex number"),
        (["--lam", "-1"], "--lam='-1' needs Re lam > 0"),
        (["--model", "sextic"], "invalid choice: 'sextic'"),
        (["--adaptive", "maybe"], "expected true or false, got 'maybe'"),
    ],
)
def test_invalid_values_are_one_line_errors_with_exit_status_2(argv, message, capsys, tmp_path):
    assert main(["run", "complex-langevin", "--out", str(tmp_path), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err, captured.err


def test_complex_values_are_parsed_like_python_complex_numbers():
    assert parse_complex("1+1j") == 1 + 1j and parse_complex(" -0.5j ") == -0.5j and parse_complex("2") == 2
    with pytest.raises(ValueError, match=r"'1\+1i' is not a complex number"):
        parse_complex("1+1i")

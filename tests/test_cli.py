"""The command line: list, run --help, one-line errors with exit status 2."""

import subprocess
import sys

import pytest

from dphys.cli import main
from dphys.workflows import all_workflows, get_workflow


def test_list_prints_every_workflow_with_a_description(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, wf in all_workflows().items():
        assert name in out and wf.description in out


def test_run_help_lists_every_flag_with_unit_and_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "langevin-0d", "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    for p in get_workflow("langevin-0d").params:
        assert p.flag in out and f"default: {p.default}" in out
    assert "[Langevin time]" in out and "--quick" in out and "--seed" in out and "--out" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "no-such-workflow"], "unknown workflow 'no-such-workflow'; known: "),
        (["run", "langevin-0d", "--bogus", "1"], "unrecognized arguments: --bogus 1"),
        (["run", "langevin-0d", "--dt", "-0.1"], "--dt=-0.1 must be > 0"),
        (["run", "langevin-0d", "--chains", "ten"], "argument --chains: expected int, got 'ten'"),
        (["run", "langevin-0d", "--solver", "rk4"], "invalid choice: 'rk4'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["list", "extra"], "'dphys list' takes no arguments"),
        (["run", "lattice-mc", "--adapt", "maybe"], "argument --adapt: expected true or false, got 'maybe'"),
        (["run", "complex-langevin", "--model", "gauss", "--sigma=-1+1j"], "Re sigma > 0"),
        (["run"], "usage: dphys run NAME"),
    ],
)
def test_user_errors_are_one_line_with_exit_status_2(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err, captured.err


def test_boolean_flags_work_bare_or_with_a_value():
    wf = get_workflow("lattice-mc")
    assert wf.config(adapt=False)["adapt"] is False
    from dphys.cli import run_parser

    parser = run_parser(wf)
    assert parser.parse_args(["--adapt"]).adapt is True
    assert parser.parse_args(["--adapt", "false"]).adapt is False
    assert parser.parse_args([]).adapt is None  # the workflow's default applies


def test_console_entry_point_as_module_reports_errors_without_traceback():
    result = subprocess.run([sys.executable, "-m", "dphys", "run", "langevin-0d", "--g", "0"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "dphys: error: --g=0.0 must be > 0\n"


def test_ci_runs_the_readme_set_up_commands():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme, ci = (root / "README.md").read_text(), (root / ".ci" / "run").read_text()
    for command in ("pip install -e . && dphys run langevin-0d", 'pip install -e ".[test]" && python -m pytest'):
        assert f"\n{command}\n" in readme and f"\n{command}\n" in ci, command

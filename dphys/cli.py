"""The `dphys` command line: `dphys list`, `dphys run NAME [--quick] [--out DIR] [--seed N] [flags]`.

Every user error (unknown workflow, unknown flag, invalid value) is one line on stderr and exit
status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dphys.workflows import Param, Workflow, all_workflows, get_workflow

EXIT_USAGE = 2


class UsageError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print the usage block too
        raise UsageError(message)


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _converter(p: Param):
    def convert(text: str):
        if p.type is bool:
            return _bool(text)
        try:
            return p.type(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {p.type.__name__}, got {text!r}") from None

    convert.__name__ = p.type.__name__  # argparse names the type in its messages
    return convert


def run_parser(workflow: Workflow) -> _Parser:
    """The argument parser of `dphys run <workflow>`: `--quick`, `--out`, `--seed` and one option per `Param`."""
    parser = _Parser(
        prog=f"dphys run {workflow.name}",
        description=workflow.description,
    )
    parser.add_argument("--quick", action="store_true", help="shrink the run to finish in under a minute on 2 cores")
    parser.add_argument("--out", default=f"runs/{workflow.name}", help="output directory (report.json, figures)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed; the same seed gives the same result")
    for p in workflow.params:
        unit = "" if p.unit == "1" else f" [{p.unit}]"
        quick = "" if p.quick is None else f", --quick: {p.quick}"
        parser.add_argument(
            p.flag, dest=p.name, type=_converter(p), default=None,
            nargs="?" if p.type is bool else None, const=True if p.type is bool else None,
            metavar=None if p.choices else p.type.__name__.upper(), choices=p.choices,
            help=f"{p.help}{unit} (default: {p.default}{quick})",
        )
    return parser


def _list() -> int:
    workflows = all_workflows()
    width = max(len(name) for name in workflows)
    for name, wf in sorted(workflows.items()):
        print(f"{name:<{width}}  {wf.description}")
    return 0


def _run(name: str, argv: Sequence[str]) -> int:
    try:
        workflow = get_workflow(name)
    except ValueError as e:
        raise UsageError(str(e)) from None
    ns = run_parser(workflow).parse_args(argv)
    overrides = {p.name: getattr(ns, p.name) for p in workflow.params if getattr(ns, p.name) is not None}
    try:  # every value is checked before any computation starts
        config = workflow.config(quick=ns.quick, seed=ns.seed, **overrides)
    except ValueError as e:
        raise UsageError(str(e)) from None
    report = workflow.execute(config, ns.out)
    print(report.summary())
    print(f"wrote {report.out_dir / 'report.json'} and {len(report.figures)} figure(s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _Parser(prog="dphys", description="Differentiable physics workflows.")
    parser.add_argument("command", choices=["list", "run"], help="list the workflows, or run one")
    try:
        if not argv or argv[0] in ("-h", "--help"):
            parser.print_help()
            return 0 if argv else EXIT_USAGE
        ns = parser.parse_args(argv[:1])
        if ns.command == "list":
            if argv[1:]:
                raise UsageError(f"'dphys list' takes no arguments, got {' '.join(argv[1:])}")
            return _list()
        if len(argv) < 2 or argv[1].startswith("-"):
            raise UsageError("usage: dphys run NAME [--quick] [--out DIR] [--seed N] [flags]; see 'dphys list'")
        return _run(argv[1], argv[2:])
    except UsageError as e:
        print(f"dphys: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

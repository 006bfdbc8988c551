"""Run every benchmark in this folder and print a table of dphys against its baseline.

    python benchmarks/run.py [--quick] [--out FILE.json] [--only NAME]

Each `bench_*.py` module defines `cases(quick: bool) -> list[Case]`. A case times a dphys
function and a baseline on the same inputs in the same process, after compilation (one warm-up
call each), as the median of `repeats` calls, alternating the two so that drifts in machine load
hit both alike. The ratio dphys / baseline is the figure to quote: absolute times on shared
machines are noisy, the ratio much less so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # `python benchmarks/run.py` from a checkout

import jax  # noqa: E402

from benchmarks.harness import Case, measure  # noqa: E402


def load_cases(quick: bool, only: str | None) -> list[Case]:
    cases = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases += [c for c in module.cases(quick) if only is None or only in c.name]
    return cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems, fewer repeats")
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--only", help="run only cases whose name contains this")
    args = parser.parse_args(argv)
    rows = []
    header = f"{'benchmark':<34} {'dphys':>10} {'baseline':<26} {'baseline':>10} {'ratio':>7} {'target':>7}"
    print(header)
    print("-" * len(header))
    for case in load_cases(args.quick, args.only):
        row = measure(case)
        rows.append(row)
        target = "" if row["target"] is None else f"<={row['target']:.2f}"
        print(f"{row['name']:<34} {row['dphys_s']:>9.4f}s {row['baseline']:<26} "
              f"{row['baseline_s']:>9.4f}s {row['ratio']:>7.2f} {target:>7}", flush=True)
    if args.out:
        meta = {"python": platform.python_version(), "jax": jax.__version__,
                "devices": [str(d) for d in jax.devices()], "quick": args.quick}
        Path(args.out).write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    missed = [r["name"] for r in rows if r["meets_target"] is False]
    if missed:
        print(f"missed target: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

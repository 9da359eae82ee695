"""Running a case's checks on one backend, in this process: the worker's whole job."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from harness.backends.base import NotApplicable
from harness.cases import Case
from harness.interpreter import Program


@dataclass
class Observation:
    """What one backend did for one check: ``ok`` with a value, ``error`` with an
    ``ErrorValue`` (a raised exception is an observation too), or ``n/a`` with the reason."""

    status: str  # "ok" | "error" | "n/a"
    value: Any = None
    reason: str = ""
    duration_s: float = 0.0


def observe_check(case: Case, check, backend) -> Observation:
    if check.kind in backend.ABSENT:
        return Observation("n/a", reason=backend.ABSENT[check.kind])
    program = Program(case, backend)
    start = time.perf_counter()
    try:
        result = getattr(backend, check.kind)(program, check)
        value = program.observe(result)
        if check.kind == "optimize" and isinstance(value, dict):
            # where each trajectory ends: what a document prints after its loop
            value["final"] = {k: v[-1] for k, v in value.items() if len(v)}
        return Observation("ok", value, duration_s=time.perf_counter() - start)
    except NotApplicable as exc:
        return Observation("n/a", reason=str(exc), duration_s=time.perf_counter() - start)
    except Exception as exc:  # a framework's exception is an observation, not a crash
        return Observation("error", backend.error_value(exc),
                           duration_s=time.perf_counter() - start)


def observe_case(case: Case, backend) -> dict[str, Observation]:
    return {cid: observe_check(case, check, backend)
            for cid, check in zip(case.check_ids, case.checks)}


def main(argv=None) -> int:
    """``python -m harness.execute FILE [CASE] [--framework F] [--mode M]``: print what one
    backend observes for a case, in this process (for writing cases and backends)."""
    import argparse
    import pprint

    from harness.backends import backend_class
    from harness.cases import load_file

    parser = argparse.ArgumentParser(prog="python -m harness.execute")
    parser.add_argument("file")
    parser.add_argument("case", nargs="?")
    parser.add_argument("--framework", default="reference")
    parser.add_argument("--mode")
    args = parser.parse_args(argv)
    loaded = load_file(args.file)
    for err in loaded.errors:
        print("error:", err)
    backend = backend_class(args.framework)(args.mode)
    for case in loaded.cases:
        if args.case and case.id != args.case:
            continue
        for cid, obs in observe_case(case, backend).items():
            print(f"{case.id}::{cid}[{backend.column}] {obs.status} {obs.reason}")
            pprint.pprint(obs.value, indent=2, width=100)
    return 1 if loaded.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

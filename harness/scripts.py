"""Running a check's script: the worker's whole job, and a user's too.

In the worker, ``run_script`` compiles the script a dialect rendered and runs it with
``observe`` bound to a collector. Run alone (``python script.py``), a script starts with the
two-line ``PRELUDE`` that binds ``observe`` to ``observer(framework)``: each observation
then prints as one JSON line ``{"name": ..., "value": ...}`` in the results file's value
encoding, and an exception that ends the script prints as the error observation the
report shows.
"""

from __future__ import annotations

import json
import linecache
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.dialects.base import strings_as_bytes
from harness.values import ErrorValue, encode, first_lines


@dataclass
class Observation:
    """What one column did for one check: ``ok`` with a value, ``error`` with an
    ``ErrorValue`` (a raised exception is an observation too), or ``n/a`` with the reason.
    ``script`` is what ran."""

    status: str  # "ok" | "error" | "n/a"
    value: Any = None
    reason: str = ""
    duration_s: float = 0.0
    script: str | None = None
    extra: dict = field(default_factory=dict)


def plain(value, dialect):
    """A script's value as plain data: NumPy arrays, bytes, None, lists and dicts; an
    exception as its ``ErrorValue``."""
    if isinstance(value, BaseException):
        return error_value(value, dialect)
    if value is None or isinstance(value, (bool, str, bytes, ErrorValue)):
        return value
    if isinstance(value, (int, float, np.generic, np.ndarray)):
        return strings_as_bytes(np.asarray(value))
    if isinstance(value, dict):
        return {k: plain(v, dialect) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, dialect) for v in value]
    return dialect.to_numpy(value)


def error_value(exc: BaseException, dialect) -> ErrorValue:
    """An exception as an observation: its category, type and first lines."""
    message = first_lines(exc) or repr(exc)
    return ErrorValue(dialect.classify(exc), type(exc).__name__, message)


def assemble(observed: dict, kind: str):
    """The check's observation from its named items: the item named after the check kind
    alone, else every item by name (an optimize check's trajectories gain ``final``)."""
    if set(observed) == {kind}:
        return observed[kind]
    value = dict(observed)
    if kind == "optimize":  # where each trajectory ends: what a document prints after its loop
        value["final"] = {k: v[-1] for k, v in observed.items() if len(v)}
    if kind == "trace":  # how many different values the calls gave
        value["distinct"] = len({repr(encode(o)) for o in value.get("outputs", [])
                                 if not isinstance(o, ErrorValue)})
    return value


def run_script(source: str, dialect, kind: str, filename: str) -> Observation:
    """Run a script in this process; its exception is the check's (error) observation."""
    observed: dict = {}

    def observe(name, value):
        observed[name] = plain(value, dialect)

    # the traceback of a failing script shows its lines
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__conformance__", "observe": observe}
    if dialect.FRESH:
        exec(dialect.FRESH, {})  # noqa: S102 - the dialect's own reset
    start = time.perf_counter()
    try:
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own rendering
        status, value = "ok", assemble(observed, kind)
    except Exception as exc:  # a framework's exception is an observation, not a crash
        status, value = "error", error_value(exc, dialect)
    finally:
        linecache.cache.pop(filename, None)
    return Observation(status, value, duration_s=time.perf_counter() - start, script=source)


# ---- run alone ------------------------------------------------------------------------------

PRELUDE = ("from harness.scripts import observer  # run alone: prints each observation as JSON\n"
           "observe = observer({framework!r}, {kind!r})\n")


def standalone(script: str, framework: str, kind: str) -> str:
    """The script as a user runs it: the prelude after its docstring."""
    first, _, rest = script.partition("\n")
    return first + "\n" + PRELUDE.format(framework=framework, kind=kind) + rest


def observer(framework: str, kind: str = ""):
    """``observe`` for a script run alone: print each observation as a JSON line, and an
    exception that ends the script as the error observation (named after the check kind)."""
    from harness.dialects import dialect

    d = dialect(framework)

    def observe(name, value):
        print(json.dumps({"name": name, "value": encode(plain(value, d))}), flush=True)

    def hook(exc_type, exc, tb):
        sys.__excepthook__(exc_type, exc, tb)
        if isinstance(exc, Exception):
            print(json.dumps({"name": kind or "error", "value": encode(error_value(exc, d))}),
                  flush=True)

    sys.excepthook = hook
    return observe


# ---- a check on one column --------------------------------------------------------------


def observe_check(case, check, check_id: str, dialect, mode: str) -> Observation:
    """Plan the check, render it in the column's dialect, and run the script."""
    from harness.dialects.base import NotApplicable
    from harness.plan import make_plan

    plan = make_plan(case, check, check_id)
    try:
        script = dialect.render(plan, mode)
    except NotApplicable as exc:
        return Observation("n/a", reason=str(exc))
    filename = f"<{case.id}::{check_id}[{dialect.column(mode)}]>"
    return run_script(script, dialect, check.kind, filename)

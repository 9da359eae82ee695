"""Generated programs as cases of the case language (dicts, YAML text, loaded ``Case``s)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import yaml

from harness.cases import load_file
from harness.explore.generate import Program

# The explorer's tolerances, per dtype of the observed value: a composition of up to four ops,
# differentiated up to three times, accumulates more rounding than one op. Stated in every
# written case (``tolerance``), so that ``conformance run`` judges with the same.
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-11)}


def tolerance_of(program: Program) -> tuple[float, float]:
    dtypes = {i.dtype for i in program.inputs}
    return TOLERANCES["float32"] if "float32" in dtypes else TOLERANCES["float64"]


def plain(value):
    """A value for YAML: floats (with .nan/.inf), nested lists, None, {error: ...}."""
    from harness.values import ErrorValue
    if isinstance(value, ErrorValue):
        return {"error": value.category}
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def check_dict(program: Program, k: int) -> tuple[str, dict]:
    spec = program.checks[k]
    target = program.target
    cid = f"{spec.kind}{spec.order if spec.kind == 'grad' else ''}"
    if spec.kind == "value":
        return cid, {"id": cid, "value": target}
    wrt = list(spec.wrt)
    if spec.kind == "grad":
        d = {"id": cid, "grad": program_grad_target(program), "wrt": wrt[0] if len(wrt) == 1 else wrt}
        if spec.order > 1:
            d["order"] = spec.order
        return cid, d
    if spec.kind == "jvp":
        tangents = [plain(np.ones(program.input(n).shape)) for n in wrt]
        return cid, {"id": cid, "jvp": target, "wrt": wrt, "tangents": tangents,
                     "mode": "forward"}
    return cid, {"id": cid, "jacobian": target, "wrt": wrt[0]}


def program_grad_target(program: Program) -> str:
    return "total" if dict(program.shapes).get(program.target, ()) != () else program.target


def case_dict(program: Program, case_id: str, checks=None, title=None) -> dict:
    """The program as a case: every check (or those of ``checks``, by index)."""
    inputs = {}
    wrt = {n for c in program.checks for n in c.wrt}
    for i in program.inputs:
        d = {"value": plain(i.array()), "dtype": i.dtype}
        if i.name in wrt and not i.dtype.startswith("int"):
            d["track"] = True
        inputs[i.name] = d
    text = program.text()
    if any(c.kind == "grad" for c in program.checks) and program_grad_target(program) == "total":
        text += f"\ntotal = sum({program.target})"
    rtol, atol = tolerance_of(program)
    out = []
    for k in (range(len(program.checks)) if checks is None else checks):
        _, d = check_dict(program, k)
        d["tolerance"] = {"rtol": rtol, "atol": atol,
                          "reason": "the explorer's tolerance for compositions of ops"}
        out.append(d)
    return {"id": case_id, "title": title or f"explored program {program.index}",
            "inputs": inputs, "program": text + "\n", "checks": out}


def dump(cases: list[dict], path: Path, header: str = "") -> None:
    text = yaml.safe_dump({"cases": cases}, sort_keys=False, width=100, allow_unicode=True)
    Path(path).write_text(header + text, encoding="utf-8")


def load_many(programs: list[tuple[str, dict]], workdir: Path, name: str):
    """Write case dicts to one file and load them back: valid ``Case``s by id, and the ids
    that failed validation."""
    path = Path(workdir) / f"{name}.yaml"
    dump([d for _, d in programs], path)
    got = load_file(path)
    valid = {c.id: c for c in got.cases}
    return path, valid


def isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


__all__ = ["case_dict", "dump", "load_many", "plain", "tolerance_of", "TOLERANCES", "tempfile"]

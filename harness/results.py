"""The results document of a run (``docs/results.md``), written as verdicts arrive."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from harness import __version__
from harness.cases import ABSENT
from harness.values import encode

SCHEMA_VERSION = 1


def environment(versions: dict[str, str], skipped: dict[str, str]) -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpu": _cpu(), "cores": os.cpu_count(),
            "harness": __version__, "frameworks": dict(versions),
            "skipped_frameworks": dict(skipped)}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def case_meta(case) -> dict:
    checks = []
    for cid, check in zip(case.check_ids, case.checks):
        entry = {"id": cid, "kind": check.kind, "summary": summary(check)}
        if check.expect is not ABSENT:  # absent: compared with the reference engine
            entry["expect"] = encode(check.expect)
        if check.claim is not ABSENT:
            entry["claim"] = encode(check.claim)
            entry["claim_note"] = check.claim_note
        if check.kind == "optimize":  # what a plot needs: the objective and the x axis
            o = check.optimize
            entry.update(loss=o.loss, params=o.params, steps=o.steps,
                         record_every=o.record_every, optimizer=o.optimizer.model_dump(),
                         fast_path=o.fast_path)
        if check.plot:
            entry["plot"] = check.plot
        if check.note:
            entry["note"] = check.note
        checks.append(entry)
    return {"title": case.title, "file": case.file, "line": case.line, "topic": case.topic,
            "covers": case.covers, "source": case.source, "program": case.text,
            "checks": checks}


def _names(x) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in x.items()) + "}"
    return "[" + ", ".join(x) + "]"


def summary(check) -> str:
    kind = check.kind
    if kind == "value":
        return f"value of {check.value}"
    if kind == "grad":
        order = {1: "", 2: "second ", 3: "third "}.get(check.order, f"order-{check.order} ")
        weights = " weighted" if check.weights is not None else ""
        return f"{order}d {_names(check.grad)} / d {_names(check.wrt)}{weights}"
    if kind in ("jvp", "jacobian"):
        return f"{kind} of {getattr(check, kind)} w.r.t. {_names(check.wrt)} ({check.mode} mode)"
    if kind == "backward_twice":
        return f"backward of {check.backward_twice} twice (retain_graph={check.retain_graph})"
    if kind == "attributes":
        return f"{', '.join(check.fields)} of {', '.join(check.attributes)}"
    if kind == "optimize":
        o = check.optimize
        fast = "; compiled in the eager columns too (fast_path)" if o.fast_path else ""
        return f"{o.optimizer.name} lr={o.optimizer.lr} on {o.loss}, {o.steps} steps{fast}"
    if kind == "trace":
        return f"trace {check.trace} over {len(check.calls)} calls"
    return kind.replace("_", " ")


class ResultsWriter:
    """Keeps the document in memory and rewrites the file atomically as rows arrive, so an
    interrupted run leaves a valid document with ``complete: false``."""

    def __init__(self, path, command: str, paths, label: str | None = None):
        self.path = Path(path) if path else None
        self.started = dt.datetime.now(dt.timezone.utc)
        self.doc = {"schema_version": SCHEMA_VERSION,
                    "run": {"started": self.started.isoformat(timespec="seconds"),
                            "finished": None, "duration_s": None, "complete": False,
                            "command": command, "paths": [str(p) for p in paths],
                            "label": label},
                    "environment": environment({}, {}), "cases": {}, "rows": []}

    def set_environment(self, versions, skipped) -> None:
        self.doc["environment"] = environment(versions, skipped)

    def add_cases(self, cases) -> None:
        for case in cases:
            self.doc["cases"][case.id] = case_meta(case)

    def add_rows(self, rows) -> None:
        self.doc["rows"].extend(rows)
        self.flush()

    def finish(self) -> dict:
        end = dt.datetime.now(dt.timezone.utc)
        self.doc["run"].update(finished=end.isoformat(timespec="seconds"),
                               duration_s=round((end - self.started).total_seconds(), 3),
                               complete=True)
        self.flush()
        return self.doc

    def flush(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.doc, f, indent=1, allow_nan=False, default=str)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a results file is for sharing
        os.replace(tmp, self.path)


def command_line() -> str:
    return " ".join(["conformance"] + sys.argv[1:])

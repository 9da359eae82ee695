"""Evaluating generated cases: in the runner's long-lived workers (one per framework, every
column, many programs per batch file), or in this process (tests: a planted column)."""

from __future__ import annotations

import threading
from pathlib import Path

from harness.dialects import FRAMEWORKS, installed
from harness.scripts import Observation, observe_check
from harness.worker import WorkerDied, WorkerHandle, crashed


class WorkerEvaluator:
    """The frameworks' workers, started once and kept for the whole exploration."""

    def __init__(self, frameworks, timeout: float = 120.0, memory_mb: float | None = 4096,
                 log_dir: Path | None = None):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.skipped: dict[str, str] = {}
        self.handles: dict[str, WorkerHandle] = {}
        for name in frameworks:
            ok, why = installed(name)
            if ok:
                self.handles[name] = WorkerHandle(name, log_dir, memory_mb=memory_mb)
            else:
                self.skipped[name] = why
        threads = [threading.Thread(target=_start, args=(h,)) for h in self.handles.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, h in list(self.handles.items()):
            if h.unavailable:
                self.skipped[name] = h.unavailable
                del self.handles[name]
        self.versions = {n: h.version for n, h in self.handles.items()}
        self.column_s: dict[str, float] = {}  # seconds the column's scripts ran
        self.column_programs: dict[str, int] = {}
        self.columns = [c for n in frameworks if n in self.handles for c in FRAMEWORKS[n].columns()]

    def evaluate(self, path: Path, cases: dict) -> dict:
        """``{case_id: {column: {check_id: Observation}}}`` for the loaded ``cases``."""
        out = {cid: {} for cid in cases}
        lock = threading.Lock()

        def work(name, handle):
            for cid, case in cases.items():
                try:
                    observed, _ = handle.run_case(str(path), cid, self.timeout, self.memory_mb)
                except WorkerDied as died:
                    observed = crashed(case, FRAMEWORKS[name].columns(), str(died))
                with lock:
                    out[cid].update(observed)
                    for column, checks in observed.items():
                        self.column_s[column] = self.column_s.get(column, 0.0) + sum(
                            o.duration_s for o in checks.values())
                        self.column_programs[column] = self.column_programs.get(column, 0) + 1

        threads = [threading.Thread(target=work, args=item, daemon=True)
                   for item in self.handles.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    def close(self):
        for h in self.handles.values():
            h.stop()


class InProcessEvaluator:
    """Columns run here, each a ``(dialect, mode)``: fast, and open to a planted dialect."""

    def __init__(self, columns: dict):
        self.spellings = columns
        self.columns = list(columns)
        self.versions = {c: "in-process" for c in columns}
        self.skipped = {}

    def evaluate(self, path, cases: dict) -> dict:
        out = {}
        for cid, case in cases.items():
            out[cid] = {}
            for column, (spelling, mode) in self.spellings.items():
                out[cid][column] = {k: _safe(case, check, k, spelling, mode)
                                    for k, check in zip(case.check_ids, case.checks)}
        return out

    def close(self):
        pass


def _safe(case, check, cid, spelling, mode) -> Observation:
    try:
        obs = observe_check(case, check, cid, spelling, mode)
    except Exception as exc:  # a rendering bug is an error observation, not a crash
        from harness.values import ErrorValue
        return Observation("error", ErrorValue("crashed", type(exc).__name__, str(exc)))
    obs.script = None
    return obs


def _start(handle):
    try:
        handle.start()
    except Exception as exc:
        handle.unavailable = f"the {handle.framework} worker could not start: {exc}"

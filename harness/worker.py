"""A framework's long-lived worker process, and the handle the runner holds on it.

Each framework runs in its own process: its import happens once per run, its log noise goes
to a file, and a crash (segfault, abort, out of memory) costs the case it was running, not
the run: the handle notices the death, names the signal, and starts a fresh worker.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from harness.scripts import Observation
from harness.values import ErrorValue


class WorkerDied(Exception):
    pass


def serve(framework: str, conn, log_path: str | None) -> None:
    """The worker's loop: receive ``(file, case_id)``, answer with observations per column."""
    if log_path:  # frameworks print to fds 1 and 2 from C++ too: redirect the descriptors
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from harness.cases import load_file
        from harness.dialects import dialect
        from harness.scripts import observe_check, standalone

        spelling = dialect(framework)
        conn.send(("ready", spelling.version()))  # imports the framework, once
    except BaseException as exc:  # an import that fails is a skipped framework, with why
        conn.send(("unavailable", f"{type(exc).__name__}: {exc}"))
        return
    cases: dict = {}
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        file, case_id = request
        try:
            if file not in cases:
                cases[file] = {c.id: c for c in load_file(file).cases}
            case = cases[file][case_id]
            observed, repros = {}, {}
            for mode in spelling.modes:
                column = spelling.column(mode)
                observed[column] = {}
                for cid, check in zip(case.check_ids, case.checks):
                    obs = observe_check(case, check, cid, spelling, mode)
                    if obs.script:  # the script that ran, as a user runs it alone
                        repros[(column, cid)] = standalone(obs.script, framework, check.kind)
                        obs.script = None
                    observed[column][cid] = obs
            conn.send(("done", observed, repros))
        except BaseException:  # a bug in the harness: say so, keep serving
            conn.send(("failed", traceback.format_exc()))


class WorkerHandle:
    """The runner's side of a worker: start, ask, notice a death, restart."""

    def __init__(self, framework: str, log_dir: Path | None = None, start_timeout=300.0):
        self.framework = framework
        self.log_path = str(log_dir / f"{framework}.log") if log_dir else os.devnull
        self.start_timeout = start_timeout
        self.context = mp.get_context("spawn")
        self.process = None
        self.conn = None
        self.version = None
        self.unavailable = None

    def start(self) -> None:
        parent, child = self.context.Pipe()
        self.process = self.context.Process(target=serve, name=f"conformance-{self.framework}",
                                            args=(self.framework, child, self.log_path),
                                            daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        message = self._receive(self.start_timeout, "starting")
        if message[0] == "ready":
            self.version = message[1]
        else:
            self.unavailable = message[1]
            self.stop()

    def run_case(self, file: str, case_id: str, timeout: float):
        """Observations ``{column: {check_id: Observation}}`` and repro scripts; raises
        ``WorkerDied`` (with the signal or the time limit) after restarting the worker."""
        if self.process is None or not self.process.is_alive():
            self.start()
        self.conn.send((str(file), case_id))
        try:
            message = self._receive(timeout, f"running {case_id}")
        except WorkerDied:
            self.stop()
            raise
        if message[0] == "failed":
            raise WorkerDied(f"harness error in the worker:\n{message[1]}")
        return message[1], message[2]

    def _receive(self, timeout: float, doing: str):
        deadline = time.monotonic() + timeout
        while True:
            if self.conn.poll(0.05):
                try:
                    return self.conn.recv()
                except (EOFError, OSError):
                    pass  # the pipe closed: the process died; name how below
            if not self.process.is_alive() or self.conn.closed:
                self.process.join(1)
                raise WorkerDied(f"the {self.framework} worker died while {doing}: "
                                 f"{exit_reason(self.process.exitcode)}")
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.join(5)
                raise WorkerDied(f"the {self.framework} worker exceeded the time limit of "
                                 f"{timeout:g} s while {doing}, and was killed")

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            self.process.join(2)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(2)
        self.process = None


def exit_reason(code) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def crashed(case, columns: list[str], reason: str) -> dict[str, dict[str, Observation]]:
    """Observations standing in for a case whose worker died: an error on every check."""
    error = ErrorValue("crashed", "WorkerDied", reason)
    return {column: {cid: Observation("error", error) for cid in case.check_ids}
            for column in columns}


if __name__ == "__main__":  # pragma: no cover - spawned via multiprocessing, not run directly
    sys.exit("harness.worker is started by the runner")

"""A framework's long-lived worker process, and the handle the runner holds on it.

Each framework runs in its own process: its import happens once per run, its log noise goes
to a file, and a crash (segfault, abort, out of memory) costs the case it was running, not
the run: the handle notices the death, names the signal, and starts a fresh worker.
"""

from __future__ import annotations

import math
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
    """The worker could not answer: it died (``signal`` names the signal that killed it, if
    one did), ran past its time or memory limit, or hit a bug in the harness."""

    def __init__(self, message: str, signal: str | None = None):
        super().__init__(message)
        self.signal = signal


# Test-only fault injection: CONFORMANCE_FAULT="case-id:kind[,case-id:kind...]" makes the
# worker misbehave when it is asked for that case, before running it; kind is sigkill,
# sigsegv, hang or oom. The fault tests (tests/test_faults.py) use it; nothing else sets it.
FAULT_ENV = "CONFORMANCE_FAULT"


def _inject_fault(case_id: str) -> None:
    for item in os.environ.get(FAULT_ENV, "").split(","):
        target, _, kind = item.partition(":")
        if target != case_id:
            continue
        if kind == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif kind == "sigsegv":
            import ctypes
            ctypes.string_at(0)  # a real segmentation fault: read address 0
        elif kind == "hang":
            while True:
                time.sleep(1)
        elif kind == "oom":  # grow, touching every page, until the watchdog kills us
            hoard = []
            for _ in range(32):  # at most 32 x 128 MiB: bounded even if nothing stops it
                hoard.append(b"\x01" * (128 << 20))  # written, so resident
                time.sleep(0.02)


def serve(framework: str, conn, log_path: str | None, mode: str | None = None) -> None:
    """The worker's loop: receive ``(file, case_id)``, answer with observations per column.
    ``mode``: this worker runs that mode alone, with the framework's ``mode_env`` set to it
    before anything imports the framework (Keras: ``KERAS_BACKEND``)."""
    if log_path:  # frameworks print to fds 1 and 2 from C++ too: redirect the descriptors
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    # Ctrl-C reaches the whole process group: the runner stops the workers itself, and a
    # worker interrupted mid-case must not report the interruption as the case's result.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from harness.cases import load_file
        from harness.dialects import FRAMEWORKS, dialect
        if mode is not None:
            os.environ[FRAMEWORKS[framework].mode_env] = mode
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
            _inject_fault(case_id)
            if file not in cases:
                cases[file] = {c.id: c for c in load_file(file).cases}
            case = cases[file][case_id]
            observed, repros = {}, {}
            for m in spelling.modes if mode is None else (mode,):
                column = spelling.column(m)
                observed[column] = {}
                for cid, check in zip(case.check_ids, case.checks):
                    obs = observe_check(case, check, cid, spelling, m)
                    if obs.script:  # the script that ran, as a user runs it alone
                        repros[(column, cid)] = standalone(obs.script, framework, check.kind)
                        obs.script = None
                    observed[column][cid] = obs
            conn.send(("done", observed, repros))
        except BaseException as exc:  # a bug in the harness: say so, keep serving
            # first line: what happened, then the traceback
            conn.send(("failed", f"{one_line(exc)}\n{traceback.format_exc()}"))


class WorkerHandle:
    """The runner's side of a worker: start, ask, notice a death, restart."""

    def __init__(self, framework: str, log_dir: Path | None = None, start_timeout=300.0,
                 memory_mb: float | None = None, mode: str | None = None):
        self.framework = framework
        self.mode = mode  # None: every mode of the framework; else this mode alone
        self.key = framework if mode is None else f"{framework}[{mode}]"
        self.memory_mb = memory_mb  # resident memory limit (None: none)
        self.peak_mb = 0.0  # the most resident memory seen while the current request ran
        self.log_path = str(log_dir / f"{self.key}.log") if log_dir else os.devnull
        self.start_timeout = start_timeout
        self.context = mp.get_context("spawn")
        self.process = None
        self.conn = None
        self.version = None
        self.unavailable = None

    def start(self) -> None:
        parent, child = self.context.Pipe()
        self.process = self.context.Process(target=serve, name=f"conformance-{self.key}",
                                            args=(self.framework, child, self.log_path,
                                                  self.mode),
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

    def run_case(self, file: str, case_id: str, timeout: float, memory_mb: float | None = None):
        """Observations ``{column: {check_id: Observation}}`` and repro scripts; raises
        ``WorkerDied`` (with the signal, the time or the memory limit) after stopping the
        worker (the next case starts a fresh one)."""
        if self.process is None or not self.process.is_alive():
            self.start()
        self.conn.send((str(file), case_id))
        try:
            message = self._receive(timeout, f"running {case_id}", memory_mb or self.memory_mb)
        except WorkerDied:
            self.stop()
            raise
        if message[0] == "failed":
            raise WorkerDied(f"harness error in the {self.framework} worker while running "
                             f"{case_id}: {message[1]}")
        return message[1], message[2]

    def _receive(self, timeout: float, doing: str, memory_mb: float | None = None):
        # The memory limit is a watchdog on the worker's resident memory, not an rlimit.
        # RLIMIT_AS counts address space, not memory: warm workers here map 0.2 to 1.7 GiB
        # for 0.05 to 0.7 GiB resident (TensorFlow and JAX the most), a gap that grows with
        # cores (a stack per thread) and with a GPU (CUDA reserves its whole address
        # space), so one value does not suit every framework; and an allocation refused by
        # an rlimit fails inside C++ (an abort, or an error) without naming the limit.
        # Resident memory is what takes a machine down, and it reads the same everywhere.
        deadline = time.monotonic() + timeout
        self.peak_mb = 0.0
        while True:
            if self.conn.poll(0.05):
                try:
                    return self.conn.recv()
                except (EOFError, OSError):
                    pass  # the pipe closed: the process died; name how below
            if not self.process.is_alive() or self.conn.closed:
                self.process.join(1)
                code = self.process.exitcode
                memory = f" (its resident memory had reached {self.peak_mb:,.0f} MiB)" \
                    if self.peak_mb else ""
                raise WorkerDied(f"the {self.framework} worker died while {doing}: "
                                 f"{exit_reason(code)}{memory}", _signal_name(code))
            rss = rss_mb(self.process.pid)
            if rss is not None:
                self.peak_mb = max(self.peak_mb, rss)
            if memory_mb and rss is not None and rss > memory_mb:
                self.process.kill()
                self.process.join(5)
                raise WorkerDied(f"the {self.framework} worker used {math.ceil(rss):,} MiB of "
                                 f"memory, over the memory limit of {memory_mb:,.0f} MiB, while "
                                 f"{doing}, and was killed")
            if time.monotonic() > deadline:
                self.process.kill()
                self.process.join(5)
                raise WorkerDied(f"the {self.framework} worker exceeded the time limit of "
                                 f"{timeout:g} s while {doing}, and was killed")

    def stop(self) -> None:
        # The runner's thread for this worker and the main thread (stopping the run) may
        # both stop it: each works on the process it took, never on a None left by the other.
        process, self.process = self.process, None
        if process is not None and process.is_alive():
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(2)


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception as one line that says something: ``Type: message`` (or ``Type (no
    message)``), whitespace and line breaks folded."""
    text = " ".join(str(exc).split())
    what = f"{type(exc).__name__}: {text}" if text else f"{type(exc).__name__} (no message)"
    return what if len(what) <= limit else what[:limit - 3] + "..."


def rss_mb(pid: int) -> float | None:
    """A process's resident memory in MiB (Linux ``/proc``; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _signal_name(code) -> str | None:
    if code is None or code >= 0:
        return None
    try:
        return signal.Signals(-code).name
    except ValueError:
        return str(-code)


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

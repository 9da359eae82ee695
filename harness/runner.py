"""A run: cases on every selected framework, each in its own worker, verdicts as they come.

Frameworks run concurrently (at most ``jobs`` cases at a time); a case's verdicts are judged
once every framework has observed it, and written to the results file at once.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness import limits
from harness.cases import Case
from harness.dialects import DEFAULT_FRAMEWORKS, FRAMEWORKS, installed
from harness.results import ResultsWriter
from harness.verdicts import judge_case
from harness.worker import WorkerDied, WorkerHandle, crashed, one_line


@dataclass
class RunOptions:
    frameworks: list[str] = field(default_factory=lambda: list(DEFAULT_FRAMEWORKS))
    jobs: int = 0  # 0: the number of cores
    timeout: float = limits.DEFAULT_TIMEOUT_S  # per case and framework, seconds
    memory_mb: float | None = limits.DEFAULT_MEMORY_MB  # per framework worker (None: none)
    log_dir: Path | None = None


class RunInterrupted(Exception):
    """The run was stopped from outside (SIGINT or SIGTERM, to the runner or a worker): the
    cases judged so far are in the results file, the case in flight is not."""

    def __init__(self, signal: str):
        super().__init__(f"interrupted by {signal}")
        self.signal = signal


@dataclass
class RunEvents:
    """Callbacks for a front end (the CLI's progress bar, the pytest plugin)."""
    started: Callable[[dict, dict], None] = lambda versions, skipped: None
    case_done: Callable[[Case, list[dict]], None] = lambda case, rows: None
    framework_case_done: Callable[[str, Case], None] = lambda framework, case: None


class FairSlots:
    """At most ``n`` holders at a time, served in the order they asked. A worker that has
    finished a case and asks again queues behind the others, so with fewer slots than
    workers each framework advances in turn (``threading.Semaphore`` is not fair: the thread
    that releases can take the slot straight back and starve the rest, and with them the
    verdicts, which wait for every framework)."""

    def __init__(self, n: int):
        self._free, self._lock, self._waiting = n, threading.Lock(), deque()

    def __enter__(self):
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return self
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the releasing holder hands its slot over
        return self

    def __exit__(self, *exc):
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


def run_cases(cases: list[Case], options: RunOptions, writer: ResultsWriter | None = None,
              events: RunEvents | None = None) -> list[dict]:
    handles: dict[str, WorkerHandle] = {}
    stopping = threading.Event()
    try:
        return _run_cases(cases, options, writer, events, handles, stopping)
    finally:  # however it ends (an interruption while the workers start, too): stop them
        stopping.set()
        for handle in list(handles.values()):
            handle.stop()


def _run_cases(cases, options, writer, events, handles, stopping) -> list[dict]:
    events = events or RunEvents()
    jobs = options.jobs or os.cpu_count() or 1
    skipped: dict[str, str] = {}
    wanted = []
    for name in options.frameworks:
        ok, why = installed(name)
        if ok:
            wanted.append(name)
        else:
            skipped[name] = why
    # one worker per framework, or per mode where a mode is fixed at import (Keras)
    handles.update({key: WorkerHandle(name, options.log_dir, memory_mb=options.memory_mb,
                                      mode=mode)
                    for name in wanted for key, mode in FRAMEWORKS[name].workers()})
    if options.log_dir:
        Path(options.log_dir).mkdir(parents=True, exist_ok=True)

    # Start the workers side by side: imports are the slow part of a short run.
    starters = [threading.Thread(target=_start, args=(h,)) for h in handles.values()]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    versions = {}
    for key, handle in list(handles.items()):
        if handle.unavailable:  # a framework, or one column of a per-mode framework
            skipped[key] = handle.unavailable
            del handles[key]
        else:
            versions[handle.framework] = handle.version
    columns = [c for name in options.frameworks for c in FRAMEWORKS[name].columns()
               if name in FRAMEWORKS]
    if writer:
        writer.set_environment(versions, skipped)
        writer.add_cases(cases)
    events.started(versions, skipped)

    slots = FairSlots(jobs)
    done: queue.Queue = queue.Queue()

    def work(name: str, handle: WorkerHandle):
        columns_here = FRAMEWORKS[handle.framework].worker_columns(handle.mode)
        for case in cases:
            if stopping.is_set():
                return
            with slots:
                if stopping.is_set():
                    return
                try:
                    observed, repros = handle.run_case(
                        case.file, case.id, case.timeout(options.timeout),
                        case.memory_mb(options.memory_mb) if options.memory_mb else None)
                except WorkerDied as died:
                    if died.signal in ("SIGINT", "SIGTERM"):  # someone is stopping the run
                        done.put((name, case, RunInterrupted(died.signal), None))
                        return
                    observed, repros = crashed(case, columns_here, str(died)), {}
                except Exception as exc:
                    if stopping.is_set():  # the run is stopping: the handles are closed
                        return
                    # never leave the run waiting for this case: it is an error, named
                    observed, repros = crashed(case, columns_here,
                                               f"harness error in the runner while running "
                                               f"{case.id} on {name}: {one_line(exc)}"), {}
            done.put((name, case, observed, repros))

    threads = [threading.Thread(target=work, args=item, daemon=True)
               for item in handles.items()]
    for t in threads:
        t.start()
    pending = {case.id: {} for case in cases}
    scripts: dict[str, dict] = {case.id: {} for case in cases}
    all_rows = []
    try:
        for _ in range(len(cases) * len(handles)):
            name, case, observed, repros = done.get()
            if isinstance(observed, RunInterrupted):
                raise observed
            pending[case.id].update(observed)
            scripts[case.id].update(repros)
            events.framework_case_done(name, case)
            if len({c for c in pending[case.id]}) == sum(
                    len(FRAMEWORKS[h.framework].worker_columns(h.mode)) for h in handles.values()):
                rows = judge_case(case, pending.pop(case.id), versions, skipped, columns,
                                  scripts.pop(case.id))
                all_rows += rows
                if writer:
                    writer.add_rows(rows)
                events.case_done(case, rows)
        # frameworks that could not run at all still owe their rows
        if not handles:
            for case in cases:
                rows = judge_case(case, {}, versions, skipped, columns)
                all_rows += rows
                if writer:
                    writer.add_rows(rows)
                events.case_done(case, rows)
    finally:
        stopping.set()
        for handle in handles.values():
            handle.stop()
    return all_rows


def _start(handle: WorkerHandle) -> None:
    try:
        handle.start()
    except WorkerDied as died:
        handle.unavailable = str(died)
    except Exception as exc:  # a worker that cannot even be started: skipped, with why
        handle.unavailable = f"the {handle.framework} worker could not start: {one_line(exc)}"

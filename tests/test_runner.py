"""The runner: workers in their own processes; a dead or hung worker costs one case."""

import multiprocessing as mp
import os
import signal
import threading
import time

from harness.cases import load_file
from harness.results import ResultsWriter
from harness.runner import FairSlots, RunOptions, run_cases

CASES = """
cases:
  - id: quick-before
    title: A quick case
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y = x * x
    checks:
      - grad: y
        wrt: [x]
        expect: [6.0]
  - id: slow
    title: A case slow enough to be killed while it runs
    limits: {loop_steps: 200000, reason: "slow on purpose: the tests stop it mid-run"}
    inputs:
      x: {value: 0.0, kind: variable}
    program: |
      y = (x - 1) ** 2
    checks:
      - optimize:
          loss: y
          params: [x]
          optimizer: {name: sgd, lr: 0.0001}
          steps: 200000
          record_every: 100000
  - id: quick-after
    title: Another quick case
    inputs:
      x: {value: 2.0, track: true}
    program: |
      y = x ** 3
    checks:
      - grad: y
        wrt: [x]
        expect: [12.0]
"""


def _statuses(rows):
    return {r["case"]: r["status"] for r in rows}


def _kill_worker_when_busy(sig, delay=2.0):
    """Kill the (only) worker process some time after it started: mid-case."""
    def killer():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = [p for p in mp.active_children() if p.name.startswith("conformance-")]
            if children:
                time.sleep(delay)
                os.kill(children[0].pid, sig)
                return
            time.sleep(0.05)
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_a_worker_killed_mid_run_costs_one_case(write_case, tmp_path):
    cases = load_file(write_case(CASES)).cases
    _kill_worker_when_busy(signal.SIGKILL)
    rows = run_cases(cases, RunOptions(frameworks=["reference"], jobs=1))
    status = _statuses(rows)
    assert status == {"quick-before": "pass", "slow": "error", "quick-after": "pass"}
    slow = next(r for r in rows if r["case"] == "slow")
    assert "SIGKILL" in slow["observed"]["message"]


def test_a_case_over_its_time_limit_is_killed_and_the_run_goes_on(write_case):
    cases = load_file(write_case(CASES)).cases
    rows = run_cases(cases, RunOptions(frameworks=["reference"], jobs=1, timeout=3))
    assert _statuses(rows) == {"quick-before": "pass", "slow": "error", "quick-after": "pass"}
    slow = next(r for r in rows if r["case"] == "slow")
    assert "time limit" in slow["observed"]["message"]


def test_a_missing_framework_is_skipped_with_the_reason(write_case, monkeypatch):
    import harness.runner as runner
    monkeypatch.setattr(runner, "installed", lambda name: (name == "reference",
                                                           f"{name} is not installed"))
    cases = load_file(write_case(CASES)).cases[:1]
    rows = run_cases(cases, RunOptions(frameworks=["reference", "jax"], jobs=1))
    by_backend = {r["backend"]: r for r in rows}
    assert by_backend["reference"]["status"] == "pass"
    assert by_backend["jax"]["status"] == by_backend["jax[jit]"]["status"] == "skipped"
    assert by_backend["jax"]["message"] == "jax is not installed"


def test_results_are_written_as_they_arrive(write_case, tmp_path):
    import json
    cases = load_file(write_case(CASES)).cases
    cases = [c for c in cases if c.id != "slow"]
    path = tmp_path / "results.json"
    writer = ResultsWriter(path, "conformance run", ["cases"])
    seen = []
    from harness.runner import RunEvents
    events = RunEvents(case_done=lambda case, rows: seen.append(
        len(json.loads(path.read_text())["rows"])))
    run_cases(cases, RunOptions(frameworks=["reference"], jobs=1), writer, events)
    assert seen == [1, 2]  # the file held each case's rows as soon as it was judged
    doc = json.loads(path.read_text())
    assert doc["run"]["complete"] is False  # until finish()
    assert doc["environment"]["frameworks"]["reference"]
    writer.finish()
    assert json.loads(path.read_text())["run"]["complete"] is True


def test_with_fewer_slots_than_workers_each_worker_takes_its_turn():
    slots, order, ready = FairSlots(1), [], threading.Barrier(3)

    def worker(name):
        ready.wait()
        for _ in range(4):
            with slots:
                order.append(name)
                time.sleep(0.01)  # a case's work: the others queue meanwhile

    threads = [threading.Thread(target=worker, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join()
    # after the first turn, the slot alternates: neither worker runs two cases in a row
    assert all(x != y for x, y in zip(order[1:], order[2:])), order

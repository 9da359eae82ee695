"""Faults inside a worker, mid-case, cost exactly that case's rows and name the cause; an
interrupted run leaves a valid results file that ``--resume`` completes.

The faults are injected with the worker's test-only hook: CONFORMANCE_FAULT="case:kind"
makes the worker kill itself, segfault, hang or allocate without end when it is asked for
that case (harness/worker.py, ``_inject_fault``). The reference framework keeps it quick.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cases import load_file
from harness.runner import RunOptions, run_cases
from harness.worker import FAULT_ENV

CASES = """
cases:
  - id: before
    title: A case before the fault
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y = x * x
    checks:
      - grad: y
        wrt: [x]
        expect: [6.0]
      - value: y
        expect: 9.0
  - id: victim
    title: The case whose worker the fault hits
    inputs:
      x: {value: 2.0, track: true}
    program: |
      y = x ** 3
    checks:
      - grad: y
        wrt: [x]
        expect: [12.0]
      - value: y
        expect: 8.0
  - id: after
    title: A case after the fault, in a fresh worker
    inputs:
      x: {value: [1.0, 2.0], track: true}
    program: |
      y = sum(x * x)
    checks:
      - grad: y
        wrt: [x]
        expect: [[2.0, 4.0]]
"""

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind, cause, options", [
    ("sigkill", "killed by signal SIGKILL", {}),
    ("sigsegv", "killed by signal SIGSEGV", {}),
    ("hang", "exceeded the time limit of 3 s", {"timeout": 3}),
    ("oom", "over the memory limit of 600 MiB", {"memory_mb": 600}),
])
def test_a_fault_mid_case_costs_exactly_that_case(write_case, monkeypatch, kind, cause, options):
    cases = load_file(write_case(CASES)).cases
    monkeypatch.setenv(FAULT_ENV, f"victim:{kind}")
    start = time.monotonic()
    rows = run_cases(cases, RunOptions(frameworks=["reference"], jobs=1, **options))
    elapsed = time.monotonic() - start
    by_case = {}
    for r in rows:
        by_case.setdefault(r["case"], []).append(r)
    assert [r["status"] for r in by_case["before"]] == ["pass", "pass"]
    assert [r["status"] for r in by_case["after"]] == ["pass"]
    victim = by_case["victim"]
    assert [r["status"] for r in victim] == ["error", "error"]  # every check of the case
    for r in victim:
        assert cause in r["message"], r["message"]
        assert "victim" in r["message"]  # where: the case (the row names check and column)
        assert cause in r["observed"]["message"]
    assert elapsed < 60, elapsed


def test_a_harness_error_in_the_worker_says_what_happened(write_case, tmp_path):
    # a case file that changed after it was validated (the worker reads it again): the
    # error names the case and the exception, never an empty "harness error:"
    path = write_case(CASES)
    cases = load_file(path).cases
    path.write_text(CASES.replace("id: victim", "id: renamed"))
    rows = run_cases(cases, RunOptions(frameworks=["reference"], jobs=1))
    victim = [r for r in rows if r["case"] == "victim"]
    assert {r["status"] for r in victim} == {"error"}
    message = victim[0]["message"]
    assert "harness error in the reference worker while running victim: KeyError: 'victim'" \
        in message, message


def _cli(args, env=None, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def _rows(doc):
    return [{k: v for k, v in r.items() if k != "duration_s"} for r in doc["rows"]]


@pytest.mark.parametrize("sig, hung", [(signal.SIGINT, "victim"), (signal.SIGTERM, "victim"),
                                       (signal.SIGTERM, "before")])
def test_an_interrupted_run_leaves_a_file_that_resume_completes(write_case, tmp_path, sig, hung):
    path = write_case(CASES)
    common = [str(path), "--frameworks", "reference", "--jobs", "1", "--log-dir",
              str(tmp_path / "logs")]
    full = tmp_path / "full.json"
    assert _cli(common + ["--json", str(full)]).wait(120) == 0

    out = tmp_path / "interrupted.json"
    # a case hangs: the run is interrupted while it is mid-case, the cases before it judged
    proc = _cli(common + ["--json", str(out)], env={FAULT_ENV: f"{hung}:hang"},
                start_new_session=True)
    judged = ["before"] if hung == "victim" else []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and len(json.loads(out.read_text())["rows"]) == 2 * len(judged):
            break
        time.sleep(0.1)
    time.sleep(3)  # the worker is in the hung case (its start takes about a second)
    os.killpg(proc.pid, sig)  # as Ctrl-C or a CI job's cancel: the runner and its workers
    want = 130 if sig == signal.SIGINT else 143
    code = proc.wait(60)
    stderr = proc.stderr.read()
    assert code == want, stderr
    assert "Traceback" not in stderr
    assert f"conformance run --resume {out}" in stderr
    doc = json.loads(out.read_text())  # valid JSON
    assert doc["run"]["complete"] is False
    assert {r["case"] for r in doc["rows"]} == set(judged)  # nothing from the interruption

    resumed = _cli(["--resume", str(out), "--log-dir", str(tmp_path / "logs")])
    assert resumed.wait(120) == 0, resumed.stderr.read()
    assert f"{len(judged)} cases done, {3 - len(judged)} to run" in resumed.stderr.read()
    doc = json.loads(out.read_text())
    assert doc["run"]["complete"] is True and len(doc["run"]["resumed"]) == 1
    assert _rows(doc) == _rows(json.loads(full.read_text()))
    assert doc["cases"] == json.loads(full.read_text())["cases"]


def test_an_unexpected_error_in_the_runner_costs_its_case_not_the_run(write_case, monkeypatch):
    # a bug on the runner's side of a worker (not in the worker): the case is an error that
    # says what happened, on one line, and the run neither hangs nor loses the other cases
    from harness.worker import WorkerHandle
    real = WorkerHandle.run_case

    def run_case(self, file, case_id, *args, **kwargs):
        if case_id == "victim":
            raise RuntimeError("\n    a message that starts\n    on its second line\n")
        return real(self, file, case_id, *args, **kwargs)

    monkeypatch.setattr(WorkerHandle, "run_case", run_case)
    rows = run_cases(load_file(write_case(CASES)).cases, RunOptions(frameworks=["reference"],
                                                                    jobs=1))
    status = {(r["case"], r["check"]): r["status"] for r in rows}
    assert [s for (case, _), s in status.items() if case != "victim"] == ["pass"] * 3
    victim = [r for r in rows if r["case"] == "victim"]
    assert {r["status"] for r in victim} == {"error"}
    assert ("harness error in the runner while running victim on reference: RuntimeError: a "
            "message that starts on its second line") in victim[0]["message"]

"""Verdicts: expected values first, the reference otherwise, declared divergences as data."""

import numpy as np

from harness.cases import load_file
from harness.scripts import Observation
from harness.values import ErrorValue
from harness.verdicts import applies, judge_case

CASE = """
cases:
  - id: unconnected
    title: An input the output does not depend on
    inputs:
      x: {value: 2.0, track: true}
      z: {value: 5.0, track: true}
    program: |
      y = x * x
    checks:
      - grad: y
        wrt: [x, z]
        expect: [4.0, null]
        diverges:
          jax: {reason: "JAX gives zeros", evidence: "https://jax.readthedocs.io", expect: [4.0, 0.0]}
          torch:
            reason: "PyTorch raises unless allow_unused"
            evidence: "https://pytorch.org/docs/stable/generated/torch.autograd.grad.html"
            expect: {error: unused_input}
      - value: y
"""

COLUMNS = ["reference", "torch", "jax", "jax[jit]", "tensorflow"]


def ok(value):
    return Observation("ok", value)


def rows_for(write_case, observations, versions=None, skipped=None):
    (case,) = load_file(write_case(CASE)).cases
    rows = judge_case(case, observations, versions or {}, skipped or {}, COLUMNS)
    return {(r["check"], r["backend"]): r for r in rows}


def test_statuses_follow_expectations_and_declarations(write_case):
    f = np.float32
    grad = {"reference": ok([f(4.0), None]),
            "torch": Observation("error", ErrorValue("unused_input", "RuntimeError", "...")),
            "jax": ok([f(4.0), f(0.0)]),
            "jax[jit]": ok([f(4.0), None]),       # conforms although declared: stale
            "tensorflow": ok([f(4.0), f(1.0)])}   # differs, nothing declared
    value = {c: ok(f(4.0)) for c in COLUMNS}
    value["tensorflow"] = ok(f(5.0))
    obs = {c: {"grad-y": grad[c], "value-y": value[c]} for c in COLUMNS}
    rows = rows_for(write_case, obs)
    assert rows["grad-y", "reference"]["status"] == "pass"
    assert rows["grad-y", "torch"]["status"] == "divergence"
    assert rows["grad-y", "jax"]["status"] == "divergence"
    assert rows["grad-y", "jax[jit]"]["status"] == "fixed"
    assert rows["grad-y", "tensorflow"]["status"] == "fail"
    # no expectation: compared with the reference engine
    assert rows["value-y", "torch"]["status"] == "pass"
    assert rows["value-y", "torch"]["compared_with"] == "reference"
    assert rows["value-y", "tensorflow"]["status"] == "fail"
    assert "differs from reference" in rows["value-y", "tensorflow"]["message"]


def test_an_unexpected_exception_is_an_error_and_a_declared_one_must_match(write_case):
    boom = Observation("error", ErrorValue("raised", "ValueError", "boom"))
    obs = {c: {"grad-y": boom, "value-y": boom} for c in COLUMNS}
    rows = rows_for(write_case, obs)
    assert rows["value-y", "tensorflow"]["status"] == "error"
    # torch declares unused_input; a different error is not that divergence
    assert rows["grad-y", "torch"]["status"] == "error"
    assert "declared divergence" in rows["grad-y", "torch"]["message"]


def test_na_and_skipped(write_case):
    na = Observation("n/a", reason="no tape")
    obs = {c: {"grad-y": na, "value-y": na} for c in COLUMNS if c != "tensorflow"}
    rows = rows_for(write_case, obs, skipped={"tensorflow": "not installed"})
    assert rows["grad-y", "torch"]["status"] == "n/a"
    assert rows["grad-y", "tensorflow"]["status"] == "skipped"
    assert rows["grad-y", "tensorflow"]["message"] == "not installed"


def test_version_ranges():
    assert applies("<2.18", "2.16.1")
    assert not applies("<2.18", "2.21.0")
    assert applies(">=2.13", "2.13.0+cpu")
    assert applies(None, "1.0")


def test_a_frameworks_first_column_can_be_declared_alone(write_case):
    text = CASE.replace('jax: {reason: "JAX gives zeros"', 'jax[eager]: {reason: "JAX gives zeros"')
    (case,) = load_file(write_case(text)).cases
    f = np.float32
    grad = {"reference": ok([f(4.0), None]),
            "torch": Observation("error", ErrorValue("unused_input", "RuntimeError", "...")),
            "jax": ok([f(4.0), f(0.0)]), "jax[jit]": ok([f(4.0), None]),
            "tensorflow": ok([f(4.0), None])}
    obs = {c: {"grad-y": grad[c], "value-y": ok(f(4.0))} for c in COLUMNS}
    rows = {(r["check"], r["backend"]): r for r in judge_case(case, obs, {}, {}, COLUMNS)}
    assert rows["grad-y", "jax"]["status"] == "divergence"  # the column named "jax"
    assert rows["grad-y", "jax[jit]"]["status"] == "pass"   # not declared: conforms

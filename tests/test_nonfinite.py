"""Every failure path (pytest plugin, CLI summary, JUnit, HTML) with NaN, infinite, None and
error observations: where a user most needs the report, it must not break."""

import io
import json
import math
import xml.etree.ElementTree as ET

import pytest

from harness.cli import _summary, main
from harness.pytest_plugin import _describe

CASES = """
cases:
  - id: non-finite
    title: Observations that are NaN, infinite or None where a number was expected
    inputs:
      x: {value: 0.0, track: true}
      z: {value: -1.0, track: true}
      u: {value: 1.0, track: true}
    program: |
      inf_out = log(x)
      nan_out = log(z)
      y = u * 2.0
    checks:
      - id: inf
        value: inf_out
        expect: 1.0
      - id: nan
        value: nan_out
        expect: 1.0
      - id: none
        grad: y
        wrt: [x]
        expect: [1.0]
      - id: vector-inf
        value: concat([reshape(inf_out, shape=[1]), reshape(u, shape=[1])])
        expect: [1.0, 1.0]
  - id: raises
    title: A program that raises where a value was expected
    inputs:
      m: [[1.0, 2.0]]
    program: |
      bad = m @ m
    checks:
      - id: error
        value: bad
        expect: 1.0
"""

OUTCOMES = {"inf": "fail", "nan": "fail", "none": "fail", "vector-inf": "fail", "error": "error"}


def test_the_plugin_reports_infinite_and_nan_errors(pytester):
    pytester.makefile(".yaml", cases=CASES)
    result = pytester.runpytest("--frameworks", "reference", "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines([
        "*fail: max abs error inf*got -inf, expected 1.0*",
        "*max abs error inf, rel inf",
        "*got nan, expected 1.0*",
        "*got None (no gradient)*",
        "*observed: [[]null[]]",
        "*max abs error inf, rel inf at [[]0[]]",
        "*error: raised ValueError: matmul*",
    ])


@pytest.mark.parametrize("row", [
    {"status": "fail", "message": "m", "max_abs_err": "inf", "max_rel_err": "nan", "where": [0]},
    {"status": "fail", "message": "m", "max_abs_err": float("nan"), "max_rel_err": None},
    {"status": "fail", "message": "m", "max_abs_err": float("inf"), "max_rel_err": math.inf},
    {"status": "error", "message": "", "observed": {"error": "crashed", "type": "WorkerDied",
                                                    "message": ""}},
    {"status": "error", "observed": None, "expected": [None, {"array": "nan", "dtype": "float32",
                                                              "shape": []}]},
    {"status": "fixed", "message": "stale", "divergence": {"reason": "r"}},
])
def test_the_plugin_describes_any_row_without_raising(row):
    text = _describe(row)
    assert text.startswith(row["status"] + ": ")
    assert "(no message)" in text or row.get("message")
    if row.get("max_abs_err") is not None:
        assert "max abs error " in text


@pytest.fixture
def run(write_case, tmp_path, capsys):
    path = write_case(CASES)
    out = {k: tmp_path / f"r.{k}" for k in ("json", "html", "xml")}
    code = main(["run", str(path), "--frameworks", "reference", "--json", str(out["json"]),
                 "--html", str(out["html"]), "--junit", str(out["xml"])])
    captured = capsys.readouterr()
    return code, captured, out


def test_the_cli_prints_every_failure_and_a_summary(run):
    code, captured, out = run
    assert code == 1
    assert "Traceback" not in captured.err + captured.out
    for check, status in OUTCOMES.items():
        line = next(x for x in captured.err.splitlines() if f"::{check}[reference]" in x)
        assert line.strip().startswith(status) and len(line.split("] ", 1)[1]) > 10, line
    assert "reference: 1 error, 4 fail" in captured.out
    doc = json.loads(out["json"].read_text())
    assert {r["check"]: r["status"] for r in doc["rows"]} == OUTCOMES
    # and the terminal's table, from the same rows
    from rich.console import Console
    buffer = io.StringIO()
    _summary(Console(file=buffer, force_terminal=True, width=120), doc["rows"], doc, None)
    table = buffer.getvalue()
    assert "2 cases, 5 verdicts" in table and "reference" in table


def test_junit_names_the_failure_of_every_kind(run):
    _, _, out = run
    cases = {tc.get("name"): tc for tc in ET.parse(out["xml"]).getroot().iter("testcase")}
    for check, status in OUTCOMES.items():
        tc = cases[f"{check}[reference]"]
        (outcome,) = [child for child in tc if child.tag in ("failure", "error")]
        assert outcome.tag == ("failure" if status == "fail" else "error")
        assert outcome.get("message"), check
    assert "max abs err inf" in cases["inf[reference]"].find("failure").text
    assert "observed: -inf" in cases["inf[reference]"].find("failure").text
    assert "observed: nan" in cases["nan[reference]"].find("failure").text
    assert "+[none]" in cases["none[reference]"].find("failure").text
    assert "ValueError" in cases["error[reference]"].find("error").get("message")


def test_the_html_report_shows_them(run):
    _, _, out = run
    html = out["html"].read_text()
    for text in ("non-finite", "-inf", "nan", "matmul", "no gradient"):
        assert text in html, text


def test_reports_render_rows_with_raw_non_finite_numbers(tmp_path):
    # a document built in memory (the CLI passes its own) may hold floats, not words
    from harness import report
    base = {"case": "c", "kind": "value", "framework": "reference", "mode": "eager",
            "version": "0.1.0", "duration_s": 0.0, "compared_with": "expect"}
    rows = [dict(base, check=f"k{i}", backend="reference", status=status, message=message,
                 observed=observed, expected=1.0, max_abs_err=err, max_rel_err=err, where=[])
            for i, (status, message, observed, err) in enumerate([
                ("fail", "nan", float("nan"), float("nan")),
                ("fail", "inf", float("inf"), float("inf")),
                ("fail", "none", None, None),
                ("error", "", {"error": "crashed", "type": "WorkerDied", "message": ""}, None)])]
    doc = {"schema_version": 1, "run": {"complete": True, "duration_s": 1.0},
           "environment": {"frameworks": {"reference": "0.1.0"}},
           "cases": {"c": {"title": "t", "file": "f.yaml", "line": 1, "topic": "t",
                           "checks": [{"id": r["check"], "kind": "value"} for r in rows]}},
           "rows": rows}
    report.write_html([doc], tmp_path / "r.html")
    report.write_junit([doc], tmp_path / "r.xml")
    errors = list(ET.parse(tmp_path / "r.xml").getroot().iter("error"))
    assert errors and all(e.get("message") for e in errors)
    assert "(no message)" in errors[0].text

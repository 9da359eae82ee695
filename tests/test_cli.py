"""The conformance command: exit codes, validation errors, listing."""

import json
import subprocess
import sys

from harness.cli import main

GOOD = """
cases:
  - id: square
    title: The derivative of x squared
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y = x * x
    checks:
      - grad: y
        wrt: [x]
        expect: [6.0]
"""

WRONG = GOOD.replace("expect: [6.0]", "expect: [7.0]").replace("square", "wrong-square")
BROKEN = GOOD.replace("y = x * x", "y = nope(x)").replace("square", "broken")


def test_validate_names_file_line_and_field(write_case, capsys):
    write_case(GOOD, "good.yaml")
    bad = write_case(BROKEN, "bad.yaml")
    code = main(["validate", str(bad.parent)])
    err = capsys.readouterr()
    assert code == 2
    assert f"{bad}:7: program: unknown op 'nope'" in err.err.replace("\n", "")
    assert "1 cases, 1 checks valid; 1 invalid" in err.out


def test_run_exit_codes(write_case, tmp_path):
    good = write_case(GOOD, "good.yaml")
    out = tmp_path / "r.json"
    assert main(["run", str(good), "--frameworks", "reference", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1 and doc["run"]["complete"]
    assert [r["status"] for r in doc["rows"]] == ["pass"]
    wrong = write_case(WRONG, "wrong.yaml")
    assert main(["run", str(wrong), "--frameworks", "reference", "--json", str(out)]) == 1


def test_an_invalid_file_is_reported_and_the_others_still_run(write_case, tmp_path, capsys):
    write_case(GOOD, "good.yaml")
    bad = write_case(BROKEN, "bad.yaml")
    out = tmp_path / "r.json"
    code = main(["run", str(bad.parent), "--frameworks", "reference", "--json", str(out)])
    assert code == 2
    assert "unknown op 'nope'" in capsys.readouterr().err
    assert [r["case"] for r in json.loads(out.read_text())["rows"]] == ["square"]


def test_list_and_keyword_selection(write_case, capsys):
    path = write_case(GOOD + WRONG.replace("cases:\n", ""))
    assert main(["list", str(path), "-k", "wrong"]) == 0
    out = capsys.readouterr().out
    assert "wrong-square" in out and "\nsquare" not in out


def test_unknown_framework_is_a_usage_error(write_case):
    result = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--frameworks",
                             "pytorch"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown framework 'pytorch'" in result.stderr


def test_missing_path_is_invalid_input(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nowhere.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_report_and_merge_commands(write_case, tmp_path):
    import xml.etree.ElementTree as ET
    good = write_case(GOOD, "good.yaml")
    runs = tmp_path / "runs"
    for label in ("one", "two"):
        assert main(["run", str(good), "--frameworks", "reference", "--label", label,
                     "--json", str(runs / f"{label}.json")]) == 0
    html, junit = tmp_path / "r.html", tmp_path / "r.xml"
    assert main(["report", str(runs / "one.json"), "--html", str(html), "--junit",
                 str(junit)]) == 0
    assert "square" in html.read_text() and "<script" in html.read_text()
    cases = ET.parse(junit).getroot().iter("testcase")
    assert [c.get("name") for c in cases] == ["grad-y[reference]"]
    matrix = tmp_path / "matrix.html"
    assert main(["merge", str(runs), "--html", str(matrix)]) == 0  # a directory of runs
    assert "square" in matrix.read_text()
    assert main(["report", str(tmp_path / "missing.json"), "--html", str(html)]) == 2

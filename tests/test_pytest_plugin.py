"""pytest cases/: one item per (case, check, backend); divergences xfail; n/a skips."""

CASE = """
cases:
  - id: unconnected
    title: An input the output does not use
    inputs:
      x: {value: 2.0, track: true}
      z: {value: 5.0, track: true}
    program: |
      y = x * x
    checks:
      - grad: y
        wrt: [x, z]
        expect: [4.0, null]
      - grad: y
        id: wrong
        wrt: [x]
        expect: [5.0]
      - id: declared
        grad: y
        wrt: [x]
        expect: [5.0]
        diverges:
          reference: {reason: "a declared difference for the test", evidence: "here"}
      - id: no-leaves-in-jax
        attributes: [x]
"""


def test_items_and_outcomes(pytester):
    pytester.makefile(".yaml", cases=CASE)
    result = pytester.runpytest("--frameworks", "reference", "-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*unconnected::grad-y*reference* PASSED*",
        "*unconnected::wrong*reference* FAILED*",
        "*unconnected::declared*reference* XFAIL*",
    ])
    result.assert_outcomes(passed=1, failed=1, xfailed=1, skipped=1)
    result.stdout.fnmatch_lines(["*expected*5.0*", "*observed*4.0*"])


def test_an_invalid_case_file_fails_with_file_and_line(pytester):
    pytester.makefile(".yaml", broken=CASE.replace("y = x * x", "y = nope(x)"))
    result = pytester.runpytest("--frameworks", "reference", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.yaml:8: program: unknown op 'nope'*"])


def test_na_is_a_skip_with_the_reason(pytester):
    pytester.makefile(".yaml", cases=CASE)
    result = pytester.runpytest("--frameworks", "reference,jax", "-rs", "-k", "no-leaves",
                                "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*SKIPPED*n/a*"])


def test_the_plugin_writes_the_results_document(pytester):
    import json
    pytester.makefile(".yaml", cases=CASE)
    out = pytester.path / "results.json"
    pytester.runpytest("--frameworks", "reference", "--conformance-json", str(out),
                       "-p", "no:cacheprovider")
    doc = json.loads(out.read_text())
    assert doc["run"]["complete"] and doc["schema_version"] == 1
    assert {r["status"] for r in doc["rows"]} == {"pass", "fail", "divergence", "n/a"}

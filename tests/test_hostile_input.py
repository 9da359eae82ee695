"""Validation refuses, fast and with file:line: field, what would hang or blow up a run.

The corpus (tests/corpus, tests/test_corpus.py) holds one file per malformed input; these
are the limits themselves: where they sit, how a case raises them, and what stays legal.
"""

import time

import pytest

from harness import limits
from harness.cases import load_file

GOOD = """
cases:
  - id: fine
    title: A case inside every limit
    inputs:
      x: {value: [1.0, 2.0, 3.0], track: true}
    program: |
      y = sum(x * x)
    checks:
      - grad: y
        wrt: [x]
        expect: [[2.0, 4.0, 6.0]]
"""


def _alias_bomb(levels=9, width=9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["1.0"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\ncases: []\n"


def test_an_alias_bomb_is_refused_in_well_under_a_second(write_case):
    path = write_case(_alias_bomb())
    start = time.perf_counter()
    loaded = load_file(path)
    elapsed = time.perf_counter() - start
    (err,) = loaded.errors
    assert "more than 100,000 nodes" in err.message
    assert err.line == 6  # `a5: &a5 [*a4, ...]`, 9^6 nodes: where the expansion passes 10^5
    assert elapsed < 1.0, elapsed


def test_aliases_within_the_limit_still_load(write_case):
    # anchors and aliases are ordinary YAML: a shared input value is fine
    text = GOOD.replace("x: {value: [1.0, 2.0, 3.0], track: true}",
                        "x: {value: &v [1.0, 2.0, 3.0], track: true}\n      z: *v")
    loaded = load_file(write_case(text))
    assert loaded.errors == [] and loaded.cases[0].inputs["z"].value == [1.0, 2.0, 3.0]


def test_a_file_over_the_size_limit_is_refused_unread(write_case):
    path = write_case(GOOD + "#" * limits.MAX_FILE_BYTES + "\n")
    (err,) = load_file(path).errors
    assert err.line == 1 and "a case file is at most 1,048,576" in err.message


def test_the_element_limit_is_configurable(write_case, monkeypatch):
    text = GOOD.replace("x: {value: [1.0, 2.0, 3.0], track: true}",
                        "x: {random: normal, shape: [1000, 1000], track: true}").replace(
        "expect: [[2.0, 4.0, 6.0]]", "")
    path = write_case(text)
    assert load_file(path).errors == []
    monkeypatch.setenv(limits.ELEMENTS_ENV, "1000")
    (err,) = load_file(path).errors
    assert err.field == "inputs.x.shape" and err.line == 5
    assert "1,000,000 elements; the limit is 1,000" in err.message


def test_a_case_raises_a_limit_with_a_reason(write_case):
    loop = GOOD.replace("y = sum(x * x)", "y = sum(x)\nfor _ in range(200000):\n  y = y * 1.0")
    loop = loop.replace("      y = sum(x)\nfor", "      y = sum(x)\n      for").replace(
        "\n  y = y * 1.0", "\n        y = y * 1.0")
    err = load_file(write_case(loop)).errors[0]
    assert "this loop runs 200,000 times; the limit is 100,000" in err.message
    assert "limits: {loop_steps: N, reason: ...}" in err.message
    raised = loop.replace("    title: A case inside every limit\n",
                          "    title: A case inside every limit\n"
                          "    limits: {loop_steps: 200000, seconds: 900, reason: a long loop}\n")
    loaded = load_file(write_case(raised))
    assert loaded.errors == []
    case = loaded.cases[0]
    assert case.timeout(120) == 900 and case.timeout(1000) == 1000
    assert case.memory_mb(4096) == 4096
    no_reason = raised.replace(", reason: a long loop", "")
    err = load_file(write_case(no_reason)).errors[0]
    assert err.field == "cases[0].limits.reason" and err.message == "missing required field"


@pytest.mark.parametrize("program", [
    "y = sum(concat([x, x]))",  # an op that takes a list
    "y = sum(reshape(x, shape=[3, 1]))",  # an attribute
    "y = sum(transpose(reshape(x, shape=[1, 3]), axes=[1, 0]))",
    "y = sum(x * 2 ** 10)",  # a small constant power
    "y = sum(x) * 1e300",  # a large float literal is the user's business
])
def test_lists_and_constants_stay_legal_where_they_belong(write_case, program):
    loaded = load_file(write_case(GOOD.replace("y = sum(x * x)", program).replace(
        "expect: [[2.0, 4.0, 6.0]]", "")))
    assert loaded.errors == [], loaded.errors


def test_a_list_bound_to_a_name_is_still_not_a_tensor(write_case):
    err = load_file(write_case(GOOD.replace(
        "y = sum(x * x)", "w = [1.0, 2.0, 3.0]\n      y = sum(x * w)"))).errors[0]
    assert err.line == 8 and "'w', a list, is an operand of mul()" in err.message


def test_the_interpreter_never_sees_a_huge_constant(write_case):
    # 10 ** 10 ** 10 would be a Python integer of 10^10 digits when a backend folds it
    start = time.perf_counter()
    err = load_file(write_case(GOOD.replace("y = sum(x * x)",
                                            "y = sum(x) * 10 ** 10 ** 10 ** 10"))).errors[0]
    assert time.perf_counter() - start < 1.0
    assert err.line == 7 and "overflows" in err.message

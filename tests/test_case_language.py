"""The case language: what loads, and what each malformed case says (file, line, field)."""

from harness.cases import ABSENT, load_file, load_paths

GOOD = """
cases:
  - id: chain-rule
    title: The chain rule adds the gradients of both paths
    covers: [S000-05]
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y1 = x + 1
      y2 = 2 * x
      loss = (y1 - y2) ** 2
    checks:
      - grad: loss
        wrt: [x]
        expect: [4.0]
      - value: y1
"""


def test_a_good_case_loads_with_its_checks(write_case):
    loaded = load_file(write_case(GOOD))
    assert loaded.errors == []
    (case,) = loaded.cases
    assert case.id == "chain-rule"
    assert case.check_ids == ["grad-loss", "value-y1"]
    assert case.checks[1].expect is ABSENT  # no expectation: compared with the reference
    assert case.inputs["x"].track is True
    assert case.topic == "cases"


def _error(write_case, text):
    loaded = load_file(write_case(text))
    assert len(loaded.errors) == 1, loaded.errors
    return loaded.errors[0]


def test_invalid_yaml_names_the_line(write_case):
    err = _error(write_case, "cases:\n  - id: a\n    title: [unclosed\n")
    assert err.line is not None and "invalid YAML" in err.message


def test_unknown_op_names_the_program_line(write_case):
    err = _error(write_case, GOOD.replace("y2 = 2 * x", "y2 = frobnicate(x)"))
    assert err.field == "program"
    assert err.line == 9  # the line of `y2 = ...` in the file
    assert "unknown op 'frobnicate'" in err.message


def test_unknown_input_in_a_check(write_case):
    err = _error(write_case, GOOD.replace("wrt: [x]", "wrt: [z]"))
    assert err.field == "checks[0].wrt"
    assert err.line == 13
    assert "'z'" in err.message


def test_missing_field_names_it(write_case):
    err = _error(write_case, GOOD.replace("    title: The chain rule adds the gradients of both "
                                          "paths\n", ""))
    assert err.field == "cases[0].title"
    assert err.message == "missing required field"
    assert str(err).startswith(f"{err.file}:2: ")


def test_misspelt_field_is_rejected(write_case):
    err = _error(write_case, GOOD.replace("expect: [4.0]", "expcet: [4.0]"))
    assert err.field.startswith("cases[0].checks.0")
    assert "unknown field" in err.message
    assert err.line == 14


def test_wrong_shape_of_a_value(write_case):
    err = _error(write_case, GOOD.replace("x: {value: 3.0, track: true}",
                                          "x: {value: 3.0, track: maybe}"))
    assert err.field == "cases[0].inputs.x.track"
    assert err.line == 6


def test_a_check_needs_exactly_one_kind(write_case):
    err = _error(write_case, GOOD.replace("      - value: y1", "      - value: y1\n        grad: y1"))
    assert "exactly one kind" in err.message


def test_disallowed_syntax_is_rejected_not_evaluated(write_case):
    err = _error(write_case, GOOD.replace("y2 = 2 * x", "y2 = __import__('os').getcwd()"))
    assert err.field == "program"
    assert err.line == 9 and "only calls of vocabulary ops by name" in err.message


def test_attribute_access_is_rejected(write_case):
    err = _error(write_case, GOOD.replace("y2 = 2 * x", "y2 = x.grad"))
    assert "Attribute is not allowed" in err.message and err.line == 9


def test_a_bad_case_costs_itself_not_the_file(write_case):
    text = GOOD + GOOD.replace("cases:\n", "").replace("chain-rule", "second").replace(
        "wrt: [x]", "wrt: [nope]")
    loaded = load_file(write_case(text))
    assert [c.id for c in loaded.cases] == ["chain-rule"]
    assert len(loaded.errors) == 1


def test_duplicate_ids_across_files_are_an_error(write_case):
    write_case(GOOD, "a.yaml")
    path = write_case(GOOD, "b.yaml")
    loaded = load_paths([path.parent])
    assert len(loaded.cases) == 1
    assert "duplicate case id" in loaded.errors[0].message


def test_unknown_divergence_backend(write_case):
    err = _error(write_case, GOOD.replace("expect: [4.0]", "expect: [4.0]\n        diverges:\n"
                                          "          pytorch: {reason: r, evidence: e}"))
    assert "unknown backend 'pytorch'" in err.message


def test_random_inputs_are_seeded_and_shared():
    from harness.cases import Input
    a = Input(random="normal", shape=[3, 2], seed=7).array()
    b = Input(random="normal", shape=[3, 2], seed=7).array()
    assert a.dtype == "float32" and (a == b).all()


def test_python_floats_default_to_float32_and_strings_to_bytes():
    from harness.cases import to_array
    assert to_array(1.5).dtype == "float32"
    assert to_array(2).dtype == "int32"
    assert to_array("hello").item() == b"hello"


def test_an_op_with_the_wrong_number_of_arguments_is_caught_before_running(write_case):
    err = _error(write_case, GOOD.replace("y2 = 2 * x", "y2 = maximum(x)"))
    assert err.line == 9 and "maximum() takes 2 tensor argument(s)" in err.message


def test_an_unknown_attribute_names_the_ones_the_op_has(write_case):
    err = _error(write_case, GOOD.replace("y2 = 2 * x", "y2 = sum(x, dim=0)"))
    assert "sum() has no attribute 'dim'; it has axis, keepdims" in err.message


def test_attributes_are_keywords(write_case):
    err = _error(write_case, GOOD.replace("y2 = 2 * x", "y2 = clip(x, 0.0, 1.0)"))
    assert "clip() takes 1 tensor argument(s), then keyword attributes: min, max" in err.message


def test_an_unknown_error_category_is_a_typo(write_case):
    err = _error(write_case, GOOD.replace("expect: [4.0]", "expect: {error: graph_free}"))
    assert err.field == "checks[0].expect" and "unknown error category 'graph_free'" in err.message

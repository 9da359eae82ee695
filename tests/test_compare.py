"""Comparison: structure, shape, dtype, then values; NaN equals NaN; None is not zero."""

import numpy as np
import pytest

from harness.cases import Tolerance
from harness.compare import compare
from harness.values import ErrorValue, decode, encode


def f32(x):
    return np.asarray(x, dtype=np.float32)


def test_equal_within_float32_tolerance():
    assert compare(f32([1.0, 2.0]), [1.0, 2.0 + 1e-6])
    assert not compare(f32([1.0, 2.0]), [1.0, 2.01])


def test_the_largest_error_and_where_it_sits():
    result = compare(f32([[1.0, 2.0], [3.0, 4.5]]), [[1.0, 2.0], [3.0, 4.0]])
    assert not result
    assert result.max_abs_err == pytest.approx(0.5)
    assert result.where == [1, 1]
    assert "at [1, 1]" in result.message


def test_shape_is_checked_before_values():
    result = compare(f32([[4.5, 4.5]]), [4.5, 4.5])
    assert not result and "shape [1, 2]" in result.message


def test_nan_equals_nan_and_infinities_are_exact():
    assert compare(f32([np.nan, np.inf]), [float("nan"), float("inf")])
    assert not compare(f32([np.nan]), [1.0])
    assert not compare(f32([np.inf]), [1e38])
    assert not compare(f32([-np.inf]), [float("inf")])


def test_none_is_not_zero():
    assert compare(None, None)
    assert not compare(f32(0.0), None)
    assert not compare(None, 0.0)


def test_lists_of_gradients_compare_element_by_element():
    assert compare([f32([[4.5, 4.5]]), f32([[4.5]])], [[[4.5, 4.5]], [[4.5]]])
    result = compare([f32(6.0), None], [6.0, 0.0])
    assert not result and "[1]" in result.message


def test_expected_errors_match_by_category():
    observed = ErrorValue("graph_freed", "RuntimeError", "Trying to backward through the graph")
    assert compare(observed, {"error": "graph_freed"})
    assert not compare(observed, {"error": "non_scalar_output"})
    assert not compare(observed, [1.0])


def test_strings_and_bytes():
    assert compare(b"hello world", "hello world")
    assert compare(np.array(b"hello world", dtype=object), {"bytes": "hello world"})
    assert not compare(b"hello", "hello world")


def test_dict_expectations_check_the_keys_they_give():
    observed = {"traced": np.array([True, False]), "log": ["tracing"]}
    assert compare(observed, {"traced": [True, False]})
    assert not compare(observed, {"traced": [True, True]})
    assert not compare(observed, {"missing": 1})


def test_a_case_tolerance_overrides_the_dtype_default():
    loose = Tolerance(rtol=1e-2, reason="30000 float32 steps accumulate rounding")
    assert not compare(f32(1.001), 1.0)
    assert compare(f32(1.001), 1.0, loose)


def test_a_float64_observation_met_in_float32_is_a_dtype_difference():
    reference = np.array([0.1, 0.2], dtype=np.float64)
    downcast = reference.astype(np.float32)  # equal within float32's own tolerance
    result = compare(downcast, reference)
    assert not result
    assert result.message.startswith("dtype float32 != expected float64")
    assert "agree to float32's tolerance" in result.message
    assert compare(reference.copy(), reference)
    assert compare(downcast, reference, dtypes=False)  # the explorer's float64 oracle


def test_a_literal_expectation_has_no_dtype_to_hold():
    assert compare(f32([0.1, 0.2]), [0.1, 0.2])


def test_booleans_compare_exactly():
    assert compare(np.array(True), True)
    assert not compare(np.array(True), False)


def test_values_survive_the_json_round_trip():
    value = {"g": [f32([1.0, np.nan, -np.inf]), None], "s": b"hi",
             "e": ErrorValue("graph_freed", "RuntimeError", "m")}
    back = decode(encode(value))
    assert compare(back, value)
    assert back["e"] == value["e"]
    import json
    json.dumps(encode(value), allow_nan=False)  # plain JSON, no NaN literals

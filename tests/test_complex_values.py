"""Complex inputs (strings or numbers) load, and complex results survive the JSON round trip."""

import json

import numpy as np

from harness.cases import to_array
from harness.values import decode, encode


def test_complex_inputs_from_strings_and_numbers():
    a = to_array(["1+2j", -0.5, "3j"], "complex64")
    assert a.dtype == np.complex64
    assert a.tolist() == [1 + 2j, -0.5 + 0j, 3j]
    assert to_array([[1, 2]], "complex128").dtype == np.complex128


def test_complex_arrays_round_trip_as_pairs():
    a = np.array([[2 + 4j, -1 + 0.5j]], dtype=np.complex64)
    data = json.loads(json.dumps(encode(a)))
    assert data == {"array": [[[2.0, 4.0], [-1.0, 0.5]]], "dtype": "complex64", "shape": [1, 2]}
    back = decode(data)
    assert back.dtype == np.complex64 and np.array_equal(back, a)
    scalar = decode(json.loads(json.dumps(encode(np.complex128(1 - 2j)))))
    assert scalar.shape == () and scalar == 1 - 2j


def test_complex_comparison_sees_the_imaginary_part():
    from harness.compare import compare
    a = np.array([2 + 4j], dtype=np.complex64)
    assert not compare(a, np.array([2 - 4j], dtype=np.complex64))  # the conjugate differs
    assert compare(a, np.array([2 + 4.00001j], dtype=np.complex64))  # float32's tolerance

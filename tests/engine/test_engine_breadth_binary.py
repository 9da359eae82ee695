"""Binary elementwise ops: atan2, remainder, fmod, xlogy, squared_difference."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from breadth_testing import arrays, compare_torch, gradcheck_tests, grid
from hypothesis import strategies as st

import reference_engine as re


def pair_shapes():
    return hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)


@st.composite
def binary(draw, fn, x=None, y=None):
    a, b = draw(pair_shapes()).input_shapes
    return fn, [draw(x(a) if x else arrays(a)), draw(y(b) if y else arrays(b))]


def divisors(shape):
    """|y| in {0.7, 1.3, 1.9}: with x on the 1/16 grid, x / y is never within 1e-2 of an integer,
    so remainder and fmod stay away from their jumps."""
    return hnp.arrays(np.float64, shape, elements=st.sampled_from([0.7, 1.3, 1.9, -0.7, -1.3, -1.9]))


def positive(shape):
    return arrays(shape, 0.2, 3.0)


def nonzero(shape):
    return grid(shape)


CASES = {
    "atan2": binary(re.atan2, nonzero, nonzero),
    "remainder": binary(re.remainder, grid, divisors), "fmod": binary(re.fmod, grid, divisors),
    "xlogy": binary(re.xlogy, grid, positive), "squared_difference": binary(re.squared_difference),
}


# every op: central differences in float64, first and second order, drawn inputs
test_first_order, test_second_order = gradcheck_tests(CASES)


def test_forward_values():
    x, y = np.array([5.5, -5.5, 5.5, -5.5, 0.0]), np.array([2.0, 2.0, -2.0, -2.0, 3.0])
    assert re.remainder(re.tensor(x), re.tensor(y)).tolist() == [1.5, 0.5, -0.5, -1.5, 0.0]  # the divisor's sign
    assert re.fmod(re.tensor(x), re.tensor(y)).tolist() == [1.5, -1.5, 1.5, -1.5, 0.0]        # the dividend's sign
    assert (re.tensor(x) % re.tensor(y)).tolist() == np.remainder(x, y).tolist()
    np.testing.assert_allclose(re.atan2(re.tensor(x), re.tensor(y)).data, np.arctan2(x, y))
    assert re.xlogy(re.tensor([0.0, 0.0, 2.0]), re.tensor([0.0, np.inf, np.e])).tolist() == [0.0, 0.0, 2.0]
    assert re.squared_difference(re.tensor([3.0]), re.tensor([1.0])).tolist() == [4.0]


def test_conventions_at_special_points():
    x = re.tensor([0.0, 0.0, 1.0], dtype="float64", requires_grad=True)
    y = re.tensor([0.0, 2.0, 2.0], dtype="float64", requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # d/dy = x/y is 0/0 at the origin
        gx, gy = re.autograd.grad(re.xlogy(x, y).sum(), [x, y])
    assert gx.tolist() == [0.0, 0.0, np.log(2.0)]            # d/dx is 0 where x == 0, even at y == 0 (torch)
    assert gy.tolist()[1:] == [0.0, 0.5]                     # x / y
    a = re.tensor([4.0, -4.0], dtype="float64", requires_grad=True)
    b = re.tensor([2.0, 2.0], dtype="float64", requires_grad=True)
    ga, gb = re.autograd.grad(re.remainder(a, b).sum(), [a, b])  # at the jump: -floor(x/y), as torch
    assert ga.tolist() == [1, 1] and gb.tolist() == [-2, 2]
    ga, gb = re.autograd.grad(re.fmod(a, b).sum(), [a, b])       # -trunc(x/y)
    assert gb.tolist() == [-2, 2]


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-3, 3, (3, 4)), rng.uniform(0.5, 2, (4,)) * np.array([1, -1, 1, -1])
    compare_torch(re.atan2, torch.atan2, [x, y])
    compare_torch(re.remainder, torch.remainder, [x, y])
    compare_torch(re.fmod, torch.fmod, [x, y])
    compare_torch(re.xlogy, torch.xlogy, [x, np.abs(y)])
    compare_torch(re.squared_difference, lambda a, b: (a - b) ** 2, [x, y])


def test_float16_forward():
    x, y = np.array([1.5, -2.25, 3.0], np.float16), np.array([0.75, 1.25, -2.0], np.float16)
    for name, ref in [("atan2", np.arctan2), ("remainder", np.remainder), ("fmod", np.fmod),
                      ("squared_difference", lambda a, b: (a - b) ** 2)]:
        out = getattr(re, name)(re.tensor(x), re.tensor(y))
        assert out.dtype == np.float16
        np.testing.assert_allclose(out.data.astype(float), ref(x.astype(float), y.astype(float)), rtol=2e-3)
    assert re.xlogy(re.tensor(x), re.tensor(np.abs(y))).dtype == np.float16

"""Shared strategies and drivers for the test_engine_breadth_* files.

Every op is gradient-checked against central differences in float64, at first order
(reverse and forward mode) and second order (reverse-over-reverse, forward-over-reverse),
on hypothesis-drawn inputs kept away from the op's kinks; each file tests its kinks'
conventions separately with plain asserts.
"""
import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from reference_engine.testing import gradcheck, gradgradcheck

FIRST = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECOND = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
small_shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3)


def arrays(shape, lo=-2.0, hi=2.0, unique=False):
    return hnp.arrays(np.float64, shape, unique=unique,
                      elements=st.floats(lo, hi, allow_nan=False, allow_subnormal=False, width=64))


def grid(shape, unique=False, scale=1.0):
    """Values scale*(2k+1)/16: never 0, never an integer or a half -- away from the kinks of
    sign, floor, round, relu... (ties only where ``unique`` is off)."""
    return hnp.arrays(np.float64, shape, unique=unique,
                      elements=st.integers(-24, 23).map(lambda k: scale * (2 * k + 1) / 16))


def axis_for(shape):
    return st.none() if not shape else st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))


def check_first(case):
    fn, inputs = case
    gradcheck(fn, inputs)


def check_second(case):
    fn, inputs = case
    gradgradcheck(fn, inputs)


def compare_torch(fn, torch_fn, inputs, grads=True, rtol=1e-9, atol=1e-10):
    """Evidence, not the oracle: forward values (and first-order gradients of a random
    weighting of the output) against torch in float64."""
    import torch

    import reference_engine as re
    xs = [re.tensor(a, requires_grad=grads and a.dtype.kind == "f") for a in inputs]
    ts = [torch.tensor(a, requires_grad=grads and a.dtype.kind == "f") for a in inputs]
    y, ty = fn(*xs), torch_fn(*ts)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=atol)
    if not grads:
        return
    w = np.random.default_rng(0).standard_normal(y.shape)
    wanted = [i for i, a in enumerate(inputs) if a.dtype.kind == "f"]
    gs = re.autograd.grad((y * re.tensor(w)).sum(), [xs[i] for i in wanted])
    tgs = torch.autograd.grad((ty * torch.tensor(w)).sum(), [ts[i] for i in wanted])
    for g, tg in zip(gs, tgs):
        np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-7, atol=1e-9)


def gradcheck_tests(cases: dict):
    """The two tests every breadth module runs over its table of drawn cases."""
    import pytest
    from hypothesis import given

    @pytest.mark.parametrize("name", sorted(cases))
    @FIRST
    @given(data=st.data())
    def test_first_order(name, data):
        check_first(data.draw(cases[name]))

    @pytest.mark.parametrize("name", sorted(cases))
    @SECOND
    @given(data=st.data())
    def test_second_order(name, data):
        check_second(data.draw(cases[name]))

    return test_first_order, test_second_order

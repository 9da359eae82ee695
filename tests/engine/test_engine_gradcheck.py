"""Every op's vjp and jvp against central finite differences in float64 (first and second order)."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference_engine as re
from reference_engine.testing import gradcheck, gradgradcheck

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def arrays(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, width=64))


def grid(shape, unique=False):
    """Values (2k+1)/16: never 0, never +-0.5, ties only where asked -- far from every kink."""
    return hnp.arrays(np.float64, shape, unique=unique,
                      elements=st.integers(-24, 23).map(lambda k: (2 * k + 1) / 16))


def axis_for(shape):
    return st.none() if not shape else st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))


@st.composite
def unary(draw, fn, lo=-2.0, hi=2.0, kinked=False):
    shape = draw(shapes)
    return fn, [draw(grid(shape) if kinked else arrays(shape, lo, hi))]


@st.composite
def binary(draw, fn, lo=-2.0, hi=2.0, ylo=None, yhi=None, distinct=False):
    a, b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    x = draw(grid(a) if distinct else arrays(a, lo, hi))
    y = draw(grid(b) if distinct else arrays(b, lo if ylo is None else ylo, hi if yhi is None else yhi))
    if distinct:
        y = y + 1 / 32  # off x's grid: no ties
    return fn, [x, y]


@st.composite
def reduction(draw, name, unique=False):
    shape = draw(shapes)
    axis, keepdims = draw(axis_for(shape)), draw(st.booleans())
    fn = lambda x: getattr(re, name)(x, axis=axis, keepdims=keepdims)
    return fn, [draw(grid(shape, unique=True) if unique else arrays(shape))]


@st.composite
def along_axis(draw, op):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return (lambda x: op(x, axis)), [draw(arrays(shape))]


@st.composite
def matmuls(draw):
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    form = draw(st.sampled_from(["mm", "vm", "mv", "vv", "batched"]))
    a, b = {"mm": ((n, k), (k, m)), "vm": ((k,), (k, m)), "mv": ((n, k), (k,)), "vv": ((k,), (k,)),
            "batched": (batch + (n, k), (k, m))}[form]
    return re.matmul, [draw(arrays(a)), draw(arrays(b))]


@st.composite
def indexing(draw):
    x = draw(arrays(draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=3))))
    key = draw(st.sampled_from([0, -1, (slice(None), 1), (slice(0, 1),), (Ellipsis, 0), ([0, 0, 1],)]))
    return (lambda t: t[key]), [x]


@st.composite
def joins(draw, op):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    axis = draw(st.integers(0, len(shape) - 1))
    xs = [draw(arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
    return (lambda *ts: op(list(ts), axis=axis)), xs


@st.composite
def shaped(draw, which):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    x = draw(arrays(shape))
    if which == "reshape":
        return (lambda t: re.reshape(t, (-1,))), [x]
    if which == "transpose":
        axes = draw(st.permutations(range(len(shape))))
        return (lambda t: re.transpose(t, tuple(axes))), [x]
    if which == "broadcast_to":
        return (lambda t: re.broadcast_to(t, (2,) + shape)), [x]
    return (lambda t: re.sum_to(t, (1,) * len(shape))), [x]


@st.composite
def wheres(draw):
    shape = draw(shapes)
    cond = draw(hnp.arrays(np.bool_, shape))
    return (lambda a, b: re.where(re.tensor(cond), a, b)), [draw(arrays(shape)), draw(arrays(shape))]


@st.composite
def mse(draw):
    shape = draw(shapes)
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return (lambda a, b: re.mse_loss(a, b, reduction=reduction)), [draw(arrays(shape)), draw(arrays(shape))]


CASES = {
    "add": binary(re.add), "sub": binary(re.sub), "mul": binary(re.mul),
    "div": binary(re.div, ylo=0.5, yhi=2.0), "pow": binary(re.pow, lo=0.3, hi=2.0),
    "maximum": binary(re.maximum, distinct=True), "minimum": binary(re.minimum, distinct=True),
    "neg": unary(re.neg), "exp": unary(re.exp), "log": unary(re.log, 0.2, 3.0), "sqrt": unary(re.sqrt, 0.2, 3.0),
    "square": unary(re.square), "sin": unary(re.sin), "cos": unary(re.cos), "tanh": unary(re.tanh),
    "sigmoid": unary(re.sigmoid, -4, 4), "softplus": unary(re.softplus, -4, 4),
    "abs": unary(re.abs, kinked=True), "relu": unary(re.relu, kinked=True),
    "clamp": unary(lambda x: re.clamp(x, min=-0.5, max=0.5), kinked=True),
    "clamp_min": unary(lambda x: x.clamp(min=0), kinked=True),
    "sum": reduction("sum"), "mean": reduction("mean"), "amax": reduction("amax", unique=True),
    "amin": reduction("amin", unique=True),
    "softmax": along_axis(re.softmax), "log_softmax": along_axis(re.log_softmax),
    "matmul": matmuls(), "getitem": indexing(), "concat": joins(re.concat), "stack": joins(re.stack),
    "reshape": shaped("reshape"), "transpose": shaped("transpose"), "broadcast_to": shaped("broadcast_to"),
    "sum_to": shaped("sum_to"), "where": wheres(), "mse_loss": mse(),
    "cast": unary(lambda x: re.cast(x, "float64")), "clone": unary(re.clone),
}


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_first_order(name, data):
    fn, inputs = data.draw(CASES[name])
    gradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(SETTINGS, max_examples=6)
@given(data=st.data())
def test_second_order(name, data):
    fn, inputs = data.draw(CASES[name])
    gradgradcheck(fn, inputs)


def test_gradcheck_catches_a_wrong_rule():
    class Wrong(re.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2*g*x
    with pytest.raises(AssertionError):
        gradcheck(Wrong.apply, [np.array([1.0, 2.0])], modes=("reverse",))

"""Reductions and scans: min max prod std var logsumexp norm cumsum cumprod argmax argmin."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from breadth_testing import (
    arrays,
    axis_for,
    compare_torch,
    gradcheck_tests,
    grid,
    shapes,
)
from hypothesis import assume
from hypothesis import strategies as st

import reference_engine as re


def quarters(shape):
    """Multiples of 1/4 in [-1, 1]: zeros and repeats included (prod, cumprod are exact there)."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-4, 4).map(lambda k: k / 4))


@st.composite
def reduction(draw, name, values=arrays, min_side=1, **attrs):
    shape = draw(hnp.array_shapes(min_dims=0 if min_side == 1 else 1, max_dims=3, min_side=min_side, max_side=3))
    axis, keepdims = draw(axis_for(shape)), draw(st.booleans())
    fn = lambda x: getattr(re, name)(x, axis=axis, keepdims=keepdims, **attrs)
    return fn, [draw(values(shape))]


@st.composite
def scan(draw, op, values=arrays):
    shape = draw(shapes)
    axis = draw(st.none() if not shape else st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return (lambda x: op(x, axis=axis)), [draw(values(shape))]


@st.composite
def spread(draw, name):
    """std/var: ddof 0 or 1, at least two distinct entries per reduced slice (std' is 0/0 on a constant one)."""
    ddof = draw(st.sampled_from([0, 1]))
    return draw(reduction(name, lambda s: grid(s, unique=True), min_side=2, ddof=ddof))


@st.composite
def vector_norms(draw):
    ord = draw(st.sampled_from([1, 2, 3, 1.5, np.inf, -np.inf]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    axis, keepdims = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())
    x = draw(grid(shape, unique=True))  # no zeros (|x| kinks), no ties in |x| (inf-norms)
    assume(np.unique(np.abs(x)).size == x.size)
    return (lambda t: re.norm(t, ord, axis, keepdims)), [x]


@st.composite
def matrix_norms(draw):
    ord = draw(st.sampled_from([None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]))
    shape = draw(st.sampled_from([(2, 2), (3, 2), (2, 3), (2, 2, 2)]))
    x = draw(grid(shape, unique=True))
    a = np.abs(x)  # the 1/inf norms pick a column/row sum: no ties between them
    assume(np.unique(a).size == a.size)
    for sums in (a.sum(-2), a.sum(-1)):
        s = np.sort(sums, axis=-1)
        assume(np.all(np.diff(s, axis=-1) > 1e-3))
    axis = (-2, -1) if len(shape) == 3 else None
    return (lambda t: re.norm(t, ord, axis)), [x]


CASES = {
    "min": reduction("min", lambda s: grid(s, unique=True)), "max": reduction("max", lambda s: grid(s, unique=True)),
    "prod": reduction("prod", quarters), "std": spread("std"), "var": spread("var"),
    "logsumexp": reduction("logsumexp"), "norm_vector": vector_norms(), "norm_matrix": matrix_norms(),
    "norm_default": reduction("norm", grid), "cumsum": scan(re.cumsum), "cumprod": scan(re.cumprod, quarters),
}


# every op: central differences in float64, first and second order, drawn inputs
test_first_order, test_second_order = gradcheck_tests(CASES)


def test_forward_values():
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7 - 1
    t = re.tensor(x)
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            kw = dict(axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(re.prod(t, **kw).data, np.prod(x, **kw))
            np.testing.assert_allclose(re.var(t, **kw).data, np.var(x, **kw))
            np.testing.assert_allclose(re.std(t, ddof=1, **kw).data, np.std(x, ddof=1, **kw))
            np.testing.assert_allclose(re.min(t, **kw).data, np.min(x, **kw))
            np.testing.assert_allclose(re.logsumexp(t, **kw).data, np.log(np.sum(np.exp(x), **kw)))
    for axis in (None, 0, 2):
        np.testing.assert_allclose(re.cumsum(t, axis).data, np.cumsum(x, axis))
        np.testing.assert_allclose(re.cumprod(t, axis).data, np.cumprod(x, axis))
    for ord in (None, 1, 2, np.inf, -np.inf, 0, 3):
        np.testing.assert_allclose(re.norm(t[0, 0], ord).data, np.linalg.norm(x[0, 0], ord))
    for ord in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        np.testing.assert_allclose(re.norm(t[0], ord).data, np.linalg.norm(x[0], ord))
        np.testing.assert_allclose(re.norm(t, ord, axis=(0, 2), keepdims=True).data,
                                   np.linalg.norm(x, ord, axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(re.norm(t).data, np.linalg.norm(x.ravel()))  # every entry, whatever the rank
    assert re.var(t, correction=1).item() == pytest.approx(np.var(x, ddof=1))  # torch's spelling of ddof
    assert np.isfinite(re.logsumexp(re.tensor([1000.0, 1000.0])).item())


def test_argmax_argmin():
    x = re.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]], requires_grad=True)
    assert re.argmax(x).item() == 1 and re.argmin(x).item() == 4              # flattened; first on ties
    assert re.argmax(x, axis=1).tolist() == [1, 0] and re.argmin(x, 1).tolist() == [0, 1]
    assert re.argmax(x, axis=0, keepdims=True).tolist() == [[1, 0, 0]]
    assert re.argmax(x).dtype == np.int64 and not re.argmax(x).requires_grad   # not differentiable
    assert x.argmax(dim=1).tolist() == [1, 0]


def grads(fn, values):
    x = re.tensor(values, dtype="float64", requires_grad=True)
    (g,) = re.autograd.grad(fn(x), x)
    return g.tolist()


def test_conventions():
    assert grads(lambda x: re.prod(x), [2.0, 0.0, 3.0]) == [0.0, 6.0, 0.0]      # exact at a zero
    assert grads(lambda x: re.prod(x), [0.0, 0.0, 3.0]) == [0.0, 0.0, 0.0]
    assert grads(lambda x: re.cumprod(x).sum(), [2.0, 0.0, 3.0]) == [1.0, 8.0, 0.0]
    assert grads(lambda x: re.min(x), [1.0, 1.0, 2.0]) == [0.5, 0.5, 0.0]        # ties share evenly
    assert grads(lambda x: re.norm(x), [0.0, 0.0]) == [0.0, 0.0]                 # norm'(0) = 0 (torch)
    assert grads(lambda x: re.norm(x, 1), [0.0, -2.0]) == [0.0, -1.0]
    assert grads(lambda x: re.norm(x, np.inf), [-2.0, 2.0, 1.0]) == [-0.5, 0.5, 0.0]
    with np.errstate(invalid="ignore"):
        g = grads(lambda x: re.std(x), [1.0, 1.0])                              # 0/0 at a constant slice
    assert np.isnan(g).all()
    x = re.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)   # second order of prod
    (g,) = re.autograd.grad(re.prod(x), x, create_graph=True)
    (h,) = re.autograd.grad(g[0, 0], x)
    assert h.tolist() == [[0.0, 12.0], [8.0, 6.0]]


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    compare_torch(lambda t: re.prod(t, 1), lambda t: torch.prod(t, 1), [x])
    compare_torch(lambda t: re.std(t, 0), lambda t: torch.std(t, 0, correction=0), [x])
    compare_torch(lambda t: re.var(t, 1, ddof=1), lambda t: torch.var(t, 1), [x])          # torch's default: 1
    compare_torch(lambda t: re.logsumexp(t, -1), lambda t: torch.logsumexp(t, -1), [x])
    compare_torch(lambda t: re.cumsum(t, 1), lambda t: torch.cumsum(t, 1), [x])
    compare_torch(lambda t: re.cumprod(t, 0), lambda t: torch.cumprod(t, 0), [x])
    compare_torch(lambda t: re.norm(t, "nuc"), lambda t: torch.linalg.norm(t, "nuc"), [x])
    compare_torch(lambda t: re.norm(t, 3, axis=1), lambda t: torch.linalg.norm(t, 3, dim=1), [x])
    compare_torch(lambda t: re.norm(t, -2), lambda t: torch.linalg.norm(t, -2), [x])
    compare_torch(lambda t: re.argmax(t, 1), lambda t: torch.argmax(t, 1), [x], grads=False)


def test_float16_forward():
    x = (np.arange(6).reshape(2, 3) / 4 + 0.5).astype(np.float16)
    for name in ("prod", "std", "var", "logsumexp", "cumsum", "cumprod", "min", "max", "norm"):
        out = getattr(re, name)(re.tensor(x))
        assert out.dtype == np.float16, name
    np.testing.assert_allclose(re.logsumexp(re.tensor(x), axis=1).data, np.log(np.exp(x.astype(float)).sum(1)),
                               rtol=2e-3)

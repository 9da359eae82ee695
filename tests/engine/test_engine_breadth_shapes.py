"""Shapes and indexing: squeeze expand_dims broadcast_to tile flip pad gather take_along_axis
sort topk einsum (and argsort)."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from breadth_testing import arrays, compare_torch, gradcheck_tests, grid
from hypothesis import strategies as st

import reference_engine as re

ranked = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


@st.composite
def squeezes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.none() | (st.sampled_from(ones) if ones else st.none()))
    return (lambda x: re.squeeze(x, axis)), [draw(arrays(shape))]


@st.composite
def expands(draw):
    shape = draw(ranked)
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return (lambda x: re.expand_dims(x, axis)), [draw(arrays(shape))]


@st.composite
def broadcasts(draw):
    shape = draw(ranked)
    target = (2,) + tuple(n if draw(st.booleans()) or n != 1 else 3 for n in shape)
    return (lambda x: re.broadcast_to(x, target)), [draw(arrays(shape))]


@st.composite
def tiles(draw):
    shape = draw(ranked)
    reps = tuple(draw(st.lists(st.integers(1, 2), min_size=1, max_size=3)))
    return (lambda x: re.tile(x, reps)), [draw(arrays(shape))]


@st.composite
def flips(draw):
    shape = draw(ranked)
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1) | st.just(tuple(range(len(shape)))))
    return (lambda x: re.flip(x, axis)), [draw(arrays(shape))]


@st.composite
def pads(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=2, max_side=3))
    mode = draw(st.sampled_from(["constant", "reflect", "symmetric", "edge", "wrap", "replicate", "circular"]))
    widths = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in shape)
    value = draw(st.sampled_from([0.0, -1.5]))
    return (lambda x: re.pad(x, widths, mode, value)), [draw(arrays(shape))]


@st.composite
def gathers(draw):
    shape = draw(ranked)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    indices = draw(hnp.arrays(np.int64, draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)),
                              elements=st.integers(-n, n - 1)))  # repeats and negative indices
    return (lambda x: re.gather(x, re.tensor(indices), axis)), [draw(arrays(shape))]


@st.composite
def takes_along(draw):
    shape = draw(ranked)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    idx_shape = list(shape)
    idx_shape[axis] = draw(st.integers(1, 3))
    indices = draw(hnp.arrays(np.int64, tuple(idx_shape), elements=st.integers(0, shape[axis] - 1)))
    return (lambda x: re.take_along_axis(x, re.tensor(indices), axis)), [draw(arrays(shape))]


@st.composite
def sorts(draw):
    shape = draw(ranked)
    axis, descending = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())
    return (lambda x: re.sort(x, axis, descending)), [draw(grid(shape, unique=True))]


@st.composite
def topks(draw):
    shape = draw(ranked)
    axis, largest = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())
    k = draw(st.integers(1, shape[axis]))
    return (lambda x: re.topk(x, k, axis, largest)[0]), [draw(grid(shape, unique=True))]


EQUATIONS = [  # (equation, operand shapes)
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 1)]), ("ii->", [(3, 3)]),
    ("ii->i", [(2, 2)]), ("i,j->ij", [(2,), (3,)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (2, 3, 2)]), ("ij,jk", [(2, 3), (3, 2)]), ("ij,ij->i", [(2, 3), (1, 3)]),
    ("ij,jk,kl->il", [(2, 2), (2, 3), (3, 2)]), ("iij->j", [(2, 2, 3)]), ("ij,j->", [(2, 3), (3,)]),
]


@st.composite
def einsums(draw):
    equation, shapes = draw(st.sampled_from(EQUATIONS))
    return (lambda *xs: re.einsum(equation, *xs)), [draw(arrays(s)) for s in shapes]


CASES = {
    "squeeze": squeezes(), "expand_dims": expands(), "broadcast_to": broadcasts(), "tile": tiles(),
    "flip": flips(), "pad": pads(), "gather": gathers(), "take_along_axis": takes_along(), "sort": sorts(),
    "topk": topks(), "einsum": einsums(),
}


# every op: central differences in float64, first and second order, drawn inputs
test_first_order, test_second_order = gradcheck_tests(CASES)


def test_forward_values():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = re.tensor(x)
    assert re.squeeze(re.tensor(np.ones((1, 2, 1)))).shape == (2,)
    assert re.expand_dims(t, (0, -1)).shape == (1, 2, 3, 4, 1)
    np.testing.assert_array_equal(re.tile(t, (2, 1, 1, 2)).data, np.tile(x, (2, 1, 1, 2)))
    np.testing.assert_array_equal(re.flip(t, (0, 2)).data, np.flip(x, (0, 2)))
    for mode in ("constant", "reflect", "symmetric", "edge", "wrap"):
        np.testing.assert_array_equal(re.pad(t, ((0, 1), (2, 1), (1, 0)), mode).data,
                                      np.pad(x, ((0, 1), (2, 1), (1, 0)), mode))
    np.testing.assert_array_equal(re.pad(t, 1, "REFLECT").data, np.pad(x, 1, "reflect"))  # tf.pad's spelling
    np.testing.assert_array_equal(re.pad(t, 1, "constant", 7.0).data, np.pad(x, 1, constant_values=7.0))
    idx = np.array([[2, 0], [-1, 2]])
    np.testing.assert_array_equal(re.gather(t, re.tensor(idx), 1).data, np.take(x, idx, axis=1))
    ia = np.array([[[3, 0, 0, 1]]])
    np.testing.assert_array_equal(re.take_along_axis(t, re.tensor(ia), -1).data, np.take_along_axis(x, ia, -1))
    values, indices = re.topk(re.tensor([1.0, 3.0, 2.0, 3.0]), 2)
    assert values.tolist() == [3, 3] and indices.tolist() == [1, 3] and indices.dtype == np.int64
    assert re.topk(re.tensor([1.0, 3.0, 2.0]), 2, largest=False)[1].tolist() == [0, 2]
    assert re.sort(re.tensor([[3.0, 1.0, 2.0]]), descending=True).tolist() == [[3, 2, 1]]
    for eq, shapes in EQUATIONS:
        xs = [np.random.default_rng(0).standard_normal(s) for s in shapes]
        np.testing.assert_allclose(re.einsum(eq, *[re.tensor(a) for a in xs]).data, np.einsum(eq, *xs))
    assert re.einsum([t, t], "ijk,ijk->").item() == np.sum(x * x)  # the list-first spelling


def grads(fn, values):
    x = re.tensor(values, dtype="float64", requires_grad=True)
    (g,) = re.autograd.grad(fn(x), x)
    return g.tolist()


def test_tie_and_repeat_conventions():
    w = re.tensor([1.0, 10.0, 100.0, 1000.0], dtype="float64")
    # sort is stable: the earlier of two equal entries takes the earlier place (and its gradient)
    assert grads(lambda x: re.sum(re.sort(x) * w), [2.0, 1.0, 2.0, 0.0]) == [100.0, 10.0, 1000.0, 1.0]
    assert grads(lambda x: re.sum(re.sort(x, descending=True) * w), [2.0, 1.0, 2.0, 0.0]) == [1, 100, 10, 1000]
    # topk: the lower index wins a tie, only the picked entries get gradient
    assert grads(lambda x: re.sum(re.topk(x, 1)[0]), [3.0, 1.0, 3.0]) == [1.0, 0.0, 0.0]
    # gathers add up repeated indices
    assert grads(lambda x: re.sum(re.gather(x, re.tensor([0, 0, -1]))), [1.0, 2.0, 3.0]) == [2.0, 0.0, 1.0]
    assert grads(lambda x: re.sum(re.take_along_axis(x, re.tensor([1, 1]), 0)), [1.0, 2.0]) == [0.0, 2.0]
    assert grads(lambda x: re.sum(re.pad(x, 2, "reflect")), [1.0, 2.0, 3.0]) == [2.0, 3.0, 2.0]
    assert not re.argsort(re.tensor([2.0, 1.0], requires_grad=True)).requires_grad


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4))
    idx = np.array([[0, 3, 3], [1, 0, 2], [2, 2, 2]])
    compare_torch(lambda t: re.take_along_axis(t, re.tensor(idx), 1), lambda t: torch.gather(t, 1, torch.tensor(idx)),
                  [x])
    compare_torch(lambda t: re.gather(t, re.tensor([2, 0, 2]), 1),
                  lambda t: torch.index_select(t, 1, torch.tensor([2, 0, 2])), [x])
    compare_torch(lambda t: re.sort(t, 1), lambda t: torch.sort(t, 1).values, [x])
    compare_torch(lambda t: re.topk(t, 2, 0)[0], lambda t: torch.topk(t, 2, 0).values, [x])
    compare_torch(lambda t: re.pad(t, ((1, 2), (0, 1)), "reflect"),
                  lambda t: torch.nn.functional.pad(t[None], (0, 1, 1, 2), mode="reflect")[0], [x])
    compare_torch(lambda t: re.tile(t, (2, 1)), lambda t: torch.tile(t, (2, 1)), [x])
    compare_torch(lambda t: re.flip(t, 0), lambda t: torch.flip(t, (0,)), [x])
    compare_torch(lambda a, b: re.einsum("ij,kj->ik", a, b), lambda a, b: torch.einsum("ij,kj->ik", a, b), [x, x])


def test_float16_forward():
    x = re.tensor(np.array([[0.5, -1.25], [2.0, 3.5]], np.float16))
    for out in (re.squeeze(x), re.tile(x, 2), re.flip(x), re.pad(x, 1), re.gather(x, re.tensor([1]), 1),
                re.sort(x), re.topk(x, 1)[0], re.einsum("ij,jk", x, x), re.take_along_axis(x, re.tensor([[0]]), 1)):
        assert out.dtype == np.float16


def test_composites_and_new_ops_in_graphs_and_traces():
    g = re.Graph()
    with g.as_default():  # composites (sort, topk, conv2d) are one recorded call: shapes are read at run time
        x = re.placeholder("float64")
        y = re.sort(x) + re.logsumexp(x)
        values, indices = re.topk(x, 2)
        c = re.conv2d(re.reshape(x, (1, 1, 2, 2)), re.tensor(np.full((1, 1, 1, 1), 2.0)))
    out = re.Session(g).run([y, values, indices, c], {x: [3.0, 1.0, 2.0, 0.5]})
    lse = np.log(np.exp([3.0, 1.0, 2.0, 0.5]).sum())
    np.testing.assert_allclose(out[0], np.array([0.5, 1.0, 2.0, 3.0]) + lse)
    assert out[1].tolist() == [3.0, 2.0] and out[2].tolist() == [0, 2] and out[3].ravel().tolist() == [6, 2, 4, 1]

    @re.function
    def f(a):
        return re.sum(re.gather(a, re.tensor([1, 1]), 0)) * re.sum(re.erf(a))
    a = re.Variable([0.1, 0.2, 0.3], dtype="float64")
    grads = []
    for _ in range(2):  # trace, then replay: same gradient
        with re.GradientTape() as tape:
            value = f(a)
        grads.append(tape.gradient(value, a).numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    assert f.experimental_get_tracing_count() == 1

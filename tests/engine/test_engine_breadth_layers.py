"""Layers: conv1d conv2d conv_transpose2d max_pool2d avg_pool2d batch_norm layer_norm embedding
lstm_cell gru_cell dropout (and batch_norm_stats)."""
import numpy as np
import pytest
from breadth_testing import FIRST, SECOND, arrays, check_first, check_second, compare_torch, grid
from hypothesis import given
from hypothesis import strategies as st

import reference_engine as re


@st.composite
def convs(draw, dims, small=False):
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * (1 if small else draw(st.integers(1, 2))), groups
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    stride = draw(st.sampled_from([1, 2]))
    dilation = draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from([0, 1, "same", "valid"]))
    sizes = tuple(draw(st.integers(3, 3 if small else 4)) for _ in range(dims))
    conv = re.conv1d if dims == 1 else re.conv2d
    inputs = [draw(arrays((1, c_in) + sizes)), draw(arrays((c_out, c_in // groups) + kernel))]
    if draw(st.booleans()):
        inputs.append(draw(arrays((c_out,))))
    return (lambda x, w, b=None: conv(x, w, b, stride, padding, dilation, groups)), inputs


@st.composite
def conv_transposes(draw):
    groups, stride, dilation = (draw(st.sampled_from([1, 2])) for _ in range(3))
    padding, output_padding = draw(st.integers(0, 1)), draw(st.integers(0, stride - 1))
    kernel = (draw(st.integers(1, 2)), 2)
    x = draw(arrays((1, groups) + (draw(st.integers(1, 3)), 2)))
    if any((n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1 < 1
           for n, k in zip(x.shape[2:], kernel)):
        padding = 0  # the output would be empty
    w = draw(arrays((groups, 1) + kernel))
    return (lambda x, w: re.conv_transpose2d(x, w, None, stride, padding, output_padding, groups, dilation)), [x, w]


@st.composite
def pools(draw, which):
    kernel = draw(st.sampled_from([1, 2, (2, 1)]))
    stride = draw(st.sampled_from([None, 1, 2]))
    padding = draw(st.sampled_from([0, "same"] + ([1] if kernel == 2 else [])))
    x = draw(grid((1, 2, draw(st.integers(2, 4)), 3), unique=True))  # no ties inside a window
    if which == "max":
        return (lambda t: re.max_pool2d(t, kernel, stride, padding)), [x]
    include = draw(st.booleans())
    return (lambda t: re.avg_pool2d(t, kernel, stride, padding, include)), [x]


@st.composite
def batch_norms(draw, small=False):
    training = draw(st.booleans())
    shape = draw(st.sampled_from([(3, 2)] if small else [(3, 2), (2, 2, 3)]))
    x = draw(grid(shape, unique=True))
    stats = [draw(arrays((2,))), draw(arrays((2,), 0.5, 2.0))]
    affine = [draw(arrays((2,))), draw(arrays((2,)))]
    if training:
        return (lambda x, g, b: re.batch_norm(x, None, None, g, b, 1e-3, training=True)), [x] + affine
    return (lambda x, m, v, g, b: re.batch_norm(x, m, v, g, b, 1e-3)), [x] + stats + affine


@st.composite
def layer_norms(draw, small=False):
    shape = draw(st.sampled_from([(1, 3)] if small else [(2, 3), (2, 2, 2)]))
    axis = draw(st.sampled_from([-1, (1, 2)] if len(shape) == 3 else [-1]))
    norm_shape = shape[-1:] if axis == -1 else shape[1:]
    x = draw(grid(shape, unique=True))
    return (lambda x, g, b: re.layer_norm(x, g, b, 1e-3, axis)), [x, draw(arrays(norm_shape)),
                                                                  draw(arrays(norm_shape))]


@st.composite
def embeddings(draw):
    indices = np.array(draw(st.lists(st.integers(0, 3), min_size=1, max_size=4)))
    return (lambda table: re.embedding(re.tensor(indices), table)), [draw(arrays((4, 2)))]


@st.composite
def cells(draw, kind, small=False):
    """One step of a cell; ``small``: hidden size 1 and the biases held constant (second order is
    checked on every input pair, so its cost grows with the square of the inputs' size)."""
    gates = 4 if kind == "lstm" else 3
    i, h = 2, 1 if small else draw(st.integers(1, 2))
    x = draw(arrays((1, i), -1, 1))
    states = [draw(arrays((1, h), -1, 1)) for _ in range(2 if kind == "lstm" else 1)]
    weights = [draw(arrays((gates * h, i), -1, 1)), draw(arrays((gates * h, h), -1, 1))]
    biases = [draw(arrays((gates * h,), -1, 1)), draw(arrays((gates * h,), -1, 1))]
    cell = re.lstm_cell if kind == "lstm" else re.gru_cell
    if small:
        bias = [re.tensor(b) for b in biases]
        return (lambda *a: re.stack(list(_outputs(cell(*a, *bias))))), [x] + states + weights
    return (lambda *a: re.stack(list(_outputs(cell(*a))))), [x] + states + weights + biases


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


CASES = {
    "conv1d": convs(1), "conv2d": convs(2), "conv_transpose2d": conv_transposes(),
    "max_pool2d": pools("max"), "avg_pool2d": pools("avg"), "batch_norm": batch_norms(), "layer_norm": layer_norms(),
    "embedding": embeddings(), "lstm_cell": cells("lstm"), "gru_cell": cells("gru"),
    "dropout": st.just((lambda x: re.dropout(x, 0.5, training=False), [np.array([1.0, -2.0])])),
}

SECOND_CASES = {**CASES, "conv1d": convs(1, small=True), "conv2d": convs(2, small=True),
                "batch_norm": batch_norms(small=True), "layer_norm": layer_norms(small=True),
                "lstm_cell": cells("lstm", small=True), "gru_cell": cells("gru", small=True)}


@pytest.mark.parametrize("name", sorted(CASES))
@FIRST
@given(data=st.data())
def test_first_order(name, data):
    check_first(data.draw(CASES[name]))


@pytest.mark.parametrize("name", sorted(SECOND_CASES))
@SECOND
@given(data=st.data())
def test_second_order(name, data):
    check_second(data.draw(SECOND_CASES[name]))


def test_conventions():
    x = re.tensor(np.array([[[[1.0, 1.0], [0.0, 1.0]]]]), dtype="float64", requires_grad=True)
    (g,) = re.autograd.grad(re.max_pool2d(x, 2).sum(), x)   # a tie: the first maximum (row-major) takes it all
    assert g.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]
    x = re.tensor(np.ones((1, 1, 3, 3)))
    assert re.conv2d(x, re.tensor(np.ones((1, 1, 2, 2))), stride=2, padding="same").shape == (1, 1, 2, 2)  # ceil(3/2)
    assert re.conv2d(x, re.tensor(np.ones((1, 1, 2, 2))), padding="same").tolist() == [   # extra pad bottom/right
        [[[4.0, 4.0, 2.0], [4.0, 4.0, 2.0], [2.0, 2.0, 1.0]]]]
    assert re.avg_pool2d(x, 2, 2, "same", False).tolist() == [[[[1.0, 1.0], [1.0, 1.0]]]]  # TF: pads excluded
    assert re.avg_pool2d(x, 2, 2, 1, count_include_pad=True).tolist()[0][0][0] == [0.25, 0.5]
    assert re.dropout(re.tensor([1.0, 2.0]), 0.3).tolist() == [1.0, 2.0]            # eval: the identity
    with pytest.raises(NotImplementedError):
        re.dropout(re.tensor([1.0]), 0.3, training=True)


def test_batch_norm_running_stats():
    x = np.arange(12.0).reshape(3, 2, 2)
    rm, rv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    batch_mean, biased = x.mean((0, 2)), x.var((0, 2))
    m, v = re.batch_norm_stats(re.tensor(x), re.tensor(rm), re.tensor(rv))              # torch: momentum 0.1
    np.testing.assert_allclose(m.data, 0.9 * rm + 0.1 * batch_mean)
    np.testing.assert_allclose(v.data, 0.9 * rv + 0.1 * biased * 6 / 5)                   # unbiased stored
    m, v = re.batch_norm_stats(re.tensor(x), re.tensor(rm), re.tensor(rv), style="keras")  # keras: 0.99
    np.testing.assert_allclose(m.data, 0.99 * rm + 0.01 * batch_mean)
    np.testing.assert_allclose(v.data, 0.99 * rv + 0.01 * biased)
    xt = re.tensor(np.moveaxis(x, 1, -1))                                                  # channels last
    m, _ = re.batch_norm_stats(xt, re.tensor(rm), re.tensor(rv), 0.5, axis=-1)
    np.testing.assert_allclose(m.data, 0.5 * rm + 0.5 * batch_mean)
    y = re.batch_norm(xt, None, None, training=True, axis=-1)
    np.testing.assert_allclose(y.data, np.moveaxis((x - batch_mean[:, None]) / np.sqrt(biased[:, None] + 1e-5), 1, -1))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    compare_torch(lambda x, w, b: re.conv2d(x, w, b, (2, 1), (1, 2), (1, 2), 2),
                  lambda x, w, b: F.conv2d(x, w, b, (2, 1), (1, 2), (1, 2), 2), [x, w, b])
    compare_torch(lambda x, w: re.conv1d(x, w, stride=2, padding=1), lambda x, w: F.conv1d(x, w, stride=2, padding=1),
                  [x[:, :, 0], rng.standard_normal((3, 4, 3))])
    wt = rng.standard_normal((4, 3, 3, 2))
    compare_torch(lambda x, w: re.conv_transpose2d(x, w, None, 2, 1, 1, 2), lambda x, w: F.conv_transpose2d(
        x, w, None, 2, 1, 1, 2), [x, wt])
    compare_torch(lambda t: re.max_pool2d(t, 3, 2, 1), lambda t: F.max_pool2d(t, 3, 2, 1), [x])
    compare_torch(lambda t: re.avg_pool2d(t, 3, 2, 1), lambda t: F.avg_pool2d(t, 3, 2, 1), [x])
    compare_torch(lambda t: re.avg_pool2d(t, 3, 2, 1, False), lambda t: F.avg_pool2d(t, 3, 2, 1, False, False), [x])
    g, bb = rng.standard_normal(4), rng.standard_normal(4)
    compare_torch(lambda x, g, b: re.batch_norm(x, None, None, g, b, training=True),
                  lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True), [x, g, bb])
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    compare_torch(lambda x: re.batch_norm(x, re.tensor(rm), re.tensor(rv)),
                  lambda x: F.batch_norm(x, torch.tensor(rm), torch.tensor(rv)), [x])
    compare_torch(lambda x, g, b: re.layer_norm(x, g, b), lambda x, g, b: F.layer_norm(x, (6,), g, b),
                  [x, rng.standard_normal(6), rng.standard_normal(6)])
    compare_torch(lambda t: re.embedding(re.tensor([[0, 2], [2, 2]]), t),
                  lambda t: F.embedding(torch.tensor([[0, 2], [2, 2]]), t), [rng.standard_normal((3, 2))])
    h = 3
    args = [rng.standard_normal(s) for s in [(2, 4), (2, h), (2, h), (4 * h, 4), (4 * h, h), (4 * h,), (4 * h,)]]
    cell = torch.nn.LSTMCell(4, h, dtype=torch.float64)

    def torch_lstm(x, hx, cx, wi, wh, bi, bh):
        out = torch.func.functional_call(cell, {"weight_ih": wi, "weight_hh": wh, "bias_ih": bi, "bias_hh": bh},
                                         (x, (hx, cx)))
        return torch.stack(out)
    compare_torch(lambda *a: re.stack(list(re.lstm_cell(*a))), torch_lstm, args)
    gru = torch.nn.GRUCell(4, h, dtype=torch.float64)
    gargs = [args[0], args[1], args[3][:3 * h], args[4][:3 * h], args[5][:3 * h], args[6][:3 * h]]
    compare_torch(re.gru_cell, lambda x, hx, wi, wh, bi, bh: torch.func.functional_call(
        gru, {"weight_ih": wi, "weight_hh": wh, "bias_ih": bi, "bias_hh": bh}, (x, hx)), gargs)


def test_float16_forward():
    x = re.tensor(np.linspace(-1, 1, 16).reshape(1, 1, 4, 4).astype(np.float16))
    w = re.tensor(np.ones((1, 1, 2, 2), np.float16))
    for out in (re.conv2d(x, w), re.conv_transpose2d(x, w), re.max_pool2d(x, 2), re.avg_pool2d(x, 2),
                re.batch_norm(x, None, None, training=True), re.layer_norm(x), re.dropout(x)):
        assert out.dtype == np.float16
    np.testing.assert_allclose(re.conv2d(x, w).data.astype(float),
                               re.conv2d(re.cast(x, "float64"), re.cast(w, "float64")).data, atol=2e-3)

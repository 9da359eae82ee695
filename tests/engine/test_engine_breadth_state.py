"""Stateful layers: batch_norm_train (a training step and its running statistics, both
conventions), batch_norm_stats, and the recurrent cells' ``layout`` attribute."""
import numpy as np
import pytest
from breadth_testing import arrays, compare_torch, gradcheck_tests, grid
from hypothesis import strategies as st

import reference_engine as re

STYLES = st.sampled_from(["torch", "keras"])


@st.composite
def batch_norm_trains(draw, small=False):
    """One step: (y, running mean, running var), channels on axis 1 or -1, affine or not."""
    style, axis = draw(STYLES), draw(st.sampled_from([1, -1]))
    momentum = draw(st.sampled_from([0.1, 0.9, 0.3]))
    shape = (3, 2) if small else draw(st.sampled_from([(3, 2), (2, 2, 3)]))
    c = shape[axis]
    x = draw(grid(shape, unique=True))  # distinct entries: the batch variance is never 0
    stats = [draw(arrays((c,))), draw(arrays((c,), 0.5, 2.0))]
    if draw(st.booleans()):
        def step(x, m, v, g, b):
            return re.batch_norm_train(x, m, v, g, b, momentum, 1e-3, axis, style)
        return step, [x] + stats + [draw(arrays((c,))), draw(arrays((c,)))]
    return (lambda x, m, v: re.batch_norm_train(x, m, v, None, None, momentum, 1e-3, axis, style)), [x] + stats


@st.composite
def batch_norm_stats(draw):
    style, momentum = draw(STYLES), draw(st.sampled_from([None, 0.2]))
    x = draw(grid((4, 2), unique=True))
    return ((lambda x, m, v: re.batch_norm_stats(x, m, v, momentum, 1, style)),
            [x, draw(arrays((2,))), draw(arrays((2,), 0.5, 2.0))])


@st.composite
def native_cells(draw, kind):
    """layout="native" in the engine: its own layout, the canonical one (hidden size 1, no biases,
    to keep the second order affordable)."""
    gates = 4 if kind == "lstm" else 3
    x, h = draw(arrays((1, 2), -1, 1)), draw(arrays((1, 1), -1, 1))
    w = [draw(arrays((gates, 2), -1, 1)), draw(arrays((gates, 1), -1, 1))]
    if kind == "lstm":
        c = draw(arrays((1, 1), -1, 1))
        return (lambda x, h, c, wi, wh: re.stack(list(re.lstm_cell(x, h, c, wi, wh, layout="native")))), [x, h, c] + w
    return (lambda x, h, wi, wh: re.gru_cell(x, h, wi, wh, layout="native")), [x, h] + w


CASES = {"batch_norm_train": batch_norm_trains(), "batch_norm_stats": batch_norm_stats(),
         "lstm_cell_native": native_cells("lstm"), "gru_cell_native": native_cells("gru")}
SECOND_CASES = {**CASES, "batch_norm_train": batch_norm_trains(small=True)}

test_first_order, _ = gradcheck_tests(CASES)
_, test_second_order = gradcheck_tests(SECOND_CASES)


def _steps(xs, rm, rv, style, momentum, eps=1e-5):
    m, v = re.tensor(rm), re.tensor(rv)
    for x in xs:
        y, m, v = re.batch_norm_train(re.tensor(x), m, v, None, None, momentum, eps, 1, style)
    return y.data, m.data, v.data


def test_three_steps_follow_each_convention():
    """PyTorch: the batch weighs momentum and the unbiased variance is stored; Keras and flax:
    the old statistics weigh momentum and the biased variance is stored."""
    xs = np.random.default_rng(3).standard_normal((3, 4, 2, 2))
    rm, rv = np.array([0.5, -0.5]), np.array([2.0, 0.5])
    n = 4 * 2                                                   # entries per channel
    m, v = rm, rv
    for x in xs:
        m = 0.9 * m + 0.1 * x.mean((0, 2))
        v = 0.9 * v + 0.1 * x.var((0, 2)) * n / (n - 1)
    y, got_m, got_v = _steps(xs, rm, rv, "torch", 0.1)
    np.testing.assert_allclose(got_m, m, rtol=1e-12)
    np.testing.assert_allclose(got_v, v, rtol=1e-12)
    last = xs[-1]
    np.testing.assert_allclose(y, (last - last.mean((0, 2))[:, None]) / np.sqrt(last.var((0, 2))[:, None] + 1e-5),
                               rtol=1e-12)
    m, v = rm, rv
    for x in xs:
        m = 0.99 * m + 0.01 * x.mean((0, 2))
        v = 0.99 * v + 0.01 * x.var((0, 2))
    _, got_m, got_v = _steps(xs, rm, rv, "keras", 0.99)
    np.testing.assert_allclose(got_m, m, rtol=1e-12)
    np.testing.assert_allclose(got_v, v, rtol=1e-12)
    # the defaults: torch 0.1, keras 0.99 (the two spellings of one rule: m and 1 - m)
    np.testing.assert_allclose(re.batch_norm_stats(re.tensor(xs[0]), re.tensor(rm), re.tensor(rv), 0.9,
                                                   style="keras")[0].data,
                               re.batch_norm_stats(re.tensor(xs[0]), re.tensor(rm), re.tensor(rv))[0].data)
    with pytest.raises(ValueError):
        re.batch_norm_stats(re.tensor(xs[0]), re.tensor(rm), re.tensor(rv), style="flax")


def test_layouts():
    rng = np.random.default_rng(4)
    x, h, c = (re.tensor(rng.standard_normal(s)) for s in [(2, 3), (2, 2), (2, 2)])
    wi, wh = re.tensor(rng.standard_normal((8, 3))), re.tensor(rng.standard_normal((8, 2)))
    for native, canonical in [(re.lstm_cell(x, h, c, wi, wh, layout="native"), re.lstm_cell(x, h, c, wi, wh)),
                              ((re.gru_cell(x, h, wi[:6], wh[:6], layout="native"),),
                               (re.gru_cell(x, h, wi[:6], wh[:6], layout="canonical"),))]:
        for a, b in zip(native, canonical):
            np.testing.assert_array_equal(a.data, b.data)   # the engine's own layer takes its own layout
    with pytest.raises(ValueError):
        re.lstm_cell(x, h, c, wi, wh, layout="keras")


def test_matches_torch():
    """Evidence, not the oracle: three steps of F.batch_norm(training=True), whose running
    tensors it updates in place, and the output's gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((3, 4, 3, 2))
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    t_m, t_v = torch.tensor(rm), torch.tensor(rv)
    for x in xs:
        torch.nn.functional.batch_norm(torch.tensor(x), t_m, t_v, training=True, momentum=0.2)
    _, m, v = _steps(xs, rm, rv, "torch", 0.2)
    np.testing.assert_allclose(m, t_m.numpy(), rtol=1e-12)
    np.testing.assert_allclose(v, t_v.numpy(), rtol=1e-12)
    g, b = rng.standard_normal(3), rng.standard_normal(3)
    compare_torch(lambda x, g, b: re.batch_norm_train(x, re.tensor(rm), re.tensor(rv), g, b, 0.2)[0],
                  lambda x, g, b: torch.nn.functional.batch_norm(x, torch.tensor(rm), torch.tensor(rv), g, b,
                                                                 training=True, momentum=0.2), [xs[0], g, b])

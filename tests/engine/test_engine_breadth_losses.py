"""Losses: cross_entropy, binary_cross_entropy_with_logits, huber, kl_div."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from breadth_testing import arrays, compare_torch, gradcheck_tests, grid
from hypothesis import strategies as st

import reference_engine as re

reductions = st.sampled_from(["mean", "sum", "none"])


@st.composite
def cross_entropies(draw):
    n, k = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    smoothing, reduction = draw(st.sampled_from([0.0, 0.1])), draw(reductions)
    logits = draw(arrays((n, k)))
    if draw(st.booleans()):  # integer labels: only the logits are differentiable
        labels = re.tensor(draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1))))
        return (lambda x: re.cross_entropy(x, labels, smoothing, reduction)), [logits]
    probs = draw(arrays((n, k), 0.1, 1.0))
    return (lambda x, y: re.cross_entropy(x, y, smoothing, reduction)), [logits, probs / probs.sum(-1, keepdims=True)]


@st.composite
def class_axis(draw):
    """Classes on axis 1 of (N, K, d): torch's layout for K-dimensional inputs."""
    labels = re.tensor(draw(hnp.arrays(np.int64, (2, 2), elements=st.integers(0, 2))))
    return (lambda x: re.cross_entropy(x, labels, 0.0, "mean", axis=1)), [draw(arrays((2, 3, 2)))]


@st.composite
def binary_cross_entropies(draw):
    shape, reduction = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3)), draw(reductions)
    pos_weight = draw(st.sampled_from([None, 2.5]))
    return ((lambda x, y: re.binary_cross_entropy_with_logits(x, y, reduction, pos_weight)),
            [draw(arrays(shape, -4, 4)), draw(arrays(shape, 0.0, 1.0))])


@st.composite
def hubers(draw):
    """input and target on the 1/16 grid, delta 0.7: |input - target| is a multiple of 1/8, never delta."""
    shape, reduction = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)), draw(reductions)
    return (lambda a, b: re.huber(a, b, 0.7, reduction)), [draw(grid(shape)), draw(grid(shape))]


@st.composite
def kl_divs(draw):
    n, k = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    reduction, log_target = draw(st.sampled_from(["mean", "sum", "batchmean", "none"])), draw(st.booleans())
    target = draw(arrays((n, k), 0.1, 1.0))
    target = target / target.sum(-1, keepdims=True)
    return ((lambda a, b: re.kl_div(a, b, reduction, log_target)),
            [draw(arrays((n, k), -3, 0)), np.log(target) if log_target else target])


CASES = {
    "cross_entropy": cross_entropies(), "cross_entropy_axis1": class_axis(),
    "binary_cross_entropy_with_logits": binary_cross_entropies(), "huber": hubers(), "kl_div": kl_divs(),
}


# every op: central differences in float64, first and second order, drawn inputs
test_first_order, test_second_order = gradcheck_tests(CASES)


def test_forward_values():
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]])
    labels = np.array([0, 2])
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    per = -logp[[0, 1], labels]
    assert re.cross_entropy(re.tensor(logits), re.tensor(labels), reduction="none").tolist() == pytest.approx(per)
    y = np.eye(3)[labels] * 0.9 + 0.1 / 3                                            # y (1 - e) + e / K
    smoothed = -(y * logp).sum(1).mean()
    assert re.cross_entropy(re.tensor(logits), re.tensor(labels), 0.1).item() == pytest.approx(smoothed)
    assert re.cross_entropy(re.tensor(logits), re.tensor(np.eye(3)[labels]), 0.1).item() == pytest.approx(smoothed)
    assert re.cross_entropy(re.tensor(logits), re.tensor([0, -1]), reduction="none").tolist()[1] == 0.0  # zero row
    x, t = np.array([-30.0, 0.0, 30.0]), np.array([1.0, 0.5, 0.0])
    expected = np.logaddexp(0, x) - x * t                                             # stable far from 0
    assert re.binary_cross_entropy_with_logits(re.tensor(x), re.tensor(t), "none").tolist() == pytest.approx(expected)
    d = np.array([-2.0, -0.5, 0.0, 0.7, 1.5])
    h = np.where(np.abs(d) <= 0.7, 0.5 * d * d, 0.7 * (np.abs(d) - 0.35))
    assert re.huber(re.tensor(d), re.tensor(np.zeros(5)), 0.7, "none").tolist() == pytest.approx(h)
    p, q = np.array([[0.0, 0.25, 0.75]]), np.array([[0.2, 0.3, 0.5]])
    kl = np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0.0)                  # 0 log 0 = 0
    assert re.kl_div(re.tensor(np.log(q)), re.tensor(p), "batchmean").item() == pytest.approx(kl.sum())
    assert re.kl_div(re.tensor(np.log(q)), re.tensor(p), "mean").item() == pytest.approx(kl.mean())


def test_huber_second_derivative_at_delta_is_inside():
    x = re.tensor([0.7], dtype="float64", requires_grad=True)
    (g,) = re.autograd.grad(re.huber(x, re.tensor([0.0], dtype="float64"), 0.7, "sum"), x, create_graph=True)
    (h,) = re.autograd.grad(g.sum(), x)
    assert g.tolist() == pytest.approx([0.7]) and h.tolist() == [1.0]


def test_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    logits, labels = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    probs = rng.dirichlet(np.ones(3), 4)
    for reduction in ("mean", "sum", "none"):
        compare_torch(lambda x: re.cross_entropy(x, re.tensor(labels), 0.1, reduction),
                      lambda x: F.cross_entropy(x, torch.tensor(labels), reduction=reduction, label_smoothing=0.1),
                      [logits])
        compare_torch(lambda x, y: re.cross_entropy(x, y, 0.2, reduction),
                      lambda x, y: F.cross_entropy(x, y, reduction=reduction, label_smoothing=0.2), [logits, probs])
    l3, lab3 = rng.standard_normal((2, 3, 4)), rng.integers(0, 3, (2, 4))
    compare_torch(lambda x: re.cross_entropy(x, re.tensor(lab3), axis=1),
                  lambda x: F.cross_entropy(x, torch.tensor(lab3)), [l3])
    targets = rng.random((4, 3))
    compare_torch(re.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, [logits, targets])
    compare_torch(lambda x, y: re.binary_cross_entropy_with_logits(x, y, "sum", 2.5),
                  lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum",
                                                                  pos_weight=torch.tensor(2.5, dtype=torch.float64)),
                  [logits, targets])
    compare_torch(lambda a, b: re.huber(a, b, 0.7), lambda a, b: F.huber_loss(a, b, delta=0.7), [logits, targets])
    logq = np.log(rng.dirichlet(np.ones(3), 4))
    for reduction in ("sum", "batchmean", "none"):
        compare_torch(lambda a, b: re.kl_div(a, b, reduction), lambda a, b: F.kl_div(a, b, reduction=reduction),
                      [logq, probs])
    compare_torch(lambda a, b: re.kl_div(a, b, "sum", True), lambda a, b: F.kl_div(a, b, reduction="sum",
                                                                                   log_target=True),
                  [logq, np.log(probs)])


def test_float16_forward():
    x = re.tensor(np.array([[0.5, -1.0, 2.0]], np.float16))
    y = re.tensor(np.array([[0.25, 0.25, 0.5]], np.float16))
    for out in (re.cross_entropy(x, re.tensor([2])), re.cross_entropy(x, y), re.binary_cross_entropy_with_logits(x, y),
                re.huber(x, y), re.kl_div(x, y)):
        assert out.dtype == np.float16

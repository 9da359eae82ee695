"""Forward mode: jvp against reverse mode, and nesting."""
import numpy as np
import pytest

import reference_engine as re
from reference_engine import autograd, jvp


def f(x, y):
    return re.tanh(x @ y).sum(dim=0) * re.exp(x[0, 0])


def test_jvp_matches_reverse_mode():
    rng = np.random.default_rng(0)
    x, y = re.tensor(rng.standard_normal((3, 2))), re.tensor(rng.standard_normal((2, 4)))
    tx, ty = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    out, t = jvp(f, (x, y), (tx, ty))
    np.testing.assert_allclose(out.data, f(x, y).data)
    for i in range(out.data.size):  # row i of J, dotted with the tangent, is t[i]
        xs = [re.tensor(x.data, requires_grad=True), re.tensor(y.data, requires_grad=True)]
        gx, gy = autograd.grad(f(*xs)[i], xs)
        assert np.isclose((gx.data * tx).sum() + (gy.data * ty).sum(), t.data[i])


def test_nested_jvp_gives_higher_derivatives():
    g = lambda x: jvp(re.sin, (x,), (re.ones_like(x),))[1]           # cos
    _, second = jvp(g, (re.tensor(0.3, dtype="float64"),), (1.0,))   # -sin
    assert np.isclose(second.item(), -np.sin(0.3))


def test_reverse_over_forward():
    x = re.tensor(0.3, dtype="float64", requires_grad=True)
    _, t = jvp(re.exp, (x,), (1.0,))
    (g,) = autograd.grad(t * x, x)
    assert np.isclose(g.item(), np.exp(0.3) * 1.3)


def test_forward_over_reverse():
    def grad_f(x):
        return autograd.grad(x ** 3, x, create_graph=True)[0]
    _, t = jvp(grad_f, (re.tensor(2.0, dtype="float64", requires_grad=True),), (1.0,))
    assert t.item() == 12.0


def test_output_not_depending_on_input_has_zero_tangent():
    _, t = jvp(lambda x: re.tensor([1.0, 2.0]), (re.tensor(1.0),), (1.0,))
    assert t.tolist() == [0.0, 0.0]


def test_custom_function_refuses_forward_mode():
    class Id(re.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(NotImplementedError):
        jvp(Id.apply, (re.tensor(1.0),), (1.0,))

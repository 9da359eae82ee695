"""The engine's autograd semantics, each as PyTorch has it."""
import numpy as np
import pytest

import reference_engine as re
from reference_engine import autograd


def test_user_tensors_are_leaves_and_untracked_results_too():
    a, b = re.tensor([1.0]), re.tensor([2.0])
    c = a.add(b)
    assert a.is_leaf and c.is_leaf and not c.requires_grad and c.grad_fn is None
    w = re.tensor([1.0], requires_grad=True)
    d = w.add(b)
    assert w.is_leaf and not d.is_leaf and d.requires_grad


def test_grad_fn_is_named_after_the_op():
    x = re.tensor(2.0, requires_grad=True)
    assert type((x + 1).grad_fn).__name__ == "AddBackward"
    assert (x * x).grad_fn.name() == "MulBackward"
    assert repr(x.exp().grad_fn) == "<ExpBackward>"
    assert re.log_softmax(x.reshape(1)).grad_fn.name() == "LogSoftmaxBackward"


def test_only_leaves_keep_grad_and_it_accumulates():
    x = re.tensor(3.0, requires_grad=True)
    y = x * 2
    z = y * y
    z.backward()
    assert y.grad is None and z.grad is None
    assert x.grad.item() == 24.0
    (x * 2).backward()
    assert x.grad.item() == 26.0


def test_retain_grad_and_hooks():
    x = re.tensor(3.0, requires_grad=True)
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.item()))
    (y * y).backward()
    assert y.grad.item() == 12.0 and seen == [12.0] and x.grad.item() == 24.0


def test_hook_can_replace_the_gradient():
    x = re.tensor(1.0, requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.backward()
    assert x.grad.item() == 30.0


def test_second_backward_through_freed_buffers_raises():
    x = re.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_nodes_that_saved_nothing_can_run_twice():
    x = re.tensor(2.0, requires_grad=True)
    y = x + 1
    y.backward()
    y.backward()
    assert x.grad.item() == 2.0


def test_retain_graph_keeps_buffers_and_grads_double():
    x = re.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_autograd_grad_frees_too():
    x = re.tensor([1.0, 2.0], requires_grad=True)
    z = 3 * x * x
    autograd.grad(z, x, re.ones_like(z))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.grad(z, x, re.ones_like(z))


def test_implicit_gradient_only_for_scalars():
    a = re.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (a ** 2 + 1).backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        re.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        re.tensor(3).requires_grad_()


def test_unused_input():
    x, w = re.tensor(1.0, requires_grad=True), re.tensor(2.0, requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        autograd.grad(y, [x, w], retain_graph=True)
    gx, gw = autograd.grad(y, [x, w], allow_unused=True)
    assert gx.item() == 3.0 and gw is None


def test_backward_of_untracked_tensor_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        re.tensor(1.0).backward()


def test_create_graph_gives_differentiable_gradients():
    x = re.tensor(0.5, dtype="float64", requires_grad=True)
    y = re.sin(x) * x ** 3
    (g,) = autograd.grad(y, x, create_graph=True)
    (h,) = autograd.grad(g, x, create_graph=True)
    (k,) = autograd.grad(h, x)
    s, c = np.sin(0.5), np.cos(0.5)
    assert np.isclose(g.item(), c * 0.125 + 3 * 0.25 * s)
    assert np.isclose(h.item(), -s * 0.125 + 6 * 0.25 * c + 6 * 0.5 * s)
    assert np.isclose(k.item(), -c * 0.125 - 9 * 0.25 * s + 18 * 0.5 * c + 6 * s)


def test_no_grad_and_detach():
    x = re.tensor(1.0, requires_grad=True)
    with re.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    assert not x.detach().requires_grad

    @re.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_broadcasting_follows_numpy_and_grads_sum_back():
    x = re.tensor(np.ones((2, 3)), requires_grad=True)
    b = re.tensor(np.ones((3,)), requires_grad=True)
    s = re.tensor(2.0, requires_grad=True)
    y = (x * b + s).sum()
    y.backward()
    assert x.grad.shape == (2, 3) and b.grad.shape == (3,) and s.grad.shape == ()
    np.testing.assert_allclose(b.grad.data, [2, 2, 2])
    assert s.grad.item() == 6.0


def test_python_scalars_keep_the_tensor_dtype():
    x = re.tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32 and (2.5 - x).dtype == np.float32 and (x ** 2).dtype == np.float32
    assert re.tensor([1, 2]).dtype == np.int64 and (re.tensor([1, 2]) * 2).dtype == np.int64
    assert re.tensor(np.ones(2)).dtype == np.float64


def test_gradient_dtype_follows_the_input():
    x = re.tensor([1.0, 2.0], requires_grad=True)       # float32
    y = re.tensor([1.0, 2.0], dtype="float64")
    (x * y).sum().backward()
    assert x.grad.dtype == np.float32


def test_comparisons_are_not_differentiable():
    x = re.tensor([1.0, -1.0], requires_grad=True)
    m = x > 0
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x <= 0).tolist() == [False, True] and (x == 1).tolist() == [True, False]


class TestKinks:
    """The documented gradient at each kink (README table)."""

    def grad(self, f, *values):
        xs = [re.tensor(v, dtype="float64", requires_grad=True) for v in values]
        f(*xs).sum().backward()
        return [x.grad.data.tolist() for x in xs]

    def test_relu_at_zero_is_zero(self):
        assert self.grad(re.relu, [0.0, 1.0, -1.0]) == [[0.0, 1.0, 0.0]]

    def test_abs_at_zero_is_zero(self):
        assert self.grad(re.abs, [0.0, 2.0, -2.0]) == [[0.0, 1.0, -1.0]]

    def test_clamp_passes_gradient_at_its_bounds(self):
        assert self.grad(lambda x: re.clamp(x, min=0.0, max=1.0), [0.0, 1.0, 0.5, -1.0, 2.0]) == [[1, 1, 1, 0, 0]]

    def test_maximum_minimum_ties_split_evenly(self):
        assert self.grad(re.maximum, [1.0, 2.0], [1.0, 0.0]) == [[0.5, 1.0], [0.5, 0.0]]
        assert self.grad(re.minimum, [1.0, 2.0], [1.0, 0.0]) == [[0.5, 0.0], [0.5, 1.0]]

    def test_max_reduction_ties_split_evenly(self):
        assert self.grad(lambda x: re.amax(x), [3.0, 1.0, 3.0]) == [[0.5, 0.0, 0.5]]
        assert self.grad(lambda x: x.max(dim=1), [[1.0, 1.0], [2.0, 0.0]]) == [[[0.5, 0.5], [1.0, 0.0]]]


def test_indexing_and_slicing():
    x = re.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x[0].sum() + x[:, 1].sum() * 10 + x[x > 3].sum() * 100).backward()
    np.testing.assert_allclose(x.grad.data, [[1, 11], [0, 110]])


def test_tensor_methods_mirror_torch():
    x = re.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert x.t().tolist() == [[1, 3], [-2, 4]] and x.T.shape == (2, 2)
    assert x.clamp(min=0).tolist() == [[1, 0], [3, 4]]
    assert x.mean().item() == 1.5 and x.sum(dim=0, keepdim=True).shape == (1, 2)
    assert x.pow(2).tolist() == [[1, 4], [9, 16]] and x.mul(2).add(1).tolist() == [[3, -3], [7, 9]]
    assert x.reshape(4).shape == (4,) and x.view(-1, 1).shape == (4, 1) and x.transpose(0, 1).tolist() == x.t().tolist()
    assert re.where(x > 0, x, re.zeros_like(x)).tolist() == [[1, 0], [3, 4]]
    assert re.one_hot(re.tensor([0, 1, 1]), 2).tolist() == [[1, 0], [0, 1], [0, 1]]
    assert re.concat([x, x], axis=0).shape == (4, 2) and re.stack([x, x], axis=1).shape == (2, 2, 2)
    assert re.cast(x, "int64").dtype == np.int64 and x.long().dtype == np.int64


def test_in_place_updates():
    x = re.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x -= 1
    with re.no_grad():
        x -= 1
    assert x.tolist() == [0.0, 1.0] and x.requires_grad and x.is_leaf
    g = re.tensor([1.0, 2.0])
    g[g < 2] = 0
    assert g.tolist() == [0.0, 2.0]


def test_custom_function_backward_named_and_freed():
    class Square(re.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = re.tensor(3.0, requires_grad=True)
    y = Square.apply(x)
    assert type(y.grad_fn).__name__ == "SquareBackward" and repr(y.grad_fn) == "<SquareBackward>"
    (g,) = autograd.grad(y, x, create_graph=True)   # backward built from engine ops: differentiable
    (h,) = autograd.grad(g, x)
    assert g.item() == 6.0 and h.item() == 2.0
    y = Square.apply(x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_autograd_backward_functional_spelling():
    a = re.tensor([1.0, 2.0], requires_grad=True)
    autograd.backward(a ** 2, grad_tensors=re.tensor([1.0, 1.0]))
    b = re.tensor([1.0, 2.0], requires_grad=True)
    (b ** 2).backward(gradient=re.tensor([1.0, 1.0]))
    assert a.grad.tolist() == b.grad.tolist() == [2.0, 4.0]


def test_pow_masks_a_zero_exponent_so_high_orders_stay_finite_at_zero():
    # d/dx x**y = y * x**(y-1) is taken as 0 where y == 0, as PyTorch does; without the
    # mask the third derivative of x**2 at 0 is 0 * 0**-1 = nan (TensorFlow's is).
    x = re.tensor(0.0, requires_grad=True)
    (g1,) = re.autograd.grad([x ** 2], [x], create_graph=True)
    (g2,) = re.autograd.grad([g1], [x], create_graph=True)
    (g3,) = re.autograd.grad([g2], [x])
    assert (g1.item(), g2.item(), g3.item()) == (0.0, 2.0, 0.0)


def test_masks_select_so_an_infinite_gradient_stays_out_where_they_are_closed():
    # relu(x) at x < 0 is 0, rsqrt(0) = inf: the chain meets 0 * inf. PyTorch's
    # threshold_backward and jax.nn.relu select, giving 0, not NaN (TensorFlow's ReluGrad
    # multiplies: a declared case); torch, TF and JAX all give 0 for this chain.
    x = re.tensor([-1.5], requires_grad=True)
    (g,) = autograd.grad([re.sum(re.tanh(re.rsqrt(re.relu(x))))], [x])
    assert g.tolist() == [0.0]
    # a flat op's rule is exact zeros, whatever comes in (torch's zeros_like(grad))
    x = re.tensor([0.5, -0.5], requires_grad=True)
    (g,) = autograd.grad([re.sum(re.sqrt(re.sign(x)))], [x])
    assert g.tolist() == [0.0, 0.0]


def test_the_second_derivative_of_relu_is_zero_not_no_gradient():
    # torch's threshold_backward depends on x with derivative zeros_like(grad); TF and JAX agree
    x = re.tensor([1.5, -0.5], requires_grad=True)
    for f in (re.relu, re.leaky_relu, re.relu6):
        (g,) = autograd.grad([re.sum(f(x))], [x], create_graph=True)
        (g2,) = autograd.grad([re.sum(g)], [x])
        assert g2 is not None and g2.tolist() == [0.0, 0.0], f.__name__

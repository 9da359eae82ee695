"""Checking derivatives against central finite differences (like torch.autograd.gradcheck).

Both modes are checked: the reverse-mode Jacobian (one vjp per output element) and
the forward-mode Jacobian (one jvp per input element) must match the numerical one.
gradgradcheck applies the same test to the vjp itself, i.e. to second derivatives.
"""
import numpy as np

from .autograd import grad
from .engine import Tensor
from .forward import jvp
from .nest import flatten
from .ops import concat, reshape


def _leaves(xs):
    return [x if isinstance(x, Tensor) else Tensor(np.asarray(x, np.float64)) for x in xs]


def _flat(out):
    return concat([reshape(o, (-1,)) for o in flatten(out)])


def numerical_jacobian(fn, xs, eps=1e-6):
    """One (outputs x inputs[k]) matrix per input, by central differences."""
    base = [x.data.astype(np.float64) for x in xs]

    def f(arrays):
        return _flat(fn(*[Tensor(a, requires_grad=True) for a in arrays])).data.astype(np.float64)
    size = f(base).size
    jacobians = []
    for k, x in enumerate(base):
        J = np.zeros((size, x.size))
        for j in range(x.size):
            plus, minus = [a.copy() for a in base], [a.copy() for a in base]
            plus[k].flat[j] += eps
            minus[k].flat[j] -= eps
            J[:, j] = (f(plus) - f(minus)) / (2 * eps)
        jacobians.append(J)
    return jacobians


def reverse_jacobian(fn, xs):
    y = _flat(fn(*xs))
    rows = []
    for i in range(y.data.size):
        seed = np.zeros(y.data.size, y.data.dtype)
        seed[i] = 1
        gs = grad(y, xs, Tensor(seed), retain_graph=True, allow_unused=True)
        rows.append([np.zeros(x.data.size) if g is None else g.data.ravel() for g, x in zip(gs, xs)])
    return [np.array([r[k] for r in rows]).reshape(y.data.size, -1) for k in range(len(xs))]


def forward_jacobian(fn, xs):
    jacobians = []
    for k, x in enumerate(xs):
        columns = []
        for j in range(x.data.size):
            tangents = [np.zeros_like(v.data) for v in xs]
            tangents[k].flat[j] = 1
            _, t = jvp(lambda *a: _flat(fn(*a)), xs, tangents)
            columns.append(t.data.ravel())
        jacobians.append(np.array(columns).T.reshape(-1, x.data.size))
    return jacobians


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, modes=("reverse", "forward")):
    """Raise AssertionError unless fn's reverse and forward Jacobians match finite differences.
    Use float64 inputs; fn may return a tensor or a nested structure of them."""
    xs = [x if x.requires_grad else x.requires_grad_() for x in _leaves(inputs)]
    expected = numerical_jacobian(fn, xs, eps)
    for mode in modes:
        got = (reverse_jacobian if mode == "reverse" else forward_jacobian)(fn, xs)
        for k, (g, e) in enumerate(zip(got, expected)):
            np.testing.assert_allclose(g, e, atol=atol, rtol=rtol, err_msg=f"{mode}-mode Jacobian, input {k}")
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-4, rtol=1e-3, seed=0, modes=("reverse", "forward")):
    """gradcheck of (inputs, v) -> vjp(fn)(inputs, v): checks second derivatives, reverse-over-reverse
    and forward-over-reverse."""
    xs = _leaves(inputs)
    v = Tensor(np.random.default_rng(seed).standard_normal(_flat(fn(*xs)).data.size))

    def pulled_back(*args):
        *ys, w = args
        gs = grad(_flat(fn(*ys)), ys, w, create_graph=True, allow_unused=True)
        return [g for g in gs if g is not None]
    return gradcheck(pulled_back, xs + [v], eps, atol, rtol, modes)

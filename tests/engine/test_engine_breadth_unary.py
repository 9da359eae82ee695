"""Unary ops (elementwise math and activations): gradchecks, conventions at kinks, complex
inputs, float16 forward values, and a comparison with torch."""
import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from breadth_testing import (
    arrays,
    compare_torch,
    gradcheck_tests,
    grid,
    shapes,
)
from hypothesis import strategies as st

import reference_engine as re


@st.composite
def unary(draw, fn, lo=-2.0, hi=2.0, kinked=False, scale=1.0):
    shape = draw(shapes)
    return fn, [draw(grid(shape, scale=scale) if kinked else arrays(shape, lo, hi))]


@st.composite
def away_from_zero(draw, fn, lo=0.3, hi=3.0):
    shape = draw(shapes)
    magnitude, signs = draw(arrays(shape, lo, hi)), draw(hnp.arrays(np.bool_, shape))
    return fn, [np.where(signs, magnitude, -magnitude)]


CASES = {
    "log1p": unary(re.log1p, -0.5, 2.0), "expm1": unary(re.expm1), "rsqrt": unary(re.rsqrt, 0.3, 3.0),
    "reciprocal": away_from_zero(re.reciprocal), "tan": unary(re.tan, -1.2, 1.2),
    "asin": unary(re.asin, -0.9, 0.9), "acos": unary(re.acos, -0.9, 0.9), "atan": unary(re.atan, -3, 3),
    "sinh": unary(re.sinh), "cosh": unary(re.cosh), "asinh": unary(re.asinh, -3, 3),
    "acosh": unary(re.acosh, 1.2, 3.0), "atanh": unary(re.atanh, -0.9, 0.9),
    "erf": unary(re.erf), "erfc": unary(re.erfc), "lgamma": unary(re.lgamma, 0.2, 5.0),
    "lgamma_negative": unary(re.lgamma, -2.8, -2.2), "digamma": unary(re.digamma, 0.3, 5.0),
    "polygamma": unary(lambda x: re.polygamma(x, 1), 0.3, 4.0),
    "sign": unary(re.sign, kinked=True), "floor": unary(re.floor, kinked=True), "ceil": unary(re.ceil, kinked=True),
    "round": unary(re.round, kinked=True), "trunc": unary(re.trunc, kinked=True),
    "relu6": unary(re.relu6, kinked=True, scale=4.0), "leaky_relu": unary(re.leaky_relu, kinked=True),
    "leaky_relu_alpha": unary(lambda x: re.leaky_relu(x, alpha=0.2), kinked=True),
    "elu": unary(re.elu, kinked=True), "elu_alpha": unary(lambda x: re.elu(x, alpha=0.5), kinked=True),
    "selu": unary(re.selu, kinked=True), "gelu": unary(re.gelu, -3, 3),
    "gelu_tanh": unary(lambda x: re.gelu(x, approximate="tanh"), -3, 3), "silu": unary(re.silu, -4, 4),
    "softsign": unary(re.softsign, kinked=True), "log_sigmoid": unary(re.log_sigmoid, -4, 4),
}


# every op: central differences in float64, first and second order, drawn inputs
test_first_order, test_second_order = gradcheck_tests(CASES)


# --- forward values ------------------------------------------------------------------------
SELU = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
REFERENCE = {  # NumPy / the standard library, elementwise
    "log1p": np.log1p, "expm1": np.expm1, "rsqrt": lambda x: 1 / np.sqrt(x), "reciprocal": lambda x: 1 / x,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
    "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh, "erf": np.vectorize(math.erf),
    "erfc": np.vectorize(math.erfc), "lgamma": np.vectorize(math.lgamma), "sign": np.sign, "floor": np.floor,
    "ceil": np.ceil, "round": np.round, "trunc": np.trunc, "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x), "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU[0] * np.where(x > 0, x, SELU[1] * np.expm1(x)),
    "gelu": np.vectorize(lambda v: v * (1 + math.erf(v / math.sqrt(2))) / 2),
    "silu": lambda x: x / (1 + np.exp(-x)), "softsign": lambda x: x / (1 + np.abs(x)),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
}
DOMAIN = {"log1p": (-0.5, 2), "rsqrt": (0.3, 3), "reciprocal": (0.3, 3), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
          "acosh": (1.2, 3), "atanh": (-0.9, 0.9), "lgamma": (0.2, 5), "tan": (-1.2, 1.2)}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_forward_matches_numpy(name):
    lo, hi = DOMAIN.get(name, (-3, 3))
    x = np.linspace(lo, hi, 13)
    np.testing.assert_allclose(getattr(re, name)(re.tensor(x)).data, REFERENCE[name](x), rtol=1e-12, atol=1e-14)


def test_special_functions_match_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(0.05, 30, 40), np.linspace(-4.9, -0.1, 17)])
    x = x[np.abs(x - np.round(x)) > 1e-3]
    np.testing.assert_allclose(re.digamma(re.tensor(x)).data, special.digamma(x), rtol=1e-11, atol=1e-12)
    for n in (1, 2, 3):
        np.testing.assert_allclose(re.polygamma(re.tensor(x), n).data, special.polygamma(n, x), rtol=1e-9)
    np.testing.assert_allclose(re.lgamma(re.tensor(x)).data, special.gammaln(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(re.erfc(re.tensor(x)).data, special.erfc(x), rtol=1e-12, atol=1e-300)


def test_special_points():
    poles = re.tensor([0.0, -1.0, -2.0])
    assert re.lgamma(poles).tolist() == [math.inf] * 3
    d = re.digamma(poles).data
    assert d[0] == -math.inf and np.isnan(d[1:]).all()  # torch and SciPy: -inf at 0, nan at -1, -2...
    assert re.round(re.tensor([0.5, 1.5, 2.5, -0.5, -1.5])).tolist() == [0, 2, 2, -0, -2]  # half to even
    assert re.round(re.tensor(1.2345, dtype="float64"), decimals=2).item() == 1.23
    assert re.gelu(re.tensor(1.0), approximate="tanh").item() != re.gelu(re.tensor(1.0)).item()


def grad_at(fn, values):
    x = re.tensor(values, dtype="float64", requires_grad=True)
    (g,) = re.autograd.grad(fn(x).sum(), x)
    return g.tolist()


def test_kink_conventions():
    assert grad_at(re.sign, [-1.0, 0.0, 2.0]) == [0, 0, 0]                        # sign' = 0
    for op in (re.floor, re.ceil, re.round, re.trunc):                            # flat, jumps included
        assert grad_at(op, [-1.0, -0.5, 0.0, 0.5, 1.0, 2.5]) == [0] * 6
    assert grad_at(re.relu6, [-1.0, 0.0, 3.0, 6.0, 7.0]) == [0, 0, 1, 0, 0]        # open interval (0, 6)
    assert grad_at(re.leaky_relu, [-1.0, 0.0, 1.0]) == [0.01, 0.01, 1]             # slope alpha at 0
    assert grad_at(lambda x: re.elu(x, 0.5), [0.0]) == [0.5]                      # alpha * exp(0) at 0
    assert np.allclose(grad_at(re.selu, [0.0]), [1.0507009873554804934193349852946 * 1.6732632423543772848170429916717])
    assert grad_at(re.softsign, [0.0]) == [1.0]
    assert re.sign(re.tensor([1.0], requires_grad=True)).requires_grad  # differentiable (to zero), as in torch


def test_flat_ops_still_connect_in_forward_mode():
    _, t = re.jvp(re.floor, (re.tensor([0.3, 1.7], dtype="float64"),), (np.ones(2),))
    assert t.tolist() == [0, 0]


# --- complex inputs -------------------------------------------------------------------------
HOLOMORPHIC = ["exp", "log", "sqrt", "square", "sin", "cos", "tanh", "log1p", "expm1", "rsqrt", "reciprocal", "tan",
               "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh"]


def complex_grad(fn, z):
    x = re.tensor(z, requires_grad=True)
    (g,) = re.autograd.grad(fn(x), x)
    return g.data


def finite_difference(fn, z, eps=1e-6):
    """dL/dRe + i dL/dIm, entry by entry: PyTorch's gradient of a real loss."""
    out = np.zeros_like(z)
    for j in range(z.size):
        for step in (1, 1j):
            plus, minus = z.copy(), z.copy()
            plus.flat[j] += eps * step
            minus.flat[j] -= eps * step
            d = (fn(re.tensor(plus)).item() - fn(re.tensor(minus)).item()) / (2 * eps)
            out.flat[j] += d * step
    return out


@pytest.mark.parametrize("name", HOLOMORPHIC)
def test_complex_gradient_is_pytorchs(name):
    z = np.array([0.3 + 0.4j, -0.5 + 0.2j, 0.7 - 0.6j])
    loss = lambda t: re.sum(re.abs(getattr(re, name)(t)) ** 2)
    np.testing.assert_allclose(complex_grad(loss, z), finite_difference(loss, z), rtol=1e-6, atol=1e-8)


def test_complex_basics():
    z = np.array([1 + 2j, -0.5 + 0.25j])
    np.testing.assert_allclose(complex_grad(lambda t: re.sum(re.abs(t) ** 2), z), 2 * z)  # JAX gives 2 conj(z)
    for fn in (lambda t: re.sum(re.real(t * t)), lambda t: re.sum(re.imag(t) * 3), lambda t: re.sum(re.real(re.conj(t)
               * (1 - 2j))), lambda t: re.sum(re.abs(t)), lambda t: re.sum(re.real(t) * re.imag(t)),
               lambda t: re.sum(re.abs(re.matmul(re.reshape(t, (1, 2)), re.tensor([[1j], [2.0 + 0j]])))),
               lambda t: re.mean(re.abs(t / (t + 2)) ** 2)):
        np.testing.assert_allclose(complex_grad(fn, z), finite_difference(fn, z), rtol=1e-6, atol=1e-8)
    z64 = re.tensor(z.astype(np.complex64), requires_grad=True)
    (g,) = re.autograd.grad(re.sum(re.abs(z64 * 2) ** 2), z64)
    assert g.dtype == np.complex64 and np.allclose(g.data, 8 * z)
    x = re.tensor([1.0, 2.0], dtype="float64", requires_grad=True)                    # a real input gets a real
    (g,) = re.autograd.grad(re.sum(re.abs(x * re.tensor(z)) ** 2), x)                   # gradient: the real part
    assert g.dtype == np.float64 and np.allclose(g.data, 2 * x.data * np.abs(z) ** 2)
    _, t = re.jvp(lambda t: re.abs(t), (re.tensor(z),), (np.array([1 + 0j, 1j]),))     # d|z| = Re(conj(z) dz)/|z|
    np.testing.assert_allclose(t.data, np.real(np.conj(z) * np.array([1, 1j])) / np.abs(z))
    with pytest.raises(RuntimeError, match="real scalar"):
        re.sum(re.tensor(z, requires_grad=True)).backward()


def test_complex_matches_torch():
    torch = pytest.importorskip("torch")
    z = np.array([0.3 + 0.4j, -0.5 + 0.2j])
    for name in ("exp", "sin", "reciprocal", "sqrt"):
        t = torch.tensor(z, requires_grad=True)
        (tg,) = torch.autograd.grad((getattr(torch, name)(t).abs() ** 2).sum(), t)
        np.testing.assert_allclose(complex_grad(lambda x: re.sum(re.abs(getattr(re, name)(x)) ** 2), z), tg.numpy())


# --- float16 forward values --------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_float16_forward(name):
    lo, hi = DOMAIN.get(name, (-3, 3))
    x = np.linspace(lo, hi, 7).astype(np.float16)
    y = getattr(re, name)(re.tensor(x))
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.data.astype(np.float64), REFERENCE[name](x.astype(np.float64)), rtol=2e-3, atol=2e-3)


# --- torch, as evidence --------------------------------------------------------------------------
def _torch_ops():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return {
        "log1p": torch.log1p, "expm1": torch.expm1, "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal,
        "tan": torch.tan, "asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh,
        "cosh": torch.cosh, "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh, "erf": torch.erf,
        "erfc": torch.erfc, "lgamma": torch.lgamma, "digamma": torch.digamma, "sign": torch.sign,
        "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "trunc": torch.trunc, "relu6": F.relu6,
        "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu, "gelu": F.gelu, "silu": F.silu,
        "softsign": F.softsign, "log_sigmoid": F.logsigmoid,
    }


def test_matches_torch():
    ops = _torch_ops()
    for name, torch_fn in ops.items():
        lo, hi = DOMAIN.get(name, (-3, 3))
        x = np.linspace(lo, hi, 11) + 0.0123  # off the kinks
        compare_torch(getattr(re, name), torch_fn, [x])
    import torch
    compare_torch(lambda x: re.gelu(x, "tanh"), lambda x: torch.nn.functional.gelu(x, approximate="tanh"),
                  [np.linspace(-3, 3, 11)])
    compare_torch(lambda x: re.polygamma(x, 2), lambda x: torch.polygamma(2, x), [np.linspace(0.3, 4, 11)])

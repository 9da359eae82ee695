"""More elementwise math, binary ops and reductions, in the registry's form (see ops.py).

Each entry is ``defop(name, forward, vjp=..., jvp=...)`` with rules written in engine
ops, so every derivative here can be differentiated again. Conventions at special
points sit in a comment beside the entry; the README tables them.

The special functions (erf, erfc, lgamma, digamma, polygamma) are computed here with
NumPy and the standard library only: the engine depends on NumPy alone.
"""
import builtins
import math

import numpy as np

from .array_ops import flip
from .engine import Tensor
from .ops import _axes, _count, _kept, _spread, _zero, amax, amin, defop, exp, reshape, sqrt, sum, transpose, where


# --- special functions on arrays ------------------------------------------------------
def _scalar_fn(fn):
    """A function of one float applied elementwise; the result keeps a float input's dtype."""
    ufunc = np.frompyfunc(fn, 1, 1)

    def forward(x):
        x = np.asarray(x)
        return np.asarray(ufunc(x), x.dtype if x.dtype.kind == "f" else np.float64)
    return forward


def _lgamma1(v):
    """log|Gamma(v)|; +inf at the poles (0, -1, -2, ...), where math.lgamma raises."""
    return math.inf if v <= 0 and v == math.floor(v) else math.lgamma(v)


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)  # B2, B4, ..., B16


def _polygamma(x, n=0):
    """psi^(n)(x), the n-th derivative of digamma (n=0: digamma itself), in float64 arithmetic.

    Shift x up to 20 or more with psi_n(x) = psi_n(x+1) - (-1)^n n!/x^(n+1), then sum the
    asymptotic series (Abramowitz & Stegun 6.3.18, 6.4.11). At the poles (0, -1, -2, ...) the
    result is nan, except digamma(0) = -inf as in PyTorch and SciPy."""
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    y = x.astype(np.float64)
    pole = (y <= 0) & (y == np.floor(y))
    y = np.where(pole | ~np.isfinite(y), 25.0, y)   # the poles and infinities are patched at the end
    acc, n_fact = np.zeros_like(y), math.factorial(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        while (y < 20).any():
            low = y < 20
            acc = acc - np.where(low, (-1) ** n * n_fact / y ** (n + 1), 0.0)
            y = np.where(low, y + 1, y)
        if n == 0:
            series = np.log(y) - 0.5 / y - builtins.sum(b / (2 * k) / y ** (2 * k)
                                                        for k, b in enumerate(_BERNOULLI, 1))
        else:
            series = (-1) ** (n + 1) * (math.factorial(n - 1) / y ** n + n_fact / (2 * y ** (n + 1)) + builtins.sum(
                b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / y ** (2 * k + n)
                for k, b in enumerate(_BERNOULLI, 1)))
    out = series + acc
    out = np.where(pole, -np.inf if n == 0 else np.nan, out)
    out = np.where(pole & (x != 0), np.nan, out)
    big = np.isinf(x) & (x > 0)
    out = np.where(big, np.inf if n == 0 else 0.0, out)  # psi(+inf) = inf; its derivatives vanish there
    return np.where(np.isnan(x) | (np.isinf(x) & (x < 0)), np.nan, out).astype(dtype)


_erf, _erfc, _lgamma = _scalar_fn(math.erf), _scalar_fn(math.erfc), _scalar_fn(_lgamma1)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


# --- unary math ---------------------------------------------------------------------------
log1p = defop("log1p", np.log1p, vjp=lambda g, z, x: g / (1 + x), jvp=lambda t, z, x: t / (1 + x))
expm1 = defop("expm1", np.expm1, vjp=lambda g, z, x: g * (z + 1), jvp=lambda t, z, x: t * (z + 1))
rsqrt = defop("rsqrt", lambda x: 1 / np.sqrt(x),                    # x ** -1/2;  d = -z^3 / 2
              vjp=lambda g, z, x: -0.5 * g * z * z * z, jvp=lambda t, z, x: -0.5 * t * z * z * z)
reciprocal = defop("reciprocal", lambda x: 1 / x,
                   vjp=lambda g, z, x: -g * z * z, jvp=lambda t, z, x: -t * z * z)
tan = defop("tan", np.tan, vjp=lambda g, z, x: g * (1 + z * z), jvp=lambda t, z, x: t * (1 + z * z))
asin = defop("asin", np.arcsin, vjp=lambda g, z, x: g / sqrt(1 - x * x), jvp=lambda t, z, x: t / sqrt(1 - x * x))
acos = defop("acos", np.arccos, vjp=lambda g, z, x: -g / sqrt(1 - x * x), jvp=lambda t, z, x: -t / sqrt(1 - x * x))
atan = defop("atan", np.arctan, vjp=lambda g, z, x: g / (1 + x * x), jvp=lambda t, z, x: t / (1 + x * x))
sinh = defop("sinh", np.sinh, vjp=lambda g, z, x: g * cosh(x), jvp=lambda t, z, x: t * cosh(x))
cosh = defop("cosh", np.cosh, vjp=lambda g, z, x: g * sinh(x), jvp=lambda t, z, x: t * sinh(x))
asinh = defop("asinh", np.arcsinh,
              vjp=lambda g, z, x: g / sqrt(x * x + 1), jvp=lambda t, z, x: t / sqrt(x * x + 1))
# acosh' = 1/sqrt(x^2 - 1) for real x > 1, written 1/(sqrt(x-1) sqrt(x+1)): right on every complex branch too
acosh = defop("acosh", np.arccosh,
              vjp=lambda g, z, x: g / (sqrt(x - 1) * sqrt(x + 1)), jvp=lambda t, z, x: t / (sqrt(x - 1) * sqrt(x + 1)))
atanh = defop("atanh", np.arctanh, vjp=lambda g, z, x: g / (1 - x * x), jvp=lambda t, z, x: t / (1 - x * x))
# erf' = 2/sqrt(pi) exp(-x^2); real inputs only (the standard library's erf).
erf = defop("erf", _erf, vjp=lambda g, z, x: g * _TWO_OVER_SQRT_PI * exp(-x * x),
            jvp=lambda t, z, x: t * _TWO_OVER_SQRT_PI * exp(-x * x))
erfc = defop("erfc", _erfc, vjp=lambda g, z, x: -g * _TWO_OVER_SQRT_PI * exp(-x * x),
             jvp=lambda t, z, x: -t * _TWO_OVER_SQRT_PI * exp(-x * x))
# polygamma(x, n): the n-th derivative of digamma. Tensor first, then the order, unlike
# torch.special.polygamma(n, x): every engine op takes its tensors first.
polygamma = defop("polygamma", _polygamma,
                  vjp=lambda g, z, x, n: g * polygamma(x, n + 1), jvp=lambda t, z, x, n: t * polygamma(x, n + 1))
digamma = defop("digamma", lambda x: _polygamma(x, 0),
                vjp=lambda g, z, x: g * polygamma(x, 1), jvp=lambda t, z, x: t * polygamma(x, 1))
# lgamma = log|Gamma(x)| (the sign dropped, as math.lgamma and torch.lgamma); lgamma' = digamma.
lgamma = defop("lgamma", _lgamma, vjp=lambda g, z, x: g * digamma(x), jvp=lambda t, z, x: t * digamma(x))

# Piecewise constant: the gradient is 0 everywhere, jumps included (PyTorch's and JAX's
# convention; TensorFlow registers no gradient for Floor/Ceil/Round: None, i.e. unconnected).
floor = defop("floor", np.floor, vjp=_zero, jvp=_zero)
ceil = defop("ceil", np.ceil, vjp=_zero, jvp=_zero)
trunc = defop("trunc", np.trunc, vjp=_zero, jvp=_zero)
# round: half to even (NumPy, torch.round, tf.round, jnp.round all do).
round = defop("round", lambda x, decimals=0: np.round(x, decimals), vjp=_zero, jvp=_zero)


# --- binary --------------------------------------------------------------------------------
def _atan2_vjp_y(g, z, y, x):
    return g * x / (x * x + y * y)


def _atan2_vjp_x(g, z, y, x):
    return -g * y / (x * x + y * y)


def _xlogy(x, y):
    """x * log(y), and 0 wherever x == 0 (even where y is 0 or inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, np.zeros((), np.result_type(x, y, np.float16)), x * np.log(y))


# atan2(y, x): the angle of the point (x, y), argument order of np.arctan2 / torch.atan2 / tf.math.atan2.
# Undefined at the origin: nan gradients there.
atan2 = defop("atan2", np.arctan2,
              vjp=(_atan2_vjp_y, _atan2_vjp_x),
              jvp=(lambda t, z, y, x: _atan2_vjp_y(t, z, y, x), lambda t, z, y, x: _atan2_vjp_x(t, z, y, x)))
# remainder: the sign of the divisor (Python's %, np.remainder, torch.remainder, tf.math.floormod,
# jnp.remainder). d/dy = -floor(x/y), as torch; at the jumps the same formula.
remainder = defop("remainder", np.remainder,
                  vjp=(lambda g, z, x, y: g, lambda g, z, x, y: -g * floor(x / y)),
                  jvp=(lambda t, z, x, y: t, lambda t, z, x, y: -t * floor(x / y)))
# fmod: the sign of the dividend (C's fmod, np.fmod, torch.fmod, tf.math.truncatemod, jnp.fmod).
fmod = defop("fmod", np.fmod,
             vjp=(lambda g, z, x, y: g, lambda g, z, x, y: -g * trunc(x / y)),
             jvp=(lambda t, z, x, y: t, lambda t, z, x, y: -t * trunc(x / y)))
# xlogy(x, y) = x*log(y), 0 where x == 0. d/dx = log(y) but 0 where x == 0 (torch's rule, which
# keeps log(0) out of it), d/dy = x / y.
xlogy = defop("xlogy", _xlogy,
              vjp=(lambda g, z, x, y: g * xlogy(x != 0, y), lambda g, z, x, y: g * x / y),
              jvp=(lambda t, z, x, y: t * xlogy(x != 0, y), lambda t, z, x, y: t * x / y))
squared_difference = defop("squared_difference", lambda x, y: np.square(x - y),
                           vjp=(lambda g, z, x, y: 2 * g * (x - y), lambda g, z, x, y: -2 * g * (x - y)),
                           jvp=(lambda t, z, x, y: 2 * t * (x - y), lambda t, z, x, y: -2 * t * (x - y)))


# --- reductions -----------------------------------------------------------------------------
# min/max reductions: ops.amin/amax (ties share the gradient evenly, as torch.amax, tf.reduce_max
# and jnp.max do).
min, max = amin, amax


def _moved(x, axis):
    """x with the axes ``axis`` (None: all) moved last and merged into one: (rest..., n).
    Returns the view and what ``_unmoved`` needs to undo it."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in np.atleast_1d(axis).tolist())
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = transpose(x, rest + axes)
    return reshape(moved, moved.shape[:len(rest)] + (-1,)), (moved.shape, rest + axes)


def _unmoved(y, how):
    shape, perm = how
    return transpose(reshape(y, shape), tuple(np.argsort(perm).tolist()))


def _others(x, axis):
    """d prod(x, axis) / dx: at each entry, the product of the *other* entries it was reduced with.

    Written as a product (each entry in turn replaced by 1), never as prod/x, so it is exact
    where x has zeros and stays exact at every order: its own derivative is again a prod.
    The price is an (n, n) intermediate per reduced slice of length n."""
    flat, how = _moved(x, axis)
    n = flat.shape[-1]
    rows = where(np.eye(n, dtype=bool), 1, reshape(flat, flat.shape[:-1] + (1, n)))  # row i: x with x_i -> 1
    return _unmoved(prod(rows, axis=-1), how)


def _prod(x, axis=None, keepdims=False):
    """Product over ``axis``. Gradient: the product of the other entries (exact at zeros)."""
    return np.prod(x, _axes(axis), keepdims=keepdims)


prod = defop("prod", _prod,
             vjp=lambda g, z, x, axis, keepdims: _spread(g, x, axis) * _others(x, axis),
             jvp=lambda t, z, x, axis, keepdims: sum(t * _others(x, axis), axis, keepdims))


def _centered(x, axis):
    return x - sum(x, axis, True) / _count(x, axis)


def _var(x, axis=None, ddof=0, keepdims=False):
    """Variance over ``axis`` with divisor N - ddof. ddof defaults to 0, as NumPy, JAX and
    tf.math.reduce_variance; torch.var defaults to correction=1 (the engine accepts
    ``correction=`` as ddof's torch spelling)."""
    return np.var(x, _axes(axis), ddof=ddof, keepdims=keepdims)


def _std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation: sqrt(var(x, axis, ddof)). Same ddof default (0) and torch note as var.
    Its gradient is infinite/nan where the spread is 0 (constant slices), as in every framework."""
    return np.std(x, _axes(axis), ddof=ddof, keepdims=keepdims)


var = defop("var", _var,
            vjp=lambda g, z, x, axis, ddof, keepdims: _spread(g, x, axis) * 2 * _centered(x, axis) / (
                _count(x, axis) - ddof),
            jvp=lambda t, z, x, axis, ddof, keepdims: sum(2 * _centered(x, axis) * t, axis, keepdims) / (
                _count(x, axis) - ddof))
std = defop("std", _std,
            vjp=lambda g, z, x, axis, ddof, keepdims: _spread(g, x, axis) * _centered(x, axis) / (
                (_count(x, axis) - ddof) * reshape(z, _kept(x, axis))),
            jvp=lambda t, z, x, axis, ddof, keepdims: sum(_centered(x, axis) * t, axis, keepdims) / (
                (_count(x, axis) - ddof) * z))


def _logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, shifted by the maximum so it never overflows."""
    m = np.max(x, _axes(axis), keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), _axes(axis), keepdims=True)) + m
    return out if keepdims else np.squeeze(out, _axes(axis))


def _softmax_of(x, z, axis):
    return exp(x - reshape(z, _kept(x, axis)))  # the gradient of logsumexp


logsumexp = defop("logsumexp", _logsumexp,
                  vjp=lambda g, z, x, axis, keepdims: _spread(g, x, axis) * _softmax_of(x, z, axis),
                  jvp=lambda t, z, x, axis, keepdims: sum(t * _softmax_of(x, z, axis), axis, keepdims))


# --- scans: axis=None runs over the flattened array (NumPy, JAX); torch requires dim, TF defaults to 0
def _reverse_cumsum(g, axis):
    return flip(cumsum(flip(g, axis), axis), axis)


def _cumsum_vjp(g, z, x, axis):
    return reshape(_reverse_cumsum(g, 0), x.shape) if axis is None else _reverse_cumsum(g, axis)


cumsum = defop("cumsum", lambda x, axis=None: np.cumsum(x, axis), saves=False,
               vjp=_cumsum_vjp, jvp=lambda t, z, x, axis: cumsum(t, axis))


def _prefixes(x, axis):
    """cumprod(x)[i] = prod_j m[i, j] with m[i, j] = x_j for j <= i and 1 beyond: x's ``axis``
    moved last, as (..., n, n). Differentiating that product gives cumprod's rules, exact at zeros."""
    flat = reshape(x, (-1,)) if axis is None else transpose(x, _last(x.ndim, axis))
    n = flat.shape[-1]
    below = np.tril(np.ones((n, n), dtype=bool))                     # below[i, j]: j <= i
    return flat, below, where(below, reshape(flat, flat.shape[:-1] + (1, n)), 1)


def _last(ndim, axis):
    """The permutation that moves ``axis`` last (it is its own inverse's argsort)."""
    axis %= ndim
    return tuple(a for a in range(ndim) if a != axis) + (axis,)


def _back(y, x, axis, shape):
    """Undo _prefixes' move: ``axis`` back in place, or (axis=None) the flat result as ``shape``."""
    if axis is None:
        return reshape(y, shape)
    return transpose(y, tuple(np.argsort(_last(x.ndim, axis)).tolist()))


def _cumprod_vjp(g, z, x, axis):
    flat, below, m = _prefixes(x, axis)
    gl = reshape(g, (-1,)) if axis is None else transpose(g, _last(g.ndim, axis))
    gm = where(below, reshape(gl, gl.shape + (1,)) * _others(m, -1), 0)  # d y_i / d x_j, weighted by g_i
    return _back(sum(gm, axis=-2), x, axis, x.shape)


def _cumprod_jvp(t, z, x, axis):
    flat, below, m = _prefixes(x, axis)
    tl = reshape(t, (-1,)) if axis is None else transpose(t, _last(t.ndim, axis))
    tm = where(below, reshape(tl, tl.shape[:-1] + (1, tl.shape[-1])), 0)
    return _back(sum(tm * _others(m, -1), axis=-1), x, axis, z.shape)


cumprod = defop("cumprod", lambda x, axis=None: np.cumprod(x, axis), vjp=_cumprod_vjp, jvp=_cumprod_jvp)


def _arg(fn):
    def forward(x, axis=None, keepdims=False):
        return fn(x, axis, keepdims=keepdims).astype(np.int64)
    return forward


# argmax/argmin: int64 indices, the first one on ties (NumPy, JAX, torch since 1.7); not differentiable.
# axis=None indexes the flattened array (torch, NumPy); tf.math.argmax's axis=None means axis 0.
argmax = defop("argmax", _arg(np.argmax))
argmin = defop("argmin", _arg(np.argmin))


_METHODS = dict(log1p=log1p, expm1=expm1, rsqrt=rsqrt, reciprocal=reciprocal, tan=tan, asin=asin, acos=acos,
                atan=atan, arcsin=asin, arccos=acos, arctan=atan, sinh=sinh, cosh=cosh, asinh=asinh, acosh=acosh,
                atanh=atanh, erf=erf, erfc=erfc, lgamma=lgamma, digamma=digamma, floor=floor, ceil=ceil,
                trunc=trunc, round=round, atan2=atan2, remainder=remainder, fmod=fmod, xlogy=xlogy, prod=prod,
                logsumexp=logsumexp, cumsum=cumsum, cumprod=cumprod, argmax=argmax, argmin=argmin,
                __mod__=remainder, __rmod__=lambda x, y: remainder(y, x))
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

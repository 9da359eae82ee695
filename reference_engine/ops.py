"""The op registry: each primitive's forward, vjps and jvps side by side.

    name = defop("name", forward,
                 vjp=(rule for input 0, rule for input 1, ...),
                 jvp=(rule for input 0, rule for input 1, ...))

``forward`` works on NumPy arrays. The rules work on Tensors with engine ops only
(never ``.data``), so a gradient is itself recorded: differentiable again
(create_graph, nested tapes) and replayable (traced functions). Rule signatures:

    vjp rule (g, z, *inputs, **attrs) -> gradient for its input         g = dL/dz
    jvp rule (t, z, *inputs, **attrs) -> tangent of z caused by that input's tangent t

z is the op's output. The registry sums gradients back over broadcast axes and
casts them to the input's dtype, so rules read as textbook formulas. Forward
parameters after the tensor inputs (axis, shape, ...) are attributes, handed to the
rules as keywords. An op without rules is not differentiable (comparisons, one_hot).

Complex inputs. A rule is written as the plain transpose of the op's derivative
(``g * f'(x)`` for a holomorphic f; JAX's convention). The registry conjugates around
it -- ``conj(rule(conj(g)))`` -- whenever a complex dtype is involved, so the gradient of
a real loss L w.r.t. a complex input is PyTorch's: dL/dRe + i dL/dIm (``sum(abs(z)**2)``
gives 2z). JAX returns the conjugate. Non-holomorphic ops (abs, real, imag, conj) write
their rule for that convention explicitly. jvps push ordinary tangents.

Kinks follow one convention each (also tabled in README.md): relu'(0) = 0,
abs'(0) = 0, clamp passes the gradient on [min, max] bounds included, and
maximum/minimum ties and max/min-reduction ties split the gradient evenly. Masks select
(``where(mask, g, 0)``, not ``g * mask``), as PyTorch's rules do: an inf or NaN coming back
from further up stays out where the mask is closed (TensorFlow's ReluGrad and JAX's max/min
rules multiply: cases/activations.yaml, flat-side-under-an-infinite-gradient).
"""
import builtins
import inspect

import numpy as np

from . import engine
from .engine import Node, Tensor, apply, recorded

ALIASES = {"dim": "axis", "keepdim": "keepdims", "correction": "ddof"}  # torch spellings of the attributes


class Op:
    """A primitive: its forward on arrays and, per input, a vjp and a jvp rule."""

    def __init__(self, name, forward, vjp, jvp, inputs, saves):
        self.name, self.forward, self.saves = name, forward, saves
        self.vjp, self.jvp = _rules(vjp), _rules(jvp)
        self.node = type(name.title().replace("_", "") + "Backward", (Node,), {"__slots__": (), "op": self})
        # Attributes come from a Python forward's signature; NumPy functions take inputs only.
        params = list(inspect.signature(forward).parameters.values()) if inspect.isfunction(forward) else []
        self.variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
        self.n = inputs if inputs is not None else len(self.vjp) if isinstance(self.vjp, tuple) else 1
        attrs = [p for p in params if p.kind is p.KEYWORD_ONLY] if self.variadic else params[self.n:]
        self.attr_names = [p.name for p in attrs]
        self.defaults = {p.name: p.default for p in attrs if p.default is not p.empty}

    def attrs(self, values, kw):
        a = {**self.defaults, **dict(zip(self.attr_names, values))}
        a.update((ALIASES.get(k, k), v) for k, v in kw.items() if k != "name")  # TF's name= is ignored
        return a

    def pullback(self, i, g, z, xs, attrs):
        """Input i's share of the gradient, in that input's shape and dtype."""
        rule = self.vjp[i]
        if rule is None:
            return None
        x = xs[i].data
        if g.data.dtype.kind == "c" or x.dtype.kind == "c":
            gi = conj(rule(conj(g), z, *xs, **attrs))  # see "Complex inputs" below
        else:
            gi = rule(g, z, *xs, **attrs)
        if gi.data.shape != x.shape:
            gi = sum_to(gi, x.shape)  # undo broadcasting
        if gi.data.dtype.kind == "c" and x.dtype.kind != "c":
            gi = real(gi)  # a real input gets the real part, as in PyTorch
        return gi if gi.data.dtype == x.dtype else cast(gi, x.dtype)

    def pushforward(self, i, t, z, xs, attrs):
        """The tangent of the output due to input i's tangent, in the output's shape."""
        ti = self.jvp[i](t, z, *xs, **attrs)
        return ti if ti.shape == z.shape else broadcast_to(ti, z.shape)


class each:
    """The rules of a variadic op (concat, stack): one rule, told which input it serves."""

    def __init__(self, rule):
        self.rule = rule

    def __getitem__(self, i):
        return lambda *a, **kw: self.rule(i, *a, **kw)


def _rules(r):
    return r if r is None or isinstance(r, (tuple, each)) else (r,)


def defop(name, forward, vjp=None, jvp=None, inputs=None, saves=True):
    """Register a primitive and return its public function.
    saves=False: the vjps read only shapes, so a second backward pass is allowed."""
    op = Op(name, forward, vjp, jvp, inputs, saves)
    n, defaults = op.n, op.defaults
    if op.variadic:
        def call(tensors, *attrs, **kw):
            return apply(op, tuple(tensors), op.attrs(attrs, kw))
    else:
        def call(*args, **kw):
            if len(args) == n and not kw:
                return apply(op, args, defaults)
            return apply(op, args[:n], op.attrs(args[n:], kw))
    call.__name__ = call.__qualname__ = name
    call.__doc__, call.op = forward.__doc__, op
    return call


def composite(outputs=None):
    """Decorate a public function built from engine ops (sort, norm, conv2d, ...). Its rules are
    those of the ops it calls; the decorator makes it one recorded call, so it also works on
    a symbolic Graph (where shapes are not known until Session.run). ``outputs``: how many
    tensors it returns when that is a tuple."""
    def wrap(fn):
        call = recorded(fn)
        if outputs is not None:
            call.symbolic_outputs = lambda *args, **kwargs: outputs
        return call
    return wrap


# --- arithmetic -------------------------------------------------------------------
add = defop("add", np.add, saves=False,
            vjp=(lambda g, z, x, y: g, lambda g, z, x, y: g),
            jvp=(lambda t, z, x, y: t, lambda t, z, x, y: t))
sub = defop("sub", np.subtract, saves=False,
            vjp=(lambda g, z, x, y: g, lambda g, z, x, y: -g),
            jvp=(lambda t, z, x, y: t, lambda t, z, x, y: -t))
mul = defop("mul", np.multiply,
            vjp=(lambda g, z, x, y: g * y, lambda g, z, x, y: g * x),
            jvp=(lambda t, z, x, y: t * y, lambda t, z, x, y: x * t))
div = defop("div", np.true_divide,
            vjp=(lambda g, z, x, y: g / y, lambda g, z, x, y: -g * z / y),
            jvp=(lambda t, z, x, y: t / y, lambda t, z, x, y: -t * z / y))
neg = defop("neg", np.negative, saves=False, vjp=lambda g, z, x: -g, jvp=lambda t, z, x: -t)
# d/dx x**y = y*x**(y-1), taken as 0 where y == 0 (as PyTorch does): otherwise the third
# derivative of x**2 at 0 would be 0 * 0**-1 = nan.
# d/dy x**y = z*log(x); where x == 0 we take log(1): 0**y is flat in y for y > 0.
def _dpow(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):  # the masked branch may be inf
        return where(y == 0, 0.0, y * x ** (y - 1))


pow = defop("pow", np.power,
            vjp=(lambda g, z, x, y: g * _dpow(x, y),
                 lambda g, z, x, y: g * z * log(where(x == 0, 1, x))),
            jvp=(lambda t, z, x, y: t * _dpow(x, y),
                 lambda t, z, x, y: t * z * log(where(x == 0, 1, x))))


def _as_matrices(g, x, y):
    """View 1-d matmul operands (and g accordingly) as matrices, so one formula serves."""
    shape = g.shape
    if y.ndim == 1:
        y, shape = reshape(y, (-1, 1)), shape + (1,)
    if x.ndim == 1:
        x, shape = reshape(x, (1, -1)), shape[:-1] + (1,) + shape[-1:]
    return reshape(g, shape), x, y


def _mT(t):
    return transpose(t, tuple(range(t.ndim - 2)) + (t.ndim - 1, t.ndim - 2))  # swap the last two axes


def _fit(t, shape):
    return t if t.shape == shape else sum_to(t, shape)  # sum over broadcast batch axes


def _matmul_vjp_x(g, z, x, y):
    g, xm, ym = _as_matrices(g, x, y)
    return reshape(_fit(g @ _mT(ym), xm.shape), x.shape)


def _matmul_vjp_y(g, z, x, y):
    g, xm, ym = _as_matrices(g, x, y)
    return reshape(_fit(_mT(xm) @ g, ym.shape), y.shape)


matmul = defop("matmul", np.matmul,
               vjp=(_matmul_vjp_x, _matmul_vjp_y),
               jvp=(lambda t, z, x, y: t @ y, lambda t, z, x, y: x @ t))


# --- elementwise functions; kinks as in the module docstring ------------------------
def _split(wins, ties, g):
    """maximum/minimum's gradient for an argument: all of g where it wins, half on a tie, else
    exactly 0 (selected, as PyTorch does: an inf in g does not become NaN where it loses)."""
    return where(wins, g, _select(ties, g * 0.5))


def _between(x, lo, hi):
    """Where clamp(x, lo, hi) passes the gradient: on [lo, hi], bounds included."""
    return (x >= (-np.inf if lo is None else lo)) * (x <= (np.inf if hi is None else hi))


exp = defop("exp", np.exp, vjp=lambda g, z, x: g * z, jvp=lambda t, z, x: t * z)
log = defop("log", np.log, vjp=lambda g, z, x: g / x, jvp=lambda t, z, x: t / x)
sqrt = defop("sqrt", np.sqrt, vjp=lambda g, z, x: g / (2 * z), jvp=lambda t, z, x: t / (2 * z))
square = defop("square", np.square, vjp=lambda g, z, x: g * 2 * x, jvp=lambda t, z, x: 2 * x * t)
sin = defop("sin", np.sin, vjp=lambda g, z, x: g * cos(x), jvp=lambda t, z, x: t * cos(x))
cos = defop("cos", np.cos, vjp=lambda g, z, x: -g * sin(x), jvp=lambda t, z, x: -t * sin(x))
tanh = defop("tanh", np.tanh, vjp=lambda g, z, x: g * (1 - z * z), jvp=lambda t, z, x: t * (1 - z * z))
sigmoid = defop("sigmoid", lambda x: np.exp(-np.logaddexp(0, -x)),  # never overflows
                vjp=lambda g, z, x: g * z * (1 - z), jvp=lambda t, z, x: t * z * (1 - z))
softplus = defop("softplus", lambda x: np.logaddexp(0, x),          # log(1 + e^x), stably
                 vjp=lambda g, z, x: g * sigmoid(x), jvp=lambda t, z, x: t * sigmoid(x))
def _nothing_from(x):
    """Exact zeros that depend on x with a zero derivative: PyTorch's zeros_like(grad) for an
    input a rule does not use. Not x * 0, which is NaN where x is inf or NaN."""
    return where(zeros_like(x, dtype=bool), x, 0)


def _zero(g, z, *xs, **attrs):
    """The rule of an op that is flat almost everywhere (sign, floor, round...): a zero gradient,
    still connected to g, so that second-order checks see a zero and not an unused input."""
    return _nothing_from(g)


def _select(mask, g, x=None):
    """g where the mask holds, else exactly 0: PyTorch's masks select, so an inf or NaN in g
    stays out where the mask is false (g * mask would make it NaN). With x: connected to x
    with a zero derivative, as torch's threshold_backward (relu's second derivative is 0)."""
    passed = where(mask, g, 0)
    return passed if x is None else passed + _nothing_from(x)


def _is_complex(x):
    return x.dtype.kind == "c"


def _abs_jvp(t, z, x):
    return real(t * conj(sign(x))) if _is_complex(x) else t * sign(x)  # d|x| = Re(conj(x) dx) / |x|


sign = defop("sign", np.sign, vjp=_zero, jvp=_zero)                  # sign' = 0 (x / |x| for complex)
abs = defop("abs", np.abs,                                          # abs'(0) = sign(0) = 0
            vjp=lambda g, z, x: g * conj(sign(x)) if _is_complex(x) else g * sign(x), jvp=_abs_jvp)
relu = defop("relu", lambda x: np.maximum(x, 0),                    # relu'(0) = 0
             vjp=lambda g, z, x: _select(x > 0, g, x), jvp=lambda t, z, x: _select(x > 0, t))
maximum = defop("maximum", np.maximum,                              # ties: half each
                vjp=(lambda g, z, x, y: _split(x > y, x == y, g), lambda g, z, x, y: _split(y > x, x == y, g)),
                jvp=(lambda t, z, x, y: _split(x > y, x == y, t), lambda t, z, x, y: _split(y > x, x == y, t)))
minimum = defop("minimum", np.minimum,
                vjp=(lambda g, z, x, y: _split(x < y, x == y, g), lambda g, z, x, y: _split(y < x, x == y, g)),
                jvp=(lambda t, z, x, y: _split(x < y, x == y, t), lambda t, z, x, y: _split(y < x, x == y, t)))
clamp = defop("clamp", lambda x, min=None, max=None: np.clip(x, min, max),
              vjp=lambda g, z, x, min, max: _select(_between(x, min, max), g),
              jvp=lambda t, z, x, min, max: _select(_between(x, min, max), t))
where = defop("where", np.where,
              vjp=(None, lambda g, z, c, a, b: where(c, g, 0), lambda g, z, c, a, b: where(c, 0, g)),
              jvp=(None, lambda t, z, c, a, b: where(c, t, 0), lambda t, z, c, a, b: where(c, 0, t)))


# --- reductions and normalisers ------------------------------------------------------
def _axes(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _kept(x, axis):
    """x's shape with the reduced axes kept as 1s (the shape of keepdims=True)."""
    if axis is None:
        return (1,) * x.ndim
    axes = {a % x.ndim for a in np.atleast_1d(axis).tolist()}
    return tuple(1 if i in axes else n for i, n in enumerate(x.shape))


def _count(x, axis):
    """How many entries each output of a reduction summarises."""
    return int(np.prod(x.shape)) // max(int(np.prod(_kept(x, axis))), 1)


def _spread(g, x, axis):
    """A reduction's gradient broadcast back over the axes it reduced."""
    return broadcast_to(reshape(g, _kept(x, axis)), x.shape)


def _winners(x, z, axis, g):
    """For max/min reductions: 1/k at each of the k entries equal to the result."""
    hit = cast(x == reshape(z, _kept(x, axis)), g.dtype)
    return hit / sum(hit, axis, True)


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis, keepdims=True))
    return e / np.sum(e, axis, keepdims=True)


def _log_softmax(x, axis=-1):
    s = x - np.max(x, axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis, keepdims=True))


def _reduce(d, reduction):
    return d.mean() if reduction == "mean" else d.sum() if reduction == "sum" else d


def _mse_vjp(g, a, b, reduction):
    d = a - b
    return 2 * d * (g / _count(d, None) if reduction == "mean" else g)


sum = defop("sum", lambda x, axis=None, keepdims=False: np.sum(x, _axes(axis), keepdims=keepdims), saves=False,
            vjp=lambda g, z, x, axis, keepdims: _spread(g, x, axis),
            jvp=lambda t, z, x, axis, keepdims: sum(t, axis, keepdims))
mean = defop("mean", lambda x, axis=None, keepdims=False: np.mean(x, _axes(axis), keepdims=keepdims), saves=False,
             vjp=lambda g, z, x, axis, keepdims: _spread(g, x, axis) / _count(x, axis),
             jvp=lambda t, z, x, axis, keepdims: mean(t, axis, keepdims))
amax = defop("amax", lambda x, axis=None, keepdims=False: np.max(x, _axes(axis), keepdims=keepdims),
             vjp=lambda g, z, x, axis, keepdims: _spread(g, x, axis) * _winners(x, z, axis, g),
             jvp=lambda t, z, x, axis, keepdims: sum(t * _winners(x, z, axis, t), axis, keepdims))
amin = defop("amin", lambda x, axis=None, keepdims=False: np.min(x, _axes(axis), keepdims=keepdims),
             vjp=lambda g, z, x, axis, keepdims: _spread(g, x, axis) * _winners(x, z, axis, g),
             jvp=lambda t, z, x, axis, keepdims: sum(t * _winners(x, z, axis, t), axis, keepdims))
softmax = defop("softmax", _softmax,
                vjp=lambda g, z, x, axis: z * (g - sum(g * z, axis, True)),
                jvp=lambda t, z, x, axis: z * (t - sum(t * z, axis, True)))
log_softmax = defop("log_softmax", _log_softmax,
                    vjp=lambda g, z, x, axis: g - exp(z) * sum(g, axis, True),
                    jvp=lambda t, z, x, axis: t - sum(exp(z) * t, axis, True))
mse_loss = defop("mse_loss", lambda a, b, reduction="mean": _reduce(np.square(a - b), reduction),
                 vjp=(lambda g, z, a, b, reduction: _mse_vjp(g, a, b, reduction),
                      lambda g, z, a, b, reduction: -_mse_vjp(g, a, b, reduction)),
                 jvp=(lambda t, z, a, b, reduction: _reduce(2 * (a - b) * t, reduction),
                      lambda t, z, a, b, reduction: -_reduce(2 * (a - b) * t, reduction)))


# --- shapes: each vjp is the structural inverse of its forward ------------------------
def _sum_to(x, shape):
    """Sum x down to ``shape``: the reverse of broadcasting."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return np.sum(x, axis=axes, keepdims=True).reshape(shape)


def _untake(g, key, shape):
    """Zeros of ``shape`` with g added at ``key``: the reverse of indexing (repeats add up)."""
    out = np.zeros(shape, g.dtype)
    np.add.at(out, key, g)
    return out


def _inverse(axes, ndim):
    return None if axes is None else tuple(np.argsort([a % ndim for a in axes]).tolist())


def _slab(xs, i, axis):
    """The index of input i's block in concat(xs, axis)."""
    ax = axis % xs[0].ndim
    start = builtins.sum(x.shape[ax] for x in xs[:i])
    return (slice(None),) * ax + (slice(start, start + xs[i].shape[ax]),)


def _with_zeros(i, t, xs):
    return [t if j == i else zeros_like(x) for j, x in enumerate(xs)]


reshape = defop("reshape", lambda x, shape: np.reshape(x, shape), saves=False,
                vjp=lambda g, z, x, shape: reshape(g, x.shape),
                jvp=lambda t, z, x, shape: reshape(t, shape))
transpose = defop("transpose", lambda x, axes=None: np.transpose(x, axes), saves=False,
                  vjp=lambda g, z, x, axes: transpose(g, _inverse(axes, x.ndim)),
                  jvp=lambda t, z, x, axes: transpose(t, axes))
broadcast_to = defop("broadcast_to", lambda x, shape: np.array(np.broadcast_to(x, shape)), saves=False,
                     vjp=lambda g, z, x, shape: sum_to(g, x.shape),
                     jvp=lambda t, z, x, shape: broadcast_to(t, shape))
sum_to = defop("sum_to", _sum_to, saves=False,
               vjp=lambda g, z, x, shape: broadcast_to(g, x.shape),
               jvp=lambda t, z, x, shape: sum_to(t, shape))
getitem = defop("getitem", lambda x, key: x[key], saves=False,
                vjp=lambda g, z, x, key: untake(g, key, x.shape),
                jvp=lambda t, z, x, key: getitem(t, key))
untake = defop("untake", _untake, saves=False,
               vjp=lambda g, z, y, key, shape: getitem(g, key),
               jvp=lambda t, z, y, key, shape: untake(t, key, shape))
concat = defop("concat", lambda *xs, axis=0: np.concatenate(xs, axis), saves=False,
               vjp=each(lambda i, g, z, *xs, axis: g[_slab(xs, i, axis)]),
               jvp=each(lambda i, t, z, *xs, axis: concat(_with_zeros(i, t, xs), axis)))
stack = defop("stack", lambda *xs, axis=0: np.stack(xs, axis), saves=False,
              vjp=each(lambda i, g, z, *xs, axis: g[(slice(None),) * (axis % z.ndim) + (i,)]),
              jvp=each(lambda i, t, z, *xs, axis: stack(_with_zeros(i, t, xs), axis)))
cast = defop("cast", lambda x, dtype: x.astype(dtype), saves=False,  # the registry casts g back
             vjp=lambda g, z, x, dtype: g, jvp=lambda t, z, x, dtype: cast(t, dtype))
clone = defop("clone", lambda x: x.copy(), saves=False, vjp=lambda g, z, x: g, jvp=lambda t, z, x: t)
# Complex parts. Rules in the transposed (JAX) form the registry conjugates around (module docstring):
# with it, real's gradient is g, imag's is i*g and conj's is conj(g), as PyTorch gives.
conj = defop("conj", np.conj, saves=False, vjp=lambda g, z, x: conj(g), jvp=lambda t, z, x: conj(t))
real = defop("real", np.real, saves=False, vjp=lambda g, z, x: g, jvp=lambda t, z, x: real(t))
imag = defop("imag", np.imag, saves=False, vjp=lambda g, z, x: g * -1j, jvp=lambda t, z, x: imag(t))


# --- not differentiable ------------------------------------------------------------------
def _join(*xs, separator=""):
    sep = separator.encode() if isinstance(separator, str) else separator
    return np.array(np.frompyfunc(lambda *parts: sep.join(parts), len(xs), 1)(*xs), dtype=object)


_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed the engine's random ops."""
    global _rng
    _rng = np.random.default_rng(seed)


def _normal(shape, seed=None, dtype="float32", mean=0.0, stddev=1.0):
    """seed=None draws from the engine's generator; an int seed gives that seed's draw every time."""
    rng = _rng if seed is None else np.random.default_rng(seed)
    return (mean + stddev * rng.standard_normal(shape)).astype(dtype)


detach = defop("detach", lambda x: x)  # shares the array; the result never requires grad
lt, le = defop("lt", np.less, inputs=2), defop("le", np.less_equal, inputs=2)
gt, ge = defop("gt", np.greater, inputs=2), defop("ge", np.greater_equal, inputs=2)
eq, ne = defop("eq", np.equal, inputs=2), defop("ne", np.not_equal, inputs=2)
ones_like = defop("ones_like", lambda x, dtype=None: np.ones_like(x, dtype))
zeros_like = defop("zeros_like", lambda x, dtype=None: np.zeros_like(x, dtype))
one_hot = defop("one_hot", lambda indices, depth, dtype="float32":
                (np.arange(depth) == np.asarray(indices)[..., None]).astype(dtype))  # -1 gives a zero row
random_normal = defop("random_normal", _normal, inputs=0)  # a fresh draw on every call and every replay
string_join = defop("string_join", _join)                  # elementwise on bytes, as tf.strings.join
clip = clamp


def _index(key):
    """Indices may hold tensors (x[mask]); NumPy wants their arrays."""
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, tuple):
        return tuple(k.data if isinstance(k, Tensor) else k for k in key)
    return key


# --- in-place updates: host-side (torch's x.data.sub_ / under no_grad) ----------------

def _writable(t, value=None):
    if engine._grad_enabled and (t._requires_grad or getattr(value, "_requires_grad", False)):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation."
                           if t.grad_fn is None else "in-place ops on tensors that require grad are not supported")


def _inplace(ufunc):
    @recorded
    def method(self, other):
        _writable(self, other)
        ufunc(self.data, other.data if isinstance(other, Tensor) else other, out=self.data, casting="same_kind")
        return self
    return method


@recorded
def _setitem(self, key, value):
    _writable(self, value)
    self.data[_index(key)] = value.data if isinstance(value, Tensor) else value


def _swap(t, dim0, dim1):
    axes = list(range(t.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return transpose(t, tuple(axes))


def _shape_arg(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


# Tensor methods, named as torch.Tensor's.
for _name, _fn in dict(
        __add__=add, __radd__=lambda x, y: add(y, x), __sub__=sub, __rsub__=lambda x, y: sub(y, x),
        __mul__=mul, __rmul__=lambda x, y: mul(y, x), __truediv__=div, __rtruediv__=lambda x, y: div(y, x),
        __pow__=pow, __rpow__=lambda x, y: pow(y, x), __matmul__=matmul, __rmatmul__=lambda x, y: matmul(y, x),
        __neg__=neg, __abs__=abs, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge, __eq__=eq, __ne__=ne,
        __getitem__=lambda x, key: getitem(x, _index(key)), __setitem__=_setitem,
        __iadd__=_inplace(np.add), __isub__=_inplace(np.subtract), __imul__=_inplace(np.multiply),
        __itruediv__=_inplace(np.true_divide), add_=_inplace(np.add), sub_=_inplace(np.subtract),
        mul_=_inplace(np.multiply), zero_=lambda x: x.mul_(0),
        add=add, sub=sub, mul=mul, div=div, pow=pow, matmul=matmul, neg=neg, exp=exp, log=log, sqrt=sqrt,
        square=square, sin=sin, cos=cos, tanh=tanh, sigmoid=sigmoid, relu=relu, softplus=softplus, abs=abs,
        sign=sign, sum=sum, mean=mean, max=amax, min=amin, amax=amax, amin=amin, softmax=softmax,
        log_softmax=log_softmax, clamp=clamp, clip=clamp, maximum=maximum, minimum=minimum,
        detach=detach, clone=clone, conj=conj, t=lambda x: transpose(x), transpose=_swap,
        permute=lambda x, *axes: transpose(x, _shape_arg(axes)),
        reshape=lambda x, *shape: reshape(x, _shape_arg(shape)), view=lambda x, *shape: reshape(x, _shape_arg(shape)),
        float=lambda x: cast(x, np.float32), double=lambda x: cast(x, np.float64),
        long=lambda x: cast(x, np.int64), int=lambda x: cast(x, np.int32),
).items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(transpose)
Tensor.real, Tensor.imag = property(real), property(imag)

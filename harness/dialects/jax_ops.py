"""The JAX dialect's op table: each vocabulary op as a JAX user spells it (``jnp``, ``jax.nn``,
``jax.lax``, ``jax.scipy.special``, ``jnp.linalg``, optax's losses).

An attribute the case leaves out (or gives as ``default``) is left out of the call, so JAX's
own default applies (``jax.nn.gelu``'s is the tanh form); one the case gives is passed with the
case's meaning. What JAX has no public op for (a batch-norm, an LSTM cell: flax is not installed)
is a short helper function at the top of the script (``HELPERS``), written from the formula.
"""

from __future__ import annotations

from harness import expressions as ex
from harness.dialects.base import PYTHON_OPERATORS, NotApplicable, old_weight_options, required_literal
from harness.vocabulary import OPS as VOCABULARY

NO_STRINGS = "JAX has no string arrays (its dtypes are numbers and bools)"


def _tuple(c, name: str, default: str = "None") -> str:
    """An attribute as source, a list as a tuple (jnp takes axes and shapes as tuples)."""
    for k, node in c.node_kwargs:
        if k == name and isinstance(node, ex.ListOf):
            items = [c.writer.expr(x) for x in node.items]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return c.kwargs.get(name, default)


def _kw(c, rename: dict | None = None, drop=()) -> str:
    return "".join(f", {(rename or {}).get(k, k)}={_tuple(c, k)}" for k in c.kwargs if k not in drop)


def _reduce(fn, rename=None):
    return lambda c: f"{fn}({c.args[0]}{_kw(c, rename)})"


def _value(c, name: str):
    """An attribute's Python value: given (a constant), else the vocabulary's default."""
    for k, node in c.node_kwargs:
        if k == name:
            return required_literal(node, "the JAX spelling needs this attribute as a constant")
    return VOCABULARY[c.fn].attributes.get(name)


def _helper(c, name: str) -> str:
    c.writer.needs.add(f"helper:{name}")
    return name


def _cast(c) -> str:
    dtype = c.const("dtype")
    if dtype == "string":
        raise NotApplicable(NO_STRINGS)
    x = f"jnp.asarray({c.args[0]})" if c.host[0] else c.atoms[0]
    return f"{x}.astype(jnp.{dtype})"


def _reduced(c, loss: str) -> str:
    reduction = _value(c, "reduction")
    return loss if reduction == "none" else f"jnp.{'sum' if reduction == 'sum' else 'mean'}({loss})"


def _mse(c) -> str:
    return _reduced(c, f"jnp.square({c.atoms[0]} - {c.atoms[1]})")


# ---- activations, shapes ------------------------------------------------------------------

def _gelu(c) -> str:
    if not c.explicit("approximate"):
        return f"jax.nn.gelu({c.args[0]})"  # JAX's default: the tanh form
    return f"jax.nn.gelu({c.args[0]}, approximate={_value(c, 'approximate') == 'tanh'})"


def _gather(c) -> str:
    """``jnp.take`` flattens without an axis (NumPy's default): the vocabulary's is 0."""
    axis = f", axis={c.attr('axis')}" if c.explicit("axis") else ""
    return f"jnp.take({c.args[0]}, {c.args[1]}{axis})"


def _pad(c) -> str:
    out = f"jnp.pad({c.args[0]}, {_tuple(c, 'pad_width')}"
    mode = _value(c, "mode").lower()
    mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    out += f", mode={mode!r}" if c.given("mode") else ""
    return out + (f", constant_values={c.kwargs['value']})" if c.given("value") else ")")


def _topk(c) -> str:
    axis = f", axis={c.kwargs['axis']}" if c.given("axis") else ""
    if _value(c, "largest"):
        return f"jax.lax.top_k({c.args[0]}, {c.attr('k')}{axis})"  # always sorted
    return f"{_helper(c, 'smallest_k')}({c.args[0]}, {c.attr('k')}{axis})"


def _einsum(c) -> str:
    node = c.nodes[0]
    operands = ", ".join(c.writer.expr(x) for x in node.items) if isinstance(node, ex.ListOf) \
        else f"*{c.args[0]}"
    return f"jnp.einsum({c.attr('equation')}, {operands})"


# ---- layers: lax.conv_general_dilated and reduce_window, channels first -------------------

def _spatial(v, n: int) -> tuple:
    return (v,) * n if isinstance(v, int) else tuple(v)


def _pairs(p, n: int) -> list:
    return [tuple(q) if isinstance(q, (list, tuple)) else (q, q) for q in _spatial(p, n)]


def _padding(p, n: int, batch: bool = False) -> str:
    if isinstance(p, str):
        return repr(p.upper())  # lax's "SAME" is TF's rule: out = ceil(in / stride)
    return repr([(0, 0)] * 2 * batch + _pairs(p, n))


def _bias(c, out: str, n: int) -> str:
    if len(c.args) < 3 or c.args[2] == "None":
        return out
    return f"{out} + {c.atoms[2]}[:{', None' * n}]"  # one bias per output channel


def _conv(c) -> str:
    n = 1 if c.fn == "conv1d" else 2
    dims = ("NCH", "OIH", "NCH") if n == 1 else ("NCHW", "OIHW", "NCHW")
    stride, dilation = _spatial(_value(c, "stride"), n), _spatial(_value(c, "dilation"), n)
    groups = _value(c, "groups")
    out = (f"jax.lax.conv_general_dilated({c.args[0]}, {c.args[1]}, {stride}, "
           f"{_padding(_value(c, 'padding'), n)}"
           + (f", rhs_dilation={dilation}" if set(dilation) != {1} else "")
           + f", dimension_numbers={dims}"
           + (f", feature_group_count={groups}" if groups != 1 else "") + ")")
    return _bias(c, out, n)


def _conv_transpose(c) -> str:
    """torch's conv_transpose2d: the gradient of a conv2d, lax.conv_transpose with
    transpose_kernel=True (torch's (C_in, C_out, kH, kW) weight reads as 'OIHW' there), padded
    d*(k-1) - p before and that plus output_padding after."""
    x, w = c.args[:2]
    stride, dilation = _spatial(_value(c, "stride"), 2), _spatial(_value(c, "dilation"), 2)
    pad, extra = _spatial(_value(c, "padding"), 2), _spatial(_value(c, "output_padding"), 2)
    groups = _value(c, "groups")
    node = c.nodes[1]
    known = isinstance(node, ex.Name) and node.id in c.writer.plan.inputs
    if known:
        kernel = c.writer.plan.inputs[node.id].value.shape[2:]
        padding = repr([(d * (k - 1) - p, d * (k - 1) - p + e)
                        for k, d, p, e in zip(kernel, dilation, pad, extra)])
    else:
        padding = (f"[(d * (k - 1) - p, d * (k - 1) - p + e) for k, d, p, e in "
                   f"zip({c.atoms[1]}.shape[2:], {dilation}, {pad}, {extra})]")
    rhs = f", rhs_dilation={dilation}" if set(dilation) != {1} else ""
    dims = "dimension_numbers=('NCHW', 'OIHW', 'NCHW')"
    if groups == 1:
        out = f"jax.lax.conv_transpose({x}, {w}, {stride}, {padding}{rhs}, {dims}, transpose_kernel=True)"
    else:  # lax.conv_transpose has no groups: the same, spelled as a conv over a dilated input
        w = c.atoms[1]
        kernel = (f"jnp.flip({w}.reshape({groups}, -1, *{w}.shape[1:]).swapaxes(1, 2)"
                  f".reshape(-1, {w}.shape[0] // {groups}, *{w}.shape[2:]), (2, 3))")
        out = (f"jax.lax.conv_general_dilated({x}, {kernel}, (1, 1), {padding}, "
               f"lhs_dilation={stride}{rhs}, {dims}, feature_group_count={groups})")
    return _bias(c, out, 2)


def _window(c):
    kernel = _spatial(_value(c, "kernel_size"), 2)
    stride = _value(c, "stride")
    stride = kernel if stride is None else _spatial(stride, 2)
    return (1, 1, *kernel), (1, 1, *stride), _padding(_value(c, "padding"), 2, batch=True)


def _max_pool(c) -> str:
    window, strides, padding = _window(c)
    dilation = _spatial(_value(c, "dilation"), 2)
    extra = f", window_dilation={(1, 1, *dilation)}" if set(dilation) != {1} else ""
    return f"jax.lax.reduce_window({c.args[0]}, -jnp.inf, jax.lax.max, {window}, {strides}, {padding}{extra})"


def _avg_pool(c) -> str:
    window, strides, padding = _window(c)
    total = f"jax.lax.reduce_window({{}}, 0.0, jax.lax.add, {window}, {strides}, {padding})"
    if _value(c, "count_include_pad") or padding in ("'VALID'", repr([(0, 0)] * 4)):
        return f"{total.format(c.args[0])} / {window[2] * window[3]}"
    # the number of real pixels in each window: the same sum over ones
    return f"{total.format(c.args[0])} / {total.format(f'jnp.ones_like({c.args[0]})')}"


def _batch_norm(c) -> str:
    # momentum only moves the running statistics: state, not this output
    return f"{_helper(c, 'batch_norm')}({', '.join(c.args)}{_kw(c, drop=('momentum',))})"


def _batch_norm_train(c) -> str:
    """flax.linen.BatchNorm's step (helper): its momentum is the old statistics' weight (the
    vocabulary's is the batch's: 1 - m); its defaults, momentum 0.99 and epsilon 1e-5, apply
    where the case asks for them (``=default``)."""
    return f"{_helper(c, 'batch_norm_train')}({', '.join(c.args)}{old_weight_options(c)})"


def _cell(name: str):
    def spell(c) -> str:
        layout = _value(c, "layout")
        if layout == "native":
            raise NotApplicable(
                "JAX has no recurrent cell layer to load the arrays into as they are (flax, "
                "not installed, keeps one kernel per gate: ii, if, ig, io, hi, ...); the "
                "canonical layout is spelled with the cell's formula")
        if layout != "canonical":
            raise ValueError(f"{name}: layout is 'canonical' or 'native', not {layout!r}")
        return f"{_helper(c, name)}({', '.join(c.args)})"
    return spell


def _layer_norm(c) -> str:
    x = c.args[0]
    axis = f", {_tuple(c, 'axis')}" if c.given("axis") else ""
    eps = f", epsilon={c.kwargs['eps']}" if c.given("eps") else ""
    out = f"jax.nn.standardize({x}{axis}{eps})"
    if len(c.args) > 1 and c.args[1] != "None":
        out += f" * {c.atoms[1]}"
    if len(c.args) > 2 and c.args[2] != "None":
        out += f" + {c.atoms[2]}"
    return out


def _dropout(c) -> str:
    if not (_value(c, "training") and _value(c, "rate")):
        return c.args[0]  # rate 0 or evaluation: the identity
    keep = f"1 - {c.attr('rate')}"
    return (f"jnp.where(jax.random.bernoulli(jax.random.key(0), {keep}, {c.atoms[0]}.shape), "
            f"{c.atoms[0]} / ({keep}), 0)")


# ---- losses: optax's, reduced as the case asks -------------------------------------------

def _integer(c, i: int) -> bool:
    """Whether operand i holds integers (an input's dtype, or a cast to one)."""
    node = c.nodes[i]
    if isinstance(node, ex.Name) and node.id in c.writer.plan.inputs:
        return str(c.writer.plan.inputs[node.id].dtype).startswith(("int", "uint"))
    if isinstance(node, ex.Call) and node.fn in ("argmax", "argmin"):
        return True
    if isinstance(node, ex.Call) and node.fn == "cast":
        return str(dict(node.kwargs).get("dtype", ex.Const("")).value).startswith(("int", "uint"))
    return False


def _cross_entropy(c) -> str:
    logits, labels = c.args[:2]
    axis = f", axis={c.kwargs['axis']}" if c.given("axis") else ""
    smoothing = _value(c, "label_smoothing")
    if _integer(c, 1) and not smoothing:
        loss = f"optax.softmax_cross_entropy_with_integer_labels({logits}, {labels}{axis})"
    else:
        if _integer(c, 1):
            labels = f"jax.nn.one_hot({labels}, {c.atoms[0]}.shape[{_value(c, 'axis')}]{axis})"
        if smoothing:
            labels = f"optax.smooth_labels({labels}, {c.kwargs['label_smoothing']}{axis})"
        loss = f"optax.softmax_cross_entropy({logits}, {labels}{axis})"
    c.writer.needs.add("optax")
    return _reduced(c, loss)


def _bce(c) -> str:
    x, y = c.atoms[:2]
    if c.kwargs.get("pos_weight", "None") == "None":
        c.writer.needs.add("optax")
        return _reduced(c, f"optax.sigmoid_binary_cross_entropy({c.args[0]}, {c.args[1]})")
    # optax has no pos_weight: torch's weighted form, written out
    p = c.kwargs["pos_weight"]
    return _reduced(c, f"(1 - {y}) * {x} + (1 + ({p} - 1) * {y}) * jax.nn.softplus(-{x})")


def _huber(c) -> str:
    c.writer.needs.add("optax")
    delta = f", delta={c.kwargs['delta']}" if c.given("delta") else ""
    return _reduced(c, f"optax.huber_loss({c.args[0]}, {c.args[1]}{delta})")


def _kl_div(c) -> str:
    """torch's kl_div(log_q, p): optax sums over ``axis`` (``()``: none, each entry alone;
    None: all), so 'batchmean' divides the whole sum by the batch size."""
    c.writer.needs.add("optax")
    fn = "optax.losses.kl_divergence_with_log_targets" if _value(c, "log_target") \
        else "optax.kl_divergence"
    reduction = _value(c, "reduction")
    if reduction == "batchmean":
        return f"{fn}({c.args[0]}, {c.args[1]}, axis=None) / {c.atoms[0]}.shape[0]"
    if reduction == "sum":
        return f"{fn}({c.args[0]}, {c.args[1]}, axis=None)"
    return _reduced(c, f"{fn}({c.args[0]}, {c.args[1]}, axis=())")


OPS = {
    **PYTHON_OPERATORS,  # on JAX arrays Python's operators are jnp's (x ** 2: integer_pow)
    **{op: f"jnp.{op}({{0}})" for op in
       ("exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh", "ones_like", "zeros_like",
        "log1p", "expm1", "reciprocal", "tan", "sinh", "cosh", "sign", "floor", "ceil", "trunc",
        "conj", "real", "imag")},
    **{op: f"jnp.arc{op[1:]}({{0}})" for op in ("asin", "acos", "atan", "asinh", "acosh", "atanh")},
    **{op: f"jax.scipy.special.{op}({{0}})" for op in ("erf", "erfc", "digamma")},
    **{op: f"jax.nn.{op}({{0}})" for op in
       ("sigmoid", "relu", "softplus", "relu6", "selu", "silu", "log_sigmoid")},
    "rsqrt": "jax.lax.rsqrt({0})", "lgamma": "jax.scipy.special.gammaln({0})",
    "softsign": "jax.nn.soft_sign({0})", "round": _reduce("jnp.round"),
    "leaky_relu": _reduce("jax.nn.leaky_relu", {"alpha": "negative_slope"}),
    "elu": _reduce("jax.nn.elu"), "gelu": _gelu,
    "maximum": "jnp.maximum({0}, {1})", "minimum": "jnp.minimum({0}, {1})",
    "atan2": "jnp.arctan2({0}, {1})", "remainder": "jnp.remainder({0}, {1})",
    "fmod": "jnp.fmod({0}, {1})", "xlogy": "jax.scipy.special.xlogy({0}, {1})",
    "squared_difference": "jnp.square({0} - {1})",
    "clip": "jnp.clip({0}{kw})", "where": "jnp.where({0}, {1}, {2})",
    **{op: _reduce(f"jnp.{op}") for op in
       ("sum", "mean", "max", "min", "prod", "std", "var", "cumsum", "cumprod", "argmax", "argmin",
        "transpose", "squeeze", "flip", "sort")},
    "logsumexp": _reduce("jax.scipy.special.logsumexp"), "norm": _reduce("jnp.linalg.norm"),
    "reshape": lambda c: f"jnp.reshape({c.args[0]}, {_tuple(c, 'shape')})",
    "expand_dims": lambda c: f"jnp.expand_dims({c.args[0]}, {_tuple(c, 'axis')})",
    "broadcast_to": lambda c: f"jnp.broadcast_to({c.args[0]}, {_tuple(c, 'shape')})",
    "tile": lambda c: f"jnp.tile({c.args[0]}, {_tuple(c, 'reps')})",
    "pad": _pad, "gather": _gather,
    "take_along_axis": "jnp.take_along_axis({0}, {1}, axis={axis})",  # axis is required
    "topk": _topk, "einsum": _einsum,
    "getitem": "{0}[{1}]",
    "concat": "jnp.concatenate({0}{kw})", "stack": "jnp.stack({0}{kw})",
    "softmax": "jax.nn.softmax({0}{kw})", "log_softmax": "jax.nn.log_softmax({0}{kw})",
    "one_hot": "jax.nn.one_hot({0}, {depth}, dtype=jnp.float32)",
    "cast": _cast, "mse": _mse,
    # JAX's RNG is explicit and functional: a key in, numbers out. One fixed key gives the
    # same numbers on every call: that is JAX's design, not a bug.
    "random_normal": lambda c: f"jax.random.normal(jax.random.key(0), "
                               f"{_tuple(c, 'shape', '()')}, dtype=jnp.float32)",
    **{op: f"jnp.linalg.{op}({{0}})" for op in
       ("det", "slogdet", "inv", "cholesky", "eigh", "eigvalsh", "svdvals")},
    "solve": "jnp.linalg.solve({0}, {1})", "svd": "jnp.linalg.svd({0}{kw})",
    "conv1d": _conv, "conv2d": _conv, "conv_transpose2d": _conv_transpose,
    "max_pool2d": _max_pool, "avg_pool2d": _avg_pool,
    "batch_norm": _batch_norm, "batch_norm_train": _batch_norm_train, "layer_norm": _layer_norm,
    "embedding": "jnp.take({1}, {0}, axis=0)",
    "lstm_cell": _cell("lstm_cell"), "gru_cell": _cell("gru_cell"),
    "dropout": _dropout,
    "cross_entropy": _cross_entropy, "binary_cross_entropy_with_logits": _bce,
    "huber": _huber, "kl_div": _kl_div,
}

# script-level helpers for what JAX has no public op for (flax is not installed)
HELPERS = {
    "smallest_k": '''
def smallest_k(x, k, axis=-1):
    """The k smallest entries, smallest first: jax.lax.top_k takes the largest only."""
    values, indices = jax.lax.top_k(-x, k, axis=axis)
    return -values, indices
''',
    "batch_norm": '''
def batch_norm(x, mean, var, gamma=None, beta=None, eps=1e-5, training=False, axis=1):
    """torch.nn.functional.batch_norm's output (channels on `axis`): training normalises with
    the batch's own mean and biased variance, else with the running ones."""
    axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    if training:
        mean, var = jnp.mean(x, axes, keepdims=True), jnp.var(x, axes, keepdims=True)
    else:
        mean, var = jnp.expand_dims(mean, axes), jnp.expand_dims(var, axes)
    y = jax.nn.standardize(x, axes, mean=mean, variance=var, epsilon=eps)
    if gamma is not None:
        y = y * jnp.expand_dims(gamma, axes)
    return y if beta is None else y + jnp.expand_dims(beta, axes)
''',
    "batch_norm_train": '''
def batch_norm_train(x, ra_mean, ra_var, scale=None, bias=None, momentum=0.99, epsilon=1e-5, axis=1):
    """One training step of flax.linen.BatchNorm (use_running_average=False), written with
    jax.numpy: JAX itself has no batch-norm layer. flax's rule: momentum is the old statistics'
    weight (default 0.99), epsilon 1e-5, and the biased variance E[x^2] - E[x]^2 both normalises
    and is stored. Returns (y, ra_mean, ra_var)."""
    axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    mean = jnp.mean(x, axes)
    var = jnp.maximum(0.0, jnp.mean(jnp.square(x), axes) - jnp.square(mean))
    ra_mean = momentum * ra_mean + (1 - momentum) * mean
    ra_var = momentum * ra_var + (1 - momentum) * var
    y = (x - jnp.expand_dims(mean, axes)) * jax.lax.rsqrt(jnp.expand_dims(var, axes) + epsilon)
    if scale is not None:
        y = y * jnp.expand_dims(scale, axes)
    return (y if bias is None else y + jnp.expand_dims(bias, axes)), ra_mean, ra_var
''',
    "lstm_cell": '''
def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One torch.nn.LSTMCell step: w_ih (4H, I), w_hh (4H, H), gates i, f, g, o."""
    gates = x @ w_ih.T + (0 if b_ih is None else b_ih) + h @ w_hh.T + (0 if b_hh is None else b_hh)
    i, f, g, o = jnp.split(gates, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c
''',
    "gru_cell": '''
def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One torch.nn.GRUCell step: w_ih (3H, I), w_hh (3H, H), gates r, z, n."""
    x_r, x_z, x_n = jnp.split(x @ w_ih.T + (0 if b_ih is None else b_ih), 3, axis=-1)
    h_r, h_z, h_n = jnp.split(h @ w_hh.T + (0 if b_hh is None else b_hh), 3, axis=-1)
    r, z = jax.nn.sigmoid(x_r + h_r), jax.nn.sigmoid(x_z + h_z)
    n = jnp.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h
''',
}

"""The vocabulary in ``keras.ops`` (and ``keras.losses``): one op table, the same source on
every Keras backend.

An attribute the case did not write means the vocabulary's default: where Keras's own
default differs (``leaky_relu``'s slope 0.2, ``gelu``'s tanh form, ``take``'s flattening,
``svd``'s full matrices, the losses' reduction), the vocabulary's is passed, unless the case
wrote ``attr=default`` (``Call.explicit``). Layers keep PyTorch's layout in the case (NCHW
inputs, OIHW kernels): they are transposed to Keras's channels-last around ``keras.ops.conv``
and the pools, as the tensorflow dialect does around ``tf.nn``. The layers with state or a
layout of their own (``batch_norm_train``, ``lstm_cell``, ``gru_cell``) are ``keras.layers``
called with ``Layer.stateless_call`` and the case's weights, as the tensorflow dialect calls
``tf.keras.layers`` (``HELPERS``).
"""

from __future__ import annotations

from harness import expressions as ex
from harness.dialects.base import (
    PYTHON_OPERATORS,
    Call,
    NotApplicable,
    Writer,
    axis_pairs,
    constant,
    integer_valued,
    old_weight_options,
    python_literal,
)

K = "keras.ops"


def _no(what: str) -> str:
    return f"keras.ops has no {what}"


def _src(c: Call, name: str) -> str:
    """An attribute as source (given, else the vocabulary's default), a list as a tuple
    (keras.ops takes axes, shapes and window sizes as tuples)."""
    for k, node in c.node_kwargs:
        if k == name and isinstance(node, ex.ListOf):
            items = [c.writer.expr(x) for x in node.items]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return c.attr(name)


def _given(c: Call, rename: dict | None = None, drop=()) -> str:
    """``, name=value`` for the attributes the case gave (keras.ops's defaults are the
    vocabulary's for these)."""
    return "".join(f", {(rename or {}).get(k, k)}={_src(c, k)}" for k, _ in c.node_kwargs
                   if k not in drop)


def _explicit(c: Call, name: str, keyword: str | None = None, value: str | None = None) -> str:
    """``, keyword=value`` for an attribute whose Keras default is not the vocabulary's: the
    case's value or the vocabulary's default; nothing where the case wrote ``name=default``."""
    if not c.explicit(name):
        return ""
    return f", {keyword or name}={_src(c, name) if value is None else value}"


def _call(fn: str, n: int = 1, rename: dict | None = None, drop=()):
    return lambda c: f"{K}.{fn}({', '.join(c.args[:n])}{_given(c, rename, drop)})"


# ---- elementwise, shapes, reductions ---------------------------------------------------------

def _clip(c: Call) -> str:
    lo, hi = c.kwargs.get("min", "None"), c.kwargs.get("max", "None")
    x = c.args[0]
    if lo != "None" and hi != "None":
        return f"{K}.clip({x}, {lo}, {hi})"
    if lo != "None":
        return f"{K}.maximum({x}, {lo})"
    return f"{K}.minimum({x}, {hi})" if hi != "None" else x


def _cast(c: Call) -> str:
    dtype = constant(c, "dtype")
    if dtype == "string" or not isinstance(dtype, str):
        raise NotApplicable("Keras has no string tensors" if dtype == "string"
                            else "cast needs a constant dtype")
    return f"{K}.cast({c.args[0]}, {dtype!r})"


def _ddof(fn: str):
    def spell(c: Call) -> str:
        if constant(c, "ddof"):
            raise NotApplicable(f"keras.ops.{fn} has no ddof (population {fn} only)")
        return _call(fn, drop=("ddof",))(c)
    return spell


def _sort(c: Call) -> str:
    """keras.ops.sort is ascending only: descending is its reverse, as a Keras user writes it."""
    y = f"{K}.sort({c.args[0]}{_given(c, drop=('descending',))})"
    return f"{K}.flip({y}, axis={_src(c, 'axis')})" if constant(c, "descending") else y


def _topk(c: Call) -> str:
    if constant(c, "axis") != -1 or not constant(c, "largest"):
        raise NotApplicable("keras.ops.top_k takes the largest along the last axis only")
    return f"{K}.top_k({c.args[0]}, {c.attr('k')}{_given(c, drop=('k', 'axis', 'largest'))})"


def _gelu(c: Call) -> str:
    # keras.ops.gelu defaults to the tanh form (approximate=True); the vocabulary's is exact
    return f"{K}.gelu({c.args[0]}{_explicit(c, 'approximate', value=str(constant(c, 'approximate') == 'tanh'))})"


def _pad(c: Call) -> str:
    mode = constant(c, "mode")
    value = _explicit(c, "value", "constant_values") if mode == "constant" else ""
    mode_kw = f", mode={_src(c, 'mode')}.lower()" if c.given("mode") else ""
    return f"{K}.pad({c.args[0]}, {_src(c, 'pad_width')}{mode_kw}{value})"


def _reshape(c: Call) -> str:
    return f"{K}.reshape({c.args[0]}, {_src(c, 'shape')})"


# ---- layers: channels first in the case, channels last in keras.ops --------------------------

def _last(n: int):
    """(to channels-last, back to channels-first, OI... kernel to ...IO) permutations."""
    return ((0, 2, 1), (0, 2, 1), (2, 1, 0)) if n == 1 else ((0, 2, 3, 1), (0, 3, 1, 2), (2, 3, 1, 0))


def _window(c: Call, n: int, x: str = "", fill: str = "") -> tuple[str, str]:
    """(the input ``x`` (default: the first operand) channels last, zero- or ``fill``-padded
    where the padding is numbers; keras.ops's padding: 'valid' or 'same')."""
    x = f"{K}.transpose({x or c.args[0]}, {_last(n)[0]})"
    padding = constant(c, "padding")
    if isinstance(padding, str):
        return x, repr(padding.lower())
    pairs = axis_pairs(padding, n)
    if any(map(any, pairs)):  # numbers: the pad added first (keras.ops takes 'valid'/'same')
        x = f"{K}.pad({x}, {python_literal([[0, 0], *pairs, [0, 0]])}{fill})"
    return x, "'valid'"


def _conv(c: Call) -> str:
    """keras.ops.conv, channels last, kernel (spatial, C_in / groups, C_out): the groups
    follow from the kernel's shape, as in keras.layers.Conv2D(groups=...)."""
    n = 1 if c.fn == "conv1d" else 2
    _, back, kernel = _last(n)
    x, padding = _window(c, n)
    y = (f"{K}.conv({x}, {K}.transpose({c.args[1]}, {kernel}), strides={_src(c, 'stride')}, "
         f"padding={padding}, dilation_rate={_src(c, 'dilation')})")
    if len(c.args) == 3 and c.args[2] != "None":
        y = f"{y} + {c.atoms[2]}"  # channels last: the bias broadcasts on the last axis
    return f"{K}.transpose({y}, {back})"


def _pool(kind: str):
    def spell(c: Call) -> str:
        kernel = _src(c, "kernel_size")
        stride = _src(c, "stride") if constant(c, "stride") is not None else kernel
        if kind == "max":
            if constant(c, "dilation") not in (1, [1, 1]):
                raise NotApplicable("keras.ops.max_pool has no dilation")
            x, padding = _window(c, 2, fill=", constant_values=float('-inf')")
            return f"{K}.transpose({K}.max_pool({x}, {kernel}, {stride}, {padding}), (0, 3, 1, 2))"
        x, padding = _window(c, 2)
        if padding == "'same'" and c.explicit("count_include_pad") and constant(c, "count_include_pad"):
            raise NotApplicable("keras.ops.average_pool's 'same' padding averages the real "
                                "pixels only (count_include_pad=False)")
        y = f"{K}.average_pool({x}, {kernel}, {stride}, {padding})"
        if x.startswith(f"{K}.pad(") and not constant(c, "count_include_pad"):
            ones = _window(c, 2, f"{K}.ones_like({c.atoms[0]})")[0]
            y = f"{y} / {K}.average_pool({ones}, {kernel}, {stride}, {padding})"  # the real pixels' share
        return f"{K}.transpose({y}, (0, 3, 1, 2))"
    return spell


def _layer_norm(c: Call) -> str:
    gamma = c.args[1] if len(c.args) > 1 and c.args[1] != "None" else "None"
    beta = c.args[2] if len(c.args) > 2 and c.args[2] != "None" else "None"
    # keras.ops.layer_normalization's epsilon defaults to keras.config.epsilon() (1e-7)
    return (f"{K}.layer_normalization({c.args[0]}, {gamma}, {beta}, axis={_src(c, 'axis')}"
            f"{_explicit(c, 'eps', 'epsilon')})")


def _batch_norm(c: Call) -> str:
    """keras.ops.batch_normalization with given moments; in training, the batch's (biased)
    moments over every axis but ``axis`` (keras.ops.moments), gradients through them."""
    args = c.args + ["None"] * (5 - len(c.args))
    x, mean, var, gamma, beta = args
    axis = constant(c, "axis")
    if not isinstance(axis, int):
        raise NotApplicable("batch_norm needs a constant axis here")
    if constant(c, "training"):
        axes = f"[a for a in range(len({c.atoms[0]}.shape)) if a != {axis} % len({c.atoms[0]}.shape)]"
        mean, var = (f"{K}.moments({x}, {axes})[{i}]" for i in (0, 1))
    # keras.ops.batch_normalization's epsilon defaults to 1e-3
    return (f"{K}.batch_normalization({x}, {mean}, {var}, axis={axis}, offset={beta}, "
            f"scale={gamma}{_explicit(c, 'eps', 'epsilon')})")


def _dropout(c: Call) -> str:
    if constant(c, "training") and constant(c, "rate"):
        raise NotApplicable("keras.random.dropout draws from Keras's own generator: its mask "
                            "is not the other frameworks'")
    return c.args[0]  # rate 0, or not training: the identity (keras.layers.Dropout outside fit)


# ---- layers with state and layouts: keras.layers through Layer.stateless_call -----------------

def _helper(c: Call, name: str) -> str:
    c.writer.needs.update({"keras:keras_layer", f"keras:{name}"})
    return name


def _cell(name: str):
    """keras.layers.LSTMCell / GRUCell with the case's weights (the tensorflow dialect's helpers,
    in keras.ops)."""
    def spell(c: Call) -> str:
        layout = constant(c, "layout", "canonical")
        if layout not in ("canonical", "native"):
            raise ValueError(f"{name}: layout is 'canonical' or 'native', not {layout!r}")
        native = ", layout='native'" if layout == "native" else ""
        return f"{_helper(c, name)}({', '.join(c.args)}{native})"
    return spell


def _batch_norm_train(c: Call) -> str:
    """keras.layers.BatchNormalization: its momentum is the old statistics' weight (the
    vocabulary's is the batch's: 1 - m) and its defaults 0.99 and epsilon 1e-3, passed unless
    the case asks for them (``=default``)."""
    return f"{_helper(c, 'batch_norm_train')}({', '.join(c.args)}{old_weight_options(c)})"


# ---- losses: keras.losses --------------------------------------------------------------------

def _each(v: str) -> str:
    """An operand with a unit last axis: keras.losses average over the last axis, so this
    gives the loss of every element."""
    return f"{K}.expand_dims({v}, -1)"


def _reduced(c: Call, per: str, loss_object: str) -> str:
    """The per-element (or per-sample) losses ``per`` reduced as the case says; where it wrote
    ``reduction=default``, the Keras loss object with its own reduction (sum_over_batch_size:
    the per-sample losses, each the mean over the last axis, averaged over the batch)."""
    if not c.explicit("reduction"):
        return loss_object
    reduction = constant(c, "reduction")
    if reduction == "batchmean":
        return f"{K}.sum({per}) / {c.atoms[0]}.shape[0]"
    return {"mean": f"{K}.mean({per})", "sum": f"{K}.sum({per})"}.get(reduction, per)


def _cross_entropy(c: Call) -> str:
    logits, labels = c.args
    axis, smoothing = constant(c, "axis"), constant(c, "label_smoothing")
    # the vocabulary's operand is logits: from_logits=True (Keras's default is False)
    options = f", from_logits=True{_given(c, drop=('reduction', 'label_smoothing'))}"
    if integer_valued(c.writer, c.nodes[1]) and not smoothing:
        return _reduced(c, f"keras.losses.sparse_categorical_crossentropy({labels}, {logits}{options})",
                        f"keras.losses.SparseCategoricalCrossentropy({options[2:]})({labels}, {logits})")
    if integer_valued(c.writer, c.nodes[1]):  # Keras's label smoothing takes one-hot labels
        labels = f"{K}.one_hot({labels}, {c.atoms[0]}.shape[{axis}], axis={axis})"
    options += _given(c, drop=("reduction", "axis")) if smoothing else ""
    return _reduced(c, f"keras.losses.categorical_crossentropy({labels}, {logits}{options})",
                    f"keras.losses.CategoricalCrossentropy({options[2:]})({labels}, {logits})")


def _bce(c: Call) -> str:
    if c.kwargs.get("pos_weight", "None") != "None":
        raise NotApplicable("keras.losses.binary_crossentropy has no pos_weight")
    logits, labels = c.args
    return _reduced(c, f"keras.losses.binary_crossentropy({_each(labels)}, {_each(logits)}, from_logits=True)",
                    f"keras.losses.BinaryCrossentropy(from_logits=True)({labels}, {logits})")


def _huber(c: Call) -> str:
    x, t = c.args
    delta = _explicit(c, "delta")
    return _reduced(c, f"keras.losses.huber({_each(t)}, {_each(x)}{delta})",
                    f"keras.losses.Huber({delta[2:]})({t}, {x})")


def _mse(c: Call) -> str:
    a, b = c.args
    return _reduced(c, f"keras.losses.mean_squared_error({_each(a)}, {_each(b)})",
                    f"keras.losses.MeanSquaredError()({a}, {b})")


def _kl_div(c: Call) -> str:
    """keras.losses take probabilities (clipped to [1e-7, 1]): q = exp(log_q)."""
    logq, p = c.args
    q = f"{K}.exp({logq})"
    p = f"{K}.exp({c.atoms[1]})" if constant(c, "log_target") else p
    return _reduced(c, f"keras.losses.kl_divergence({_each(p)}, {_each(q)})",
                    f"keras.losses.KLDivergence()({p}, {q})")


# ---- the table -------------------------------------------------------------------------------

_SAME = ("exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
         "softplus", "ones_like", "zeros_like", "log1p", "expm1", "rsqrt", "reciprocal", "tan",
         "sinh", "cosh", "erf", "erfc", "sign", "floor", "ceil", "trunc", "relu6", "selu", "silu",
         "softsign", "log_sigmoid", "conj", "real", "imag", "det", "inv", "cholesky", "slogdet",
         "eigh")
_RENAMED = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
            "acosh": "arccosh", "atanh": "arctanh"}
_REDUCE = ("sum", "mean", "max", "min", "prod", "logsumexp", "argmax", "argmin", "cumsum",
           "cumprod", "squeeze", "flip", "norm", "transpose", "round", "softmax", "log_softmax",
           "expand_dims", "broadcast_to", "stack")

OPS = {
    **{k: PYTHON_OPERATORS[k] for k in ("add", "sub", "mul", "div", "pow", "neg",
                                        "lt", "le", "gt", "ge")},
    "eq": f"{K}.equal({{0}}, {{1}})", "ne": f"{K}.not_equal({{0}}, {{1}})",
    "matmul": f"{K}.matmul({{0}}, {{1}})",
    **{n: f"{K}.{n}({{0}})" for n in _SAME},
    **{n: f"{K}.{k}({{0}})" for n, k in _RENAMED.items()},
    **{n: _call(n) for n in _REDUCE},
    "maximum": f"{K}.maximum({{0}}, {{1}})", "minimum": f"{K}.minimum({{0}}, {{1}})",
    "atan2": f"{K}.arctan2({{0}}, {{1}})", "remainder": f"{K}.mod({{0}}, {{1}})",
    "fmod": f"{K}.fmod({{0}}, {{1}})",
    "squared_difference": lambda c: f"{K}.square({c.atoms[0]} - {c.atoms[1]})",
    "clip": _clip, "where": f"{K}.where({{0}}, {{1}}, {{2}})",
    "reshape": _reshape, "getitem": "{0}[{1}]",
    "concat": _call("concatenate"),
    "one_hot": lambda c: f"{K}.one_hot({c.args[0]}, {c.attr('depth')}, dtype='float32')",
    "cast": _cast, "mse": _mse,
    # keras.ops.leaky_relu's default slope is 0.2 (the vocabulary's 0.01)
    "leaky_relu": lambda c: f"{K}.leaky_relu({c.args[0]}{_explicit(c, 'alpha', 'negative_slope')})",
    "elu": lambda c: f"{K}.elu({c.args[0]}{_explicit(c, 'alpha')})", "gelu": _gelu,
    "std": _ddof("std"), "var": _ddof("var"),
    "tile": lambda c: f"{K}.tile({c.args[0]}, {_src(c, 'reps')})", "pad": _pad,
    # keras.ops.take and take_along_axis flatten without an axis (the vocabulary's: 0 and -1)
    "gather": lambda c: f"{K}.take({c.args[0]}, {c.args[1]}{_explicit(c, 'axis')})",
    "take_along_axis": lambda c: f"{K}.take_along_axis({c.args[0]}, {c.args[1]}{_explicit(c, 'axis')})",
    "sort": _sort, "topk": _topk,
    "einsum": lambda c: f"{K}.einsum({c.attr('equation')}, *{c.atoms[0]})",
    "solve": f"{K}.solve({{0}}, {{1}})", "eigvalsh": f"{K}.eigh({{0}})[0]",
    # keras.ops.svd returns (u, s, vh) on every backend; its default is full_matrices=True
    "svd": lambda c: f"{K}.svd({c.args[0]}{_explicit(c, 'full_matrices')})",
    "svdvals": lambda c: f"{K}.svd({c.args[0]}, compute_uv=False)",
    "random_normal": "keras.random.normal({shape}, seed=0)",
    "conv1d": _conv, "conv2d": _conv, "max_pool2d": _pool("max"), "avg_pool2d": _pool("avg"),
    "layer_norm": _layer_norm, "batch_norm": _batch_norm, "dropout": _dropout,
    "batch_norm_train": _batch_norm_train, "lstm_cell": _cell("lstm_cell"), "gru_cell": _cell("gru_cell"),
    "embedding": f"{K}.take({{1}}, {{0}}, axis=0)",
    "cross_entropy": _cross_entropy, "binary_cross_entropy_with_logits": _bce,
    "huber": _huber, "kl_div": _kl_div,
}

LACKS = {
    "string_join": "Keras has no string tensors (keras.ops has no string ops)",
    "lgamma": _no("lgamma (log-gamma)"), "digamma": _no("digamma"),
    "xlogy": _no("xlogy"),
    "conv_transpose2d": _no("conv_transpose with PyTorch's numeric padding (keras.ops."
                            "conv_transpose takes 'valid' or 'same', and its own output_padding "
                            "rule)"),
    "assign_add": "the Keras columns hold no state in the program: keras.Variable updates "
                  "run inside optimizers",
    "assign_sub": "the Keras columns hold no state in the program: keras.Variable updates "
                  "run inside optimizers",
    "new_variable": "the Keras columns hold no state in the program (keras.Variable is "
                    "created by layers and optimizers)",
}

# Script-level functions the layer spellings call (after the imports). A layer is made and built
# once per kind, input shape and options, outside whatever traces the call (the backend's
# OUTSIDE_TRACE): building makes variables, which belong outside a trace (a tf.function may
# create them on its first trace only; under jax.jit their initial values are kept concrete).
OUTSIDE_TRACE = {
    "tensorflow": "tf.init_scope()",
    "jax": "jax.ensure_compile_time_eval()",
    "torch": "torch.no_grad()",  # the initial weights are never differentiated
}

HELPERS = {
    "keras_layer": '''
LAYERS = {}
# the case's weights replace the initial ones: none drawn (torch.func's vmap refuses a random op)
UNDRAWN = {'kernel_initializer': 'zeros', 'recurrent_initializer': 'zeros'}


def keras_layer(kind, shape, dtype, **options):
    """A keras.layers layer, made and built once per kind, input shape and options, outside any
    trace. It is called with Layer.stateless_call and the case's weights, so gradients reach them."""
    dtype = keras.backend.standardize_dtype(dtype)
    key = (kind, tuple(shape), dtype, tuple(sorted(options.items())))
    if key not in LAYERS:
        with {outside}:
            LAYERS[key] = getattr(keras.layers, kind)(dtype=dtype, **options)
            LAYERS[key].build(tuple(shape))
    return LAYERS[key]''',
    "lstm_cell": '''
def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, layout='canonical'):
    """keras.layers.LSTMCell with PyTorch-layout weights: w_ih (4H, I), w_hh (4H, H), two
    biases. Keras keeps the transposes (kernel (I, 4H)) and one bias; its gate order i, f, c, o
    is PyTorch's i, f, g, o, so the canonical and the native layout load alike."""
    cell = keras_layer('LSTMCell', x.shape, x.dtype, units=w_hh.shape[1], use_bias=b_ih is not None, **UNDRAWN)
    weights = [keras.ops.transpose(w_ih), keras.ops.transpose(w_hh)] + ([] if b_ih is None else [b_ih + b_hh])
    (_, (h, c)), _ = cell.stateless_call(weights, [v.value for v in cell.non_trainable_variables], x, [h, c])
    return h, c''',
    "gru_cell": '''
def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, layout='canonical'):
    """keras.layers.GRUCell (reset_after=True, its default: PyTorch's formula) with
    PyTorch-layout weights (3H, I), (3H, H) and two biases: transposed, the biases as its (2, 3H)
    bias, and the gate blocks reordered from PyTorch's r, z, n to Keras' z, r, h -- unless
    layout='native', which loads them in the order given."""
    cell = keras_layer('GRUCell', x.shape, x.dtype, units=w_hh.shape[1], use_bias=b_ih is not None, **UNDRAWN)

    def gates(w):
        r, z, n = keras.ops.split(w, 3, axis=0)
        return w if layout == 'native' else keras.ops.concatenate([z, r, n], axis=0)
    weights = [keras.ops.transpose(gates(w_ih)), keras.ops.transpose(gates(w_hh))]
    weights += [] if b_ih is None else [keras.ops.stack([gates(b_ih), gates(b_hh)])]
    (h, _), _ = cell.stateless_call(weights, [v.value for v in cell.non_trainable_variables], x, h)
    return h''',
    "batch_norm_train": '''
def batch_norm_train(x, running_mean, running_var, gamma=None, beta=None, axis=1, **options):
    """One training step of keras.layers.BatchNormalization, whose state is its moving_mean and
    moving_variance: Layer.stateless_call returns the output and the updated statistics."""
    layer = keras_layer('BatchNormalization', x.shape, x.dtype, axis=axis, scale=gamma is not None,
                        center=beta is not None, **options)
    y, (mean, var) = layer.stateless_call([v for v in (gamma, beta) if v is not None],
                                          [running_mean, running_var], x, training=True)
    return y, mean, var''',
}


def helpers(w: Writer, backend: str) -> list[str]:
    """The script-level functions the spellings asked for, each after two blank lines."""
    out = []
    for name, source in HELPERS.items():
        if f"keras:{name}" in w.needs:
            source = source.replace("{outside}", OUTSIDE_TRACE[backend])
            out += ["", "", *source.strip("\n").splitlines()]
    return out + [""] * bool(out)

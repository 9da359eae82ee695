"""The TensorFlow dialect's op table: each vocabulary op in TensorFlow's public API.

Templates where one call does it; small functions of the ``Call`` where TF's convention
differs from the vocabulary's (channels-first layers through NHWC kernels, NumPy's pad
widths, ``svd``'s output order). Attributes a case leaves out (or writes ``=default``) are
left out of the call, so that TensorFlow's own default applies (leaky_relu alpha 0.2,
argmax/cumsum axis 0). A few ops need a short function in the script (``HELPERS``): the
spelling asks for it with ``c.writer.needs.add("helper:<name>")``.
"""

from __future__ import annotations

import numpy as np

from harness import expressions as ex
from harness.dialects.base import (
    PYTHON_OPERATORS,
    NotApplicable,
    Writer,
    axis_pairs,
    constant,
    integer_valued,
    old_weight_options,
    python_literal,
)


def _weak(c, i: int, j: int) -> str:
    """Operand ``i``; a Python number before a tensor ``j`` takes the tensor's dtype. TF
    converts a number *after* a tensor to its dtype itself; one before it only eagerly (in
    a graph it becomes float32 or int32, and a float64 partner is then rejected)."""
    if i < j and c.host[i] and not c.host[j]:
        return f"tf.constant({c.args[i]}, dtype={c.atoms[j]}.dtype)"
    return c.args[i]


def _binary(name):
    return lambda c: f"{name}({_weak(c, 0, 1)}, {_weak(c, 1, 0)})"


def _clip(c) -> str:
    # a missing bound is the dtype's extreme, so that tf.clip_by_value's gradient applies
    lo = c.kwargs.get("min", f"{c.atoms[0]}.dtype.min")
    hi = c.kwargs.get("max", f"{c.atoms[0]}.dtype.max")
    return f"tf.clip_by_value({c.args[0]}, {lo}, {hi})"


def _matmul(c) -> str:
    if all((_rank(c.writer, n) or 0) >= 2 for n in c.nodes):
        return f"tf.matmul({c.args[0]}, {c.args[1]})"
    c.writer.needs.add("tnp")  # tf.matmul needs rank >= 2; TF's NumPy API gives `@` vectors
    return f"tnp.matmul({c.args[0]}, {c.args[1]})"


def _helper(c, name: str) -> str:
    c.writer.needs.add(f"helper:{name}")
    return name


def _ndim(c, i: int = 0) -> str:
    """Operand ``i``'s rank as source: a number where plain to see, else ``len(x.shape)``."""
    r = _rank(c.writer, c.nodes[i])
    return str(r) if r is not None else f"len({c.atoms[i]}.shape)"


def _axes(value) -> str:
    return python_literal(list(value) if isinstance(value, (list, tuple)) else [value])


# ---- elementwise ----------------------------------------------------------------------------

def _round(c) -> str:
    d = constant(c, "decimals", 0)
    if not d:
        return f"tf.math.round({c.args[0]})"
    return f"tf.math.round({c.atoms[0]} * 10.0 ** {d}) / 10.0 ** {d}"  # np.round's own method


def _elu(c) -> str:
    if constant(c, "alpha", 1.0) == 1.0:
        return f"tf.nn.elu({c.args[0]})"
    return f"tf.keras.activations.elu({c.args[0]}, alpha={c.kwargs['alpha']})"  # tf.nn.elu: alpha 1


def _gelu(c) -> str:
    if not c.given("approximate"):
        return f"tf.nn.gelu({c.args[0]})"
    return f"tf.nn.gelu({c.args[0]}, approximate={constant(c, 'approximate') == 'tanh'})"


# ---- reductions -----------------------------------------------------------------------------

def _moments(fn):
    def spell(c) -> str:
        if constant(c, "ddof", 0):  # TF's reductions are the population's: NumPy's ddof via tnp.var
            c.writer.needs.add("tnp")
            var = f"tnp.var({c.args[0]}{c.kw()}, dtype={c.atoms[0]}.dtype)"
            return var if fn == "reduce_variance" else f"tf.sqrt({var})"
        return f"tf.math.{fn}({c.args[0]}{c.kw(drop=('ddof',))})"
    return spell


def _arg(fn):
    def spell(c) -> str:
        x = c.atoms[0]
        if not c.explicit("axis"):  # axis=default: tf.math.argmax's own, axis 0
            out = f"tf.math.{fn}({c.args[0]})"
            axis = 0
        elif not c.given("axis"):  # the vocabulary's (NumPy's) axis=None: the flattened tensor
            out = f"tf.math.{fn}(tf.reshape({x}, [-1]))"
            return f"tf.reshape({out}, [1] * {_ndim(c)})" if constant(c, "keepdims") else out
        else:
            axis = c.kwargs["axis"]
            out = f"tf.math.{fn}({c.args[0]}, axis={axis})"
        return f"tf.expand_dims({out}, {axis})" if constant(c, "keepdims") else out
    return spell


def _scan(fn):
    def spell(c) -> str:
        if not c.given("axis") and c.explicit("axis"):  # the vocabulary's axis=None: flattened
            return f"tf.math.{fn}(tf.reshape({c.atoms[0]}, [-1]))"
        return f"tf.math.{fn}({c.args[0]}{c.kw()})"
    return spell


def _norm(c) -> str:
    x, order, axis = c.atoms[0], constant(c, "ord"), constant(c, "axis")
    keep = constant(c, "keepdims", False)
    keepdims = ", keepdims=True" * bool(keep)
    if order is None or (isinstance(order, str) and axis is None and _rank(c.writer, c.nodes[0]) != 2):
        return f"tf.norm({c.args[0]}{c.kw({'axis': 'axis'}, drop=('ord',))})"
    rank = _rank(c.writer, c.nodes[0])
    matrix = isinstance(axis, (list, tuple)) and len(axis) == 2 or axis is None and rank == 2
    axes = python_literal(list(axis)) if matrix and axis is not None else "[-2, -1]"
    if not matrix:
        where = "" if axis is None else f", axis={python_literal(axis)}"
        if order == -np.inf:
            return f"tf.reduce_min(tf.abs({x}){where}{keepdims})"
        if order == 0:
            return f"tf.math.count_nonzero({x}{where}{keepdims}, dtype={x}.dtype)"
        if order < 0:  # tf.norm takes p > 0 only: the p-"norm" written out
            return f"tf.reduce_sum(tf.abs({x}) ** {order}{where}{keepdims}) ** (1 / {order})"
        return f"tf.norm({c.args[0]}, ord={python_literal(order)}{where}{keepdims})"
    if order in ("fro", "euclidean", 1, 2, np.inf):
        order = "'euclidean'" if order == "fro" else python_literal(order)  # same
        return f"tf.norm({c.args[0]}, ord={order}, axis={axes}{keepdims})"
    if axes not in ("[-2, -1]", "[0, 1]", f"[{(rank or 0) - 2}, {(rank or 0) - 1}]"):
        raise NotApplicable("norm: a matrix norm tf.norm lacks ('nuc', -2, -1, -inf) over axes other than the last two")
    if order in ("nuc", -2):
        s = f"tf.linalg.svd({x}, compute_uv=False)"
        out = f"tf.reduce_sum({s}, axis=-1)" if order == "nuc" else f"tf.reduce_min({s}, axis=-1)"
        return f"{out}[..., None, None]" if keep else out
    inner, outer = (-2, -1) if order == -1 else (-1, -2)  # column sums (-1), row sums (-inf)
    return f"tf.reduce_min(tf.reduce_sum(tf.abs({x}), axis={inner}, keepdims=True), axis={outer}, " \
           f"keepdims=True)" + ("" if keep else "[..., 0, 0]")


# ---- shapes and indexing --------------------------------------------------------------------

def _expand_dims(c) -> str:
    axis = constant(c, "axis")
    if not isinstance(axis, (list, tuple)):
        return f"tf.expand_dims({c.args[0]}, {c.kwargs['axis']})"
    r = _rank(c.writer, c.nodes[0])
    if r is None:
        raise NotApplicable("expand_dims: several axes need the input's rank (tf.expand_dims takes one)")
    out = c.args[0]
    for a in sorted(a % (r + len(axis)) for a in axis):  # NumPy's rule: positions in the result
        out = f"tf.expand_dims({out}, {a})"
    return out


def _tile(c) -> str:
    reps = constant(c, "reps")
    reps = list(reps) if isinstance(reps, (list, tuple)) else [reps]
    if _rank(c.writer, c.nodes[0]) == len(reps):
        return f"tf.tile({c.args[0]}, {python_literal(reps)})"
    c.writer.needs.add("tnp")  # tf.tile wants one multiple per axis; np.tile pads either
    return f"tnp.tile({c.args[0]}, {python_literal(reps)})"


def _flip(c) -> str:
    axis = constant(c, "axis")
    if axis is None:
        r = _rank(c.writer, c.nodes[0])
        axes = python_literal(list(range(r))) if r is not None else f"list(range({_ndim(c)}))"
        return f"tf.reverse({c.args[0]}, axis={axes})"
    return f"tf.reverse({c.args[0]}, axis={_axes(axis)})"


def _pad(c) -> str:
    width = constant(c, "pad_width")
    mode = str(constant(c, "mode", "constant")).lower()
    mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    if isinstance(width, (int, np.integer)):
        width = [width, width]
    width = [list(p) if isinstance(p, (list, tuple)) else p for p in width]
    if all(isinstance(p, (int, np.integer)) for p in width):  # one (before, after) for all axes
        width = [width]
    pairs = python_literal(width) + (f" * {_ndim(c)}" if len(width) == 1 else "")
    if mode in ("edge", "wrap"):  # tf.pad has CONSTANT, REFLECT and SYMMETRIC only
        return f"{_helper(c, 'pad_by_gathering')}({c.args[0]}, {pairs}, {mode!r})"
    value = f", constant_values={c.kwargs['value']}" if c.given("value") else ""
    option = "" if mode == "constant" else f", mode={mode.upper()!r}"
    return f"tf.pad({c.args[0]}, {pairs}{option}{value})"


def _topk(c) -> str:
    k, axis = c.kwargs.get("k", "1"), constant(c, "axis", -1)
    r = _rank(c.writer, c.nodes[0])
    last = axis == -1 or r is not None and axis == r - 1
    if last and constant(c, "largest", True):
        return f"tf.math.top_k({c.args[0]}, k={k}" + (
            f", sorted={c.kwargs['sorted']})" if c.given("sorted") else ")")
    return f"{_helper(c, 'top_k')}({c.args[0]}, {k}, axis={axis}, largest={constant(c, 'largest', True)})"


def _einsum(c) -> str:
    items = c.nodes[0].items if isinstance(c.nodes[0], ex.ListOf) else None
    operands = ", ".join(c.writer.expr(i) for i in items) if items is not None else f"*{c.args[0]}"
    return f"tf.einsum({c.kwargs['equation']}, {operands})"


def _solve(c) -> str:
    if _rank(c.writer, c.nodes[1]) == 1:  # tf.linalg.solve wants rhs (..., n, k)
        return f"tf.linalg.solve({c.args[0]}, {c.atoms[1]}[:, None])[:, 0]"
    return f"tf.linalg.solve({c.args[0]}, {c.args[1]})"


def _svd(c) -> str:
    if constant(c, "full_matrices"):
        return f"{_helper(c, 'svd')}({c.args[0]}, full_matrices=True)"
    return f"{_helper(c, 'svd')}({c.args[0]})"


# ---- layers: channels first (PyTorch's NCHW / OIHW) through TF's channels-last kernels -------

def _padding(c, n: int):
    """(TF's padding, explicit pairs or None): 'SAME', 'VALID', or pairs to tf.pad first."""
    p = constant(c, "padding", 0)
    if isinstance(p, str):
        return repr(p.upper()), None
    pairs = axis_pairs(p, n)
    return "'VALID'", pairs if any(map(any, pairs)) else None


def _conv(n: int):
    def spell(c) -> str:
        x, w = c.args[0], c.args[1]
        to_last, back, hwio = ([0, 2, 1], [0, 2, 1], [2, 1, 0]) if n == 1 else \
            ([0, 2, 3, 1], [0, 3, 1, 2], [2, 3, 1, 0])
        padding, pairs = _padding(c, n)
        if pairs:  # numbers: zeros added first (TF's convolutions take 'SAME' or 'VALID' here)
            x = f"tf.pad({x}, {python_literal([[0, 0], [0, 0], *pairs])})"
        dilation = f", dilations={c.kwargs['dilation']}" if c.given("dilation") else ""
        y = f"tf.nn.conv{n}d(tf.transpose({x}, {to_last}), tf.transpose({w}, {hwio}), " \
            f"{c.kwargs.get('stride', '1')}, {padding}{dilation})"
        if len(c.args) == 3 and c.args[2] != "None":
            y = f"tf.nn.bias_add({y}, {c.args[2]})"
        return f"tf.transpose({y}, {back})"
    return spell


def _conv_transpose2d(c) -> str:
    bias = c.args[2] if len(c.args) == 3 else "None"
    options = "".join(f", {k}={c.kwargs[k]}" for k in ("stride", "padding", "output_padding", "groups", "dilation")
                      if c.given(k))
    return f"{_helper(c, 'conv_transpose2d')}({c.args[0]}, {c.args[1]}, {bias}{options})"


def _pool(kind: str):
    def spell(c) -> str:
        kernel = c.kwargs["kernel_size"]
        stride = c.kwargs["stride"] if constant(c, "stride") is not None else kernel
        padding, pairs = _padding(c, 2)
        if kind == "max":
            if constant(c, "dilation", 1) not in (1, [1, 1]):
                raise NotApplicable("tf.nn.max_pool2d has no dilation (tf.nn.pool has, with stride 1 only)")
            padding = python_literal([[0, 0], *pairs, [0, 0]]) if pairs else padding  # -inf pads
            x = f"tf.transpose({c.args[0]}, [0, 2, 3, 1])"
            return f"tf.transpose(tf.nn.max_pool2d({x}, {kernel}, {stride}, {padding}), [0, 3, 1, 2])"
        if padding == "'SAME'" and c.given("count_include_pad") and constant(c, "count_include_pad"):
            raise NotApplicable("tf.nn.avg_pool2d's 'SAME' padding averages the real pixels only "
                                "(count_include_pad=False)")
        pool = f"tf.nn.avg_pool2d(tf.transpose({{}}, [0, 2, 3, 1]), {kernel}, {stride}, {padding})"
        if not pairs:
            return f"tf.transpose({pool.format(c.args[0])}, [0, 3, 1, 2])"
        # numbers: zeros added first; count_include_pad=False divides by the real pixels' share
        pad = f"tf.pad({{}}, {python_literal([[0, 0], [0, 0], *pairs])})"
        y = pool.format(pad.format(c.args[0]))
        if not constant(c, "count_include_pad", True):
            y = f"{y} / {pool.format(pad.format(f'tf.ones_like({c.atoms[0]})'))}"
        return f"tf.transpose({y}, [0, 3, 1, 2])"
    return spell


def _channel(c, i: int, axis) -> str:
    """Operand ``i`` (one value per channel) shaped to broadcast against x, channels on ``axis``."""
    v = c.args[i] if i < len(c.args) else "None"
    if v == "None" or axis == -1:
        return v
    r = _rank(c.writer, c.nodes[0])
    if r is not None and axis % r == r - 1:
        return v
    shape = f"[-1] + [1] * ({_ndim(c)} - {axis + 1})"
    if r is not None:
        shape = python_literal([-1] + [1] * (r - axis % r - 1))
    return f"tf.reshape({v}, {shape})"


def _batch_norm(c) -> str:
    axis, eps = constant(c, "axis", 1), c.attr("eps")  # tf.nn.batch_normalization has no default eps
    x = c.args[0]
    if constant(c, "training"):
        r = _rank(c.writer, c.nodes[0])
        axes = python_literal([a for a in range(r) if a != axis % r]) if r is not None else \
            f"[a for a in range({_ndim(c)}) if a != {axis} % {_ndim(c)}]"
        stats = f"*tf.nn.moments({x}, axes={axes}, keepdims=True)"
    else:
        stats = f"{_channel(c, 1, axis)}, {_channel(c, 2, axis)}"
    return f"tf.nn.batch_normalization({x}, {stats}, offset={_channel(c, 4, axis)}, " \
           f"scale={_channel(c, 3, axis)}, variance_epsilon={eps})"


def _layer_norm(c) -> str:
    axis = constant(c, "axis", -1)
    gamma, beta = (c.args[i] if i < len(c.args) else "None" for i in (1, 2))
    return f"tf.nn.batch_normalization({c.args[0]}, *tf.nn.moments({c.args[0]}, axes={_axes(axis)}, " \
           f"keepdims=True), offset={beta}, scale={gamma}, variance_epsilon={c.attr('eps')})"


def _cell(name: str):
    """keras.layers.LSTMCell / GRUCell (what TensorFlow users call) with the case's weights."""
    def spell(c) -> str:
        layout = constant(c, "layout", "canonical")
        if layout not in ("canonical", "native"):
            raise ValueError(f"{name}: layout is 'canonical' or 'native', not {layout!r}")
        c.writer.needs.add("helper:keras_layer")
        native = ", layout='native'" if layout == "native" else ""
        return f"{_helper(c, name)}({', '.join(c.args)}{native})"
    return spell


def _batch_norm_train(c) -> str:
    """keras.layers.BatchNormalization: its momentum is the old statistics' weight (the
    vocabulary's is the batch's: 1 - m) and its defaults 0.99 and epsilon 1e-3, passed unless
    the case asks for them (``=default``)."""
    c.writer.needs.update({"helper:keras_layer", "helper:batch_norm_train"})
    return f"batch_norm_train({', '.join(c.args)}{old_weight_options(c)})"


def _dropout(c) -> str:
    # not training, dropout keeps everything: rate 0 (a Keras Dropout layer made here would make
    # a Variable, its seed, inside a tf.function)
    rate = c.attr("rate") if constant(c, "training") else "0.0"
    return f"tf.nn.dropout({c.args[0]}, rate={rate})"


# ---- losses ---------------------------------------------------------------------------------

def _reduce(c, loss: str) -> str:
    reduction = constant(c, "reduction", "mean")
    if reduction == "batchmean":
        return f"tf.reduce_sum({loss}) / {c.atoms[0]}.shape[0]"
    return {"mean": f"tf.reduce_mean({loss})", "sum": f"tf.reduce_sum({loss})"}.get(reduction, loss)


def _cross_entropy(c) -> str:
    logits, labels = c.args
    axis, smoothing = constant(c, "axis", -1), constant(c, "label_smoothing", 0.0)
    if integer_valued(c.writer, c.nodes[1]):
        if not smoothing and axis == -1:
            return _reduce(c, f"tf.nn.sparse_softmax_cross_entropy_with_logits(labels={labels}, logits={logits})")
        labels = f"tf.one_hot({labels}, {c.atoms[0]}.shape[{axis}], axis={axis}, dtype={c.atoms[0]}.dtype)"
    if smoothing:
        labels = f"({labels}) * (1 - {smoothing}) + {smoothing} / {c.atoms[0]}.shape[{axis}]"
    where = "" if axis == -1 else f", axis={axis}"
    return _reduce(c, f"tf.nn.softmax_cross_entropy_with_logits(labels={labels}, logits={logits}{where})")


def _bce(c) -> str:
    logits, labels = c.args
    if c.given("pos_weight") and c.kwargs["pos_weight"] != "None":
        return _reduce(c, f"tf.nn.weighted_cross_entropy_with_logits(labels={labels}, logits={logits}, "
                          f"pos_weight={c.kwargs['pos_weight']})")
    return _reduce(c, f"tf.nn.sigmoid_cross_entropy_with_logits(labels={labels}, logits={logits})")


def _huber(c) -> str:
    x, t = c.atoms
    delta = f"delta={c.kwargs['delta']}, " if c.given("delta") else ""
    reduction = constant(c, "reduction", "mean")
    if reduction == "mean":  # Keras averages over the last axis, then the batch: the full mean
        return f"tf.keras.losses.Huber({delta}dtype={x}.dtype)({t}, {x})"
    # one entry per last axis: Keras' mean over it is then each entry's own loss
    return f"tf.keras.losses.Huber({delta}reduction={'None' if reduction == 'none' else repr('sum')}, " \
           f"dtype={x}.dtype)({t}[..., None], {x}[..., None])"


def _kl_div(c) -> str:
    q, p = c.atoms  # PyTorch's order: log-probabilities, then the target
    if constant(c, "log_target"):
        return _reduce(c, f"tf.exp({p}) * ({p} - {q})")
    return _reduce(c, f"tf.math.xlogy({p}, {p}) - {p} * {q}")  # xlogy: 0 where p == 0


# ---- the table ------------------------------------------------------------------------------

_UNARY = {"exp": "tf.exp", "log": "tf.math.log", "sqrt": "tf.sqrt", "square": "tf.square",
          "abs": "tf.abs", "sin": "tf.sin", "cos": "tf.cos", "tanh": "tf.tanh",
          "sigmoid": "tf.sigmoid", "relu": "tf.nn.relu", "softplus": "tf.math.softplus",
          **{k: f"tf.math.{k}" for k in (
              "log1p", "expm1", "rsqrt", "reciprocal", "tan", "asin", "acos", "atan", "sinh",
              "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "lgamma", "digamma", "sign",
              "floor", "ceil", "conj", "real", "imag", "log_sigmoid")},
          **{k: f"tf.nn.{k}" for k in ("relu6", "selu", "silu", "softsign")}}

OPS = {
    **{k: PYTHON_OPERATORS[k] for k in ("add", "sub", "mul", "div", "pow", "neg",
                                        "lt", "le", "gt", "ge")},
    **{k: f"{v}({{0}})" for k, v in _UNARY.items()},
    "matmul": _matmul, "eq": _binary("tf.equal"), "ne": _binary("tf.not_equal"),
    "maximum": _binary("tf.maximum"), "minimum": _binary("tf.minimum"), "clip": _clip,
    "where": lambda c: f"tf.where({c.args[0]}, {_weak(c, 1, 2)}, {_weak(c, 2, 1)})",
    "sum": "tf.reduce_sum({0}{kw})", "mean": "tf.reduce_mean({0}{kw})",
    "max": "tf.reduce_max({0}{kw})",
    "transpose": lambda c: f"tf.transpose({c.args[0]}{c.kw({'axes': 'perm'})})",
    "reshape": "tf.reshape({0}, {shape})", "getitem": "{0}[{1}]",
    "concat": "tf.concat({0}, axis={axis})", "stack": "tf.stack({0}{kw})",
    "softmax": "tf.nn.softmax({0}{kw})", "log_softmax": "tf.nn.log_softmax({0}{kw})",
    "one_hot": "tf.one_hot({0}, {depth}, dtype=tf.float32)",
    "cast": lambda c: f"tf.cast({c.args[0]}, tf.{constant(c, 'dtype')})",
    "ones_like": "tf.ones_like({0})", "zeros_like": "tf.zeros_like({0})",
    "mse": lambda c: ("tf.reduce_sum" if constant(c, "reduction") == "sum" else "tf.reduce_mean")
    + f"(tf.square({c.atoms[0]} - {c.atoms[1]}))",
    "string_join": "tf.strings.join({0}{kw})",
    "assign_add": "{0}.assign_add({1})", "assign_sub": "{0}.assign_sub({1})",
    "new_variable": "tf.Variable({0})", "random_normal": "tf.random.normal({shape})",
    # breadth: elementwise
    "trunc": "tf.experimental.numpy.fix({0})",  # tf.math has no trunc; NumPy's fix is it
    "round": _round, "elu": _elu, "gelu": _gelu,
    "leaky_relu": lambda c: f"tf.nn.leaky_relu({c.args[0]}"  # TF's default alpha is 0.2
                            + (f", alpha={c.attr('alpha')})" if c.explicit("alpha") else ")"),
    "atan2": _binary("tf.math.atan2"), "remainder": _binary("tf.math.floormod"),
    "fmod": _binary("tf.truncatemod"), "xlogy": _binary("tf.math.xlogy"),
    "squared_difference": _binary("tf.math.squared_difference"),
    # reductions and scans
    "min": "tf.reduce_min({0}{kw})", "prod": "tf.reduce_prod({0}{kw})",
    "std": _moments("reduce_std"), "var": _moments("reduce_variance"),
    "logsumexp": "tf.math.reduce_logsumexp({0}{kw})", "norm": _norm,
    "cumsum": _scan("cumsum"), "cumprod": _scan("cumprod"),
    "argmax": _arg("argmax"), "argmin": _arg("argmin"),
    # shapes and indexing
    "squeeze": "tf.squeeze({0}{kw})", "expand_dims": _expand_dims,
    "broadcast_to": "tf.broadcast_to({0}, {shape})", "tile": _tile, "flip": _flip, "pad": _pad,
    "gather": "tf.gather({0}, {1}{kw})",
    "take_along_axis": "tf.experimental.numpy.take_along_axis({0}, {1}, {axis})",
    "sort": lambda c: f"tf.sort({c.args[0]}{c.kw(drop=('descending',))}"
                      + ", direction='DESCENDING'" * bool(constant(c, "descending")) + ")",
    "topk": _topk, "einsum": _einsum,
    # linear algebra
    **{k: f"tf.linalg.{k}({{0}})" for k in ("det", "slogdet", "inv", "cholesky", "eigh", "eigvalsh")},
    "solve": _solve, "svd": _svd, "svdvals": "tf.linalg.svd({0}, compute_uv=False)",
    # layers
    "conv1d": _conv(1), "conv2d": _conv(2), "conv_transpose2d": _conv_transpose2d,
    "max_pool2d": _pool("max"), "avg_pool2d": _pool("avg"),
    "batch_norm": _batch_norm, "batch_norm_train": _batch_norm_train, "layer_norm": _layer_norm,
    "embedding": "tf.nn.embedding_lookup({1}, {0})",
    "lstm_cell": _cell("lstm_cell"), "gru_cell": _cell("gru_cell"), "dropout": _dropout,
    # losses
    "cross_entropy": _cross_entropy, "binary_cross_entropy_with_logits": _bce,
    "huber": _huber, "kl_div": _kl_div,
}

# script-level functions some spellings call (defined after the imports)
HELPERS = {
    "pad_by_gathering": '''
def pad_by_gathering(x, paddings, mode):  # tf.pad has no 'edge'/'wrap': gather the copied entries
    for axis, (before, after) in enumerate(paddings):
        n = x.shape[axis]
        index = tf.range(-before, n + after)
        index = tf.clip_by_value(index, 0, n - 1) if mode == 'edge' else tf.math.floormod(index, n)
        x = tf.gather(x, index, axis=axis)
    return x''',
    "top_k": '''
def top_k(x, k, axis=-1, largest=True):  # tf.math.top_k: the largest, on the last axis
    perm = list(range(len(x.shape)))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    values, indices = tf.math.top_k(tf.transpose(x, perm) if largest else -tf.transpose(x, perm), k)
    return tf.transpose(values if largest else -values, perm), tf.transpose(indices, perm)''',
    "svd": '''
def svd(a, full_matrices=False):  # tf.linalg.svd returns (s, u, v): as (U, S, Vh)
    s, u, v = tf.linalg.svd(a, full_matrices=full_matrices)
    return u, s, tf.linalg.adjoint(v)''',
    "conv_transpose2d": '''
def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """PyTorch's layout (x NCHW, w (C_in, C_out/groups, kH, kW)) through tf.nn.conv2d_transpose
    (NHWC, one group at a time): the full output ('VALID'), then `padding` cropped from each side."""
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = map(pair, (stride, padding, output_padding, dilation))
    n, _, h, wd = x.shape
    kh, kw = w.shape[2], w.shape[3]
    full = [n, (h - 1) * sh + dh * (kh - 1) + 1 + oh, (wd - 1) * sw + dw * (kw - 1) + 1 + ow, w.shape[1]]
    y = tf.concat([tf.nn.conv2d_transpose(tf.transpose(xg, [0, 2, 3, 1]), tf.transpose(wg, [2, 3, 1, 0]), full,
                                          [sh, sw], 'VALID', dilations=[dh, dw])
                   for xg, wg in zip(tf.split(x, groups, axis=1), tf.split(w, groups, axis=0))], axis=-1)
    y = y[:, ph:full[1] - ph, pw:full[2] - pw, :]
    return tf.transpose(y if b is None else tf.nn.bias_add(y, b), [0, 3, 1, 2])''',
    "keras_layer": '''
LAYERS = {}


def keras_layer(kind, shape, dtype, **options):
    """A tf.keras layer, made and built once per kind, input shape and options, eagerly
    (tf.init_scope): a tf.function may create variables on its first trace only. It is called
    with Layer.stateless_call and the case's weights, so gradients reach them."""
    key = (kind, tuple(shape), dtype.name, tuple(sorted(options.items())))
    if key not in LAYERS:
        with tf.init_scope():
            LAYERS[key] = getattr(tf.keras.layers, kind)(dtype=dtype.name, **options)
            LAYERS[key].build(tuple(shape))
    return LAYERS[key]''',
    "lstm_cell": '''
def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, layout='canonical'):
    """tf.keras.layers.LSTMCell with PyTorch-layout weights: w_ih (4H, I), w_hh (4H, H), two
    biases. Keras keeps the transposes (kernel (I, 4H)) and one bias; its gate order i, f, c, o
    is PyTorch's i, f, g, o, so the canonical and the native layout load alike."""
    cell = keras_layer('LSTMCell', x.shape, x.dtype, units=w_hh.shape[1], use_bias=b_ih is not None)
    weights = [tf.transpose(w_ih), tf.transpose(w_hh)] + ([] if b_ih is None else [b_ih + b_hh])
    (_, (h, c)), _ = cell.stateless_call(weights, [v.value for v in cell.non_trainable_variables], x, [h, c])
    return h, c''',
    "gru_cell": '''
def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, layout='canonical'):
    """tf.keras.layers.GRUCell (reset_after=True, its default: PyTorch's formula) with
    PyTorch-layout weights (3H, I), (3H, H) and two biases: transposed, the biases as its (2, 3H)
    bias, and the gate blocks reordered from PyTorch's r, z, n to Keras' z, r, h -- unless
    layout='native', which loads them in the order given."""
    cell = keras_layer('GRUCell', x.shape, x.dtype, units=w_hh.shape[1], use_bias=b_ih is not None)

    def gates(w):
        r, z, n = tf.split(w, 3, axis=0)
        return w if layout == 'native' else tf.concat([z, r, n], axis=0)
    weights = [tf.transpose(gates(w_ih)), tf.transpose(gates(w_hh))]
    weights += [] if b_ih is None else [tf.stack([gates(b_ih), gates(b_hh)])]
    h, _ = cell.stateless_call(weights, [v.value for v in cell.non_trainable_variables], x, h)
    return h[0]''',
    "batch_norm_train": '''
def batch_norm_train(x, running_mean, running_var, gamma=None, beta=None, axis=1, **options):
    """One training step of tf.keras.layers.BatchNormalization, whose state is its moving_mean
    and moving_variance: Layer.stateless_call returns the output and the updated statistics."""
    layer = keras_layer('BatchNormalization', x.shape, x.dtype, axis=axis, scale=gamma is not None,
                        center=beta is not None, **options)
    y, (mean, var) = layer.stateless_call([v for v in (gamma, beta) if v is not None],
                                          [running_mean, running_var], x, training=True)
    return y, mean, var''',
}


def helpers(w: Writer) -> list[str]:
    """The script-level functions the spellings asked for, each after two blank lines."""
    out = []
    for name, source in HELPERS.items():
        if f"helper:{name}" in w.needs:
            out += ["", "", *source.strip("\n").splitlines()]
    return out + [""] * bool(out)


_SAME_RANK = {"add", "sub", "mul", "div", "pow", "neg", "lt", "le", "gt", "ge", "eq", "ne",
              "maximum", "minimum", "clip", "where", "softmax", "log_softmax", "cast",
              "transpose", "round", "elu", "gelu", "leaky_relu", "atan2", "remainder", "fmod",
              "xlogy", "squared_difference", "trunc", "flip", "cumprod", "cumsum", "sort", *_UNARY}


def _rank(w: Writer, node):
    """A program node's static rank where plain to see (inputs, elementwise ops, matmul; an
    intermediate by its assignments, in order), else None."""
    if not hasattr(w, "ranks"):
        w.ranks = {}
        for s in _assignments(w.plan.program):
            r = _rank(w, s.value)
            w.ranks[s.target] = r if w.ranks.get(s.target, r) == r else None
    if isinstance(node, ex.Name):
        i = w.plan.inputs.get(node.id)
        if getattr(w, "in_function", False) or (i is not None and i.kind == "host"):
            return None
        return np.ndim(i.value) if i is not None else w.ranks.get(node.id)
    if isinstance(node, ex.Const):
        return 0 if isinstance(node.value, (int, float)) else None
    ranks = [_rank(w, a) for a in getattr(node, "args", ())]
    if not isinstance(node, ex.Call) or not ranks or None in ranks:
        return None
    if node.fn == "matmul":
        return max(ranks) if min(ranks) >= 2 else sum(ranks) - 2
    if node.fn in ("cumsum", "cumprod") and dict(node.kwargs).get("axis", ex.Const(None)) == ex.Const(None):
        return 1  # flattened
    return max(ranks) if node.fn in _SAME_RANK else None


def _assignments(statements):
    for s in statements:
        yield from _assignments(s.body) if isinstance(s, ex.Loop) else \
            [s] if isinstance(s, ex.Assign) else []

"""The PyTorch spellings of the breadth vocabulary (issue #11): unary and binary elementwise
ops, reductions and scans, shapes and indexing (``torch.*``), linear algebra
(``torch.linalg``), layers and losses (``torch.nn.functional``). ``torch.py`` merges this
table into its own.

Attributes: one the case gives is passed with the case's meaning; ``attr=default`` is left
out of the call, so that PyTorch's own default applies (``torch.std``'s Bessel correction,
``torch.linalg.svd``'s full matrices, ``F.dropout``'s training=True); one the case does not
write means the vocabulary's default, spelled out where PyTorch's differs (``correction=0``).
"""

from __future__ import annotations

import numpy as np

from harness import expressions as ex
from harness.dialects.base import Call, NotApplicable, fill, required_literal

F = "torch.nn.functional"


def number(call: Call, i: int) -> str:
    """Operand ``i``, a Python number, as a 0-d tensor: PyTorch's promotion lets a tensor
    with dimensions beside it outrank it (weak typing: ``maximum(x, 0.0)`` keeps x's
    dtype). An int is int32, as the case language's literals are."""
    text, node, inputs = call.args[i], call.nodes[i], call.writer.plan.inputs
    value = node.value if isinstance(node, ex.Const) else inputs[node.id].value \
        if isinstance(node, ex.Name) and node.id in inputs else 0 if node == ex.Name("step") \
        else None
    if isinstance(value, int) and not isinstance(value, bool):
        return f"torch.tensor({text}, dtype=torch.int32)"
    return f"torch.{'tensor' if isinstance(value, (bool, float)) else 'as_tensor'}({text})"


def tensors(template: str):
    """A template whose operands must be tensors: a Python number becomes one."""
    def spell(call: Call) -> str:
        for i, host in enumerate(call.host):
            if host:
                call.args[i] = call.atoms[i] = number(call, i)
        return fill(template, call)
    return spell


def _given(call: Call, rename: dict | None = None, only=None, explicit=()) -> str:
    """``, name=value`` for the attributes the case gave (renamed to torch's keywords), and
    for those in ``explicit`` (where PyTorch's default is not the vocabulary's) the
    vocabulary's default when the case did not write them."""
    rename = rename or {}
    out = "".join(f", {rename.get(k, k)}={v}" for k, v in call.kwargs.items()
                  if only is None or k in only)
    return out + "".join(f", {rename.get(k, k)}={call.attr(k)}" for k in explicit
                         if not call.given(k) and call.explicit(k))


def _axis(call: Call, name: str = "axis"):
    """An attribute's node (None when left out or None)."""
    node = dict(call.node_kwargs).get(name)
    return None if node is None or node == ex.Const(None) else node


def _reduction(fn: str, all_dims: bool = False):
    """``torch.<fn>(x, dim=, correction=, keepdim=)``; no axis: every axis (no dim, or
    ``dim=tuple(range(x.dim()))`` where torch needs one; ``torch.prod`` keeps no dims
    without a dim: reshaped)."""
    def spell(call: Call) -> str:
        x = tensors("{0}")(call)
        keep = _given(call, {"keepdims": "keepdim"}, ("keepdims",))
        extra = _given(call, {"ddof": "correction"}, ("ddof",),
                       ("ddof",) if fn in ("std", "var") else ())
        if _axis(call) is not None:
            return f"torch.{fn}({x}, dim={call.kwargs['axis']}{extra}{keep})"
        if all_dims:
            return f"torch.{fn}({x}, dim=tuple(range({call.atoms[0]}.dim())){extra}{keep})"
        if fn == "prod":  # torch.prod takes keepdim only with a dim
            return f"torch.prod({x})" + (f".reshape([1] * {call.atoms[0]}.dim())"
                                         if call.const("keepdims") else "")
        return f"torch.{fn}({x}{extra}{keep})"
    return spell


def _prod(call: Call) -> str:
    """``torch.prod`` takes one dim: several are reduced one after another."""
    axis = _axis(call)
    if not isinstance(axis, ex.ListOf):
        return _reduction("prod")(call)
    x = tensors("{0}")(call)
    dims = [call.writer.expr(a) for a in axis.items]
    out = x + "".join(f".prod(dim={d}, keepdim=True)" for d in dims)
    return out if call.const("keepdims") else f"{out}.squeeze(({', '.join(dims)},))"


def _norm(call: Call) -> str:
    x = tensors("{0}")(call)
    return f"torch.linalg.norm({x}" + _given(call, {"axis": "dim", "keepdims": "keepdim"}) + ")"


def _scan(fn: str):
    """``torch.cumsum(x, dim)``: dim is required; no axis flattens first (NumPy's rule)."""
    def spell(call: Call) -> str:
        x = tensors("{0}")(call)
        if not call.explicit("axis"):
            raise NotApplicable(f"torch.{fn} has no default dim: it is required")
        if _axis(call) is None:
            return f"torch.{fn}({call.atoms[0]}.flatten(), dim=0)"
        return f"torch.{fn}({x}, dim={call.kwargs['axis']})"
    return spell


def _expand_dims(call: Call) -> str:
    """``torch.unsqueeze`` takes one dim: several are inserted one at a time (from the
    front for those counted from the front, from the back for negative ones)."""
    x = tensors("{0}")(call)
    axis = _axis(call)
    if not isinstance(axis, ex.ListOf):
        return f"torch.unsqueeze({x}, dim={call.attr('axis')})"
    dims = required_literal(axis)
    order = sorted(d for d in dims if d >= 0) + sorted((d for d in dims if d < 0), reverse=True)
    return call.atoms[0] + "".join(f".unsqueeze({d})" for d in order)


def _flip(call: Call) -> str:
    x, axis = tensors("{0}")(call), _axis(call)
    dims = f"tuple(range({call.atoms[0]}.dim()))" if axis is None else \
        call.kwargs["axis"] if isinstance(axis, ex.ListOf) else f"[{call.kwargs['axis']}]"
    return f"torch.flip({x}, dims={dims})"


_PAD_MODES = {"constant": None, "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _const(call: Call, name: str, default=None):
    """A constant attribute the case gave (lists included), else ``default``."""
    node = dict(call.node_kwargs).get(name)
    return default if node is None else required_literal(node)


def _pad(call: Call) -> str:
    """``F.pad`` takes flat (before, after) pairs from the LAST axis backwards (NumPy's
    pad_width runs from the first); its non-constant modes pad trailing axes only, so
    unpadded leading axes are left out of the list."""
    x, width = tensors("{0}")(call), _const(call, "pad_width")
    mode = str(call.const("mode", "constant")).lower()
    if mode not in _PAD_MODES:
        raise NotApplicable(f"torch.nn.functional.pad has no {mode!r} mode "
                            "(constant, reflect, replicate, circular)")
    every = isinstance(width, (int, float)) or all(isinstance(w, (int, float)) for w in width)
    if every:  # the same pair on every axis
        before, after = (width, width) if isinstance(width, (int, float)) else width
        pad = f"[{int(before)}, {int(after)}] * {call.atoms[0]}.dim()"
    else:
        flat = [int(v) for pair in reversed(width) for v in pair]
        while len(flat) > 2 and flat[-2:] == [0, 0]:
            flat = flat[:-2]
        pad, every = str(tuple(flat)), len(flat) == 2 * len(width)
    extra = f", mode={_PAD_MODES[mode]!r}" if _PAD_MODES[mode] else ""
    extra += f", value={call.kwargs['value']}" if call.given("value") else ""
    if every and _PAD_MODES[mode]:  # those modes want a batch axis in front of the padded ones
        return f"{F}.pad({call.atoms[0]}[None], {pad}{extra})[0]"
    return f"{F}.pad({x}, {pad}{extra})"


def _gather(call: Call) -> str:
    """``numpy.take``: indexing along the axis (``torch.gather`` is take_along_axis)."""
    axis = int(call.const("axis", 0))
    _ = tensors("{0}")(call)
    lead = [":"] * axis if axis >= 0 else ["..."]
    trail = [":"] * (-axis - 1) if axis < 0 else []
    return f"{call.atoms[0]}[{', '.join(lead + [call.args[1]] + trail)}]"


def _sort(call: Call) -> str:
    x = tensors("{0}")(call)
    return f"torch.sort({x}{_given(call, {'axis': 'dim'})}, stable=True).values"


def _einsum(call: Call) -> str:
    node = call.nodes[0]
    operands = ", ".join(call.writer.expr(n) for n in node.items) if isinstance(node, ex.ListOf) \
        else f"*{call.args[0]}"
    return f"torch.einsum({call.attr('equation')}, {operands})"


def _conv(n: int):
    """``F.conv1d``/``F.conv2d``; explicit (before, after) pairs, which torch's padding does
    not take, are padded with ``F.pad`` first."""
    def spell(call: Call) -> str:
        x, w = call.args[0], call.args[1]
        padding = _const(call, "padding", 0)
        pairs = isinstance(padding, (list, tuple)) and \
            any(isinstance(p, (list, tuple)) for p in padding)
        if pairs:
            flat = [p if isinstance(p, (list, tuple)) else (p, p) for p in padding]
            x = f"{F}.pad({x}, {tuple(int(v) for pair in reversed(flat) for v in pair)})"
        rest = _given(call, only=("stride", "dilation", "groups") + ("padding",) * (not pairs))
        bias = f", {call.args[2]}" if len(call.args) > 2 else ""
        return f"{F}.conv{n}d({x}, {w}{bias}{rest})"
    return spell


def _batch_norm(call: Call) -> str:
    """``F.batch_norm`` normalises over axis 1: another channel axis is moved there."""
    axis = _const(call, "axis", 1)
    x = call.atoms[0] if axis == 1 else f"{call.atoms[0]}.movedim({axis}, 1)"
    args = ", ".join([x, *call.args[1:]])
    out = f"{F}.batch_norm({args}{_given(call, only=('training', 'momentum', 'eps'))})"
    return out if axis == 1 else f"{out}.movedim(1, {axis})"


def _layer_norm(call: Call) -> str:
    """``F.layer_norm`` normalises the trailing ``normalized_shape``."""
    axis = _const(call, "axis", -1)
    first = min(axis) if isinstance(axis, (list, tuple)) else axis
    rest = "".join(f", {a}" for a in call.args[1:])
    return f"{F}.layer_norm({call.args[0]}, {call.atoms[0]}.shape[{first}:]{rest}" \
           f"{_given(call, only=('eps',))})"


def _layout(call: Call) -> str:
    """A recurrent cell's ``layout``: PyTorch's own layout is the vocabulary's canonical one, so
    both load the arrays into torch.nn.LSTMCell / GRUCell unchanged."""
    layout = _const(call, "layout", "canonical")
    if layout not in ("canonical", "native"):
        raise ValueError(f"{call.fn}: layout is 'canonical' or 'native', not {layout!r}")
    return layout


# torch.nn.LSTMCell / GRUCell run with the case's weights through torch.func.functional_call.
# The cells are made once, empty, at import: a cell's sizes matter only when no state is given,
# and making one draws its initial weights, which jacfwd's vmap would refuse inside a transform.
HELPERS = {
    "cells": [
        "CELLS = {(kind, bias): getattr(torch.nn, kind)(0, 0, bias=bias)",
        "         for kind in ('LSTMCell', 'GRUCell') for bias in (True, False)}"],
    "lstm_cell": [
        "def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):",
        '    """torch.nn.LSTMCell with these weights (gates i, f, g, o); returns (h\', c\')."""',
        "    params = {'weight_ih': w_ih, 'weight_hh': w_hh}",
        "    if b_ih is not None:",
        "        params |= {'bias_ih': b_ih, 'bias_hh': b_hh}",
        "    return torch.func.functional_call(CELLS['LSTMCell', b_ih is not None], params, (x, (h, c)))"],
    "gru_cell": [
        "def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):",
        '    """torch.nn.GRUCell with these weights (gates r, z, n); returns h\'."""',
        "    params = {'weight_ih': w_ih, 'weight_hh': w_hh}",
        "    if b_ih is not None:",
        "        params |= {'bias_ih': b_ih, 'bias_hh': b_hh}",
        "    return torch.func.functional_call(CELLS['GRUCell', b_ih is not None], params, (x, h))"],
    "batch_norm_train": [
        "def batch_norm_train(x, running_mean, running_var, weight=None, bias=None, axis=1, **options):",
        '    """One training step of F.batch_norm, which updates running_mean and running_var in',
        '    place (here copies, returned with the output); channels on `axis`."""',
        "    running_mean, running_var = running_mean.detach().clone(), running_var.detach().clone()",
        f"    y = {F}.batch_norm(x.movedim(axis, 1), running_mean, running_var, weight, bias,",
        " " * len(f"    y = {F}.batch_norm(") + "training=True, **options)",
        "    return y.movedim(1, axis), running_mean, running_var"],
}


def _cell(name: str):
    def spell(call: Call) -> str:
        _layout(call)
        call.writer.needs.update({"helper:cells", f"helper:{name}"})
        return f"{name}({', '.join(call.args)})"
    return spell


def _batch_norm_train(call: Call) -> str:
    """The vocabulary's momentum and eps are PyTorch's (0.1, the batch's weight; 1e-5)."""
    call.writer.needs.add("helper:batch_norm_train")
    return f"batch_norm_train({', '.join(call.args)}{_given(call, only=('momentum', 'eps', 'axis'))})"


def _cross_entropy(call: Call) -> str:
    """Classes on dim 1 (``axis`` moved there); class indices must be int64."""
    node, inputs = call.nodes[1], call.writer.plan.inputs
    labels = call.args[1]
    if isinstance(node, ex.Name) and node.id in inputs and inputs[node.id].dtype.startswith("int"):
        labels = f"{call.atoms[1]}.long()"
    logits, axis = call.args[0], call.kwargs.get("axis")
    if axis is None and call.explicit("axis"):  # the vocabulary's: the last axis
        node = call.nodes[0]
        known = isinstance(node, ex.Name) and node.id in inputs and inputs[node.id].kind != "host"
        axis = None if known and np.ndim(inputs[node.id].value) <= 2 else "-1"
    if axis is not None and call.const("axis") != 1:
        logits = f"{call.atoms[0]}.movedim({axis}, 1)"
        if not labels.endswith(".long()"):
            labels = f"{call.atoms[1]}.movedim({axis}, 1)"
    return f"{F}.cross_entropy({logits}, {labels}" \
           f"{_given(call, only=('reduction', 'label_smoothing'))})"


def _bce(call: Call) -> str:
    pos = call.kwargs.get("pos_weight")
    extra = _given(call, only=("reduction",))
    if pos is not None and pos != "None":
        node = dict(call.node_kwargs)["pos_weight"]
        extra += f", pos_weight={f'torch.tensor({pos})' if isinstance(node, ex.Const) else pos}"
    return f"{F}.binary_cross_entropy_with_logits({call.args[0]}, {call.args[1]}{extra})"


_UNARY = ("log1p", "expm1", "rsqrt", "reciprocal", "tan", "asin", "acos", "atan", "sinh",
          "cosh", "asinh", "acosh", "atanh", "erf", "erfc", "lgamma", "digamma", "sign", "floor",
          "ceil", "trunc", "conj", "real", "imag")
_FUNCTIONAL = {"relu6": "relu6", "selu": "selu", "silu": "silu", "softsign": "softsign",
               "log_sigmoid": "logsigmoid"}

BREADTH = {
    **{n: tensors(f"torch.{n}({{0}})") for n in _UNARY},
    **{n: tensors(f"{F}.{f}({{0}})") for n, f in _FUNCTIONAL.items()},
    "round": lambda c: tensors(f"torch.round({{0}}{_given(c)})")(c),
    "leaky_relu": lambda c: tensors(f"{F}.leaky_relu({{0}}{_given(c, {'alpha': 'negative_slope'})})")(c),
    "elu": lambda c: tensors(f"{F}.elu({{0}}{_given(c)})")(c),
    "gelu": lambda c: tensors(f"{F}.gelu({{0}}{_given(c)})")(c),
    **{n: tensors(f"torch.{n}({{0}}, {{1}})") for n in ("atan2", "remainder", "fmod", "xlogy")},
    "squared_difference": lambda c: tensors("torch.square({0} - {1})")(c) if any(c.host) else
    f"torch.square({c.atoms[0]} - {c.atoms[1]})",
    "prod": _prod,
    "std": _reduction("std"),
    "var": _reduction("var"),
    "logsumexp": _reduction("logsumexp", all_dims=True),
    "norm": _norm,
    "cumsum": _scan("cumsum"),
    "cumprod": _scan("cumprod"),
    "argmax": _reduction("argmax"),
    "argmin": _reduction("argmin"),
    "squeeze": lambda c: tensors(f"torch.squeeze({{0}}{_given(c, {'axis': 'dim'})})")(c),
    "expand_dims": _expand_dims,
    "broadcast_to": tensors("torch.broadcast_to({0}, {shape})"),
    "tile": tensors("torch.tile({0}, {reps})"),
    "flip": _flip,
    "pad": _pad,
    "gather": _gather,
    "take_along_axis": lambda c: f"torch.take_along_dim({c.args[0]}, {c.atoms[1]}.long()"
                                 f"{_given(c, {'axis': 'dim'}, None, ('axis',))})",
    "sort": _sort,
    "topk": lambda c: f"torch.topk({c.args[0]}, {c.attr('k')}"
                      f"{_given(c, {'axis': 'dim'}, ('axis', 'largest', 'sorted'))})",
    "einsum": _einsum,
    **{n: f"torch.linalg.{n}({{0}})" for n in ("det", "slogdet", "inv", "cholesky", "eigh",
                                                "eigvalsh", "svdvals")},
    "solve": "torch.linalg.solve({0}, {1})",
    "svd": lambda c: f"torch.linalg.svd({c.args[0]}{_given(c, explicit=('full_matrices',))})",
    "conv1d": _conv(1),
    "conv2d": _conv(2),
    "conv_transpose2d": lambda c: f"{F}.conv_transpose2d({', '.join(c.args)}{c.kw()})",
    "max_pool2d": lambda c: f"{F}.max_pool2d({c.args[0]}{c.kw()})",
    "avg_pool2d": lambda c: f"{F}.avg_pool2d({c.args[0]}{c.kw()})",
    "batch_norm": _batch_norm,
    "batch_norm_train": _batch_norm_train,
    "layer_norm": _layer_norm,
    "embedding": f"{F}.embedding({{0}}, {{1}})",
    "lstm_cell": _cell("lstm_cell"),
    "gru_cell": _cell("gru_cell"),
    "dropout": lambda c: f"{F}.dropout({c.args[0]}{_given(c, {'rate': 'p'}, None, ('rate', 'training'))})",
    "cross_entropy": _cross_entropy,
    "binary_cross_entropy_with_logits": _bce,
    "huber": lambda c: f"{F}.huber_loss({c.args[0]}, {c.args[1]}{c.kw()})",
    "kl_div": lambda c: f"{F}.kl_div({c.args[0]}, {c.args[1]}{c.kw()})",
}

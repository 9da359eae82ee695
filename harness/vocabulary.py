"""The op vocabulary of the case language, defined once.

Every dialect spells each name in its framework's own API (``harness/dialects/*.py``,
``OPS``) or lists it in ``LACKS`` with a reason; ``tests/test_vocabulary.py`` holds every
dialect to that. Expressions in cases may call only these names; infix operators map to them
(``a + b`` is ``add(a, b)``, ``x[0]`` is ``getitem(x, 0)``).

Conventions shared by every backend:
- ``transpose(x)`` reverses the axes (``x.t()`` for a matrix); ``axes=`` permutes.
- ``sum``/``mean``/``max`` take ``axis`` (None = all) and ``keepdims``.
- ``clip(x, min, max)``: either bound may be None.
- ``mse(a, b, reduction)``: mean (or sum) of squared differences.
- ``softmax``/``log_softmax`` take ``axis`` (default -1).
- ``one_hot(indices, depth)`` gives float32.
- ``concat``/``stack``/``string_join`` take a list as first argument.
- ``cast(x, dtype)``: dtype is a string such as ``"float32"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Op:
    name: str
    arity: int  # tensor arguments; -1: one list of tensors
    attributes: dict = field(default_factory=dict)  # keyword attributes and their defaults
    optional: int = 0  # how many of the last tensor arguments may be left out (a bias)
    differentiable: bool = True
    doc: str = ""


def _ops(*ops: Op) -> dict[str, Op]:
    return {op.name: op for op in ops}


OPS: dict[str, Op] = _ops(
    # arithmetic (infix operators)
    Op("add", 2, doc="a + b"),
    Op("sub", 2, doc="a - b"),
    Op("mul", 2, doc="a * b"),
    Op("div", 2, doc="a / b"),
    Op("pow", 2, doc="a ** b"),
    Op("matmul", 2, doc="a @ b"),
    Op("neg", 1, doc="-a"),
    # comparisons: boolean results, no gradient
    Op("lt", 2, differentiable=False, doc="a < b"),
    Op("le", 2, differentiable=False, doc="a <= b"),
    Op("gt", 2, differentiable=False, doc="a > b"),
    Op("ge", 2, differentiable=False, doc="a >= b"),
    Op("eq", 2, differentiable=False, doc="a == b"),
    Op("ne", 2, differentiable=False, doc="a != b"),
    # elementwise
    Op("exp", 1), Op("log", 1), Op("sqrt", 1), Op("square", 1), Op("abs", 1),
    Op("sin", 1), Op("cos", 1), Op("tanh", 1), Op("sigmoid", 1), Op("relu", 1),
    Op("softplus", 1),
    Op("maximum", 2), Op("minimum", 2),
    Op("clip", 1, {"min": None, "max": None}),
    Op("where", 3, doc="where(condition, a, b)"),
    # reductions and shapes
    Op("sum", 1, {"axis": None, "keepdims": False}),
    Op("mean", 1, {"axis": None, "keepdims": False}),
    Op("max", 1, {"axis": None, "keepdims": False}),
    Op("transpose", 1, {"axes": None}),
    Op("reshape", 1, {"shape": None}),
    Op("getitem", 2, doc="x[index]; the index is a constant"),
    Op("concat", -1, {"axis": 0}),
    Op("stack", -1, {"axis": 0}),
    Op("softmax", 1, {"axis": -1}),
    Op("log_softmax", 1, {"axis": -1}),
    Op("one_hot", 1, {"depth": None}, differentiable=False),
    Op("cast", 1, {"dtype": None}),
    Op("ones_like", 1, differentiable=False),
    Op("zeros_like", 1, differentiable=False),
    Op("mse", 2, {"reduction": "mean"}),
    # strings (the seed's TF examples)
    Op("string_join", -1, {"separator": ""}, differentiable=False),
    # state and effects: meaningful in trace and checkpoint checks
    Op("assign_add", 2, differentiable=False, doc="v.assign_add(x) / v.add_(x); returns v"),
    Op("assign_sub", 2, differentiable=False, doc="v.assign_sub(x) / v.sub_(x); returns v"),
    Op("new_variable", 1, differentiable=False, doc="a Variable created where it is called"),
    Op("random_normal", 0, {"shape": ()}, differentiable=False,
       doc="the framework's own random number generator"),
    # ---- breadth: what people port between frameworks (conventions: the engine's docstrings)
    # unary, elementwise
    *[Op(name, 1) for name in (
        "log1p", "expm1", "rsqrt", "reciprocal", "tan", "asin", "acos", "atan", "sinh", "cosh",
        "asinh", "acosh", "atanh", "erf", "erfc", "lgamma", "digamma", "sign", "floor", "ceil",
        "trunc", "relu6", "selu", "silu", "softsign", "log_sigmoid", "conj", "real", "imag")],
    Op("round", 1, {"decimals": 0}, doc="half to even"),
    Op("leaky_relu", 1, {"alpha": 0.01}, doc="slope alpha below 0, and at 0"),
    Op("elu", 1, {"alpha": 1.0}),
    Op("gelu", 1, {"approximate": "none"}, doc='"none": the exact erf form; "tanh"'),
    # binary, elementwise
    Op("atan2", 2), Op("remainder", 2, doc="the sign of the divisor"),
    Op("fmod", 2, doc="the sign of the dividend"), Op("xlogy", 2, doc="0 where x == 0"),
    Op("squared_difference", 2),
    # reductions and scans
    Op("min", 1, {"axis": None, "keepdims": False}),
    Op("prod", 1, {"axis": None, "keepdims": False}),
    Op("std", 1, {"axis": None, "ddof": 0, "keepdims": False}, doc="ddof 0 as NumPy"),
    Op("var", 1, {"axis": None, "ddof": 0, "keepdims": False}, doc="ddof 0 as NumPy"),
    Op("logsumexp", 1, {"axis": None, "keepdims": False}),
    Op("norm", 1, {"ord": None, "axis": None, "keepdims": False}, doc="numpy.linalg.norm"),
    Op("cumsum", 1, {"axis": None}), Op("cumprod", 1, {"axis": None}),
    Op("argmax", 1, {"axis": None, "keepdims": False}, differentiable=False),
    Op("argmin", 1, {"axis": None, "keepdims": False}, differentiable=False),
    # shapes and indexing
    Op("squeeze", 1, {"axis": None}), Op("expand_dims", 1, {"axis": None}),
    Op("broadcast_to", 1, {"shape": None}), Op("tile", 1, {"reps": None}),
    Op("flip", 1, {"axis": None}),
    Op("pad", 1, {"pad_width": None, "mode": "constant", "value": 0.0},
       doc="NumPy's pad_width, from the first axis"),
    Op("gather", 2, {"axis": 0}, doc="numpy.take"),
    Op("take_along_axis", 2, {"axis": -1}),
    Op("sort", 1, {"axis": -1, "descending": False}),
    Op("topk", 1, {"k": None, "axis": -1, "largest": True, "sorted": True},
       doc="(values, indices)"),
    Op("einsum", -1, {"equation": None}, doc="einsum([a, b], equation='ij,jk->ik')"),
    # linear algebra (the last two axes)
    Op("det", 1), Op("slogdet", 1, doc="(sign, logabsdet)"), Op("inv", 1), Op("solve", 2),
    Op("cholesky", 1), Op("eigh", 1, doc="(eigenvalues ascending, eigenvectors)"),
    Op("eigvalsh", 1), Op("svd", 1, {"full_matrices": False}, doc="(U, S, Vh)"),
    Op("svdvals", 1),
    # layers (channels first: NCHW inputs, OIHW weights, as PyTorch)
    Op("conv1d", 3, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}, optional=1),
    Op("conv2d", 3, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}, optional=1),
    Op("conv_transpose2d", 3, {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1,
                               "dilation": 1}, optional=1),
    Op("max_pool2d", 1, {"kernel_size": None, "stride": None, "padding": 0, "dilation": 1}),
    Op("avg_pool2d", 1, {"kernel_size": None, "stride": None, "padding": 0,
                         "count_include_pad": True}),
    Op("batch_norm", 5, {"eps": 1e-5, "momentum": 0.1, "training": False, "axis": 1},
       optional=2, doc="batch_norm(x, mean, var, gamma, beta)"),
    Op("batch_norm_train", 5, {"momentum": 0.1, "eps": 1e-5, "axis": 1}, optional=2,
       doc="batch_norm_train(x, running_mean, running_var, gamma, beta) -> (y, running_mean, "
       "running_var): one training step and the layer's updated state; PyTorch's momentum "
       "(the batch's weight) and unbiased stored variance"),
    Op("layer_norm", 3, {"eps": 1e-5, "axis": -1}, optional=2),
    Op("embedding", 2, doc="embedding(indices, table)"),
    Op("lstm_cell", 7, {"layout": "canonical"}, optional=2,
       doc="lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh) -> (h, c); PyTorch's layout and gate "
       "order i, f, g, o; layout='native': the arrays as-is in each framework's own cell"),
    Op("gru_cell", 6, {"layout": "canonical"}, optional=2,
       doc="gru_cell(x, h, w_ih, w_hh, b_ih, b_hh) -> h; PyTorch's layout and gate order r, z, n; "
       "layout='native': the arrays as-is in each framework's own cell"),
    Op("dropout", 1, {"rate": 0.0, "training": False}, doc="identity: rate 0 or eval"),
    # losses
    Op("cross_entropy", 2, {"label_smoothing": 0.0, "reduction": "mean", "axis": -1},
       doc="cross_entropy(logits, labels): integer labels or probabilities"),
    Op("binary_cross_entropy_with_logits", 2, {"reduction": "mean", "pos_weight": None}),
    Op("huber", 2, {"delta": 1.0, "reduction": "mean"}),
    Op("kl_div", 2, {"reduction": "mean", "log_target": False},
       doc="kl_div(log_q, p), PyTorch's argument order"),
)

# Effects the interpreter handles itself (the same code for every backend): they touch the
# host, never the framework.
HOST_EFFECTS = {
    "effect": "effect(\"tracing\") logs a message (a Python print): it runs only while tracing",
    "outer_append": "outer_append(x) appends x to a list outside the function",
    "host_random_normal": "host_random_normal(shape=...) draws from NumPy's generator: "
                          "under a tracer it runs only while tracing",
}

# Error categories cases may expect (``expect: {error: graph_freed}``); each dialect's
# ``ERRORS`` table maps its framework's exceptions onto them.
ERROR_CATEGORIES = {
    "graph_freed": "the graph (or a non-persistent tape) was used up by an earlier gradient",
    "non_scalar_output": "an implicit gradient of a non-scalar output",
    "unused_input": "a gradient asked for an input the output does not depend on",
    "not_differentiable": "a gradient asked for a tensor that does not require or track it",
    "integer_grad": "an integer tensor asked to require a gradient",
    "signature_mismatch": "an argument that breaks a traced function's input signature",
    "variable_in_trace": "a Variable created inside a traced function on a later trace",
    "tracer_leak": "a traced value used where a concrete host value is needed",
    "invalid_argument": "an op given an argument it does not accept",
}

INFIX = {
    "Add": "add", "Sub": "sub", "Mult": "mul", "Div": "div", "Pow": "pow", "MatMult": "matmul",
    "USub": "neg",
    "Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "Eq": "eq", "NotEq": "ne",
}

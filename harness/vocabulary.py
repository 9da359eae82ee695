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

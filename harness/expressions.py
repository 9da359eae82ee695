"""Programs and expressions of the case language: parsed with ``ast``, never ``eval``ed.

A program is a few lines of Python syntax restricted to a whitelist:

    y1 = x + 1                      # assignment of an expression
    loss = mean((y_hat - y) ** 2)   # arithmetic, @, unary minus, comparisons
    h = relu(h @ w + b)             # calls of vocabulary ops (or of the case's functions)
    first = x[0]                    # constant indices and slices
    for _ in range(depth):          # a loop whose count is a host integer
        h = relu(h @ w_h)
    effect("tracing")               # a bare call, for effects
    return y                        # in function bodies

The parser turns it into the small node tree below; a dialect (``harness/dialects/``)
renders it as Python source in its framework's spelling. Anything else (attributes,
lambdas, imports, comprehensions) is rejected with the line and column.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Union

from harness.vocabulary import INFIX


class ExpressionError(ValueError):
    """A program or expression outside the whitelist. ``line`` is 1-based within the text."""

    def __init__(self, message: str, line: int = 1, column: int = 0):
        super().__init__(message)
        self.line = line
        self.column = column


# ---- the node tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple
    kwargs: tuple  # ((name, node), ...)
    line: int = 1


@dataclass(frozen=True)
class ListOf:
    items: tuple


Node = Union[Const, Name, Call, ListOf]


@dataclass(frozen=True)
class Assign:
    target: str
    value: Node
    line: int


@dataclass(frozen=True)
class Do:  # a bare call, kept for its effect
    value: Node
    line: int


@dataclass(frozen=True)
class Loop:
    count: Node
    body: tuple
    line: int


@dataclass(frozen=True)
class Return:
    value: Node
    line: int


Statement = Union[Assign, Do, Loop, Return]


# ---- parsing ------------------------------------------------------------------------------


def parse_expression(text: str) -> Node:
    try:
        tree = ast.parse(str(text).strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {text!r}: {exc.msg}", exc.lineno or 1,
                              exc.offset or 0) from None
    return _expr(tree.body)


def parse_program(text: str) -> tuple[Statement, ...]:
    try:
        tree = ast.parse(str(text))
    except SyntaxError as exc:
        raise ExpressionError(f"invalid program: {exc.msg}", exc.lineno or 1,
                              exc.offset or 0) from None
    return tuple(_statement(s) for s in tree.body)


def _statement(s: ast.stmt) -> Statement:
    if isinstance(s, ast.Assign):
        if len(s.targets) != 1 or not isinstance(s.targets[0], ast.Name):
            raise _reject(s, "an assignment must have one plain name on its left")
        return Assign(s.targets[0].id, _expr(s.value), s.lineno)
    if isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
        op = INFIX.get(type(s.op).__name__)
        if op is None:
            raise _reject(s, f"operator {type(s.op).__name__} is not in the vocabulary")
        value = Call(op, (Name(s.target.id), _expr(s.value)), (), s.lineno)
        return Assign(s.target.id, value, s.lineno)
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
        return Do(_expr(s.value), s.lineno)
    if isinstance(s, ast.Return) and s.value is not None:
        return Return(_expr(s.value), s.lineno)
    if isinstance(s, ast.For):
        call = s.iter
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                and call.func.id == "range" and len(call.args) == 1 and not call.keywords
                and isinstance(s.target, ast.Name) and not s.orelse):
            raise _reject(s, "the only loop is `for _ in range(count):`")
        return Loop(_expr(call.args[0]), tuple(_statement(b) for b in s.body), s.lineno)
    raise _reject(s, f"{type(s).__name__} statements are not allowed in a case program")


def _expr(e: ast.expr) -> Node:
    if isinstance(e, ast.Constant):
        if isinstance(e.value, (bool, int, float, str, bytes)) or e.value is None:
            return Const(e.value)
        raise _reject(e, f"constant {e.value!r} is not allowed")
    if isinstance(e, ast.Name):
        return Name(e.id)
    if isinstance(e, ast.BinOp):
        return Call(_infix(e, e.op), (_expr(e.left), _expr(e.right)), (), e.lineno)
    if isinstance(e, ast.UnaryOp):
        if isinstance(e.op, ast.UAdd):
            return _expr(e.operand)
        if isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant) \
                and isinstance(e.operand.value, (int, float)):
            return Const(-e.operand.value)  # a negative literal, not an op
        return Call(_infix(e, e.op), (_expr(e.operand),), (), e.lineno)
    if isinstance(e, ast.Compare):
        if len(e.ops) != 1:
            raise _reject(e, "chained comparisons are not allowed; use one comparison")
        return Call(_infix(e, e.ops[0]), (_expr(e.left), _expr(e.comparators[0])), (), e.lineno)
    if isinstance(e, ast.Call):
        if not isinstance(e.func, ast.Name):
            raise _reject(e, "only calls of vocabulary ops by name are allowed (no methods)")
        if any(k.arg is None for k in e.keywords):
            raise _reject(e, "**kwargs is not allowed")
        return Call(e.func.id, tuple(_expr(a) for a in e.args),
                    tuple((k.arg, _expr(k.value)) for k in e.keywords), e.lineno)
    if isinstance(e, (ast.List, ast.Tuple)):
        return ListOf(tuple(_expr(x) for x in e.elts))
    if isinstance(e, ast.Subscript):
        return Call("getitem", (_expr(e.value), Const(_index(e.slice))), (), e.lineno)
    raise _reject(e, f"{type(e).__name__} is not allowed in a case expression")


def _index(e: ast.expr):
    """A constant index: ints, slices with constant bounds, tuples of those, or a host name."""
    if isinstance(e, ast.Tuple):
        return tuple(_index(x) for x in e.elts)
    if isinstance(e, ast.Slice):
        def bound(b):
            return None if b is None else _int(b)
        return slice(bound(e.lower), bound(e.upper), bound(e.step))
    if isinstance(e, ast.Name):
        return Name(e.id)  # a host integer, such as the optimizer's `step`
    return _int(e)


def _int(e: ast.expr) -> int:
    if isinstance(e, ast.Constant) and isinstance(e.value, int):
        return e.value
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return -_int(e.operand)
    raise _reject(e, "indices must be integer constants or slices of them")


def _infix(node: ast.AST, op: ast.AST) -> str:
    name = INFIX.get(type(op).__name__)
    if name is None:
        raise _reject(node, f"operator {type(op).__name__} is not in the vocabulary")
    return name


def _reject(node: ast.AST, message: str) -> ExpressionError:
    return ExpressionError(message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0))


# ---- inspection, for validation --------------------------------------------------------


def names_used(node) -> set[str]:
    """Every name a node or statement list reads."""
    if isinstance(node, (tuple, list)):
        return set().union(*(names_used(n) for n in node)) if node else set()
    if isinstance(node, Name):
        return {node.id}
    if isinstance(node, Call):
        out = names_used(node.args) | names_used(tuple(v for _, v in node.kwargs))
        return out
    if isinstance(node, ListOf):
        return names_used(node.items)
    if isinstance(node, Const) and isinstance(node.value, (tuple, Name)):
        return names_used(node.value) if isinstance(node.value, tuple) else {node.value.id}
    if isinstance(node, (Assign, Do, Return)):
        return names_used(node.value)
    if isinstance(node, Loop):
        return names_used(node.count) | names_used(node.body)
    return set()


def calls_used(node) -> list[Call]:
    """Every call in a node or statement list."""
    if isinstance(node, (tuple, list)):
        return [c for n in node for c in calls_used(n)]
    if isinstance(node, Call):
        return [node] + calls_used(node.args) + calls_used(tuple(v for _, v in node.kwargs))
    if isinstance(node, ListOf):
        return calls_used(node.items)
    if isinstance(node, (Assign, Do, Return)):
        return calls_used(node.value)
    if isinstance(node, Loop):
        return calls_used(node.count) + calls_used(node.body)
    return []


def assigned(statements) -> list[str]:
    out = []
    for s in statements:
        if isinstance(s, Assign):
            out.append(s.target)
        elif isinstance(s, Loop):
            out += assigned(s.body)
    return out

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


class _Default:
    """``attr=default``: leave the argument out and take the framework's own default."""

    def __repr__(self):
        return "default"


DEFAULT = _Default()


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
        return _expr(tree.body)
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {_short(text)}: {exc.msg}", exc.lineno or 1,
                              exc.offset or 0) from None
    except ExpressionError:
        raise
    except (RecursionError, MemoryError, ValueError) as exc:
        raise _too_deep(exc) from None


def parse_program(text: str) -> tuple[Statement, ...]:
    try:
        tree = ast.parse(str(text))
        return tuple(_statement(s) for s in tree.body)
    except SyntaxError as exc:
        raise ExpressionError(f"invalid program: {exc.msg}", exc.lineno or 1,
                              exc.offset or 0) from None
    except ExpressionError:
        raise
    except (RecursionError, MemoryError, ValueError) as exc:
        raise _too_deep(exc) from None


def _too_deep(exc: Exception) -> ExpressionError:
    # Python's parser (and this module's recursion over its tree) gives up on expressions
    # nested thousands deep; an integer literal of thousands of digits is a ValueError.
    if isinstance(exc, ValueError):
        return ExpressionError(f"invalid constant: {exc}")
    return ExpressionError("the expression is nested too deeply (or too long) to parse; "
                           "split it into several assignments")


def _short(text, limit: int = 80) -> str:
    text = repr(str(text).strip())
    return text if len(text) <= limit else text[:limit - 5] + "...'"


def _keyword(value: ast.expr) -> Node:
    if isinstance(value, ast.Name) and value.id == "default":
        return Const(DEFAULT)
    return _expr(value)


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
                    tuple((k.arg, _keyword(k.value)) for k in e.keywords), e.lineno)
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


# ---- static checks, for validation: what would hang or blow up at run time ------------

_INFIX_TEXT = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@",
               "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}


def render(node, limit: int = 60) -> str:
    """A node as (roughly) the text it came from, for error messages."""
    def go(n):
        if isinstance(n, Const):
            return repr(n.value)
        if isinstance(n, Name):
            return n.id
        if isinstance(n, ListOf):
            return "[" + ", ".join(go(x) for x in n.items) + "]"
        if isinstance(n, Call):
            if n.fn in _INFIX_TEXT and len(n.args) == 2:
                return f"{go(n.args[0])} {_INFIX_TEXT[n.fn]} {go(n.args[1])}"
            if n.fn == "neg" and len(n.args) == 1:
                return f"-{go(n.args[0])}"
            args = [go(a) for a in n.args] + [f"{k}={go(v)}" for k, v in n.kwargs]
            return f"{n.fn}({', '.join(args)})"
        return "..."
    text = go(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_constants(node, max_int: int) -> None:
    """Reject a constant subexpression whose value would be huge: ``10 ** 10 ** 10 ** 10``
    is a Python integer with 10^10 digits when a backend evaluates it (a hang), a product of
    large integers leaves int64, a float expression overflows. One bottom-up pass; each
    constant is estimated in floating point, never computed exactly."""
    _fold(node, max_int)


def constant_value(node):
    """The value of a numeric constant subexpression (as a float, estimated), else None."""
    try:
        found = _fold(node, float("inf"))
    except ExpressionError:
        return float("inf")
    return found[0] if found else None


_FOLDABLE = {"add", "sub", "mul", "div", "pow", "neg"}


def _fold(node, max_int, line=1):
    """``(value as float, is an integer)`` for a numeric constant subtree, else None."""
    if isinstance(node, (tuple, list)):
        for n in node:
            _fold(n, max_int, line)
        return None
    if isinstance(node, (Assign, Do, Return)):
        _fold(node.value, max_int, node.line)
        return None
    if isinstance(node, Loop):
        _fold(node.count, max_int, node.line)
        _fold(node.body, max_int, node.line)
        return None
    if isinstance(node, Const):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        if isinstance(v, int) and abs(v) > max_int:
            raise ExpressionError(f"the integer {_digits(v)} does not fit in int64; no "
                                  "framework can make it a tensor", line)
        return float(v), isinstance(v, int)
    if isinstance(node, ListOf):
        _fold(node.items, max_int, line)
        return None
    if not isinstance(node, Call):
        return None
    parts = [_fold(a, max_int, node.line) for a in node.args]
    for _, v in node.kwargs:
        _fold(v, max_int, node.line)
    if node.fn not in _FOLDABLE or node.kwargs or not parts or any(p is None for p in parts):
        return None
    values = [p[0] for p in parts]
    ints = all(p[1] for p in parts)
    try:
        if node.fn == "neg":
            value = -values[0]
        elif node.fn == "add":
            value = values[0] + values[1]
        elif node.fn == "sub":
            value = values[0] - values[1]
        elif node.fn == "mul":
            value = values[0] * values[1]
        elif node.fn == "div":
            value, ints = values[0] / values[1], False
        else:
            ints = ints and values[1] >= 0
            try:
                value = values[0] ** values[1]
            except OverflowError:
                value = float("inf")
    except (ZeroDivisionError, ValueError):
        return None  # the backend's own arithmetic says what happens
    if isinstance(value, complex):
        return None
    finite = all(abs(v) != float("inf") for v in values)
    if finite and abs(value) == float("inf"):
        raise ExpressionError(f"the constant expression `{render(node)}` overflows: its value "
                              "is beyond the float64 range (about 1.8e308)", node.line)
    if ints and abs(value) > max_int:
        raise ExpressionError(f"the constant expression `{render(node)}` is about {value:.3g}, "
                              "beyond int64: a backend would compute a huge Python integer",
                              node.line)
    return value, ints


def _digits(v: int) -> str:
    try:
        text = str(v)
    except ValueError:  # more digits than Python converts
        return "with more than 4300 digits"
    return text if len(text) <= 24 else f"{text[:6]}...({len(text)} digits)"


def check_list_operands(statements) -> None:  # a program, or one expression
    """A list literal is not a tensor: ``x * [1.0, 2.0]`` would reach each framework's op as
    a Python list (PyTorch and JAX raise a TypeError, TensorFlow converts it). Lists are
    arguments of the ops that take a list (``concat``, ``stack``, ``string_join``), values
    of attributes (``shape=[2, 3]``), and what a program assigns or returns."""
    lists: set[str] = set()

    def visit(node):
        if isinstance(node, (tuple, list)):
            for n in node:
                visit(n)
        elif isinstance(node, ListOf):
            visit(node.items)
        elif isinstance(node, Call):
            from harness.vocabulary import HOST_EFFECTS, OPS
            op = OPS.get(node.fn)
            if node.fn not in HOST_EFFECTS:
                for i, arg in enumerate(node.args):
                    takes_list = op is not None and op.arity == -1 and i == 0
                    if takes_list and isinstance(arg, ListOf):
                        for item in arg.items:
                            _not_a_list(node, item, lists)
                    elif not takes_list:
                        _not_a_list(node, arg, lists)
            visit(node.args)
            visit(tuple(v for _, v in node.kwargs))

    def statements_(body):
        for s in body:
            if isinstance(s, Assign):
                visit(s.value)
                if isinstance(s.value, ListOf):
                    lists.add(s.target)
                else:
                    lists.discard(s.target)
            elif isinstance(s, (Do, Return)):
                visit(s.value)
            elif isinstance(s, Loop):
                visit(s.count)
                statements_(s.body)

    if isinstance(statements, (Const, Name, Call, ListOf)):  # one expression
        statements = (Do(statements, getattr(statements, "line", 1)),)
    statements_(statements)


def _not_a_list(call: Call, arg, lists: set[str]) -> None:
    if isinstance(arg, ListOf) or (isinstance(arg, Name) and arg.id in lists):
        what = f"the list {render(arg)}" if isinstance(arg, ListOf) else \
            f"{arg.id!r}, a list,"
        raise ExpressionError(
            f"{what} is an operand of {call.fn}(): a list literal is not a tensor. Declare it "
            f"as an input (inputs: {{w: [1.0, 2.0, 3.0]}}) and use its name", call.line)

"""What a dialect is: one framework's spelling of the case language, as Python source.

A dialect renders a check's plan (``harness.plan``) as a complete, standalone script in the
framework's own API: imports, inputs, the case's functions, the program, the check, and one
``observe(name, value)`` call per observed item. The worker runs that script (the script is
the execution); the report shows the same script. A dialect module never imports its
framework: only the scripts it writes do.

A dialect module defines a ``Dialect`` subclass with:
- ``OPS``: every vocabulary op (``harness.vocabulary.OPS``) -> its spelling: a template
  (``"torch.exp({0})"``; ``{0}``, ``{1}`` the operands, ``{kw}`` the attributes the case gave
  as ``, name=value``, ``{name}`` one attribute, given or its vocabulary default), an
  ``Infix`` operator, or a function of a ``Call`` returning source. ``LACKS``: ops it
  cannot spell, with the reason. An attribute the case did not write means the
  vocabulary's default: where the framework's own default differs, the spelling passes the
  vocabulary's explicitly unless the case wrote ``attr=default`` (``Call.explicit``).
- ``ERRORS``: ``(regex on "Type: message", category)``: the framework's exceptions
  normalised into the categories cases expect (``harness.vocabulary.ERROR_CATEGORIES``).
- ``LACKS_KINDS``: check kinds the framework has no notion of, with the reason (reported ``n/a``).
- one ``check_<kind>(w)`` per check kind it has, writing the script's body with the
  ``Writer`` ``w``; ``NotApplicable`` raised while rendering makes the row ``n/a``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness import expressions as ex
from harness.plan import Plan
from harness.vocabulary import OPS as VOCABULARY


class NotApplicable(Exception):
    """The framework has no notion of what the check asks (reported as ``n/a``)."""


# ---- operators and calls ------------------------------------------------------------------

ATOM = 9  # a name, a literal, a call, a subscript: safe anywhere


@dataclass(frozen=True)
class Infix:
    """A Python operator: ``a + b`` (``symbol``) at Python's precedence ``prec``."""

    symbol: str
    prec: int

    def render(self, parts: list[tuple[str, int]]) -> tuple[str, int]:
        if len(parts) == 1:  # unary minus binds tighter than everything but **
            text, prec = parts[0]
            return f"{self.symbol}{_paren(text, prec, self.prec)}", self.prec
        (left, lp), (right, rp) = parts
        if self.symbol == "**":  # right-associative, and tighter than a unary minus
            return f"{_paren(left, lp, self.prec + 1)} ** {_paren(right, rp, 4)}", self.prec
        low = self.prec + 1 if self.prec == 1 else self.prec  # no chained comparisons
        return f"{_paren(left, lp, low)} {self.symbol} {_paren(right, rp, self.prec + 1)}", \
            self.prec


def _paren(text: str, prec: int, need: int) -> str:
    return f"({text})" if prec < need else text


PYTHON_OPERATORS = {
    "add": Infix("+", 2), "sub": Infix("-", 2), "mul": Infix("*", 3), "div": Infix("/", 3),
    "matmul": Infix("@", 3), "neg": Infix("-", 4), "pow": Infix("**", 5),
    "lt": Infix("<", 1), "le": Infix("<=", 1), "gt": Infix(">", 1), "ge": Infix(">=", 1),
    "eq": Infix("==", 1), "ne": Infix("!=", 1),
}


@dataclass
class Call:
    """A vocabulary call being spelled: its operands as source (``args``; ``atoms`` are the
    same, parenthesised where needed to take ``.method()`` or ``[...]``), the attributes the
    case gave (``kwargs``, as source), the parse nodes, and which operands are host values
    (Python numbers: a literal, a host input, ``step``)."""

    fn: str
    args: list[str]
    atoms: list[str]
    kwargs: dict[str, str]
    nodes: tuple
    host: list[bool]
    writer: "Writer"
    defaulted: frozenset = frozenset()  # attributes written `attr=default`


    def attr(self, name: str, default: str | None = None) -> str:
        """An attribute as source: given, else the vocabulary's default (``repr``)."""
        if name in self.kwargs:
            return self.kwargs[name]
        if default is not None:
            return default
        return repr(VOCABULARY[self.fn].attributes.get(name))

    def given(self, name: str) -> bool:
        return name in self.kwargs

    def explicit(self, name: str) -> bool:
        """Whether a dialect must pass the attribute where its framework's default is not the
        vocabulary's: always, unless the case wrote ``name=default``."""
        return name not in self.defaulted

    def const(self, name: str, default=None):
        """An attribute's constant value (as the case wrote it), else ``default``."""
        for k, node in self.node_kwargs:
            if k == name:
                return node.value if isinstance(node, ex.Const) else default
        return VOCABULARY[self.fn].attributes.get(name, default)

    @property
    def node_kwargs(self):
        return self._node_kwargs

    def kw(self, rename: dict | None = None, drop=()) -> str:
        rename = rename or {}
        return "".join(f", {rename.get(k, k)}={v}" for k, v in self.kwargs.items()
                       if k not in drop)


Spelling = "str | Infix | Callable[[Call], str]"


# ---- the writer -----------------------------------------------------------------------------


class Writer:
    """One script being written: the plan, the column's mode, and the lines so far."""

    def __init__(self, dialect: "Dialect", plan: Plan, mode: str):
        self.dialect, self.plan, self.mode = dialect, plan, mode
        self.lines: list[str] = []
        self.needs: set[str] = set()  # extra imports or script-level names asked for
        self.host = set(plan.host_names)  # names that hold Python values, not tensors

    # lines
    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def observe(self, name: str, source: str, indent: str = "") -> None:
        self.lines.append(f"{indent}observe({name!r}, {source})")

    # expressions
    def expr(self, node) -> str:
        return self._expr(node)[0]

    def text(self, source: str) -> str:
        """An expression of the case language (a check's ``value: ...``) as source."""
        return self.expr(ex.parse_expression(source))

    def is_host(self, node) -> bool:
        """Whether a node is a Python value (a literal, a host input or an op of those)."""
        if isinstance(node, ex.Const):
            return not isinstance(node.value, (tuple, slice))
        if isinstance(node, ex.Name):
            return node.id in self.host
        if isinstance(node, ex.Call) and node.fn in PYTHON_OPERATORS:
            return all(self.is_host(a) for a in node.args)
        return False

    def _expr(self, node) -> tuple[str, int]:
        if isinstance(node, ex.Const):
            value = node.value
            if isinstance(value, (tuple, slice)):
                return self.index(value), ATOM
            if isinstance(value, ex.Name):
                return self.host_int(value.id), ATOM
            text = python_literal(value)
            return text, (4 if text.startswith("-") else ATOM)
        if isinstance(node, ex.Name):
            return node.id, ATOM
        if isinstance(node, ex.ListOf):
            return "[" + ", ".join(self.expr(x) for x in node.items) + "]", ATOM
        if node.fn == "getitem":
            base, prec = self._expr(node.args[0])
            return f"{_paren(base, prec, ATOM)}[{self.index(node.args[1].value)}]", ATOM
        if node.fn in self.plan.functions:
            return self.dialect.call_function(self, node.fn,
                                              [self.expr(a) for a in node.args]), ATOM
        if node.fn in _EFFECTS:
            return _EFFECTS[node.fn](self, node), ATOM
        spelling = self.dialect.OPS.get(node.fn)
        parts = [self._expr(a) for a in node.args]
        if spelling is None:
            raise NotApplicable(f"{self.dialect.name} has no op {node.fn!r}: "
                                + self.dialect.LACKS.get(node.fn, "not spelled"))
        if isinstance(spelling, Infix):
            if node.kwargs:
                raise NotApplicable(f"{node.fn} takes no attributes")
            return spelling.render(parts)
        # `attr=default` asks for the framework's own default (``Call.defaulted``); an
        # attribute not written means the vocabulary's default, as does `attr=None` where
        # None is that default (so a dialect sees one spelling of "not given")
        none = {k for k, v in VOCABULARY[node.fn].attributes.items() if v is None}
        defaulted = frozenset(k for k, v in node.kwargs if v == ex.Const(ex.DEFAULT))
        given = tuple((k, v) for k, v in node.kwargs
                      if k not in defaulted and not (k in none and v == ex.Const(None)))
        call = Call(node.fn, [p[0] for p in parts],
                    [_paren(t, p, ATOM) for t, p in parts],
                    {k: self.expr(v) for k, v in given}, node.args,
                    [self.is_host(a) for a in node.args], self, defaulted)
        call._node_kwargs = given
        if isinstance(spelling, str):
            return fill(spelling, call), ATOM
        return spelling(call), ATOM

    def index(self, index) -> str:
        if isinstance(index, tuple):
            return ", ".join(self.index(i) for i in index) or "()"
        if isinstance(index, slice):
            parts = ["" if b is None else self.index(b) for b in
                     (index.start, index.stop, index.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        if isinstance(index, ex.Name):
            return self.host_int(index.id)
        return repr(index)

    def host_int(self, name: str) -> str:
        """A name used where an int is needed (an index, a loop count)."""
        return name if name in self.host else f"int({name})"

    # statements
    def statements(self, statements, indent: str = "", skip=(),
                   after: Callable[[str, str], list] | None = None) -> list[str]:
        """The statements as source lines. An assignment to a name in ``skip`` is shown
        commented out (the name is an argument there); ``after(target, indent)`` adds lines
        after an assignment (a tape watching an intermediate)."""
        out = []
        for s in statements:
            if isinstance(s, ex.Assign):
                line = f"{s.target} = {self.expr(s.value)}"
                if s.target in skip:
                    out.append(f"{indent}# {line}  ({s.target} is an argument here)")
                    continue
                out.append(indent + line)
                if self.is_host(s.value):
                    self.host.add(s.target)
                else:
                    self.host.discard(s.target)
                if after is not None:
                    out += after(s.target, indent)
            elif isinstance(s, ex.Do):
                out.append(indent + self.expr(s.value))
            elif isinstance(s, ex.Loop):
                count = s.count
                n = str(int(count.value)) if isinstance(count, ex.Const) else \
                    self.host_int(count.id) if isinstance(count, ex.Name) else \
                    f"int({self.expr(count)})"
                out.append(f"{indent}for _ in range({n}):")
                body = self.statements(s.body, indent + "    ", skip, after)
                if all(line.lstrip().startswith("#") for line in body):
                    body.append(indent + "    pass")
                out += body
            elif isinstance(s, ex.Return):
                out.append(f"{indent}return {self.expr(s.value)}")
        return out

    def program(self, indent: str = "", skip=(), after=None) -> list[str]:
        return self.statements(self.plan.program, indent, skip, after)

    def function_of(self, fname: str, args, result: str, indent: str = "") -> list[str]:
        """``def fname(*args)``: the program with ``args`` as arguments (an intermediate
        among them replaces its assignment), returning ``result`` (source). Inputs the
        program reassigns are keyword defaults, so that the function may rebind them."""
        args = list(args)
        assigned = set(ex.assigned(self.plan.program))
        rebound = [f"{n}={n}" for n in self.plan.inputs if n in assigned and n not in args]
        signature = ", ".join(args + (["*"] + rebound if rebound and not args else rebound))
        inner = indent + "    "
        return ([f"{indent}def {fname}({signature}):"]
                + self.statements(self.plan.program, inner, skip=set(args))
                + [f"{inner}return {result}", ""])

    # the case's functions
    def functions(self, names=None) -> list[str]:
        """The case's functions (or those in ``names``) as definitions."""
        out = []
        for fn in self.plan.functions.values():
            if names is not None and fn.name not in names:
                continue
            if fn.backward is not None:
                out += self.dialect.custom_function(self, fn) + [""]
            elif fn.forward is not None:
                out += [f"def {fn.name}({', '.join(fn.args)}):",
                        f"    return {self.expr(fn.forward)}", ""]
            else:
                out += [f"def {fn.name}({', '.join(fn.args)}):"]
                out += self.statements(fn.body, "    ") or ["    pass"]
                out.append("")
        if out:
            out.append("")
        return out


def fill(template: str, call: Call) -> str:
    """A template filled with a call's operands and attributes."""
    def sub(match):
        key = match.group(1)
        if key.isdigit():
            i = int(key)
            return call.atoms[i] if match.group(2) else call.args[i]
        if key == "kw":
            return call.kw()
        if key == "*":
            return ", ".join(call.args)
        return call.attr(key)
    # `{0}.` or `{0}[`: the operand is a receiver and must be an atom
    return re.sub(r"\{(\w+|\*)\}(?=([.\[])?)", sub, template).replace("(, ", "(")


def old_weight_options(c: Call) -> str:
    """``, momentum=..., epsilon=..., axis=...`` for a batch-norm layer whose momentum is the
    old statistics' weight (Keras, flax), where the vocabulary's is the batch's: ``1 - m``.
    An attribute written ``=default`` is left out (the layer's own default applies)."""
    options = ""
    if c.explicit("momentum"):
        m = c.const("momentum")  # the constant, given or the vocabulary's; else None
        flipped = repr(1 - m) if isinstance(m, (int, float)) else f"1 - ({c.attr('momentum')})"
        options += f", momentum={flipped}"
    if c.explicit("eps"):
        options += f", epsilon={c.attr('eps')}"
    if c.given("axis"):
        options += f", axis={c.kwargs['axis']}"
    return options


# ---- attributes as constants: shared by the dialects


UNKNOWN = object()  # an attribute the case wrote as an expression, not a constant


def literal(node):
    """A constant attribute's value (lists and negated numbers included), else ``UNKNOWN``."""
    if isinstance(node, ex.Const):
        return node.value
    if isinstance(node, ex.ListOf):
        items = [literal(i) for i in node.items]
        return UNKNOWN if UNKNOWN in items else items
    if isinstance(node, ex.Call) and node.fn == "neg" and isinstance(node.args[0], ex.Const):
        return -node.args[0].value
    return UNKNOWN


def required_literal(node, why: str = "a constant attribute is needed here"):
    """A constant attribute's value, where the spelling cannot do with an expression."""
    value = literal(node)
    if value is UNKNOWN:
        raise NotApplicable(why)
    return value


def constant(c: Call, name: str, default=None):
    """An attribute's constant value as the case wrote it (lists too), else ``default`` (the
    vocabulary's when None)."""
    for k, node in c.node_kwargs:
        if k == name:
            value = literal(node)
            return default if value is UNKNOWN else value
    return VOCABULARY[c.fn].attributes.get(name) if default is None else default


def axis_pairs(value, n: int) -> list:
    """An int, a per-axis int, or per-axis (before, after) pairs as n pairs."""
    if isinstance(value, (int, np.integer)):
        value = [value] * n
    return [list(p) if isinstance(p, (list, tuple)) else [p, p] for p in value]


def integer_valued(w: Writer, node) -> bool:
    """Whether an operand holds integers: an integer input, or an argmax/argmin."""
    if isinstance(node, ex.Name) and node.id in w.plan.inputs:
        return np.asarray(w.plan.inputs[node.id].value).dtype.kind in "iu"
    return isinstance(node, ex.Call) and node.fn in ("argmax", "argmin")


def python_literal(value) -> str:
    """A Python scalar or nested list as exact source (floats round-trip, inf and nan)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != v:
            return "float('nan')"
        if v in (float("inf"), float("-inf")):
            return f"float('{v}')"
        return repr(v)
    if isinstance(value, bytes):
        return repr(value)
    return repr(value)


def _effect(w: Writer, node) -> str:
    w.needs.add("log")
    msg = w.expr(node.args[0]) if node.args else "''"
    return f"effect({msg})"


def _outer_append(w: Writer, node) -> str:
    w.needs.add("appended")
    return f"appended.append({w.expr(node.args[0])})"


def _host_random_normal(w: Writer, node) -> str:
    w.needs.add("host_rng")
    shape = dict(node.kwargs).get("shape")
    draw = f"host_rng.standard_normal({w.expr(shape) if shape is not None else '()'})" \
           ".astype('float32')"
    return w.dialect.from_numpy(draw)


_EFFECTS = {"effect": _effect, "outer_append": _outer_append,
            "host_random_normal": _host_random_normal}

# script-level names the effects use, defined once at the top of a script that needs them
_PRELUDES = {
    "log": ["log = []  # effect(...) messages: Python side effects, run only while tracing",
            "", "", "def effect(message):", "    log.append(message)", "    print(message)",
            "", ""],
    "appended": ["appended = []  # what the function appends to a list outside it", ""],
    "host_rng": ["host_rng = np.random.default_rng(0)  # NumPy's generator, on the host", ""],
}


# ---- the dialect ---------------------------------------------------------------------------


class Dialect:
    name: str = ""
    modes: tuple[str, ...] = ("eager",)  # the first one is the default column
    OPS: dict = {}
    LACKS: dict[str, str] = {}
    ERRORS: list[tuple[str, str]] = []
    LACKS_KINDS: dict[str, str] = {}
    IMPORTS: tuple[str, ...] = ()
    SEED: str = ""  # seeds the framework's own generator: a script that draws is repeatable
    # source a worker runs before each script, to undo what a script may set process-wide
    # (a script run alone starts from a fresh interpreter; in a worker, from the last script)
    FRESH: str = ""

    def version(self) -> str:
        """The framework's version (this imports it: call it where its scripts run)."""
        from harness.dialects import FRAMEWORKS
        module = importlib.import_module(FRAMEWORKS[self.name].imports)
        return str(getattr(module, "__version__", "0.1.0"))

    def capabilities(self) -> list[str]:
        """The check kinds this dialect renders (some may still be n/a for some checks)."""
        from harness.cases import CHECK_TYPES
        return [k for k in CHECK_TYPES if k not in self.LACKS_KINDS
                and callable(getattr(type(self), f"check_{k}", None))]

    def column(self, mode: str) -> str:
        return self.name if mode == self.modes[0] else f"{self.name}[{mode}]"

    # ---- rendering ---------------------------------------------------------------------

    def render(self, plan: Plan, mode: str | None = None) -> str:
        """The check as a complete script; raises ``NotApplicable`` where the framework has
        no notion of it."""
        mode = mode or self.modes[0]
        if plan.kind in self.LACKS_KINDS:
            raise NotApplicable(self.LACKS_KINDS[plan.kind])
        w = Writer(self, plan, mode)
        getattr(self, f"check_{plan.kind}")(w)
        head = [f'"""{plan.case.id}::{plan.check_id} [{self.column(mode)}]: '
                f'{_one_line(plan.case.title)}"""', ""]
        head += sorted(n for n in w.needs if n.startswith("import ")) + self.imports(w) + [""]
        if "host_rng" in w.needs and "import numpy as np" not in head:
            head.insert(2, "import numpy as np")
        if self.SEED and "random_normal" in plan.calls():
            head += [self.SEED + "  # the same numbers on every run of this script", ""]
        for need in ("log", "appended", "host_rng"):
            if need in w.needs:
                head += _PRELUDES[need]
        body = w.lines
        while body and body[-1] == "":
            body.pop()
        return "\n".join(head + body) + "\n"

    def imports(self, w: Writer) -> list[str]:
        return list(self.IMPORTS)

    def check_value(self, w: Writer) -> None:
        raise NotApplicable(f"{self.name}: no value checks")

    def __getattr__(self, name):
        if name.startswith("check_"):
            raise NotApplicable(f"{self.name} has no notion of a {name[6:]} check")
        raise AttributeError(name)

    # pieces every script has; a dialect spells them
    def call_function(self, w: Writer, name: str, args: list[str]) -> str:
        return f"{name}({', '.join(args)})"

    def custom_function(self, w: Writer, fn) -> list[str]:
        raise NotApplicable(f"{self.name} has no custom gradients")

    def from_numpy(self, source: str) -> str:
        """A NumPy array (given as source) as this framework's constant."""
        raise NotImplementedError

    # ---- running: what the worker does with a script's values ----------------------------

    def to_numpy(self, value):
        """A framework value as NumPy (bytes for a string scalar). Duck-typed: the dialect
        module never imports the framework."""
        if hasattr(value, "detach"):  # torch: a tensor that may require grad
            value = value.detach()
            if hasattr(value, "resolve_conj"):
                value = value.resolve_conj()
        out = value.numpy() if hasattr(value, "numpy") else value
        return out if isinstance(out, bytes) else strings_as_bytes(np.asarray(out))

    def classify(self, exc: BaseException) -> str:
        """The normalised category of an exception ("raised" when none fits)."""
        text = f"{type(exc).__name__}: {exc}"
        for pattern, category in self.ERRORS:
            if re.search(pattern, text, re.S):
                return category
        return "raised"


def strings_as_bytes(array: np.ndarray):
    """Text as the harness holds it: a scalar as ``bytes``, an array as an object array of
    ``bytes`` (NumPy's fixed-width ``S``/``U`` arrays and 0-d object arrays included)."""
    if array.dtype.kind in "SU":
        array = np.vectorize(lambda v: v.encode() if isinstance(v, str) else bytes(v),
                             otypes=[object])(array)
    if array.dtype == object and array.ndim == 0:
        return array.item()
    return array


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).replace('"""', "'''")


def tensor_list(array) -> str:
    """A NumPy array's values as an exact nested Python list (source)."""
    return python_literal(np.asarray(array).tolist())

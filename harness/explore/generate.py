"""Programs to explore: 1 to 4 statements over the vocabulary's typed signatures, at generic
and special points, with value, grad (order 1-3), jvp and jacobian checks.

Generation is hypothesis's: ``program_strategy`` is an ``@st.composite`` strategy that draws a
program from the typed tables below, and ``Generator`` collects the programs a ``@given``
function is given, in blocks (``BLOCK`` programs per hypothesis run, generate phase only, no
database, a seed per block from ``(seed, block)``), so that ``Generator(seed).program(i)`` is
a pure function of ``(seed, i)``. Our own shrinker (``shrink.py``) shrinks a divergence; the
partition it keeps is not a test failure hypothesis could see.

Determinism: every draw is an integer in ``[-99, 99]`` (``sampled_from`` over fewer than 100
items, ``integers`` in a small range); floats are built from such integers. Hypothesis mixes
integer and float literals of the local source tree into its draws (its "local constants",
collected from the modules imported so far), but never integers in ``(-100, 100)``: so the
programs of a seed do not depend on which modules happen to be imported, nor on the process.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from harness.vocabulary import OPS

UNARY = ["exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
         "softplus", "neg", "log1p", "expm1", "rsqrt", "reciprocal", "tan", "atan", "sinh",
         "cosh", "asinh", "erf", "sign", "floor", "ceil", "relu6", "selu", "silu", "softsign",
         "log_sigmoid", "elu", "leaky_relu", "gelu"]
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2", "xlogy",
          "squared_difference", "remainder", "fmod"]
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "logsumexp", "std", "var", "norm"]
INDEXING = ["getitem", "clip", "where", "cumsum", "flip"]
SMOOTH = ["exp", "sin", "cos", "tanh", "sigmoid", "softplus", "square", "neg", "add", "sub",
          "mul", "sum", "mean", "atan", "sinh", "cosh", "asinh", "erf", "getitem"]

# Special points, simplest first (the order the shrinker prefers).
SPECIALS = ["one", "zero", "negone", "negzero", "tie", "negative", "tiny", "huge", "inf",
            "neginf", "nan"]
SPECIAL_VALUES = {"one": 1.0, "zero": 0.0, "negone": -1.0, "negzero": -0.0, "negative": -2.5,
                  "tiny": 1e-30, "huge": 1e30, "inf": math.inf, "neginf": -math.inf,
                  "nan": math.nan}
SHAPES = [(), (3,), (2, 3)]


def available_ops(frameworks=None) -> set[str]:
    """Ops every selected framework spells (and does not list in ``LACKS``)."""
    from harness.dialects import FRAMEWORKS, dialect
    common = None
    for name in frameworks or FRAMEWORKS:
        d = dialect(name)
        ops = set(d.OPS) - set(getattr(d, "LACKS", {}))
        common = ops if common is None else common & ops
    return {o for o in (common or set()) if o in OPS}


@dataclass(frozen=True)
class InputSpec:
    name: str
    value: tuple  # nested lists as tuples of floats (hashable)
    shape: tuple
    dtype: str
    special: str  # generic, or one of SPECIALS

    def array(self):
        return np.array(_lists(self.value), dtype=self.dtype).reshape(self.shape)


@dataclass(frozen=True)
class Statement:
    var: str
    op: str
    args: tuple  # input or variable names, or float constants
    attrs: tuple = ()  # (name, value) pairs
    cond: str | None = None  # for where: the name compared with 0

    def text(self) -> str:
        if self.op == "getitem":
            return f"{self.var} = {self.args[0]}[{self.attrs[0][1]}]"
        parts = [_arg(a) for a in self.args]
        if self.op == "where":
            parts = [f"{self.cond} > 0.0"] + parts
        parts += [f"{k}={v!r}" for k, v in self.attrs]
        return f"{self.var} = {self.op}({', '.join(parts)})"


@dataclass(frozen=True)
class CheckSpec:
    kind: str  # value | grad | jvp | jacobian
    order: int = 1
    wrt: tuple = ("x",)


@dataclass(frozen=True)
class Program:
    inputs: tuple  # InputSpec
    statements: tuple  # Statement
    checks: tuple  # CheckSpec
    target: str
    index: int = 0
    shapes: tuple = ()  # (var, shape) after each statement

    @property
    def ops(self) -> list[str]:
        return [s.op for s in self.statements if s.var in self.live()]

    def live(self) -> set[str]:
        """The variables the target depends on."""
        need = {self.target}
        for s in reversed(self.statements):
            if s.var in need:
                need |= {a for a in s.args if isinstance(a, str)}
                if s.cond:
                    need.add(s.cond)
        return need

    def input(self, name):
        return next(i for i in self.inputs if i.name == name)

    @property
    def special(self) -> str:
        """The class of the point: the special values of the inputs the program uses."""
        used = self.live()
        kinds = sorted({i.special for i in self.inputs if i.name in used and i.special != "generic"}
                       | ({"float64"} if any(i.dtype == "float64" for i in self.inputs) else set())
                       | ({"int"} if any(i.dtype.startswith("int") for i in self.inputs
                                        if i.name in used) else set()))
        named = {n for c in self.checks for n in c.wrt}
        if named - used:
            kinds.append("unused")
        return "+".join(kinds) or "generic"

    def text(self) -> str:
        return "\n".join(s.text() for s in self.statements)


def _arg(a) -> str:
    if isinstance(a, str):
        return a
    if isinstance(a, float):
        return repr(a)
    return repr(a)


def _lists(v):
    return [_lists(x) for x in v] if isinstance(v, tuple) else v


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def broadcast(a: tuple, b: tuple):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


class Choices:
    """The generator's random choices, each one hypothesis draw of a small integer (see the
    module's note on determinism). The simplest draw (0, the one hypothesis shrinks towards
    and favours) is the common case: no special value, float32, the first table entry."""

    def __init__(self, draw):
        self._draw = draw

    def choice(self, items):
        items = tuple(items)
        return self._draw(_sampled(items))

    def chance(self, percent: int) -> bool:
        """True with probability ``percent``/100; False on the simplest draw."""
        return self._draw(_integers(0, 99)) >= 100 - percent

    def below(self, n: int) -> int:
        return self._draw(_integers(0, n - 1))

    def integer(self, lo: int, hi: int) -> int:
        return self._draw(_integers(lo, hi))

    def signed(self) -> float:
        """A generic value: ±[0.2, 2.099], three decimals (two draws: tenths with the sign,
        then thousandths)."""
        tenths = self._draw(_TENTHS)
        return (abs(tenths) * 100 + self._draw(_integers(0, 99))) / 1000 * (1 if tenths > 0
                                                                              else -1)


_STRATEGIES: dict = {}


def _integers(lo: int, hi: int):
    assert -100 < lo <= hi < 100, "a draw stays within (-100, 100)"
    key = ("integers", lo, hi)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = st.integers(lo, hi)
    return _STRATEGIES[key]


def _sampled(items: tuple):
    assert len(items) < 100, "a draw stays within (-100, 100)"
    key = ("sampled", items)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = st.sampled_from(items)
    return _STRATEGIES[key]


# ±2..±20 tenths, positive first (the simplest draw is +0.2...)
_TENTHS = st.sampled_from(tuple(range(2, 21)) + tuple(range(-2, -21, -1)))


# programs per hypothesis run: hypothesis starts each run with its simplest input, so larger
# blocks repeat that one less; a block is generated when its first program is asked for
BLOCK = 200


class Generator:
    """Programs from a seed: ``Generator(seed).program(i)`` is a pure function of (seed, i)."""

    def __init__(self, seed: int = 0, ops=None, smooth_only: bool = False,
                 generic_only: bool = False, frameworks=None, block: int = BLOCK):
        self.seed = seed
        known = available_ops(frameworks)
        pool = ops or (UNARY + BINARY + REDUCTIONS + INDEXING)
        if smooth_only:
            pool = [o for o in pool if o in SMOOTH]
        self.ops = [o for o in pool if o in known]
        if not self.ops:
            raise ValueError(f"no op to explore: {pool} are not spelled by every framework")
        self.generic_only = generic_only
        self.block = block
        self._order = list(self.ops)  # the op table as the block being generated sees it
        self._blocks: dict[int, list[Program]] = {}
        self.generated_s = 0.0  # seconds spent generating (hypothesis included)

    def program(self, index: int) -> Program:
        b, k = divmod(index, self.block)
        if b not in self._blocks:
            if len(self._blocks) > 4:  # the explorer walks forward: keep the recent blocks
                self._blocks.pop(min(self._blocks))
            self._blocks[b] = self._generate(b)
        return self._blocks[b][k]

    def programs(self, start: int, n: int) -> list[Program]:
        return [self.program(start + k) for k in range(n)]

    def _generate(self, b: int) -> list[Program]:
        """One block: the distinct programs hypothesis gives a ``@given`` function, seeded by
        ``(seed, block)``; topped up from further seeds in the rare case hypothesis gives fewer
        (a program drawn twice)."""
        import time
        start = time.perf_counter()
        # hypothesis favours the first entry of a table (its simplest draw): the op table
        # turns by one op per block, so that no op is the favourite of every block
        turn = b % len(self.ops)
        self._order = self.ops[turn:] + self.ops[:turn]
        out: list[Program] = []
        seen: set[str] = set()
        attempt = 0
        while len(out) < self.block:
            if attempt == 20:
                raise RuntimeError(f"hypothesis gave {len(out)} distinct programs of "
                                   f"{self.block} over ops {self.ops}")
            # a top-up asks for more than it lacks: each run starts with the simplest program
            for p in self._run(_block_seed(self.seed, b, attempt),
                               self.block - len(out) + (10 if attempt else 0)):
                key = repr((p.inputs, p.statements, p.checks))  # repr: NaN != NaN
                if key not in seen and len(out) < self.block:
                    seen.add(key)
                    out.append(replace(p, index=b * self.block + len(out)))
            attempt += 1
        self.generated_s += time.perf_counter() - start
        return out

    def _run(self, seed: int, n: int) -> list[Program]:
        got: list[Program] = []

        @hypothesis_seed(seed)
        @settings(max_examples=n, database=None, derandomize=False, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                  verbosity=Verbosity.quiet, print_blob=False)
        @given(program_strategy(self))
        def collect(program):
            got.append(program)

        collect()
        return got

    # ---- inputs (``c`` is a ``Choices``) ----------------------------------------------------

    def _value(self, c: Choices, shape: tuple, dtype: str, special: str, like=None):
        n = int(np.prod(shape)) if shape else 1
        if dtype.startswith("int"):
            flat = [float(c.integer(-3, 3)) for _ in range(n)]
        elif special == "generic":
            flat = [c.signed() for _ in range(n)]
        elif special == "tie":
            if like is not None:  # equal arguments
                flat = list(np.array(_lists(like.value), dtype=float).reshape(-1)) \
                    if like.shape == shape else [0.5] * n
            else:  # equal elements
                flat = [c.signed()] * n
        else:
            v = SPECIAL_VALUES[special]
            flat = [c.signed() for _ in range(n)]
            # the special value at one place (all places for a scalar), or everywhere
            flat[c.below(n)] = v
            if c.chance(30):
                flat = [v] * n
        array = np.array(flat, dtype=dtype).reshape(shape)
        return _tuples(array.tolist()) if shape else float(array) if not dtype.startswith("int") \
            else int(array)

    def _input(self, c: Choices, name, shape, dtype, like=None) -> InputSpec:
        if self.generic_only or not c.chance(70):
            special = "generic"
        else:
            special = c.choice(SPECIALS)
        if special == "tie" and like is None and not shape:
            special = "generic"
        if dtype.startswith("int"):
            special = "generic"
        return InputSpec(name, self._value(c, shape, dtype, special, like), shape, dtype,
                         special)

    # ---- statements -------------------------------------------------------------------------

    def build(self, c: Choices) -> Program | None:
        dtype = "float64" if c.chance(25) else "float32"
        xshape = c.choice(SHAPES)
        inputs = [self._input(c, "x", xshape, dtype)]
        shapes = {"x": xshape}
        n = c.choice([1, 1, 2, 2, 3, 4])
        statements = []
        for k in range(n):
            op = c.choice(self._order)
            var = f"v{k + 1}"
            names = list(shapes)
            first = names[-1] if not c.chance(30) else c.choice(names)
            s = self._statement(c, op, var, first, shapes, inputs)
            if s is None:
                continue
            statement, shape = s
            statements.append(statement)
            shapes[var] = shape
        if not statements:
            return None
        target = statements[-1].var
        checks = self._checks(c, inputs, shapes[target])
        return Program(tuple(inputs), tuple(statements), tuple(checks), target, 0,
                       tuple(shapes.items()))

    def _statement(self, c: Choices, op, var, first, shapes, inputs):
        shape = shapes[first]
        if op in UNARY:
            attrs = ()
            if op == "leaky_relu":
                attrs = (("alpha", c.choice([0.01, 0.2])),)
            if op == "elu":
                attrs = (("alpha", c.choice([1.0, 0.5])),)
            if op == "gelu":
                attrs = (("approximate", c.choice(["none", "tanh"])),)
            return Statement(var, op, (first,), attrs), shape
        if op in BINARY or op == "where":
            # the other operand: a new input y (same shape, broadcastable, or tied), an
            # existing name, or a constant
            r = c.below(100)
            if op == "pow" and r < 50:
                other = c.choice([2.0, 3.0, 0.5, -1.0, 0.0])
                other_shape = ()
            elif r < 75 and "y" not in shapes:
                yshape = c.choice([shape, (), shape[-1:]])
                intlike = c.chance(5) and not self.generic_only
                like = next(i for i in inputs if i.name == "x")
                y = self._input(c, "y", yshape, "int32" if intlike else like.dtype, like)
                inputs.append(y)
                shapes["y"] = yshape
                other, other_shape = "y", yshape
            else:
                other = c.choice(list(shapes))
                other_shape = shapes[other]
            out = broadcast(shape, other_shape)
            if out is None:
                return None
            args = (other, first) if c.chance(20) else (first, other)
            if op == "where":
                cond = c.choice([n for n in shapes if broadcast(shapes[n], out) == out])
                return Statement(var, op, args, (), cond), out
            return Statement(var, op, args), out
        if op == "clip":
            lo, hi = c.choice([(-1.0, 1.0), (0.0, 1.0), (0.0, None), (None, 0.0), (-1.0, 0.0)])
            attrs = tuple((k, v) for k, v in (("min", lo), ("max", hi)) if v is not None)
            return Statement(var, op, (first,), attrs), shape
        if op in REDUCTIONS:
            if shape and c.chance(40):
                axis = c.below(len(shape))
                return Statement(var, op, (first,), (("axis", axis),)), \
                    shape[:axis] + shape[axis + 1:]
            return Statement(var, op, (first,)), ()
        if op == "getitem":
            if not shape:
                return None
            i = c.below(shape[0])
            return Statement(var, op, (first,), (("index", i),)), shape[1:]
        if op in ("cumsum", "flip"):
            if not shape:
                return None
            return Statement(var, op, (first,), (("axis", len(shape) - 1),)), shape
        return None

    def _checks(self, c: Choices, inputs, tshape) -> list[CheckSpec]:
        floats = [i.name for i in inputs if not i.dtype.startswith("int")]
        ints = [i.name for i in inputs if i.dtype.startswith("int")]
        wrt = ("x",)
        if len(floats) > 1 and c.chance(40):
            wrt = tuple(floats)
        if c.chance(5) and not self.generic_only:  # an unused input, now and then
            inputs.append(InputSpec("u", 1.5, (), inputs[0].dtype, "generic"))
            wrt = wrt + ("u",)
        if ints and c.chance(30):
            wrt = wrt + (ints[0],)
        checks = [CheckSpec("value", 1, ())]
        kind = c.choice(["grad", "grad", "jvp", "jacobian"])
        if kind == "grad":
            order = c.choice([1, 1, 2, 3])
            checks.append(CheckSpec("grad", order, wrt if order == 1 else wrt[:1]))
        elif kind == "jvp":
            checks.append(CheckSpec("jvp", 1, wrt))
        else:
            checks.append(CheckSpec("jacobian", 1, wrt[:1]))
        return checks


def program_strategy(generator: Generator):
    """A hypothesis strategy of programs over ``generator``'s tables (ops, dtype mix)."""

    @st.composite
    def programs(draw):
        program = generator.build(Choices(draw))
        assume(program is not None)  # every statement drawn failed to type (rare)
        return program

    return programs()


def _block_seed(seed: int, block: int, attempt: int = 0) -> int:
    digest = hashlib.sha256(f"{seed}:{block}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def simplify_input(spec: InputSpec, shape: tuple | None = None, special: str | None = None):
    """The same input at a smaller shape (its first special element kept), or at a simpler
    special value."""
    arr = spec.array()
    if shape is not None and shape != spec.shape:
        flat = arr.reshape(-1)
        if spec.special not in ("generic", "tie"):
            v = SPECIAL_VALUES[spec.special]
            hit = [i for i, e in enumerate(flat) if (e == v) or (math.isnan(v) and math.isnan(e))]
            start = hit[0] if hit else 0
        else:
            start = 0
        n = int(np.prod(shape)) if shape else 1
        picked = np.concatenate([flat[start:], flat[:start]])[:n]
        arr = picked.reshape(shape)
    if special is not None:
        v = SPECIAL_VALUES.get(special, 1.0)
        arr = np.full(arr.shape, v, dtype=spec.dtype)
    value = _tuples(arr.tolist()) if arr.shape else arr.item()
    return replace(spec, value=value, shape=tuple(arr.shape),
                   special=special or spec.special)


__all__ = ["Generator", "Program", "Statement", "InputSpec", "CheckSpec", "SPECIALS",
           "simplify_input", "available_ops", "program_strategy", "field"]

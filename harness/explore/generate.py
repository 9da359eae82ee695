"""Programs to explore: 1 to 4 statements over the vocabulary's typed signatures, at generic
and special points, with value, grad (order 1-3), jvp and jacobian checks.

Determinism: a seeded ``random.Random`` draws from the typed tables below (the same tables a
hypothesis strategy would draw from; ``strategy.example()`` is not reproducible), so a fixed
seed gives the same programs in the same order. ``program_strategy()`` exposes the same
generator to hypothesis for property tests.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

import numpy as np

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


class Generator:
    """Programs from a seed: ``Generator(seed).program(i)`` is a pure function of (seed, i)."""

    def __init__(self, seed: int = 0, ops=None, smooth_only: bool = False,
                 generic_only: bool = False, seeds=(), frameworks=None):
        self.seed = seed
        known = available_ops(frameworks)
        pool = ops or (UNARY + BINARY + REDUCTIONS + INDEXING)
        if smooth_only:
            pool = [o for o in pool if o in SMOOTH]
        self.ops = [o for o in pool if o in known]
        if not self.ops:
            raise ValueError(f"no op to explore: {pool} are not spelled by every framework")
        self.generic_only = generic_only
        self.seeds = list(seeds)  # programs from existing cases: (inputs, statements)

    def program(self, index: int) -> Program:
        rng = random.Random(f"{self.seed}:{index}")
        for _ in range(50):
            p = self._try(rng, index)
            if p is not None:
                return p
        return self._try(random.Random(index), index, force_simple=True)

    # ---- inputs ---------------------------------------------------------------------

    def _value(self, rng: random.Random, shape: tuple, dtype: str, special: str, like=None):
        n = int(np.prod(shape)) if shape else 1
        if dtype.startswith("int"):
            flat = [float(rng.randint(-3, 3)) for _ in range(n)]
        elif special == "generic":
            flat = [round(rng.choice([-1, 1]) * rng.uniform(0.2, 2.0), 3) for _ in range(n)]
        elif special == "tie":
            if like is not None:  # equal arguments
                flat = list(np.array(_lists(like.value), dtype=float).reshape(-1)) \
                    if like.shape == shape else [0.5] * n
            else:  # equal elements
                flat = [round(rng.uniform(-2, 2), 3)] * n
        else:
            v = SPECIAL_VALUES[special]
            flat = [round(rng.choice([-1, 1]) * rng.uniform(0.2, 2.0), 3) for _ in range(n)]
            # the special value at one place (all places for a scalar)
            flat[rng.randrange(n)] = v
            if rng.random() < 0.3:
                flat = [v] * n
        array = np.array(flat, dtype=dtype).reshape(shape)
        return _tuples(array.tolist()) if shape else float(array) if not dtype.startswith("int") \
            else int(array)

    def _input(self, rng, name, shape, dtype, like=None) -> InputSpec:
        if self.generic_only or rng.random() < 0.3:
            special = "generic"
        else:
            special = rng.choice(SPECIALS)
        if special == "tie" and like is None and not shape:
            special = "generic"
        if dtype.startswith("int"):
            special = "generic"
        return InputSpec(name, self._value(rng, shape, dtype, special, like), shape, dtype,
                         special)

    # ---- statements -----------------------------------------------------------------

    def _try(self, rng: random.Random, index: int, force_simple=False) -> Program | None:
        dtype = "float64" if rng.random() < 0.25 else "float32"
        xshape = rng.choice(SHAPES)
        inputs = [self._input(rng, "x", xshape, dtype)]
        shapes = {"x": xshape}
        n = 1 if force_simple else rng.choice([1, 1, 2, 2, 3, 4])
        statements = []
        for k in range(n):
            op = rng.choice(self.ops)
            var = f"v{k + 1}"
            names = list(shapes)
            first = names[-1] if rng.random() < 0.7 else rng.choice(names)
            s = self._statement(rng, op, var, first, shapes, inputs, dtype)
            if s is None:
                if force_simple:
                    return None
                continue
            statement, shape = s
            statements.append(statement)
            shapes[var] = shape
        if not statements:
            return None
        target = statements[-1].var
        checks = self._checks(rng, inputs, shapes[target])
        p = Program(tuple(inputs), tuple(statements), tuple(checks), target, index,
                    tuple(shapes.items()))
        return p

    def _statement(self, rng, op, var, first, shapes, inputs, dtype):
        shape = shapes[first]
        if op in UNARY:
            attrs = ()
            if op == "leaky_relu":
                attrs = (("alpha", rng.choice([0.01, 0.2])),)
            if op == "elu":
                attrs = (("alpha", rng.choice([1.0, 0.5])),)
            if op == "gelu":
                attrs = (("approximate", rng.choice(["none", "tanh"])),)
            return Statement(var, op, (first,), attrs), shape
        if op in BINARY or op == "where":
            # the other operand: a new input y (same shape, broadcastable, or tied), an
            # existing name, or a constant
            r = rng.random()
            if op == "pow" and r < 0.5:
                other = rng.choice([2.0, 3.0, 0.5, -1.0, 0.0])
                other_shape = ()
            elif r < 0.75 and "y" not in shapes:
                yshape = rng.choice([shape, (), shape[-1:]])
                intlike = rng.random() < 0.05 and not self.generic_only
                like = next(i for i in inputs if i.name == "x")
                y = self._input(rng, "y", yshape, "int32" if intlike else dtype, like)
                inputs.append(y)
                shapes["y"] = yshape
                other, other_shape = "y", yshape
            else:
                other = rng.choice(list(shapes))
                other_shape = shapes[other]
            out = broadcast(shape, other_shape)
            if out is None:
                return None
            args = (first, other) if rng.random() < 0.8 else (other, first)
            if op == "where":
                cond = rng.choice([n for n in shapes if broadcast(shapes[n], out) == out])
                return Statement(var, op, args, (), cond), out
            return Statement(var, op, args), out
        if op == "clip":
            lo, hi = rng.choice([(-1.0, 1.0), (0.0, 1.0), (0.0, None), (None, 0.0), (-1.0, 0.0)])
            attrs = tuple((k, v) for k, v in (("min", lo), ("max", hi)) if v is not None)
            return Statement(var, op, (first,), attrs), shape
        if op in REDUCTIONS:
            if shape and rng.random() < 0.4:
                axis = rng.randrange(len(shape))
                return Statement(var, op, (first,), (("axis", axis),)), \
                    shape[:axis] + shape[axis + 1:]
            return Statement(var, op, (first,)), ()
        if op == "getitem":
            if not shape:
                return None
            i = rng.randrange(shape[0])
            return Statement(var, op, (first,), (("index", i),)), shape[1:]
        if op in ("cumsum", "flip"):
            if not shape:
                return None
            return Statement(var, op, (first,), (("axis", len(shape) - 1),)), shape
        return None

    def _checks(self, rng, inputs, tshape) -> list[CheckSpec]:
        floats = [i.name for i in inputs if not i.dtype.startswith("int")]
        ints = [i.name for i in inputs if i.dtype.startswith("int")]
        wrt = ("x",)
        if len(floats) > 1 and rng.random() < 0.4:
            wrt = tuple(floats)
        if rng.random() < 0.05 and not self.generic_only:  # an unused input, now and then
            inputs.append(InputSpec("u", 1.5, (), inputs[0].dtype, "generic"))
            wrt = wrt + ("u",)
        if ints and rng.random() < 0.3:
            wrt = wrt + (ints[0],)
        checks = [CheckSpec("value", 1, ())]
        kind = rng.choice(["grad", "grad", "jvp", "jacobian"])
        if kind == "grad":
            order = rng.choice([1, 1, 2, 3])
            checks.append(CheckSpec("grad", order, wrt if order == 1 else wrt[:1]))
        elif kind == "jvp":
            checks.append(CheckSpec("jvp", 1, wrt))
        else:
            checks.append(CheckSpec("jacobian", 1, wrt[:1]))
        return checks


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
           "simplify_input", "available_ops", "field"]

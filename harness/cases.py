"""The case language: YAML files loaded safely, validated by a pydantic schema, turned into
``Case`` objects. Every error names the file, the line and the field.

A case file holds ``cases:``, a list of cases. See ``docs/case-language.md`` for the whole
language with examples; the models below are its schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from harness import expressions as ex
from harness import limits
from harness.vocabulary import ERROR_CATEGORIES, HOST_EFFECTS, OPS


class CaseError(ValueError):
    """A malformed case: names the file, the line and the field, and what was expected."""

    def __init__(self, file: str, line: Optional[int], field: str, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class _Absent:
    """No value given (distinct from ``null``, which means "no gradient")."""

    def __repr__(self):
        return "ABSENT"

    def __bool__(self):
        return False


ABSENT: Any = _Absent()

DTYPES = ("float16", "float32", "float64", "complex64", "complex128", "int32", "int64",
          "bool", "string")
_STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Model(BaseModel):
    model_config = _STRICT


# ---- inputs and functions ----------------------------------------------------------------


class Input(Model):
    """An input of the program. ``track``: differentiable (``requires_grad`` in PyTorch, a
    trainable ``Variable`` or a watched tensor in TensorFlow, an argument of ``jax.grad``)."""

    value: Any = None
    random: Optional[Literal["normal", "uniform"]] = None
    shape: Optional[list[int]] = None
    seed: int = 0
    scale: float = 1.0
    dtype: Optional[Literal[DTYPES]] = None
    kind: Literal["tensor", "variable", "host"] = "tensor"
    trainable: bool = True
    track: Optional[bool] = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.value is None) == (self.random is None):
            raise ValueError("give exactly one of `value` or `random` (with `shape`)")
        if self.random and self.shape is None:
            raise ValueError("`random` needs a `shape`")
        if self.track is None:  # a trainable Variable is tracked unless said otherwise
            self.track = self.kind == "variable" and self.trainable
        return self

    def numpy_source(self) -> str | None:
        """For seeded random data: the NumPy expression that makes the same array, so that
        a repro script regenerates it instead of spelling out every number."""
        if not self.random:
            return None
        call = (f"standard_normal({tuple(self.shape)})" if self.random == "normal"
                else f"uniform(-1.0, 1.0, {tuple(self.shape)})")
        return (f"(np.random.default_rng({self.seed}).{call} * {self.scale})"
                f".astype('{self.dtype or 'float32'}')")

    def array(self):
        """The input as NumPy (host inputs stay Python values). Random data is generated here,
        once, so that every framework sees the same numbers."""
        if self.kind == "host":
            return self.value
        if self.random:
            rng = np.random.default_rng(self.seed)
            data = (rng.standard_normal(self.shape) if self.random == "normal"
                    else rng.uniform(-1.0, 1.0, self.shape)) * self.scale
            return data.astype(self.dtype or "float32")
        return to_array(self.value, self.dtype)


def to_array(value, dtype=None) -> np.ndarray:
    if dtype in ("complex64", "complex128"):  # each entry "1+2j" (a string) or a number
        return np.vectorize(complex, otypes=[dtype])(np.asarray(value, dtype=object))
    if dtype == "string" or _is_text(value):
        return np.array(_encode(value), dtype=object)
    array = np.asarray(value)
    if dtype:
        return array.astype(dtype)
    if array.dtype.kind == "f":
        return array.astype("float32")  # the frameworks' default float
    if array.dtype.kind in "iu":
        return array.astype("int32")
    return array


def _is_text(value) -> bool:
    while isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, (str, bytes))


def _encode(value):
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value.encode() if isinstance(value, str) else value


class Function(Model):
    """A function of the case: ``forward`` with an optional custom ``backward`` (one
    expression per argument, in terms of the arguments, ``result`` and ``grad``), or a
    multi-line ``body`` ending in ``return`` (for traced functions and modules)."""

    args: list[str]
    forward: Optional[str] = None
    backward: Optional[Union[str, list[str]]] = None
    body: Optional[str] = None

    @model_validator(mode="after")
    def _shape(self):
        if (self.forward is None) == (self.body is None):
            raise ValueError("give exactly one of `forward` (an expression) or `body`")
        if self.backward is not None and self.forward is None:
            raise ValueError("a custom `backward` needs a `forward` expression")
        if isinstance(self.backward, list) and len(self.backward) != len(self.args):
            raise ValueError(f"`backward` needs one expression per argument "
                             f"({len(self.args)}), got {len(self.backward)}")
        if isinstance(self.backward, str) and len(self.args) != 1:
            raise ValueError("with several arguments, `backward` is a list, one per argument")
        return self

    @property
    def backwards(self) -> list[str]:
        return [self.backward] if isinstance(self.backward, str) else list(self.backward or [])


# ---- divergences and tolerances ----------------------------------------------------------


class Divergence(Model):
    """A declared difference: what this backend does instead, and why (with evidence)."""

    reason: str
    evidence: str
    expect: Any = ABSENT  # what the backend gives instead; absent: anything but `expect`
    versions: Optional[str] = None  # a PEP 440 range of the framework's version

    @field_validator("versions")
    @classmethod
    def _range(cls, v):
        if v is not None:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet
            try:
                if not SpecifierSet(v):
                    raise InvalidSpecifier(v)
            except InvalidSpecifier:
                raise ValueError(f"{v!r} is not a PEP 440 version specifier; write a range "
                                 "such as \">=2.17\" or \">=2.16,<2.18\"") from None
        return v


class Tolerance(Model):
    rtol: Optional[float] = None
    atol: Optional[float] = None
    reason: str


def backend_keys() -> list[str]:
    """What ``diverges`` may name: a framework, or one of its columns."""
    from harness.dialects import FRAMEWORKS
    keys = []
    for name, fw in FRAMEWORKS.items():
        keys += [name] + [f"{name}[{mode}]" for mode in fw.modes]
    return keys


# ---- checks ------------------------------------------------------------------------------


class CheckBase(Model):
    id: Optional[str] = None
    expect: Any = ABSENT
    claim: Any = ABSENT  # what the document says, where reality differs
    claim_note: Optional[str] = None
    tolerance: Optional[Tolerance] = None
    diverges: dict[str, Union[Divergence, list[Divergence]]] = {}
    note: Optional[str] = None
    plot: Optional[dict] = None

    @field_validator("diverges")
    @classmethod
    def _keys(cls, v):
        known = backend_keys()
        for key in v:
            if key not in known:
                raise ValueError(f"unknown backend {key!r}: use a framework or a column, one "
                                 "of " + ", ".join(known))
        return v

    def divergences(self, backend: str, framework: str) -> list[Divergence]:
        """What the check declares for a column: under its own key, else its framework's.
        A framework's first column is named after the framework (``tensorflow``), so
        ``tensorflow[eager]`` names that column alone."""
        found = self.diverges.get(backend)
        if not found and backend == framework:
            from harness.dialects import FRAMEWORKS
            found = self.diverges.get(f"{framework}[{FRAMEWORKS[framework].modes[0]}]")
        found = found or self.diverges.get(framework) or []
        return found if isinstance(found, list) else [found]


class Tape(Model):
    persistent: bool = False
    watch: list[str] = []
    watch_accessed_variables: bool = True


Targets = Union[str, list[str], dict[str, str]]


class ValueCheck(CheckBase):
    """A forward value: ``value: <expression>``."""
    kind: Literal["value"] = "value"
    value: str


class GradCheck(CheckBase):
    """d ``grad`` / d ``wrt``, weighted by ``weights`` (a vector-Jacobian product), to
    ``order``. Observed: gradients in the structure of ``wrt``; ``null`` = no gradient."""
    kind: Literal["grad"] = "grad"
    grad: Union[str, list[str]]  # several targets: their gradients are summed
    wrt: Targets
    weights: Any = None
    order: int = Field(1, ge=1, le=4)
    style: Optional[Literal["backward", "autograd", "hooks", "retain_grad", "tape"]] = None
    tape: Tape = Tape()


class JvpCheck(CheckBase):
    """The Jacobian-vector product of ``jvp`` along ``tangents`` (one per ``wrt``)."""
    kind: Literal["jvp"] = "jvp"
    jvp: str
    wrt: list[str]
    tangents: list[Any]
    mode: Literal["forward", "reverse"] = "forward"


class JacobianCheck(CheckBase):
    """The full Jacobian of ``jacobian`` with respect to ``wrt``: shape out + in."""
    kind: Literal["jacobian"] = "jacobian"
    jacobian: str
    wrt: str
    mode: Literal["forward", "reverse"] = "reverse"


class BackwardTwiceCheck(CheckBase):
    """Two backward passes through one graph: observed the gradients after both (PyTorch
    accumulates them), or the error of the second."""
    kind: Literal["backward_twice"] = "backward_twice"
    backward_twice: str
    wrt: list[str]
    retain_graph: bool = False
    weights: Any = None


class AttributesCheck(CheckBase):
    """Tensor attributes after running the program (and ``backward`` of a target, if given):
    ``{name: {field: value}}``; grad_fn is the node's class name without trailing digits."""
    kind: Literal["attributes"] = "attributes"
    attributes: list[str]
    fields: list[Literal["is_leaf", "requires_grad", "grad_fn", "grad"]] = ["is_leaf"]
    backward: Optional[str] = None
    weights: Any = None


class WatchedCheck(CheckBase):
    """The names of the inputs a gradient tape watched while the program ran."""
    kind: Literal["watched"] = "watched"
    watched: Literal[True]
    tape: Tape = Tape()


class Optimizer(Model):
    """The framework's own optimizer (``torch.optim``, ``keras.optimizers``, optax). A field
    left out (None) takes each framework's own default: that is how defaults that part show.
    ``weight_decay`` is the optimizer's own: L2 added to the gradient for sgd/adam/rmsprop/
    adagrad in PyTorch, decoupled in AdamW and in Keras."""
    name: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "manual"]
    lr: float
    momentum: float = 0.0
    dampening: float = 0.0  # sgd (PyTorch only; Keras and optax have none)
    nesterov: bool = False
    weight_decay: Optional[float] = 0.0  # None: the framework's default (AdamW's differ)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: Optional[float] = None  # None: each framework's own default
    rho: Optional[float] = None  # rmsprop's decay (PyTorch calls it alpha); None: default
    centered: bool = False  # rmsprop
    initial_accumulator_value: Optional[float] = None  # adagrad; None: default
    # fit: Keras's model.fit / train_on_batch (the Keras columns; n/a elsewhere)
    style: Literal["step", "apply_gradients", "minimize", "fit"] = "step"


class OptimizeSpec(Model):
    loss: str
    params: list[str]
    optimizer: Optimizer
    steps: int = Field(ge=1)
    record_every: int = Field(1, ge=1)
    record: Optional[list[str]] = None  # default: params and loss
    # A long loop may run its step compiled (tf.function, jax.jit) in the eager columns
    # too: eager JAX pays about 20 ms a step, so 30000 steps would take ten minutes. The
    # eager semantics are what shorter cases check; this flag says the case allows it.
    fast_path: bool = False


class OptimizeCheck(CheckBase):
    """``steps`` optimizer steps on ``loss``; observed: ``{name: [value at step 0, K, 2K, ...,
    final]}`` for params and loss. ``step`` (a host int) is visible to the program."""
    kind: Literal["optimize"] = "optimize"
    optimize: OptimizeSpec


class TraceCheck(CheckBase):
    """A function of the case traced (tf.function, jax.jit, the reference tracer) and called
    with ``calls``; each argument is ``{tensor: value, dtype}`` or a plain Python value.
    Observed: ``{outputs, traced, log, appended, distinct}``; ``expect`` may give a subset."""
    kind: Literal["trace"] = "trace"
    trace: str
    calls: list[list[Any]]
    signature: Optional[list[dict]] = None  # [{shape: [], dtype: float32}]
    staged: bool = True


class StaticGraphSpec(Model):
    placeholders: dict[str, dict]  # name: {dtype, shape}
    fetch: Union[str, list[str]]
    feeds: list[dict[str, Any]]


class StaticGraphCheck(CheckBase):
    """Define-then-run: placeholders, the program as graph nodes, ``fetch`` run for each feed."""
    kind: Literal["static_graph"] = "static_graph"
    static_graph: StaticGraphSpec


class WhileLoopSpec(Model):
    vars: dict[str, Any]
    cond: str
    body: dict[str, str]
    graph: bool = False  # build it in a static graph and run it in a session


class WhileLoopCheck(CheckBase):
    """``while cond: vars = body`` with the framework's loop op; observed: the final vars."""
    kind: Literal["while_loop"] = "while_loop"
    while_loop: WhileLoopSpec


class CheckpointSpec(Model):
    state: dict[str, Any]  # variable name: initial value
    method: str  # a function of the case whose body may use the state variables
    before: list[list[Any]]  # calls before saving
    after: list[list[Any]]  # calls on the module loaded into a fresh process state
    style: Literal["class", "attributes"] = "class"


class CheckpointCheck(CheckBase):
    """Save a module's state, load it into a fresh module, go on calling its method.
    Observed: ``{before: [...], after: [...], variables: [names]}``."""
    kind: Literal["checkpoint"] = "checkpoint"
    checkpoint: CheckpointSpec


CHECK_TYPES = {cls.model_fields["kind"].default: cls for cls in (
    ValueCheck, GradCheck, JvpCheck, JacobianCheck, BackwardTwiceCheck, AttributesCheck,
    WatchedCheck, OptimizeCheck, TraceCheck, StaticGraphCheck, WhileLoopCheck, CheckpointCheck)}


def _check_kind(data) -> Optional[str]:
    if isinstance(data, dict):
        found = [k for k in CHECK_TYPES if k in data]
        return found[0] if len(found) == 1 else None
    return getattr(data, "kind", None)


Check = Annotated[Union[tuple(Annotated[cls, Tag(kind)] for kind, cls in CHECK_TYPES.items())],
                  Discriminator(_check_kind, custom_error_type="check_kind",
                                custom_error_message="a check has exactly one kind key: "
                                + ", ".join(CHECK_TYPES))]


class Limits(Model):
    """What a case needs beyond the defaults (``harness/limits.py``), with the reason."""
    seconds: Optional[float] = Field(None, gt=0)  # per framework worker, all its columns
    memory_mb: Optional[int] = Field(None, ge=1)  # the worker's resident memory
    loop_steps: Optional[int] = Field(None, ge=1)  # loop iterations, optimizer steps
    elements: Optional[int] = Field(None, ge=1)  # of one input or one `shape=`
    reason: str = Field(min_length=1)


class CaseModel(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    covers: list[str] = []
    source: str = ""
    inputs: dict[str, Input] = {}
    functions: dict[str, Function] = {}
    program: str = ""
    checks: list[Check] = Field(min_length=1)
    tags: list[str] = []
    limits: Optional[Limits] = None
    found: Optional[dict] = None  # conformance explore: {seed, versions, date} of the finding

    @field_validator("inputs", mode="before")
    @classmethod
    def _shorthand(cls, v):
        # `x: 3.0` is short for `x: {value: 3.0}`
        if isinstance(v, dict):
            return {k: x if isinstance(x, dict) else {"value": x} for k, x in v.items()}
        return v

    @field_validator("covers")
    @classmethod
    def _ids(cls, v):
        for item in v:
            if not re.fullmatch(r"S\d{3}-\d{2}", item):
                raise ValueError(f"{item!r} is not a catalogue ID like S000-04")
        return v


# ---- the loaded case ---------------------------------------------------------------------


@dataclass
class Case:
    """A validated case, its parsed program, and where it came from."""

    id: str
    title: str
    covers: list[str]
    source: str
    inputs: dict[str, Input]
    functions: dict[str, Function]
    program: tuple
    checks: list
    file: str
    line: int
    topic: str
    tags: list[str] = field(default_factory=list)
    check_ids: list[str] = field(default_factory=list)
    text: str = ""  # the program text, for reports and repro scripts
    limits: Optional[Limits] = None

    def timeout(self, default: float) -> float:
        """Seconds a framework worker may spend on this case: the run's limit, or the
        case's own if it raises it."""
        own = self.limits.seconds if self.limits else None
        return max(default, own) if own else default

    def memory_mb(self, default: int) -> int:
        own = self.limits.memory_mb if self.limits else None
        return max(default, own) if own else default

    def check(self, check_id: str):
        return self.checks[self.check_ids.index(check_id)]


@dataclass
class LoadResult:
    cases: list[Case]
    errors: list[CaseError]


def load_paths(paths) -> LoadResult:
    """Every case under ``paths`` (files or directories). Errors are collected per case: a
    broken case costs itself, not its file; a broken file costs itself, not the run."""
    cases, errors = [], []
    for file in case_files(paths):
        got = load_file(file)
        cases += got.cases
        errors += got.errors
    seen: dict[str, Case] = {}
    for case in cases:
        if case.id in seen:
            first = seen[case.id]
            errors.append(CaseError(case.file, case.line, "id",
                                    f"duplicate case id {case.id!r} "
                                    f"(first at {first.file}:{first.line})"))
        seen.setdefault(case.id, case)
    return LoadResult([c for c in cases if seen[c.id] is c], errors)


def case_files(paths) -> list[Path]:
    out = []
    for p in [Path(p) for p in (paths or ["cases"])]:
        if p.is_dir():
            out += sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml"))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")
    return out


def load_file(path) -> LoadResult:
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limits.MAX_FILE_BYTES:
            return LoadResult([], [CaseError(name, 1, "", f"the file has {size:,} bytes; a case "
                                             f"file is at most {limits.MAX_FILE_BYTES:,} "
                                             "(split it by topic)")])
        text = path.read_text(encoding="utf-8")
        data, lines = _load_yaml(text)
    except _YamlLimit as exc:
        field = ".".join(str(x) for x in exc.path[:6]) + ("..." if len(exc.path) > 6 else "")
        return LoadResult([], [CaseError(name, exc.line, field, exc.message)])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        last = max(1, len(text.splitlines()))  # a mark at the end of the text: its last line
        return LoadResult([], [CaseError(name, min(mark.line + 1, last) if mark else 1, "",
                                         f"invalid YAML: {problem}")])
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        return LoadResult([], [CaseError(name, line, "", f"not UTF-8 text: byte "
                                         f"{exc.object[exc.start]:#04x} at offset {exc.start}")])
    except OSError as exc:
        return LoadResult([], [CaseError(name, None, "", str(exc))])
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return LoadResult([], [CaseError(name, 1, "cases",
                                         "a case file is a mapping with a list `cases:`")])
    unknown = set(data) - {"cases", "topic"}
    if unknown:
        key = sorted(unknown)[0]
        return LoadResult([], [CaseError(name, lines.get((key,), 1), key,
                                         "unknown top-level key; expected `cases` (and "
                                         "optionally `topic`)")])
    topic = data.get("topic") or path.stem
    cases, errors = [], []
    for i, raw in enumerate(data["cases"]):
        try:
            cases.append(_build(raw, name, i, lines, topic))
        except CaseError as err:
            errors.append(err)
        except Exception as exc:  # a gap in validation: still one case's error, never a crash
            errors.append(CaseError(name, lines.get(("cases", i), 1), f"cases[{i}]",
                                    f"could not be validated ({type(exc).__name__}: {exc}); "
                                    "this is a bug in the harness, please report it"))
    return LoadResult(cases, errors)


def _build(raw, file: str, index: int, lines: dict, topic: str) -> Case:
    base = ("cases", index)
    line = lines.get(base, 1)
    try:
        model = CaseModel.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x in CHECK_TYPES
                                                   and _is_tag(err["loc"], x)))
        loc = _clean_loc(loc)
        return_line = _nearest_line(lines, base + loc, line)
        field = ".".join(str(x) for x in loc) or "case"
        raise CaseError(file, return_line, f"cases[{index}].{field}",
                        _message(err)) from None
    where = _Where(file, lines, base)
    try:
        program = ex.parse_program(model.program)
    except ex.ExpressionError as err:
        raise CaseError(file, where.block("program", err.line), "program", str(err)) from None
    checks = list(model.checks)
    check_ids = _check_ids(checks)
    case = Case(model.id, model.title, model.covers, model.source,
                {k: v for k, v in model.inputs.items()}, model.functions, program, checks,
                file, line, topic, model.tags, check_ids, model.program, model.limits)
    _validate_names(case, model, where)
    return case


def _is_tag(loc, x) -> bool:
    # pydantic puts the discriminator tag into the location after the list index
    i = loc.index(x)
    return i > 0 and isinstance(loc[i - 1], int) and loc[i - 2:i - 1] == ("checks",)


def _clean_loc(loc):
    # `inputs.x.Input.value` -> `inputs.x.value`; drop union member names
    return tuple(x for x in loc if not (isinstance(x, str) and (x[:1].isupper() or
                                                                  x.startswith("function-"))))


def _message(err) -> str:
    msg = err["msg"]
    if err["type"] == "missing":
        return "missing required field"
    if err["type"] == "extra_forbidden":
        return "unknown field (check its spelling)"
    return msg.removeprefix("Value error, ")


def _nearest_line(lines: dict, loc: tuple, default: int) -> int:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return default


@dataclass
class _Where:
    file: str
    lines: dict
    base: tuple

    def line(self, *loc) -> int:
        return _nearest_line(self.lines, self.base + loc, self.lines.get(self.base, 1))

    def block(self, *loc_and_offset) -> int:
        """The file line of line ``offset`` (1-based) inside a block scalar at ``loc``."""
        *loc, offset = loc_and_offset
        start = self.lines.get(self.base + tuple(loc) + ("<value>",))
        if start is None:
            return self.line(*loc)
        return start + offset - 1


def _check_ids(checks) -> list[str]:
    ids, seen = [], {}
    for c in checks:
        if c.id:
            base = c.id
        else:
            target = getattr(c, c.kind)
            if isinstance(target, list) and all(isinstance(t, str) for t in target):
                target = "-".join(target)
            base = f"{c.kind}" + (f"-{target}" if isinstance(target, str) else "")
            base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base)[:40]
        n = seen.get(base, 0)
        seen[base] = n + 1
        ids.append(base if n == 0 else f"{base}-{n + 1}")
    return ids


def _validate_names(case: Case, model: CaseModel, where: _Where) -> None:
    """Every name a program or check uses is an input, an earlier assignment, an op of the
    vocabulary or a function of the case."""
    known_fns = set(OPS) | set(HOST_EFFECTS) | set(case.functions) | {"range"}
    placeholders = {name for c in case.checks if c.kind == "static_graph"
                    for name in c.static_graph.placeholders}
    defined = set(case.inputs) | set(ex.assigned(case.program)) | {"step"} | placeholders
    for call in ex.calls_used(case.program):
        if call.fn not in known_fns:
            raise CaseError(case.file, where.block("program", call.line), "program",
                            f"unknown op {call.fn!r}; the vocabulary has: "
                            + ", ".join(sorted(OPS)))
        problem = _signature_problem(case, call)
        if problem:
            raise CaseError(case.file, where.block("program", call.line), "program", problem)
    for stmt in case.program:
        missing = ex.names_used(stmt) - defined
        if missing:
            raise CaseError(case.file, where.block("program", stmt.line), "program",
                            f"unknown input or name {sorted(missing)[0]!r}")
    _validate_inputs(case, where)
    program_loops = _static(case, case.program, lambda n: where.block("program", n), "program")
    state = {name for c in case.checks if c.kind == "checkpoint" for name in c.checkpoint.state}
    called: dict[str, set[str]] = {}  # function -> the case functions it calls
    for name, fn in case.functions.items():
        scope = set(fn.args) | set(case.inputs) | {"result", "grad"} | state
        texts = [("forward", fn.forward)] if fn.forward else []
        texts += [(f"backward[{i}]", b) for i, b in enumerate(fn.backwards)]
        codes = []
        for label, text in texts:
            try:
                node = ex.parse_expression(text)
            except ex.ExpressionError as err:
                raise CaseError(case.file, where.line("functions", name), f"functions.{name}."
                                f"{label.split('[')[0]}", str(err)) from None
            _known(case, node, scope, known_fns, where.line("functions", name),
                   f"functions.{name}.{label}")
            _static(case, node, lambda n: where.line("functions", name),
                    f"functions.{name}.{label}")
            codes.append(node)
        if fn.body:
            try:
                body = ex.parse_program(fn.body)
            except ex.ExpressionError as err:
                raise CaseError(case.file, where.block("functions", name, "body", err.line),
                                f"functions.{name}.body", str(err)) from None
            scope |= set(ex.assigned(body))
            _known(case, body, scope, known_fns, where.line("functions", name, "body"),
                   f"functions.{name}.body")
            _static(case, body, lambda n: where.block("functions", name, "body", n),
                    f"functions.{name}.body")
            codes.append(body)
        called[name] = {c.fn for c in ex.calls_used(codes) if c.fn in case.functions}
    _no_recursion(case, called, where)
    for i, check in enumerate(case.checks):
        _validate_check(case, check, i, defined, known_fns, where)
        _validate_expectations(case, check, i, where)
        if check.kind == "optimize":
            total = check.optimize.steps * program_loops
            if total > _cap(case, "loop_steps"):
                raise CaseError(case.file, where.line("checks", i, "optimize", "steps"),
                                f"checks[{i}].optimize.steps",
                                f"{check.optimize.steps:,} steps" + (
                                    f" of a program whose loops run {program_loops:,} times"
                                    if program_loops > 1 else "")
                                + f" exceed the limit of {_cap(case, 'loop_steps'):,} "
                                "iterations" + _RAISE.format("loop_steps"))


def _known(case, node, scope, fns, line, field):
    for call in ex.calls_used(node):
        if call.fn not in fns:
            raise CaseError(case.file, line, field, f"unknown op {call.fn!r}")
        problem = _signature_problem(case, call)
        if problem:
            raise CaseError(case.file, line, field, problem)
    missing = ex.names_used(node) - scope
    if missing:
        raise CaseError(case.file, line, field, f"unknown name {sorted(missing)[0]!r}")


def _signature_problem(case, call) -> str | None:
    """A call that does not fit its op's arity and attributes (or its function's arguments):
    found here rather than as a TypeError inside one framework."""
    if call.fn in case.functions:
        want = len(case.functions[call.fn].args)
        if len(call.args) != want or call.kwargs:
            return f"{call.fn}() takes {want} positional argument(s)"
        return None
    op = OPS.get(call.fn)
    if op is None:
        return None
    want = 1 if op.arity == -1 else op.arity
    if not want - op.optional <= len(call.args) <= want:
        what = "a list of tensors" if op.arity == -1 else f"{want} tensor argument(s)" + (
            f" (the last {op.optional} may be left out)" if op.optional else "")
        extra = (f", then keyword attributes: {', '.join(op.attributes)}" if op.attributes
                 else "")
        return f"{call.fn}() takes {what}{extra}; got {len(call.args)} positional"
    unknown = [k for k, _ in call.kwargs if k not in op.attributes]
    if unknown:
        return (f"{call.fn}() has no attribute {unknown[0]!r}"
                + (f"; it has {', '.join(op.attributes)}" if op.attributes else ""))
    return None


def _error_categories(value) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"error"}:
            return [value["error"]]
        return [c for v in value.values() for c in _error_categories(v)]
    if isinstance(value, list):
        return [c for v in value for c in _error_categories(v)]
    return []


def _validate_check(case, check, i, defined, fns, where):
    def fail(field, message):
        raise CaseError(case.file, where.line("checks", i, field), f"checks[{i}].{field}",
                        message)

    def need(field, names):
        for n in names:
            if n not in defined:
                fail(field, f"unknown input or name {n!r}")

    known = set(ERROR_CATEGORIES) | {"raised", "crashed"}
    decls = [d for ds in check.diverges.values() for d in (ds if isinstance(ds, list) else [ds])]
    for where_, value in [("expect", check.expect), ("claim", check.claim)] + [
            ("diverges", d.expect) for d in decls]:
        for category in _error_categories(value):
            if category not in known:
                fail(where_, f"unknown error category {category!r}; the categories are: "
                     + ", ".join(sorted(known)))

    kind = check.kind
    if kind == "value":
        try:
            node = ex.parse_expression(check.value)
        except ex.ExpressionError as err:
            fail("value", str(err))
        _known(case, node, defined, fns, where.line("checks", i, "value"), f"checks[{i}].value")
        _static(case, node, lambda n: where.line("checks", i, "value"), f"checks[{i}].value")
    elif kind == "while_loop":
        spec = check.while_loop
        scope = defined | set(spec.vars)
        for label, text in [("cond", spec.cond)] + [(f"body.{k}", v) for k, v in spec.body.items()]:
            field = f"while_loop.{label}"
            line = where.line("checks", i, "while_loop", *label.split("."))
            try:
                node = ex.parse_expression(text)
            except ex.ExpressionError as err:
                fail(field, str(err))
            _known(case, node, scope, fns, line, f"checks[{i}].{field}")
            _static(case, node, lambda n: line, f"checks[{i}].{field}")
        unknown = [k for k in spec.body if k not in spec.vars]
        if unknown:
            fail("while_loop", f"the body assigns {unknown[0]!r}, which is not one of `vars`")
        for name, value in spec.vars.items():
            _literal(case, value, where.line("checks", i, "while_loop", "vars", name),
                     f"checks[{i}].while_loop.vars.{name}")
    elif kind in ("grad", "backward_twice", "jvp", "jacobian"):
        target = getattr(check, kind)
        need(kind, target if isinstance(target, list) else [target])
        wrt = check.wrt
        need("wrt", [wrt] if isinstance(wrt, str) else list(wrt.values() if isinstance(
            wrt, dict) else wrt))
        if kind == "grad" and check.order > 1 and not isinstance(wrt, str) and len(wrt) != 1:
            fail("order", "higher orders take one `wrt`")
        if kind == "jvp" and len(check.tangents) != len(wrt):
            fail("tangents", f"one tangent per `wrt` name: {len(wrt)} name(s), "
                 f"{len(check.tangents)} tangent(s)")
        for field in ("weights", "tangents"):
            value = getattr(check, field, None)
            for j, item in enumerate([] if value is None else value if field == "tangents"
                                     else [value]):
                if item is not None:
                    _literal(case, item, where.line("checks", i, field),
                             f"checks[{i}].{field}" + (f"[{j}]" if field == "tangents" else ""))
    elif kind == "attributes":
        need("attributes", check.attributes)
        if check.backward:
            need("backward", [check.backward])
    elif kind == "optimize":
        spec = check.optimize
        need("optimize", [spec.loss] + spec.params + (spec.record or []))
    elif kind == "trace":
        if check.trace not in case.functions:
            fail("trace", f"unknown function {check.trace!r}")
        want = len(case.functions[check.trace].args)
        for j, call in enumerate(check.calls):
            if len(call) != want:
                fail("calls", f"calls[{j}] gives {len(call)} argument(s); {check.trace} takes "
                     f"{want}")
            for arg in call:
                if isinstance(arg, dict) and "tensor" in arg:
                    _literal(case, arg["tensor"], where.line("checks", i, "calls", j),
                             f"checks[{i}].calls[{j}]", arg.get("dtype"))
    elif kind == "checkpoint":
        if check.checkpoint.method not in case.functions:
            fail("checkpoint", f"unknown function {check.checkpoint.method!r}")
        for name, value in check.checkpoint.state.items():
            _literal(case, value, where.line("checks", i, "checkpoint", "state", name),
                     f"checks[{i}].checkpoint.state.{name}")
    elif kind == "static_graph":
        spec = check.static_graph
        for j, feed in enumerate(spec.feeds):
            for name, value in feed.items():
                if name not in spec.placeholders:
                    fail("static_graph", f"feeds[{j}] feeds {name!r}, which is not a placeholder")
                _literal(case, value, where.line("checks", i, "static_graph", "feeds", j),
                         f"checks[{i}].static_graph.feeds[{j}].{name}",
                         spec.placeholders[name].get("dtype"))
    if kind in ("grad", "watched"):
        need("tape", check.tape.watch)


# ---- limits and structure: what would hang, blow up, or never match ---------------------

_RAISE = " (a case that needs more says so: `limits: {{{}: N, reason: ...}}`)"


def _cap(case, what: str) -> int:
    default = limits.max_elements() if what == "elements" else limits.MAX_LOOP_STEPS
    own = getattr(case.limits, what, None) if case.limits else None
    return max(default, own) if own else default


class _NotATensor(ValueError):
    pass


def tensor_shape(value, dtype: Optional[str] = None) -> tuple[tuple, int]:
    """The shape and element count of a literal tensor: a scalar, or nested lists of one
    kind of scalar with every row as long as the others. Raises ``ValueError`` saying where
    it is ragged (``[[1.0, 2.0], [3.0]]``) or what does not belong."""
    kinds: set[str] = set()

    def shape(v, path):
        if isinstance(v, list):
            shapes = [shape(x, f"{path}[{i}]") for i, x in enumerate(v)]
            for i, s in enumerate(shapes):
                if s != shapes[0]:
                    raise _NotATensor(f"a ragged list: {path}[0] has shape {list(shapes[0])} but "
                                      f"{path}[{i}] has shape {list(s)}; every row of a tensor "
                                      "has the same length")
            return (len(v),) + (shapes[0] if shapes else ())
        if isinstance(v, bool):
            kinds.add("bool")
        elif isinstance(v, (int, float)):
            kinds.add("number")
        elif isinstance(v, (str, bytes)):
            kinds.add("string")
        else:
            what = "null" if v is None else "a mapping" if isinstance(v, dict) else \
                type(v).__name__
            raise _NotATensor(f"{path or 'the value'} is {what}, not a number, bool or string")
        if "string" in kinds and len(kinds) > 1:
            raise _NotATensor(f"{path or 'the value'} mixes strings with numbers")
        return ()

    dims = shape(value, "")
    count = 1
    for d in dims:
        count *= d
    return dims, count


def _literal(case, value, line, field, dtype=None, name=None):
    """A tensor written in the case (an input's value, weights, tangents, a feed): it must be
    rectangular, within the element limit, and convertible to its dtype. ``{tensor: v,
    dtype: d}`` is the tensor ``v``; another mapping is not a literal tensor (left alone)."""
    if isinstance(value, dict):
        if "tensor" not in value:
            return
        value, dtype = value["tensor"], value.get("dtype", dtype)
    try:
        _, count = tensor_shape(value)
    except _NotATensor as exc:
        raise CaseError(case.file, line, field, str(exc)) from None
    cap = _cap(case, "elements")
    if count > cap:
        raise CaseError(case.file, line, field, f"{count:,} elements; the limit is {cap:,}"
                        + _RAISE.format("elements"))
    if _is_text(value) and dtype not in (None, "string", "complex64", "complex128"):
        raise CaseError(case.file, line, field, f"a string is not a {dtype}")
    if dtype == "string" and not _is_text(value) and count:
        raise CaseError(case.file, line, field, "numbers are not a string tensor; quote them")
    try:
        array = to_array(value, dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise CaseError(case.file, line, field, f"not a {dtype or 'tensor'}: {exc}") from None
    if array.dtype == object and not _is_text(value):
        raise CaseError(case.file, line, field, "an integer beyond int64")


def _validate_inputs(case, where) -> None:
    cap = _cap(case, "elements")
    for name, spec in case.inputs.items():
        if spec.random:
            if any(d < 0 for d in spec.shape):
                raise CaseError(case.file, where.line("inputs", name, "shape"),
                                f"inputs.{name}.shape", f"a negative dimension in {spec.shape}")
            count = 1
            for d in spec.shape:
                count *= d
            if count > cap:
                raise CaseError(case.file, where.line("inputs", name, "shape"),
                                f"inputs.{name}.shape", f"{name} of shape {spec.shape} would "
                                f"have {count:,} elements; the limit is {cap:,}"
                                + _RAISE.format("elements"))
        elif spec.kind != "host":
            _literal(case, spec.value, where.line("inputs", name, "value"),
                     f"inputs.{name}.value", spec.dtype)


def _static(case, code, line_of, field) -> int:
    """What validation can see before anything runs: constants that would be huge, list
    literals used as tensors, shapes over the element limit, loops over the step limit.
    Returns the most iterations one run of ``code`` makes (nested loops multiply)."""
    try:
        ex.check_constants(code, limits.MAX_INT)
        ex.check_list_operands(code)
    except ex.ExpressionError as err:
        raise CaseError(case.file, line_of(err.line), field, str(err)) from None
    cap = _cap(case, "elements")
    for call in ex.calls_used(code):
        for key, value in call.kwargs:
            if key not in ("shape", "depth"):
                continue
            dims = value.items if isinstance(value, ex.ListOf) else (value,)
            sizes = [ex.constant_value(d) for d in dims]
            if any(s is None for s in sizes):
                continue
            count = 1
            for s in sizes:
                count *= max(int(s), 0)
            if count > cap:
                raise CaseError(case.file, line_of(call.line), field,
                                f"{call.fn}({key}={ex.render(value)}) asks for {count:,} "
                                f"elements; the limit is {cap:,}" + _RAISE.format("elements"))
    if isinstance(code, tuple):
        return _loops(case, code, line_of, field, 1)
    return 1


def _loops(case, statements, line_of, field, outer: int) -> int:
    worst = outer
    for s in statements:
        if not isinstance(s, ex.Loop):
            continue
        n = _loop_count(case, s.count)
        total = outer * max(n if n is not None else 1, 1)
        if total > _cap(case, "loop_steps"):
            runs = f"{n:,} times" + (f" inside loops, {total:,} iterations" if outer > 1 else "")
            raise CaseError(case.file, line_of(s.line), field,
                            f"this loop runs {runs}; the limit is "
                            f"{_cap(case, 'loop_steps'):,}" + _RAISE.format("loop_steps"))
        worst = max(worst, _loops(case, s.body, line_of, field, total))
    return worst


def _loop_count(case, node) -> Optional[int]:
    """The count of `range(...)` where validation can know it: a constant, an input that
    holds an integer, or an element of an input that holds a list of integers (the most)."""
    def ints(v):
        if isinstance(v, bool):
            return []
        if isinstance(v, int):
            return [v]
        if isinstance(v, list):
            return [x for item in v for x in ints(item)]
        return []

    if isinstance(node, ex.Name) and node.id in case.inputs:
        found = ints(case.inputs[node.id].value)
        return max(found) if found and not isinstance(case.inputs[node.id].value, list) \
            else None
    if isinstance(node, ex.Call) and node.fn == "getitem" and isinstance(node.args[0], ex.Name) \
            and node.args[0].id in case.inputs:
        found = ints(case.inputs[node.args[0].id].value)
        return max(found) if found else None
    value = ex.constant_value(node)
    return int(value) if value is not None and abs(value) < float("inf") else None


def _no_recursion(case, called: dict[str, set[str]], where) -> None:
    """Functions that call themselves, directly or through each other, never return (the
    language has no conditionals to stop them)."""
    def cycle(start):
        stack = [(start, [start])]
        seen = set()
        while stack:
            name, path = stack.pop()
            for callee in sorted(called.get(name, ())):
                if callee == start:
                    return path + [callee]
                if callee not in seen:
                    seen.add(callee)
                    stack.append((callee, path + [callee]))
        return None

    for name in case.functions:
        path = cycle(name)
        if path:
            how = "calls itself" if len(path) == 2 else "calls itself through " + \
                " -> ".join(path)
            raise CaseError(case.file, where.line("functions", name), f"functions.{name}",
                            f"{name} {how}: the case language has no conditionals, so "
                            "recursion never ends")


def _is_error(value) -> bool:
    return isinstance(value, dict) and set(value) == {"error"}


def _describe_value(value) -> str:
    if isinstance(value, dict):
        return "a mapping {" + ", ".join(map(str, list(value)[:4])) + ("...}" if len(value) > 4
                                                                       else "}")
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"the {type(value).__name__} {value!r}"[:80]


def _mapping_problem(value, allowed, what) -> Optional[str]:
    if not isinstance(value, dict):
        return f"{what} is a mapping; got {_describe_value(value)}"
    extra = [k for k in value if k not in allowed]
    if extra:
        return f"{extra[0]!r} is not among the keys of {what}: {', '.join(map(str, allowed))}"
    return None


def _list_problem(value, n, what) -> Optional[str]:
    if not isinstance(value, list):
        return f"{what} is a list of {n}; got {_describe_value(value)}"
    if len(value) != n:
        return f"{what} is a list of {n}; got {len(value)}"
    return None


def structure_problem(check, value) -> Optional[str]:
    """Why an expected value (``expect``, ``claim``, a divergence's ``expect``) can never
    match what the check observes, or None. An ``{error: ...}`` fits every check."""
    if value is ABSENT or _is_error(value):
        return None
    kind = check.kind
    if kind in ("grad", "backward_twice"):
        wrt = check.wrt
        if isinstance(wrt, str):
            return None
        if isinstance(wrt, dict):
            return _mapping_problem(value, list(wrt), "the gradients (`wrt` is a mapping)")
        problem = _list_problem(value, len(wrt), f"the gradient w.r.t. [{', '.join(wrt)}]")
        return problem and problem + " (one gradient per `wrt` name, null for none)"
    if kind in ("value", "jvp", "jacobian"):
        if isinstance(value, dict) and set(value) != {"bytes"}:
            return f"a {kind} check observes a value, not {_describe_value(value)}"
        return None
    if kind == "attributes":
        problem = _mapping_problem(value, check.attributes, "the attributes observation")
        if problem:
            return problem
        for name, fields in value.items():
            problem = _mapping_problem(fields, check.fields, f"the attributes of {name}")
            if problem:
                return problem
        return None
    if kind == "watched":
        return None if isinstance(value, list) else \
            f"the watched names are a list; got {_describe_value(value)}"
    if kind == "optimize":
        spec = check.optimize
        names = list(spec.record or (spec.params + [spec.loss]))
        problem = _mapping_problem(value, names + ["final"], "the trajectories")
        if problem is None and "final" in value:
            problem = _mapping_problem(value["final"], names, "final")
        return problem
    if kind == "trace":
        problem = _mapping_problem(value, ["outputs", "traced", "log", "appended", "distinct"],
                                   "the trace observation")
        for key in ("outputs", "traced"):
            if problem is None and key in value:
                problem = _list_problem(value[key], len(check.calls),
                                        f"{key} (one per call)")
        return problem
    if kind == "static_graph":
        return _list_problem(value, len(check.static_graph.feeds), "the fetches (one per feed)")
    if kind == "while_loop":
        return _mapping_problem(value, list(check.while_loop.vars), "the final variables")
    if kind == "checkpoint":
        spec = check.checkpoint
        problem = _mapping_problem(value, ["before", "after", "variables"],
                                   "the checkpoint observation")
        for key in ("before", "after"):
            if problem is None and key in value:
                problem = _list_problem(value[key], len(getattr(spec, key)),
                                        f"{key} (one per call)")
        return problem
    return None


def _validate_expectations(case, check, i, where) -> None:
    places = [("expect", check.expect, ("expect",)), ("claim", check.claim, ("claim",))]
    for backend, decls in check.diverges.items():
        for j, d in enumerate(decls if isinstance(decls, list) else [decls]):
            at = ("diverges", backend) + ((j,) if isinstance(decls, list) else ())
            places.append((".".join(map(str, at)) + ".expect", d.expect, at + ("expect",)))
    for label, value, loc in places:
        problem = structure_problem(check, value)
        if problem:
            raise CaseError(case.file, where.line("checks", i, *loc), f"checks[{i}].{label}",
                            f"cannot match this {check.kind} check: {problem}")


# ---- YAML with line numbers --------------------------------------------------------------


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _children(n) -> list:
    """A node's children with the key (or index) each sits under."""
    if isinstance(n, yaml.MappingNode):  # keys too: an alias may stand for a key
        out = []
        for k, v in n.value:
            label = k.value if isinstance(k, yaml.ScalarNode) else "?"
            out += [(label, k), (label, v)]
        return out
    if isinstance(n, yaml.SequenceNode):
        return list(enumerate(n.value))
    return []


def _check_expansion(root) -> None:
    """Measure what the composed graph expands to before building anything: each distinct
    node once (memoised), so an alias bomb is refused in time proportional to its text."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()

    def measure(n, at_line, path):
        key = id(n)
        if key in size:
            return
        if key in active:
            raise _YamlLimit(at_line, path, "an alias refers to a node that contains it (a "
                             "recursive anchor)")
        active.add(key)
        total, deepest = 1, 0
        for index, child in _children(n):
            measure(child, n.start_mark.line + 1, path + (index,))
            total += size[id(child)]
            deepest = max(deepest, depth[id(child)])
        active.discard(key)
        size[key], depth[key] = total, deepest + 1

    measure(root, 1, ())
    if size[id(root)] > limits.MAX_YAML_NODES:  # where the count passes the limit
        n, path, count, counted = root, (), 0, set()
        while True:
            for index, child in _children(n):
                if count + size[id(child)] <= limits.MAX_YAML_NODES:
                    count += size[id(child)]
                    counted.add(id(child))
                    continue
                if id(child) in counted or not _children(child):  # an alias used here
                    raise _YamlLimit(n.start_mark.line + 1, path, f"the YAML expands to more "
                                     f"than {limits.MAX_YAML_NODES:,} nodes (an alias `*a` "
                                     "repeats all that `&a` names); a case file stays far "
                                     "below that")
                n, path, count = child, path + (index,), count + 1
                break
    if depth[id(root)] > limits.MAX_YAML_DEPTH:
        n, path = root, ()
        for _ in range(limits.MAX_YAML_DEPTH):
            index, n = max(_children(n), key=lambda ic: depth[id(ic[1])])
            path += (index,)
        raise _YamlLimit(n.start_mark.line + 1, path, f"the YAML is nested deeper than "
                         f"{limits.MAX_YAML_DEPTH} levels")


class _YamlLimit(Exception):
    def __init__(self, line: int, path: tuple, message: str):
        super().__init__(message)
        self.line, self.path, self.message = line, path, message


def _load_yaml(text: str):
    """Parse YAML safely, returning the data and a map from path (keys and indices) to the
    1-based line where that value starts.

    The composed node graph is built into data here, one node at a time, with a budget: an
    alias repeats the node it names, so nine nested levels of ``&a [*a, *a, ...]`` stand
    for 10^9 nodes in a few hundred bytes. Past ``MAX_YAML_NODES`` (or ``MAX_YAML_DEPTH``
    levels, or an alias inside its own anchor) the file is refused with the line reached."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise _YamlLimit(1, (), f"the YAML is nested too deeply (the limit is "
                         f"{limits.MAX_YAML_DEPTH} levels)") from None
    lines: dict = {}
    if node is None:
        return None, lines
    _check_expansion(node)
    constructor = yaml.SafeLoader("")
    count = [0]
    active: set[int] = set()
    seen: set[int] = set()

    def build(n, path, site=1):
        count[0] += 1
        line = n.start_mark.line + 1
        if id(n) not in seen:  # an alias repeats a node built before: name where it is used
            seen.add(id(n))
            site = line
        if count[0] > limits.MAX_YAML_NODES:
            raise _YamlLimit(site, path, f"the YAML expands to more than "
                             f"{limits.MAX_YAML_NODES:,} nodes (an alias `*a` repeats all "
                             "that `&a` names); a case file stays far below that")
        if len(path) > limits.MAX_YAML_DEPTH:
            raise _YamlLimit(line, path, f"the YAML is nested deeper than "
                             f"{limits.MAX_YAML_DEPTH} levels")
        if id(n) in active:
            raise _YamlLimit(site, path, "an alias refers to a node that contains it (a "
                             "recursive anchor)")
        lines[path] = line
        if isinstance(n, (yaml.MappingNode, yaml.SequenceNode)) and n.tag not in _PLAIN_TAGS:
            tag = n.tag.replace("tag:yaml.org,2002:", "!!")
            raise _YamlLimit(line, path, f"the tag {tag} is not allowed: a case file is plain "
                             "YAML (mappings, lists, numbers, strings, booleans, null)")
        if isinstance(n, yaml.MappingNode):
            active.add(id(n))
            out = {}
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode):
                    raise _YamlLimit(k.start_mark.line + 1, path, "a mapping key must be a "
                                     "plain scalar (a name), not a list or a mapping")
                key = constructor.construct_object(k, deep=True)
                lines[path + (key,)] = k.start_mark.line + 1
                if isinstance(v, yaml.ScalarNode) and v.style in ("|", ">"):
                    lines[path + (key, "<value>")] = v.start_mark.line + 2
                out[key] = build(v, path + (key,), site)
                lines[path + (key,)] = k.start_mark.line + 1
            active.discard(id(n))
            return out
        if isinstance(n, yaml.SequenceNode):
            active.add(id(n))
            out = [build(v, path + (i,), site) for i, v in enumerate(n.value)]
            active.discard(id(n))
            return out
        return constructor.construct_object(n, deep=True)

    return build(node, ()), lines

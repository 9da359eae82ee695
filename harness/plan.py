"""A check's plan: what every framework must do for it, decided once, framework-neutral.

A dialect (``harness/dialects/``) renders a plan as a script in its framework's own spelling;
the worker runs that script. Every decision that is not about spelling lives here, once:
which names are inputs and how they are held, the structure of ``wrt`` and how results are
put back into it, which names a tape watches and when, the record schedule of an optimizer
loop, whether a program reads the host ``step``, the arrays of weights, tangents, call
arguments and feeds (in their dtypes), and what each check observes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness import expressions as ex
from harness.cases import Case, to_array


@dataclass(frozen=True)
class InputPlan:
    """An input of the program as every framework holds it."""

    name: str
    kind: str  # tensor | variable | host
    value: Any  # a NumPy array (host inputs: the Python value)
    track: bool
    trainable: bool
    random_source: str | None  # NumPy source that regenerates seeded data, or None

    @property
    def is_string(self) -> bool:
        return isinstance(self.value, np.ndarray) and self.value.dtype == object

    @property
    def dtype(self) -> str:
        return "string" if self.is_string else str(np.asarray(self.value).dtype)


@dataclass(frozen=True)
class FunctionPlan:
    """A function of the case: ``forward`` (an expression) with optional custom ``backward``
    rules (one per argument), or a ``body`` of statements ending in ``return``."""

    name: str
    args: tuple[str, ...]
    forward: ex.Node | None
    backward: tuple | None
    body: tuple | None


@dataclass(frozen=True)
class Targets:
    """``wrt`` as given: a name, a list of names or a dict of names. ``names`` is the flat
    list; ``pack`` puts one result per name back into the structure."""

    form: str  # name | list | dict
    names: tuple[str, ...]
    keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, wrt) -> "Targets":
        if isinstance(wrt, str):
            return cls("name", (wrt,))
        if isinstance(wrt, dict):
            return cls("dict", tuple(wrt.values()), tuple(wrt))
        return cls("list", tuple(wrt))

    def pack(self, items: list):
        """Results (values, or source texts) in the structure of ``wrt``."""
        if self.form == "name":
            return items[0]
        if self.form == "dict":
            return dict(zip(self.keys, items))
        return list(items)

    def source(self, items: list[str]) -> str:
        """The structure as Python source, around already rendered items."""
        if self.form == "name":
            return items[0]
        if self.form == "dict":
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.keys, items)) + "}"
        return "[" + ", ".join(items) + "]"


@dataclass(frozen=True)
class Arg:
    """A call argument: a tensor (``array``) or a plain Python value."""

    tensor: bool
    value: Any

    @classmethod
    def of(cls, raw) -> "Arg":
        if isinstance(raw, dict) and "tensor" in raw:
            return cls(True, to_array(raw["tensor"], raw.get("dtype")))
        return cls(False, raw)


@dataclass
class Plan:
    case: Case
    check: Any
    check_id: str
    kind: str
    inputs: dict[str, InputPlan]
    functions: dict[str, FunctionPlan]
    program: tuple
    uses_step: bool
    params: dict = field(default_factory=dict)  # the kind's own decisions, below

    def __getattr__(self, name):
        try:
            return self.__dict__["params"][name]
        except KeyError:
            raise AttributeError(name) from None

    # ---- names -----------------------------------------------------------------------

    @property
    def tensors(self) -> dict[str, InputPlan]:
        """Inputs that are framework values (not host values)."""
        return {n: i for n, i in self.inputs.items() if i.kind != "host"}

    @property
    def host_names(self) -> set[str]:
        return {n for n, i in self.inputs.items() if i.kind == "host"} | {"step"}

    def is_input(self, name: str) -> bool:
        return name in self.inputs

    def dtypes(self) -> set[str]:
        """Every dtype the check holds or casts to: its inputs, the arrays of its kind's
        params (weights, tangents, call arguments, feeds) and ``cast`` targets."""
        out = {i.dtype for i in self.inputs.values() if i.kind != "host"}
        stack = list(self.params.values())
        while stack:
            item = stack.pop()
            if isinstance(item, np.ndarray):
                out.add(str(item.dtype))
            elif isinstance(item, (list, tuple)):
                stack += item
            elif isinstance(item, dict):
                stack += item.values()
        nodes = list(self.program) + [n for f in self.functions.values()
                                      for n in (f.forward, *(f.backward or ()), *(f.body or ()))
                                      if n is not None]
        out |= {dict(c.kwargs)["dtype"].value for c in ex.calls_used(nodes) if c.fn == "cast"
                and isinstance(dict(c.kwargs).get("dtype"), ex.Const)}
        return out

    def calls(self) -> set[str]:
        """Every op and function name the program and the functions call."""
        nodes = list(self.program)
        for f in self.functions.values():
            nodes += [n for n in (f.forward,) + tuple(f.backward or ()) if n is not None]
            nodes += list(f.body or ())
        return {c.fn for n in nodes for c in ex.calls_used(n)}


def make_plan(case: Case, check, check_id: str | None = None) -> Plan:
    inputs = {}
    for name, spec in case.inputs.items():
        inputs[name] = InputPlan(name, spec.kind, spec.array(), bool(spec.track),
                                 spec.trainable, spec.numpy_source())
    functions = {}
    for name, fn in case.functions.items():
        functions[name] = FunctionPlan(
            name, tuple(fn.args),
            ex.parse_expression(fn.forward) if fn.forward is not None else None,
            tuple(ex.parse_expression(b) for b in fn.backwards) if fn.backward is not None
            else None,
            ex.parse_program(fn.body) if fn.body is not None else None)
    plan = Plan(case, check, check_id or check.kind, check.kind, inputs, functions,
                case.program, "step" in ex.names_used(case.program))
    plan.params = _KINDS.get(check.kind, lambda plan, c: {})(plan, check)
    return plan


# ---- each kind's decisions ------------------------------------------------------------------


def _array(value, dtype=None):
    return None if value is None else to_array(value, dtype)


def _watching(plan: Plan, tape) -> dict:
    """What a tape watches: tracked tensor inputs and the inputs named in ``tape.watch``
    (watched on entry), and the intermediates named there (watched right after their
    assignment, as ``u = tf.cast(x, ...); tape.watch(u)``)."""
    first = [n for n, i in plan.inputs.items() if i.kind == "tensor" and i.track]
    first += [n for n in tape.watch if n in plan.inputs and n not in first]
    late = tuple(n for n in tape.watch if n not in plan.inputs)
    return {"watch_inputs": tuple(first), "watch_late": late, "persistent": tape.persistent,
            "watch_accessed_variables": tape.watch_accessed_variables}


def _grad(plan, c):
    targets = tuple(c.grad) if isinstance(c.grad, list) else (c.grad,)
    return {"targets": targets, "several": isinstance(c.grad, list), "wrt": Targets.of(c.wrt),
            "weights": _array(c.weights), "order": c.order, "style": c.style,
            **_watching(plan, c.tape)}


def _jvp(plan, c):
    return {"target": c.jvp, "wrt": tuple(c.wrt), "mode": c.mode,
            "tangents": tuple(_array(t) for t in c.tangents)}


def _jacobian(plan, c):
    return {"target": c.jacobian, "wrt": c.wrt, "mode": c.mode}


def _backward_twice(plan, c):
    return {"target": c.backward_twice, "wrt": tuple(c.wrt), "retain_graph": c.retain_graph,
            "weights": _array(c.weights)}


def _attributes(plan, c):
    return {"names": tuple(c.attributes), "fields": tuple(c.fields), "backward": c.backward,
            "weights": _array(c.weights)}


def _watched(plan, c):
    return _watching(plan, c.tape)


def _optimize(plan, c):
    spec = c.optimize
    record = tuple(spec.record or list(spec.params) + [spec.loss])
    return {"loss": spec.loss, "opt_params": tuple(spec.params), "optimizer": spec.optimizer,
            "steps": spec.steps, "record_every": spec.record_every, "record": record,
            "fast_path": spec.fast_path}


def _trace(plan, c):
    return {"function": c.trace, "call_args": tuple(tuple(Arg.of(a) for a in call)
                                                    for call in c.calls),
            "signature": c.signature, "staged": c.staged}


def _static_graph(plan, c):
    spec = c.static_graph
    placeholders = {}
    for name, p in spec.placeholders.items():
        dtype = p.get("dtype")
        if dtype is None:
            known = plan.inputs.get(name)
            dtype = "string" if known is not None and known.is_string else "float32"
        placeholders[name] = (dtype, p.get("shape"))
    feeds = tuple({k: to_array(v, None if placeholders[k][0] == "string" else
                               placeholders[k][0]) for k, v in feed.items()}
                  for feed in spec.feeds)
    fetch = (spec.fetch,) if isinstance(spec.fetch, str) else tuple(spec.fetch)
    return {"placeholders": placeholders, "fetch": fetch,
            "fetch_list": isinstance(spec.fetch, list), "feeds": feeds}


def _while_loop(plan, c):
    spec = c.while_loop
    return {"vars": {k: Arg.of(v if isinstance(v, dict) else {"tensor": v})
                     for k, v in spec.vars.items()},
            "cond": ex.parse_expression(spec.cond),
            "body": {k: ex.parse_expression(v) for k, v in spec.body.items()},
            "graph": spec.graph}


def _checkpoint(plan, c):
    spec = c.checkpoint
    return {"state": {k: Arg.of(v if isinstance(v, dict) else {"tensor": v})
                      for k, v in spec.state.items()},
            "method": spec.method, "style": spec.style,
            "before": tuple(tuple(Arg.of(a) for a in call) for call in spec.before),
            "after": tuple(tuple(Arg.of(a) for a in call) for call in spec.after)}


_KINDS = {"grad": _grad, "jvp": _jvp, "jacobian": _jacobian,
          "backward_twice": _backward_twice, "attributes": _attributes, "watched": _watched,
          "optimize": _optimize, "trace": _trace, "static_graph": _static_graph,
          "while_loop": _while_loop, "checkpoint": _checkpoint}


def record_steps(steps: int, every: int) -> list[int]:
    """The steps an optimize check records before: 0, K, 2K, ... and, after the loop, the
    final step (its params and their loss)."""
    return list(range(0, steps, every)) + [steps]

"""What a backend is: a thin adapter from the case language to one framework.

A backend module (``harness/backends/<framework>.py``) defines a subclass of ``Backend``
with:
- ``OPS``: the vocabulary (``harness.vocabulary.OPS``) mapped to the framework's own ops;
  ``LACKS``: ops it cannot express, with the reason.
- ``ERRORS``: ``(regex on "Type: message", category)`` pairs that normalise the framework's
  exceptions into the categories cases expect (``graph_freed``, ``non_scalar_output``, ...).
- the tensor boundary: ``constant`` (NumPy in) and ``to_numpy`` (NumPy out).
- ``custom_function``: the framework's custom-gradient construct.
- one method per check kind it supports (``value``, ``grad``, ...). Each receives the
  ``Program`` (the shared interpreter bound to this backend) and the check model, and returns
  the observation as native values, lists and dicts (the harness converts them to NumPy).
  A check kind a framework has no notion of goes in ``ABSENT`` with the reason (or, where it
  depends on the check, the method raises ``NotApplicable``): it is reported as ``n/a``,
  never as a failure.

The framework is imported inside the backend module only, and only by the worker process
that runs it. Shared logic (interpretation, comparison, verdicts) never lives here.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from harness.values import ErrorValue, encode, first_lines


class NotApplicable(Exception):
    """The backend has no notion of what the check asks (reported as ``n/a``)."""


# Error categories cases may expect (``expect: {error: graph_freed}``).
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


class Backend:
    framework: str = ""
    modes: tuple[str, ...] = ("eager",)  # the first one is the default column
    OPS: dict[str, Callable] = {}
    LACKS: dict[str, str] = {}
    ERRORS: list[tuple[str, str]] = []
    ABSENT: dict[str, str] = {}  # check kinds the framework has no notion of, and why

    def __init__(self, mode: str | None = None):
        self.mode = mode or self.modes[0]
        if self.mode not in self.modes:
            raise ValueError(f"{self.framework} has no mode {self.mode!r}")

    @property
    def column(self) -> str:
        return self.framework if self.mode == self.modes[0] else f"{self.framework}[{self.mode}]"

    @classmethod
    def version(cls) -> str:
        raise NotImplementedError

    # ---- the tensor boundary -------------------------------------------------------

    def constant(self, array, dtype=None) -> Any:
        """A NumPy array (or object array of bytes) as a framework constant."""
        raise NotImplementedError

    def to_numpy(self, value) -> Any:
        """A framework value as NumPy (bytes for a string scalar, None stays None)."""
        raise NotImplementedError

    def custom_function(self, name: str, nargs: int, forward: Callable,
                        backward: Callable) -> Callable:
        """A callable on native tensors with a custom gradient: ``forward(*xs) -> y`` and
        ``backward(xs, y, grad) -> tuple of one gradient per x`` (both written with this
        backend's ops through the interpreter). The node should carry ``name`` where the
        framework names nodes (a torch.autograd.Function subclass named ``name``)."""
        raise NotApplicable(f"{self.framework} has no custom gradients")

    # ---- check kinds (see harness.cases for each check's fields) -------------------------

    def value(self, program, check):
        raise NotApplicable("no forward values")

    def grad(self, program, check):
        raise NotApplicable("no reverse-mode gradients")

    def jvp(self, program, check):
        raise NotApplicable("no Jacobian-vector products")

    def jacobian(self, program, check):
        raise NotApplicable("no Jacobians")

    def backward_twice(self, program, check):
        raise NotApplicable(f"{self.framework} keeps no graph between gradient calls")

    def attributes(self, program, check):
        raise NotApplicable(f"{self.framework} tensors have no leaf/requires_grad/grad_fn")

    def watched(self, program, check):
        raise NotApplicable(f"{self.framework} has no gradient tape")

    def optimize(self, program, check):
        raise NotApplicable("no optimizers")

    def trace(self, program, check):
        raise NotApplicable(f"{self.framework} has no tracer in mode {self.mode}")

    def static_graph(self, program, check):
        raise NotApplicable(f"{self.framework} has no define-then-run graphs")

    def while_loop(self, program, check):
        raise NotApplicable("no loop op")

    def checkpoint(self, program, check):
        raise NotApplicable(f"{self.framework} has no module checkpoints")

    # ---- errors --------------------------------------------------------------------

    def classify(self, exc: BaseException) -> str:
        """The normalised category of a framework exception ("raised" when none fits)."""
        text = f"{type(exc).__name__}: {exc}"
        for pattern, category in self.ERRORS:
            if re.search(pattern, text, re.S):
                return category
        return "raised"

    def error_value(self, exc: BaseException) -> ErrorValue:
        """An exception as an observation: its category, type and first lines."""
        return ErrorValue(self.classify(exc), type(exc).__name__, first_lines(exc))

    # ---- shared by the trace check of every backend --------------------------------

    def trace_observation(self, program, outputs: list, traced: list[bool],
                          appended: list[str]) -> dict:
        """What a trace check observes: each call's output (read now, as NumPy: a returned
        Variable changes on later calls) or its error, whether it traced, the effects, and
        how many distinct outputs the calls gave."""
        observed = [program.observe(o) for o in outputs]
        distinct = {repr(encode(o)) for o in observed if not isinstance(o, ErrorValue)}
        return {"outputs": observed, "traced": list(traced), "log": list(program.log),
                "appended": list(appended), "distinct": len(distinct)}

    # ---- repro scripts -------------------------------------------------------------

    def repro(self, case, check) -> str | None:
        """A standalone script in the framework's own API reproducing the check, or None."""
        return None


def capabilities(backend_cls) -> list[str]:
    """The check kinds a backend class implements (overrides of the base methods that its
    ``ABSENT`` table does not rule out)."""
    from harness.cases import CHECK_TYPES
    return [k for k in CHECK_TYPES if k not in backend_cls.ABSENT
            and getattr(backend_cls, k) is not getattr(Backend, k)]

"""Graphs: recorded programs of engine calls, built symbolically (TF1) or by tracing.

A Graph is a list of calls -- (function, arguments, outputs) -- wired together by
tensor identity. Under ``Graph().as_default()`` every op returns a symbolic tensor
and runs later in a Session (define-then-run). ``tracing.function`` records into a
Graph while the Python function runs eagerly, and replays the calls afterwards.
Replaying calls the same engine functions, so a replay is differentiable like any
eager computation.
"""
import contextlib

from . import tensor as T
from .nest import flatten
from .ops import clone
from .tensor import Tensor, as_array, recorded

VARIABLE_ON_RETRACE = ("tf.function only supports singleton tf.Variables created on the first call. "
                       "Make sure the tf.Variable is only created once or created outside tf.function.")


def _tensors(structure):
    return [t for t in flatten(structure) if isinstance(t, Tensor)]


def _resolve(structure, env):
    """``structure`` with each tensor the graph computed replaced by its value in ``env``."""
    if isinstance(structure, Tensor):
        return env.get(id(structure), structure)
    if isinstance(structure, (list, tuple)):
        return type(structure)(_resolve(s, env) for s in structure)
    if isinstance(structure, dict):
        return {k: _resolve(v, env) for k, v in structure.items()}
    return structure


class Graph:
    """A recorded program. symbolic=True: calls are deferred (TF1); False: run and recorded (tracing)."""

    def __init__(self, symbolic=True):
        self.symbolic = symbolic
        self.calls = []          # (fn, args, kwargs, output tensors), in program order
        self.placeholders = {}   # id -> (placeholder, dtype)
        self.variables = []      # Variables created while this graph was the default
        self.forbid_variables = False

    @contextlib.contextmanager
    def as_default(self):
        previous, T._graph = T._graph, self
        try:
            yield self
        finally:
            T._graph = previous

    def capture(self, fn, args, kwargs):
        """Record one call. Symbolic: return placeholders for its outputs. Tracing: run it
        (with recording paused, so the call stays one unit) and return what it returns."""
        if self.symbolic:
            count = getattr(fn, "symbolic_outputs", None)
            out = Tensor._wrap(None) if count is None else [Tensor._wrap(None) for _ in range(count(*args, **kwargs))]
        else:
            T._graph = None
            try:
                out = fn(*args, **kwargs)
            finally:
                T._graph = self
        self.calls.append((fn, args, kwargs, _tensors(out)))
        return out

    def created(self, variable):
        if self.forbid_variables:
            raise ValueError(VARIABLE_ON_RETRACE)
        self.variables.append(variable)

    def run(self, fetches, feeds=(), prune=True):
        """Compute ``fetches``, the placeholders (or traced inputs) taking values from ``feeds``.
        prune=True runs only the calls the fetches depend on (TF1's Session.run)."""
        env = {id(k): v for k, v in dict(feeds).items()}
        for fn, args, kwargs, outs in self._needed(fetches) if prune else self.calls:
            result = fn(*_resolve(args, env), **_resolve(kwargs, env))
            env.update(zip(map(id, outs), _tensors(result)))
        return _resolve(fetches, env)

    def _needed(self, fetches):
        want, keep = {id(t) for t in _tensors(fetches)}, []
        for call in reversed(self.calls):
            if any(id(t) in want for t in call[3]):
                keep.append(call)
                want.update(id(t) for t in _tensors(call[:3]))
        return keep[::-1]


def placeholder(dtype, shape=None, name=None):
    """A graph input, given a value by Session.run's feed_dict."""
    graph = T._graph
    if graph is None or not graph.symbolic:
        raise RuntimeError("placeholder() needs a graph: use `with Graph().as_default():`")
    p = Tensor._wrap(None)
    graph.placeholders[id(p)] = (p, dtype)
    return p


class Session:
    """Runs a Graph (tf.compat.v1.Session). Results come back as NumPy values."""

    def __init__(self, graph=None):
        self.graph = graph

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        pass

    def run(self, fetches, feed_dict=None):
        if self.graph is None:  # eager tensors: nothing to compute
            return _numpy(fetches)
        feeds = {p: Tensor(as_array(v, self.graph.placeholders[id(p)][1])) for p, v in (feed_dict or {}).items()}
        return _numpy(self.graph.run(fetches, feeds))


def _numpy(structure):
    if isinstance(structure, Tensor):
        return structure.data[()] if structure.data.ndim == 0 else structure.data
    if isinstance(structure, (list, tuple)):
        return type(structure)(_numpy(s) for s in structure)
    if isinstance(structure, dict):
        return {k: _numpy(v) for k, v in structure.items()}
    return structure


@recorded
def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (tf.while_loop).
    In a graph: one node, looping when the graph runs. Eagerly: just the loop."""
    values = [clone(v) if isinstance(v, Tensor) else v for v in loop_vars]  # body may update in place
    steps = 0
    while bool(cond(*values)) and (maximum_iterations is None or steps < maximum_iterations):
        out = body(*values)
        values, steps = list(out) if isinstance(out, (list, tuple)) else [out], steps + 1
    return values


while_loop.symbolic_outputs = lambda cond, body, loop_vars, **kw: len(loop_vars)


@recorded
def print_(*values, sep=" ", end="\n"):
    """Print when run -- also on every replay of a traced function (tf.print), unlike print."""
    print(*[v.data if isinstance(v, Tensor) else v for v in values], sep=sep, end=end)


print_.symbolic_outputs = lambda *values, **kw: 0

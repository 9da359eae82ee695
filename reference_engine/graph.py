"""Graphs: recorded programs of engine calls, built symbolically (TF1) or by tracing.

A Graph is a list of calls -- (function, arguments, outputs) -- wired together by
tensor identity. Under ``Graph().as_default()`` every op returns a symbolic tensor
and runs later in a Session (define-then-run). ``tracing.function`` records into a
Graph while the Python function runs eagerly, and replays the calls afterwards.
Replaying calls the same engine functions, so a replay is differentiable like any
eager computation.
"""
import collections
import contextlib

from . import engine
from .engine import Tensor, as_array, recorded
from .nest import flatten
from .ops import clone

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
    if isinstance(structure, _Subgraph):
        return structure.bind(env)
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
        previous, engine._graph = engine._graph, self
        try:
            yield self
        finally:
            engine._graph = previous

    def capture(self, fn, args, kwargs):
        """Record one call. Symbolic: return placeholders for its outputs. Tracing: run it
        (with recording paused, so the call stays one unit) and return what it returns."""
        if self.symbolic:
            count = getattr(fn, "symbolic_outputs", None)
            out = Tensor._wrap(None) if count is None else [Tensor._wrap(None) for _ in range(count(*args, **kwargs))]
        else:
            engine._graph = None
            try:
                out = fn(*args, **kwargs)
            finally:
                engine._graph = self
        self.calls.append((fn, args, kwargs, _tensors(out)))
        return out

    def created(self, variable):
        if self.forbid_variables:
            raise ValueError(VARIABLE_ON_RETRACE)
        self.variables.append(variable)

    def run(self, fetches, feeds=(), prune=True, outer=None):
        """Compute ``fetches``, the placeholders (or traced inputs) taking values from ``feeds``.
        prune=True runs only the calls the fetches depend on (TF1's Session.run).
        ``outer``: the values of an enclosing graph, for a sub-graph's captured tensors."""
        env = {id(k): v for k, v in dict(feeds).items()}
        env = env if outer is None else collections.ChainMap(env, outer)
        for fn, args, kwargs, outs in self._needed(fetches) if prune else self.calls:
            result = fn(*_resolve(args, env), **_resolve(kwargs, env))
            env.update(zip(map(id, outs), _tensors(result)))
        return _resolve(fetches, env)

    def _needed(self, fetches):
        want, keep = {id(t) for t in _tensors(fetches)}, []
        for call in reversed(self.calls):
            if any(id(t) in want for t in call[3]):
                keep.append(call)
                for x in flatten(call[:3]):
                    want.update(id(t) for t in (x.captured if isinstance(x, _Subgraph) else [x]))
        return keep[::-1]


class _Subgraph:
    """A while_loop's cond or body inside a graph: built once on placeholders, then run on each
    iteration against the enclosing graph's values -- so tensors it closes over follow them."""

    def __init__(self, fn, n):
        self.graph = Graph()
        with self.graph.as_default():
            self.inputs = [placeholder(None) for _ in range(n)]
            self.output = fn(*self.inputs)
        inside = {id(t) for t in self.inputs} | {id(t) for call in self.graph.calls for t in call[3]}
        self.captured = [t for call in self.graph.calls for t in _tensors(call[:3]) if id(t) not in inside]

    def bind(self, env):
        return lambda *values: self.graph.run(self.output, zip(self.inputs, values), prune=False, outer=env)

    def __call__(self, *values):
        return self.bind(None)(*values)


def placeholder(dtype, shape=None, name=None):
    """A graph input, given a value by Session.run's feed_dict."""
    graph = engine._graph
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


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (tf.while_loop).
    Eagerly: just the loop. In a graph (or a traced function): cond and body become sub-graphs
    and the loop one recorded call, so it loops when the graph runs, as often as its inputs say."""
    if engine._graph is not None:
        cond, body = _Subgraph(cond, len(loop_vars)), _Subgraph(body, len(loop_vars))
    return _loop(cond, body, list(loop_vars), maximum_iterations)


@recorded
def _loop(cond, body, loop_vars, maximum_iterations):
    values = [clone(v) if isinstance(v, Tensor) else v for v in loop_vars]  # body may update in place
    steps = 0
    while bool(cond(*values)) and (maximum_iterations is None or steps < maximum_iterations):
        out = body(*values)
        values, steps = list(out) if isinstance(out, (list, tuple)) else [out], steps + 1
    return values


_loop.symbolic_outputs = lambda cond, body, loop_vars, maximum_iterations: len(loop_vars)


@recorded
def print_(*values, sep=" ", end="\n"):
    """Print when run -- also on every replay of a traced function (tf.print), unlike print."""
    print(*[_shown(v) for v in values], sep=sep, end=end)


def _shown(v):
    if not isinstance(v, Tensor):
        return v
    value = v.data.item() if v.data.ndim == 0 else v.data
    return value.decode() if isinstance(value, bytes) else value


print_.symbolic_outputs = lambda *values, **kw: 0

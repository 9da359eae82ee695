"""Traced functions (tf.function): trace once per input signature, then replay the graph.

The first call with a new signature runs the Python function eagerly while a Graph
records every engine call. Later calls with that signature replay the recorded calls
on the new inputs -- Python code in the function (print, list.append, np.random)
ran only while tracing; engine calls (ops, print_, assign, random_normal) run every time.
"""
import functools

import numpy as np

from .engine import Tensor, as_array, recorded
from .graph import Graph, _tensors
from .nest import flatten
from .tape import Variable


class TensorSpec:
    """The dtype and shape an argument must have (None: any size on that axis)."""

    def __init__(self, shape=None, dtype="float32", name=None):
        self.shape = None if shape is None else tuple(shape)
        self.dtype, self.name = np.dtype(dtype), name

    def conform(self, x):
        if not isinstance(x, Tensor):  # a Python value converts if it can do so without losing its kind
            arr = as_array(x)
            if not np.can_cast(arr.dtype, self.dtype, "same_kind"):
                raise TypeError(f"{x!r} does not match {self}")
            x = Tensor(arr.astype(self.dtype))
        if x.data.dtype != self.dtype:
            raise TypeError(f"{x!r} does not match {self}")
        if self.shape is not None and (x.ndim != len(self.shape) or
                                       any(s is not None and s != n for s, n in zip(self.shape, x.shape))):
            raise ValueError(f"{x!r} does not match {self}")
        return x

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name})"


def _signature(x):
    """What decides whether a call can reuse a trace: tensors by dtype and shape,
    Python values by value, other objects (and variables) by identity."""
    if isinstance(x, Variable):
        return ("variable", id(x))
    if isinstance(x, Tensor):
        return ("tensor", x.data.dtype, x.data.shape)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__,) + tuple(_signature(v) for v in x)
    if isinstance(x, dict):
        return ("dict",) + tuple((k, _signature(v)) for k, v in sorted(x.items()))
    try:
        hash(x)
        return ("value", type(x), x)
    except TypeError:
        return ("object", id(x))


class Trace:
    """One concrete function: a recorded graph, its input tensors and its result structure."""

    def __init__(self, graph, inputs, result, keep):
        self.graph, self.inputs, self.result, self.keep = graph, inputs, result, keep  # keep: ids stay unique

    def replay(self, args):
        return self.graph.run(self.result, zip(self.inputs, _tensors(args)), prune=False)


class TracedFunction:
    def __init__(self, fn, input_signature=None):
        functools.update_wrapper(self, fn)
        self.python_function = fn
        self.input_signature = None if input_signature is None else list(input_signature)
        self.trace_count = 0
        self._traces = {}

    def experimental_get_tracing_count(self):
        return self.trace_count

    def __get__(self, instance, owner=None):  # decorating a method: bind like a function would
        return self if instance is None else _Bound(self, instance)

    def __call__(self, *args, **kwargs):
        return self._call(None, args, kwargs)

    @recorded  # called inside another trace, the inner function is one call of the outer graph
    def _call(self, instance, args, kwargs):
        if self.input_signature is not None:
            if kwargs or len(args) != len(self.input_signature):
                raise TypeError(f"input_signature expects {len(self.input_signature)} arguments: "
                                f"{self.input_signature}")
            args = tuple(spec.conform(a) for spec, a in zip(self.input_signature, args))
        key = (_signature(instance), _signature(args), _signature(kwargs))
        trace = self._traces.get(key)
        if trace is not None:
            return trace.replay((args, kwargs))
        first = not self._traces
        trace = self._trace(instance, args, kwargs, forbid_variables=not first)
        if first and trace.graph.variables:
            self._check_singletons(instance, args, kwargs, trace)
        self._traces[key] = trace
        self.trace_count += 1
        return trace.result

    def _trace(self, instance, args, kwargs, forbid_variables):
        graph = Graph(symbolic=False)
        graph.forbid_variables = forbid_variables
        call_args = args if instance is None else (instance,) + args
        with graph.as_default():
            result = self.python_function(*call_args, **kwargs)
        return Trace(graph, _tensors((args, kwargs)), result, (instance, args, kwargs))

    def _check_singletons(self, instance, args, kwargs, trace):
        """As tf.function does, trace a second time where creating a Variable is an error:
        a function that makes a new Variable on every call cannot be replayed faithfully.
        Variables touched by the first trace get their values back afterwards."""
        touched = trace.graph.variables + [v for call in trace.graph.calls for v in flatten(call[1:3])
                                           if isinstance(v, Variable)]
        saved = [(v, v.data.copy()) for v in touched]
        try:
            self._trace(instance, args, kwargs, forbid_variables=True)
        finally:
            for v, data in saved:
                v.data = data


class _Bound:
    """A traced method bound to its instance (traces are keyed by the instance too)."""

    def __init__(self, function, instance):
        self.function, self.instance = function, instance

    def __call__(self, *args, **kwargs):
        return self.function._call(self.instance, args, kwargs)

    def __getattr__(self, name):
        return getattr(self.function, name)


def function(fn=None, input_signature=None, **options):
    """Decorator: ``@function`` or ``@function(input_signature=[TensorSpec(...)])``.
    Other tf.function options (autograph, jit_compile, ...) are accepted and ignored."""
    if fn is None:
        return lambda f: TracedFunction(f, input_signature)
    return TracedFunction(fn, input_signature)

"""The one interpreter of case programs, shared by every backend.

``Program`` evaluates a case's statements through a backend's op table: the backend decides
what a tensor is (a ``torch.Tensor`` with ``requires_grad``, a ``tf.Variable``, a traced JAX
array); the interpreter decides what the program means. Backends call ``run`` inside their
own autodiff constructs (a tape, a ``jax.vjp`` closure, a traced function).
"""

from __future__ import annotations

import numpy as np

from harness import expressions as ex
from harness.cases import Case, to_array
from harness.values import ErrorValue


class Program:
    def __init__(self, case: Case, backend):
        self.case = case
        self.backend = backend
        self.inputs = case.inputs
        self.arrays = {name: spec.array() for name, spec in case.inputs.items()}
        self.log: list = []  # effect("...") messages
        self.appended: list = []  # outer_append(x) values
        self.host_rng = np.random.default_rng(0)
        self._functions: dict = {}
        self._globals: dict = {}

    # ---- running --------------------------------------------------------------------

    def run(self, env: dict, overrides: dict | None = None, statements=None) -> dict:
        """Run the program on ``env`` (input name -> native value; host inputs may be left
        out). ``overrides`` replace inputs or assignments by name: JAX splits a program at
        an intermediate this way. Returns the environment after the last statement."""
        env = dict(env)
        for name, value in self.arrays.items():
            if name not in env and self.inputs[name].kind == "host":
                env[name] = value
        overrides = overrides or {}
        env.update({k: v for k, v in overrides.items() if k in self.inputs})
        self._exec(self.case.program if statements is None else statements, env, overrides)
        return env

    def _exec(self, statements, env, overrides):
        for s in statements:
            if isinstance(s, ex.Assign):
                env[s.target] = overrides[s.target] if s.target in overrides \
                    else self.eval(s.value, env)
            elif isinstance(s, ex.Do):
                self.eval(s.value, env)
            elif isinstance(s, ex.Loop):
                for _ in range(int(self._host(self.eval(s.count, env)))):
                    self._exec(s.body, env, overrides)
            elif isinstance(s, ex.Return):
                env["<return>"] = self.eval(s.value, env)
                return

    def evaluate(self, text: str, env: dict):
        return self.eval(ex.parse_expression(text), env)

    def eval(self, node, env):
        if isinstance(node, ex.Const):
            return self._index(node.value, env) if isinstance(node.value, (tuple, ex.Name)) \
                else node.value
        if isinstance(node, ex.Name):
            return env[node.id]
        if isinstance(node, ex.ListOf):
            return [self.eval(x, env) for x in node.items]
        args = [self.eval(a, env) for a in node.args]
        kwargs = {k: self.eval(v, env) for k, v in node.kwargs}
        return self.call(node.fn, args, kwargs)

    def call(self, fn: str, args, kwargs):
        if fn in self.case.functions:
            return self.function(fn)(*args)
        if fn == "effect":
            self.log.append(args[0] if args else "")
            return None
        if fn == "outer_append":
            self.appended.append(args[0])
            return None
        if fn == "host_random_normal":
            shape = tuple(kwargs.get("shape", ()))
            return self.backend.constant(self.host_rng.standard_normal(shape).astype("float32"))
        op = self.backend.OPS.get(fn)
        if op is None:
            from harness.backends.base import NotApplicable
            raise NotApplicable(f"{self.backend.framework} has no op {fn!r}: "
                                + self.backend.LACKS.get(fn, "not mapped"))
        return op(*args, **kwargs)

    def _index(self, index, env):
        if isinstance(index, ex.Name):
            return int(self._host(env[index.id]))
        if isinstance(index, tuple):
            return tuple(self._index(i, env) for i in index)
        return index

    def _host(self, value):
        return value if isinstance(value, (int, np.integer)) else self.backend.to_numpy(value)

    # ---- the case's functions ------------------------------------------------------

    def function(self, name: str):
        """A case function as a callable on natives: a plain one evaluates its forward or
        body; one with a custom ``backward`` goes through the backend's custom-gradient
        construct (torch.autograd.Function, tf.custom_gradient, jax.custom_vjp, ...)."""
        if name not in self._functions:
            spec = self.case.functions[name]
            if spec.forward is not None:
                node = ex.parse_expression(spec.forward)

                def forward(*args):
                    return self.eval(node, self._scope(spec.args, args))
            else:
                body = ex.parse_program(spec.body)

                def forward(*args):
                    env = self._scope(spec.args, args)
                    self._exec(body, env, {})
                    return env.get("<return>")
            fn = forward
            if spec.backward is not None:
                rules = [ex.parse_expression(b) for b in spec.backwards]

                def backward(args, result, grad):
                    env = self._scope(spec.args, args)
                    env.update(result=result, grad=grad)
                    return tuple(self.eval(rule, env) for rule in rules)
                fn = self.backend.custom_function(name, len(spec.args), forward, backward)
            self._functions[name] = fn
        return self._functions[name]

    def _scope(self, names, args) -> dict:
        return _Scope(self, zip(names, args))

    def global_value(self, name: str):
        """A name a function body reads besides its arguments: what the backend bound (its
        variables, a module's state), else the case's input as a constant, made when first
        read (a string input the body never reads costs nothing)."""
        if name not in self._globals:
            if name not in self.arrays:
                raise KeyError(name)
            value = self.arrays[name]
            self._globals[name] = value if self.inputs[name].kind == "host" \
                else self.backend.constant(value)
        return self._globals[name]

    def bind_globals(self, env: dict) -> None:
        """Bind the names function bodies read: a backend's variables, a module's state."""
        self._globals.update(env)

    # ---- values at the boundary --------------------------------------------------------

    def array(self, value, dtype=None) -> np.ndarray:
        """A YAML value (weights, tangents) as NumPy, in ``dtype`` if given (strings stay)."""
        array = to_array(value)
        return array.astype(dtype) if dtype is not None and array.dtype != object else array

    def observe(self, value):
        """A backend's result as plain data: NumPy arrays, bytes, None, lists and dicts."""
        if value is None or isinstance(value, (bool, int, float, str, bytes, np.ndarray,
                                               np.generic, ErrorValue)):
            return np.asarray(value) if isinstance(value, (int, float, np.generic)) \
                and not isinstance(value, bool) else value
        if isinstance(value, dict):
            return {k: self.observe(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.observe(v) for v in value]
        return self.backend.to_numpy(value)



class _Scope(dict):
    """A function's variables: its arguments, then (looked up when read) the globals."""

    def __init__(self, program: Program, items):
        super().__init__(items)
        self.program = program

    def __missing__(self, name):
        value = self.program.global_value(name)
        self[name] = value
        return value

"""The reference backend: this project's NumPy engine, the oracle of every case.

The engine speaks both dialects the seed documents teach, so this backend picks per check:
gradients go through its ``GradientTape`` (TensorFlow's rules: ``None`` for what is not
watched or not connected) unless a check asks for a PyTorch spelling (``style``), and graph
lifetime, leaf flags and hooks use its PyTorch-style tensors.
"""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np

import reference_engine as E
from harness.backends.base import Backend

_NAMES = {"clip": "clamp", "mse": "mse_loss", "max": "amax"}


def _op(name):
    return getattr(E, _NAMES.get(name, name))


def _getitem(x, index):
    return x[index]


def _clip(x, min=None, max=None):
    return E.clamp(x, min=min, max=max)


def _cast(x, dtype):
    return E.cast(x, dtype)


def _assign(method):
    def op(v, x):
        getattr(v, method)(x)
        return v
    return op


def _where(c, a, b):
    return E.where(c, a, b)


_SPECIAL = {
    "getitem": _getitem, "clip": _clip, "cast": _cast, "where": _where,
    "assign_add": _assign("assign_add"), "assign_sub": _assign("assign_sub"),
    "new_variable": lambda x: E.Variable(x),
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "eq": lambda a, b: E.eq(a, b) if hasattr(E, "eq") else a == b,
    "ne": lambda a, b: E.ne(a, b) if hasattr(E, "ne") else a != b,
    "add": lambda a, b: a + b if isinstance(a, E.Tensor) else E.add(a, b),
    "sub": lambda a, b: a - b if isinstance(a, E.Tensor) else E.sub(a, b),
    "mul": lambda a, b: a * b if isinstance(a, E.Tensor) else E.mul(a, b),
    "div": lambda a, b: a / b if isinstance(a, E.Tensor) else E.div(a, b),
    "pow": lambda a, b: a ** b if isinstance(a, E.Tensor) else E.pow(a, b),
    "matmul": lambda a, b: E.matmul(a, b), "neg": lambda a: -a,
}


def _table():
    from harness.vocabulary import OPS
    ops, lacks = {}, {}
    for name in OPS:
        if name in _SPECIAL:
            ops[name] = _SPECIAL[name]
        elif hasattr(E, _NAMES.get(name, name)):
            ops[name] = _op(name)
        else:
            lacks[name] = "not in the reference engine"
    return ops, lacks


class ReferenceBackend(Backend):
    framework = "reference"
    modes = ("eager",)
    OPS, LACKS = _table()
    ERRORS = [
        (r"backward through the graph a second time", "graph_freed"),
        (r"non-persistent GradientTape", "graph_freed"),
        (r"implicitly created only for scalar outputs", "non_scalar_output"),
        (r"appears to not have been used in the graph", "unused_input"),
        (r"does not require grad|does not have a grad_fn", "not_differentiable"),
        (r"only Tensors of floating point", "integer_grad"),
        (r"singleton .*Variables|Variable.*(first call|later trace)", "variable_in_trace"),
        (r"input_signature|does not match TensorSpec", "signature_mismatch"),
    ]

    @classmethod
    def version(cls) -> str:
        return getattr(E, "__version__", "0.1.0")

    # ---- boundary ------------------------------------------------------------------

    def constant(self, array, dtype=None):
        return E.tensor(array, dtype=dtype)

    def to_numpy(self, value):
        if value is None:
            return None
        data = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        if isinstance(data, np.ndarray) and data.dtype == object and data.ndim == 0:
            return data.item()
        return data

    def custom_function(self, name, nargs, forward, backward):
        def fwd(ctx, *xs):
            ctx.save_for_backward(*xs)
            with E.no_grad():
                out = forward(*xs)
            ctx.result = out
            return out

        def bwd(ctx, grad):
            grads = backward(ctx.saved_tensors, ctx.result, grad)
            return grads if nargs > 1 else grads[0]

        fn = type(name, (E.autograd.Function,), {"forward": staticmethod(fwd),
                                                  "backward": staticmethod(bwd)})
        return fn.apply

    # ---- inputs ----------------------------------------------------------------------

    def _torch_inputs(self, program):
        """PyTorch-style: tensors, ``requires_grad`` where tracked."""
        env = {}
        for name, spec in program.inputs.items():
            if spec.kind == "host":
                continue
            array = program.arrays[name]
            track = bool(spec.track) and array.dtype.kind == "f"
            env[name] = E.tensor(array, requires_grad=track)
        return env

    def _tape_inputs(self, program):
        """TensorFlow-style: Variables for variables, constants otherwise."""
        env = {}
        for name, spec in program.inputs.items():
            if spec.kind == "host":
                continue
            array = program.arrays[name]
            if spec.kind == "variable":
                env[name] = E.Variable(array, trainable=spec.trainable)
            else:
                env[name] = E.constant(array)
        return env

    def _watch(self, tape, program, check, env):
        names = [n for n, s in program.inputs.items() if s.kind == "tensor" and s.track]
        names += [n for n in check.tape.watch if n not in names and n in env]
        for n in names:
            tape.watch(env[n])

    # ---- checks ----------------------------------------------------------------------

    def value(self, program, check):
        env = program.run(self._torch_inputs(program))
        return program.evaluate(check.value, env)

    def grad(self, program, check):
        if check.style in (None, "tape"):
            return self._tape_grad(program, check)
        return self._torch_grad(program, check)

    def _weights(self, program, check, target):
        if check.weights is None:
            return None
        return E.tensor(program.array(check.weights, target.numpy().dtype))

    def _tape_grad(self, program, check):
        env = self._tape_inputs(program)
        tapes = []
        for _ in range(check.order):
            tape = E.GradientTape(persistent=check.tape.persistent or check.order > 1,
                                  watch_accessed_variables=check.tape.watch_accessed_variables)
            tape.__enter__()
            self._watch(tape, program, check, env)
            tapes.append(tape)
        # intermediates named in tape.watch (a tf.cast result) are watched as they appear
        late = [n for n in check.tape.watch if n not in env]
        if late:
            env = self._run_watching(program, env, late, tapes)
        else:
            env = program.run(env)
        targets = _targets(env, check.grad)
        sources = _structure(check.wrt, env)
        result = None
        for i, tape in enumerate(reversed(tapes)):
            tape.__exit__(None, None, None)
            if i == 0:
                weights = self._weights(program, check, targets[0])
                result = tape.gradient(targets if len(targets) > 1 else targets[0], sources,
                                       output_gradients=weights)
            else:
                result = tape.gradient(result, sources)
        return result

    def _run_watching(self, program, env, late, tapes):
        from harness import expressions as ex
        for stmt in program.case.program:
            program._exec((stmt,), env, {})
            if isinstance(stmt, ex.Assign) and stmt.target in late:
                for tape in tapes:
                    tape.watch(env[stmt.target])
        return env

    def _torch_grad(self, program, check):
        env = program.run(self._torch_inputs(program))
        targets = _targets(env, check.grad)
        names = [check.wrt] if isinstance(check.wrt, str) else (
            list(check.wrt.values()) if isinstance(check.wrt, dict) else list(check.wrt))
        inputs = [env[n] for n in names]
        weights = self._weights(program, check, targets[0])
        style = check.style
        if style == "autograd" or check.order > 1:
            grads = E.autograd.grad(targets, inputs,
                                    grad_outputs=None if weights is None else [weights] *
                                    len(targets), create_graph=check.order > 1)
            for _ in range(check.order - 1):
                grads = E.autograd.grad(list(grads), inputs, create_graph=True)
            return _restructure(check.wrt, list(grads))
        seen = {}
        if style == "hooks":
            for n, t in zip(names, inputs):
                t.register_hook(lambda g, n=n: seen.__setitem__(n, g))
        else:
            for t in inputs:
                if not t.is_leaf:
                    t.retain_grad()
        E.autograd.backward(targets, grad_tensors=None if weights is None else
                            [weights] * len(targets))
        grads = [seen.get(n) for n in names] if style == "hooks" else [t.grad for t in inputs]
        return _restructure(check.wrt, grads)

    def jvp(self, program, check):
        env = program.run(self._torch_inputs(program))
        primals = [env[n].numpy() for n in check.wrt]
        tangents = [program.array(t, p.dtype) for t, p in zip(check.tangents, primals)]
        if check.mode == "forward":
            _, out = E.jvp(self._function_of(program, check.jvp, check.wrt),
                           [E.tensor(p) for p in primals], [E.tensor(t) for t in tangents])
            return out
        jac = [self._reverse_jacobian(program, check.jvp, n) for n in check.wrt]
        return sum(np.tensordot(j, t, axes=t.ndim) for j, t in zip(jac, tangents))

    def jacobian(self, program, check):
        if check.mode == "reverse":
            return self._reverse_jacobian(program, check.jacobian, check.wrt)
        env = program.run(self._torch_inputs(program))
        x = env[check.wrt].numpy()
        f = self._function_of(program, check.jacobian, [check.wrt])
        columns = []
        for i in range(x.size):
            basis = np.zeros(x.size, x.dtype)
            basis[i] = 1
            _, t = E.jvp(f, [E.tensor(x)], [E.tensor(basis.reshape(x.shape))])
            columns.append(t.numpy())
        out = np.stack(columns, axis=-1)
        return out.reshape(out.shape[:-1] + x.shape)

    def _function_of(self, program, target, wrt):
        base = self._torch_inputs(program)

        def f(*xs):
            return program.run(base, overrides=dict(zip(wrt, xs)))[target]
        return f

    def _reverse_jacobian(self, program, target, wrt):
        env = program.run(self._torch_inputs(program))
        x = env[wrt].numpy()
        f = self._function_of(program, target, [wrt])
        rows = []
        out_shape = None
        probe = E.tensor(x, requires_grad=True)
        y = f(probe)
        out_shape = y.shape
        for i in range(int(np.prod(out_shape))):
            probe = E.tensor(x, requires_grad=True)
            y = f(probe)
            w = np.zeros(int(np.prod(out_shape)), y.numpy().dtype)
            w[i] = 1
            (g,) = E.autograd.grad([y], [probe], grad_outputs=[E.tensor(w.reshape(out_shape))],
                                   allow_unused=True)
            rows.append(np.zeros_like(x) if g is None else g.numpy())
        return np.stack(rows).reshape(tuple(out_shape) + x.shape)

    def backward_twice(self, program, check):
        env = program.run(self._torch_inputs(program))
        out = env[check.backward_twice]
        weights = self._weights(program, check, out)
        out.backward(gradient=weights, retain_graph=check.retain_graph)
        out.backward(gradient=weights, retain_graph=check.retain_graph)
        return [env[n].grad for n in check.wrt]

    def attributes(self, program, check):
        env = program.run(self._torch_inputs(program))
        if check.backward:
            out = env[check.backward]
            out.backward(gradient=self._weights(program, check, out))
        result = {}
        for name in check.attributes:
            t = env[name]
            fields = {}
            for f in check.fields:
                if f == "grad_fn":
                    node = t.grad_fn
                    fields[f] = None if node is None else re.sub(r"\d+$", "", _node_name(node))
                else:
                    fields[f] = getattr(t, f)
            result[name] = fields
        return result

    def watched(self, program, check):
        env = self._tape_inputs(program)
        with E.GradientTape(persistent=check.tape.persistent,
                            watch_accessed_variables=check.tape.watch_accessed_variables) as tape:
            self._watch(tape, program, check, env)
            program.run(env)
        watched = {id(v) for v in tape.watched_variables()}
        return sorted(n for n, v in env.items() if id(v) in watched)

    def optimize(self, program, check):
        spec = check.optimize
        o = spec.optimizer
        tape_style = o.style in ("apply_gradients", "minimize")
        env = self._tape_inputs(program) if tape_style else self._torch_inputs(program)
        for n in spec.params:
            env[n] = (E.Variable(program.arrays[n]) if tape_style
                      else E.tensor(program.arrays[n], requires_grad=True))
        params = [env[n] for n in spec.params]
        if o.name == "sgd":
            opt = E.optim.SGD(params, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov,
                              weight_decay=o.weight_decay)
        elif o.name == "adam":
            opt = E.optim.Adam(params, lr=o.lr, betas=tuple(o.betas),
                               eps=1e-8 if o.eps is None else o.eps,
                               weight_decay=o.weight_decay)
        else:
            opt = None
        record = spec.record or (spec.params + [spec.loss])
        trajectory = {n: [] for n in record}

        def snapshot(state):
            for n in record:
                trajectory[n].append(np.array(state[n].numpy()))

        for step in range(spec.steps):
            if step % spec.record_every == 0:
                with E.no_grad():
                    snapshot(program.run(dict(env, step=step)))
            if opt is None:  # manual: p -= lr * grad, outside the graph (x.data.sub_)
                loss = program.run(dict(env, step=step))[spec.loss]
                grads = E.autograd.grad([loss], params)
                for p, g in zip(params, grads):
                    p.data = p.data - o.lr * g.data
            elif o.style == "minimize":
                opt.minimize(lambda: program.run(dict(env, step=step))[spec.loss], params)
            elif o.style == "apply_gradients":
                with E.GradientTape() as tape:
                    loss = program.run(dict(env, step=step))[spec.loss]
                opt.apply_gradients(zip(tape.gradient(loss, params), params))
            else:
                opt.zero_grad()
                program.run(dict(env, step=step))[spec.loss].backward()
                opt.step()
        with E.no_grad():
            snapshot(program.run(dict(env, step=spec.steps)))
        return trajectory

    def trace(self, program, check):
        fn = program.function(check.trace)
        env = self._tape_inputs(program)
        program.bind_globals(env)
        count = {"n": 0}

        def counted(*args):
            count["n"] += 1
            return fn(*args)
        if check.staged:
            signature = None
            if check.signature:
                signature = [E.TensorSpec(shape=s.get("shape"), dtype=s.get("dtype", "float32"))
                             for s in check.signature]
            call = E.function(counted, input_signature=signature)
        else:
            call = counted
        outputs, traced, symbolic = [], [], []
        for args in check.calls:
            before, appended = count["n"], len(program.appended)
            try:  # read the value now: a returned Variable changes on later calls
                outputs.append(self._copy(call(*[self._arg(a) for a in args])))
            except Exception as exc:
                outputs.append(self.error_value(exc))
            traced.append(count["n"] > before)
            # the engine traces by running eagerly inside a recording graph: what the body
            # appended while a staged call traced belongs to that graph, as TF's symbolic
            # tensors do, and is not the call's concrete value
            symbolic += [check.staged and traced[-1]] * (len(program.appended) - appended)
        return self.trace_observation(program, outputs, traced,
                                      ["symbolic" if s else "concrete" for s in symbolic])

    def _arg(self, arg):
        if isinstance(arg, dict) and "tensor" in arg:
            from harness.cases import to_array
            return E.constant(to_array(arg["tensor"], arg.get("dtype")))
        return arg

    def static_graph(self, program, check):
        spec = check.static_graph
        graph = E.Graph()
        with graph.as_default():
            env = {}
            for name, ph in spec.placeholders.items():
                dtype = ph.get("dtype", "float32")
                env[name] = E.placeholder(E.string if dtype == "string" else dtype,
                                          shape=ph.get("shape"), name=name)
            for name, s in program.inputs.items():
                if s.kind != "host":
                    env[name] = E.constant(program.arrays[name])
            env = program.run(env)
            fetches = [program.evaluate(f, env) for f in _list(spec.fetch)]
        results = []
        with E.Session(graph) as sess:
            for feed in spec.feeds:
                from harness.cases import to_array
                out = sess.run(fetches, feed_dict={env[k]: to_array(v) for k, v in feed.items()})
                results.append(out if isinstance(spec.fetch, list) else out[0])
        return results

    def while_loop(self, program, check):
        spec = check.while_loop
        names = list(spec.vars)
        from harness import expressions as ex

        cond_node = ex.parse_expression(spec.cond)
        body_nodes = {n: ex.parse_expression(spec.body[n]) for n in names}

        def cond(*vs):
            return program.eval(cond_node, dict(zip(names, vs)))

        def body(*vs):
            env = dict(zip(names, vs))
            return [program.eval(body_nodes[n], env) if n in body_nodes else env[n]
                    for n in names]
        from harness.cases import to_array
        init = [E.constant(to_array(spec.vars[n])) for n in names]
        if spec.graph:
            graph = E.Graph()
            with graph.as_default():
                out = E.while_loop(cond, body, init)
            with E.Session(graph) as sess:
                values = sess.run(list(out))
        else:
            values = E.while_loop(cond, body, init)
        return dict(zip(names, values))

    def checkpoint(self, program, check):
        spec = check.checkpoint
        fn = program.function(spec.method)

        def build(state):
            module = E.Module()
            for name, value in state.items():
                setattr(module, name, E.Variable(value))
            return module

        module = build(spec.state)
        program.bind_globals({n: getattr(module, n) for n in spec.state})
        before = [self._copy(fn(*[self._arg(a) for a in args])) for args in spec.before]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "module")
            module.save(path)
            fresh = build({n: 0.0 for n in spec.state})
            fresh.load(path)
        program.bind_globals({n: getattr(fresh, n) for n in spec.state})
        after = [self._copy(fn(*[self._arg(a) for a in args])) for args in spec.after]
        return {"before": before, "after": after, "variables": sorted(spec.state)}

    def _copy(self, value):
        if value is None:
            return None
        value = self.to_numpy(value)
        return value if isinstance(value, bytes) else np.array(value)


# ---- helpers shared by the checks above ------------------------------------------------


def _node_name(node) -> str:
    name = getattr(node, "name", None)
    if callable(name):
        return name()
    return type(node).__name__


def _list(x):
    return x if isinstance(x, list) else [x]


def _targets(env, grad):
    return [env[n] for n in _list(grad)]


def _structure(wrt, env):
    if isinstance(wrt, str):
        return env[wrt]
    if isinstance(wrt, dict):
        return {k: env[v] for k, v in wrt.items()}
    return [env[n] for n in wrt]


def _restructure(wrt, grads):
    if isinstance(wrt, str):
        return grads[0]
    if isinstance(wrt, dict):
        return dict(zip(wrt, grads))
    return grads


BACKEND = ReferenceBackend

"""The TensorFlow backend: tapes, tf.function, ForwardAccumulator, Keras optimizers,
tf.compat.v1 graphs and SavedModel, behind the harness's check kinds.

Two columns: ``tensorflow`` (eager) and ``tensorflow[function]`` (the work of a check runs
inside one ``tf.function``: the program, its tape and the gradient calls; Variables are
captured, every other input is an argument). Functions are staged with ``autograph=False``:
the case program is interpreted Python, and AutoGraph would try to convert the interpreter
itself; the program's own loops are host loops (``for _ in range(n)``), unrolled at trace
time, exactly as AutoGraph leaves a Python ``range`` loop.
"""

from __future__ import annotations

import shutil
import tempfile

import numpy as np
import tensorflow as tf
import tensorflow.experimental.numpy as tnp

from harness import expressions as ex
from harness.backends.base import Backend, NotApplicable
from harness.repro import SourceWriter, Untranslatable
from harness.values import ErrorValue


# ---- ops ----------------------------------------------------------------------------------


def _is_tensor(x) -> bool:
    return isinstance(x, (tf.Tensor, tf.Variable))


def _pair(a, b):
    """Python scalars take the dtype of the tensor beside them (TF's weak typing for ops
    that, unlike the operators, do not convert their second argument themselves)."""
    if _is_tensor(a) and not _is_tensor(b) and b is not None:
        b = tf.convert_to_tensor(b, dtype_hint=a.dtype)
    elif _is_tensor(b) and not _is_tensor(a) and a is not None:
        a = tf.convert_to_tensor(a, dtype_hint=b.dtype)
    return a, b


def _clip(x, min=None, max=None):
    # tf.clip_by_value keeps its own gradient at the bounds; a missing bound is the dtype's
    x = tf.convert_to_tensor(x)
    lo = x.dtype.min if min is None else min
    hi = x.dtype.max if max is None else max
    return tf.clip_by_value(x, tf.cast(lo, x.dtype), tf.cast(hi, x.dtype))


def _where(cond, a, b):
    a, b = _pair(a, b)
    return tf.where(cond, a, b)


def _assign_add(v, x):
    v.assign_add(x)
    return v


def _assign_sub(v, x):
    v.assign_sub(x)
    return v


def _matmul(a, b):
    a, b = _pair(a, b)
    a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
    if len(a.shape) >= 2 and len(b.shape) >= 2:
        return tf.linalg.matmul(a, b)
    # tf.matmul needs rank >= 2; TF's NumPy API gives `@` its vector meaning
    return tnp.matmul(a, b)


def _mse(a, b, reduction="mean"):
    sq = tf.square(a - b)
    return tf.reduce_sum(sq) if reduction == "sum" else tf.reduce_mean(sq)


def _cast(x, dtype=None):
    return tf.cast(x, tf.as_dtype(dtype))


def _binary(fn):
    def op(a, b):
        return fn(*_pair(a, b))
    return op


OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": _matmul,
    "neg": lambda a: -a,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": _binary(tf.math.equal),
    "ne": _binary(tf.math.not_equal),
    "exp": tf.math.exp,
    "log": tf.math.log,
    "sqrt": tf.math.sqrt,
    "square": tf.math.square,
    "abs": tf.math.abs,
    "sin": tf.math.sin,
    "cos": tf.math.cos,
    "tanh": tf.math.tanh,
    "sigmoid": tf.math.sigmoid,
    "relu": tf.nn.relu,
    "softplus": tf.math.softplus,
    "maximum": _binary(tf.math.maximum),
    "minimum": _binary(tf.math.minimum),
    "clip": _clip,
    "where": _where,
    "sum": lambda x, axis=None, keepdims=False: tf.reduce_sum(x, axis=axis, keepdims=keepdims),
    "mean": lambda x, axis=None, keepdims=False: tf.reduce_mean(x, axis=axis,
                                                                keepdims=keepdims),
    "max": lambda x, axis=None, keepdims=False: tf.reduce_max(x, axis=axis, keepdims=keepdims),
    "transpose": lambda x, axes=None: tf.transpose(x, perm=axes),
    "reshape": lambda x, shape=None: tf.reshape(x, shape),
    "getitem": lambda x, index: x[index],  # a tensor, or a host list by a host int
    "concat": lambda xs, axis=0: tf.concat(xs, axis=axis),
    "stack": lambda xs, axis=0: tf.stack(xs, axis=axis),
    "softmax": lambda x, axis=-1: tf.nn.softmax(x, axis=axis),
    "log_softmax": lambda x, axis=-1: tf.nn.log_softmax(x, axis=axis),
    "one_hot": lambda x, depth=None: tf.one_hot(x, depth, dtype=tf.float32),
    "cast": _cast,
    "ones_like": tf.ones_like,
    "zeros_like": tf.zeros_like,
    "mse": _mse,
    "string_join": lambda xs, separator="": tf.strings.join(xs, separator=separator),
    "assign_add": _assign_add,
    "assign_sub": _assign_sub,
    "new_variable": lambda x: tf.Variable(x),
    "random_normal": lambda shape=(): tf.random.normal(shape),
}


# ---- helpers --------------------------------------------------------------------------------


def _names(wrt) -> list[str]:
    if isinstance(wrt, str):
        return [wrt]
    return list(wrt.values()) if isinstance(wrt, dict) else list(wrt)


def _structure(wrt, fn):
    """``fn`` over the names of ``wrt``, kept in its structure (a name, a list, a dict)."""
    if isinstance(wrt, str):
        return fn(wrt)
    if isinstance(wrt, dict):
        return {k: fn(v) for k, v in wrt.items()}
    return [fn(n) for n in wrt]


class TensorFlowBackend(Backend):
    framework = "tensorflow"
    modes = ("eager", "function")
    OPS = OPS
    LACKS: dict = {}
    ERRORS = [
        (r"non-persistent GradientTape can only be used to compute one set", "graph_freed"),
        (r"GradientTape\.gradient can only be called once", "graph_freed"),
        (r"Binding inputs to tf\.function failed", "signature_mismatch"),
        (r"incompatible with input_signature|input_signature.*(mismatch|incompatible)",
         "signature_mismatch"),
        (r"Can not cast TensorSpec", "signature_mismatch"),
        (r"tf\.function only supports singleton tf\.Variables created on the first call",
         "variable_in_trace"),
        (r"tried to create variables on non-first call", "variable_in_trace"),
        (r"OperatorNotAllowedInGraphError", "tracer_leak"),
        (r"SymbolicTensor' object has no attribute 'numpy'", "tracer_leak"),
        (r"out of scope and cannot be used here", "tracer_leak"),
        (r"Attempting to capture an EagerTensor without building a function", "tracer_leak"),
        (r"passed a \"Graph\" tensor|is being passed a .*Graph.* tensor", "tracer_leak"),
        (r"^(InvalidArgumentError|UnimplementedError)", "invalid_argument"),
    ]

    @classmethod
    def version(cls) -> str:
        return tf.__version__

    # ---- the tensor boundary ---------------------------------------------------------

    def constant(self, array, dtype=None):
        if dtype is not None:
            dtype = tf.string if dtype == "string" else tf.as_dtype(dtype)
            return tf.constant(array, dtype=dtype)
        if isinstance(array, np.ndarray) and array.dtype == object:
            return tf.constant(array, dtype=tf.string)
        if isinstance(array, (bytes, str)):
            return tf.constant(array, dtype=tf.string)
        if not isinstance(array, (np.ndarray, np.generic)):
            array = np.asarray(array)
            if array.dtype == np.float64:
                array = array.astype(np.float32)  # a Python float is float32 in TF
        return tf.constant(array)

    def to_numpy(self, value):
        if value is None or isinstance(value, (ErrorValue, bytes)):
            return value
        if isinstance(value, (tf.Tensor, tf.Variable)):
            out = value.numpy()  # a symbolic tensor raises here, as TF does
            return out if isinstance(out, (bytes, np.ndarray)) else np.asarray(out)
        out = np.asarray(value)
        return out.item() if out.dtype == object and out.ndim == 0 else out

    def custom_function(self, name, nargs, forward, backward):
        @tf.custom_gradient
        def fn(*xs):
            with tf.name_scope(name):
                y = forward(*xs)

            def grad_fn(dy, variables=None):
                gs = tuple(g if g is None or _is_tensor(g) else tf.zeros_like(x) + g
                           for g, x in zip(backward(xs, y, dy), xs))
                gs = gs[0] if nargs == 1 else gs
                if variables:
                    # TF's rule: a function that reads Variables must give their gradients
                    # too; the case's backward has none for them (as a torch Function,
                    # whose forward runs without recording, gives none)
                    return gs, [None] * len(variables)
                return gs

            return y, grad_fn

        fn.__name__ = name
        return fn

    # ---- inputs and staging ------------------------------------------------------------

    def _inputs(self, program, variables=()) -> dict:
        """Input name -> a tf.Variable (kind variable, and the names in ``variables``) or a
        tf.constant (kind tensor). Host inputs are left to the interpreter."""
        env = {}
        for name, spec in program.inputs.items():
            if spec.kind == "host":
                continue
            array = program.arrays[name]
            if spec.kind == "variable" or name in variables:
                env[name] = tf.Variable(array, trainable=spec.trainable if spec.kind ==
                                        "variable" else True, name=name)
            else:
                env[name] = self.constant(array)
        return env

    def _staged(self, program, fn, env):
        """``fn(env)`` eagerly, or inside one tf.function with the Variables captured and the
        other inputs as arguments."""
        if self.mode == "eager":
            program.bind_globals(env)
            return fn(env)
        variables = {k: v for k, v in env.items() if isinstance(v, tf.Variable)}
        tensors = {k: v for k, v in env.items() if k not in variables}

        def staged(args):
            inner = {**variables, **args}
            program.bind_globals(inner)
            return fn(inner)

        return tf.function(staged, autograph=False)(tensors)

    @staticmethod
    def _source(name, env, out):
        return env[name] if name in env else out[name]

    @staticmethod
    def _watch(tape, program, env, names):
        for name, spec in program.inputs.items():
            if spec.kind == "tensor" and spec.track and name in env:
                tape.watch(env[name])
        for name in names:
            if name in env:
                tape.watch(env[name])

    @staticmethod
    def _run_watching(program, env, tapes, names):
        """Run the program; a name of ``names`` that the program assigns is watched by every
        tape right after its assignment (``u = tf.cast(x, ...); tape.watch(u)``)."""
        names = set(names) - set(env)
        if not names:
            return program.run(env)
        out = env
        for statement in program.case.program:
            out = program.run(out, statements=(statement,))
            assigned = [statement.target] if isinstance(statement, ex.Assign) else \
                ex.assigned([statement]) if isinstance(statement, ex.Loop) else []
            for name in assigned:
                if name in names and _is_tensor(out.get(name)):
                    for tape in tapes:
                        tape.watch(out[name])
            if isinstance(statement, ex.Return):
                break
        return out

    def _weights(self, program, weights, like):
        if weights is None:
            return None
        like = like[0] if isinstance(like, list) else like
        dtype = like.dtype.as_numpy_dtype if _is_tensor(like) else None
        return tf.constant(program.array(weights, dtype))

    # ---- check kinds ----------------------------------------------------------------

    def value(self, program, check):
        def fn(env):
            return program.evaluate(check.value, program.run(env))
        return self._staged(program, fn, self._inputs(program))

    def grad(self, program, check):
        opts, order, names = check.tape, check.order, _names(check.wrt)

        def fn(env):
            state = {}

            tapes = []

            def level(k):
                tape = tf.GradientTape(persistent=opts.persistent,
                                       watch_accessed_variables=opts.watch_accessed_variables)
                tapes.append(tape)
                with tape:
                    self._watch(tape, program, env, opts.watch)
                    if k == 1:
                        state["out"] = out = self._run_watching(program, env, tapes,
                                                                opts.watch)
                        y = [out[n] for n in check.grad] if isinstance(check.grad, list) \
                            else out[check.grad]
                    else:
                        y = level(k - 1)
                out = state["out"]
                weights = self._weights(program, check.weights, y) if k == 1 else None
                if weights is not None and isinstance(y, list):
                    weights = [weights] * len(y)  # several targets: one weight each
                if k == order:
                    sources = _structure(check.wrt, lambda n: self._source(n, env, out))
                    if y is None:
                        return _structure(check.wrt, lambda n: None)
                    return tape.gradient(y, sources, output_gradients=weights)
                if y is None:
                    return None
                return tape.gradient(y, self._source(names[0], env, out),
                                     output_gradients=weights)

            return level(order)

        return self._staged(program, fn, self._inputs(program))

    def backward_twice(self, program, check):
        def fn(env):
            with tf.GradientTape(persistent=check.retain_graph) as tape:
                self._watch(tape, program, env, ())
                out = program.run(env)
            y = out[check.backward_twice]
            sources = [self._source(n, env, out) for n in check.wrt]
            weights = self._weights(program, check.weights, y)
            tape.gradient(y, sources, output_gradients=weights)
            return tape.gradient(y, sources, output_gradients=weights)
        return self._staged(program, fn, self._inputs(program))

    def watched(self, program, check):
        found = []

        def fn(env):
            opts = check.tape
            with tf.GradientTape(persistent=opts.persistent,
                                 watch_accessed_variables=opts.watch_accessed_variables) as tape:
                self._watch(tape, program, env, opts.watch)
                self._run_watching(program, env, [tape], opts.watch)
            refs = {v.ref() for v in tape.watched_variables()}
            found[:] = sorted(n for n, v in env.items()
                              if isinstance(v, tf.Variable) and v.ref() in refs)
            return tf.constant(0)

        self._staged(program, fn, self._inputs(program))
        return list(found)

    def _primals(self, program, env, names):
        """The values of ``names`` (inputs, or intermediates from a first run of the program)
        and the overrides that make the program use exactly those tensors."""
        intermediates = [n for n in names if n not in env]
        first = program.run(env) if intermediates else {}
        primals = [env[n] if n in env else tf.identity(first[n]) for n in names]
        overrides = {n: p for n, p in zip(names, primals) if n in intermediates}
        return primals, overrides

    def _forward(self, program, env, names, tangents, target):
        primals, overrides = self._primals(program, env, names)
        with tf.autodiff.ForwardAccumulator(primals, tangents) as acc:
            out = program.run(env, overrides=overrides)
        return acc.jvp(out[target])

    def _reverse_jacobians(self, program, env, names, target):
        with tf.GradientTape(persistent=True) as tape:
            self._watch(tape, program, env, names)
            out = self._run_watching(program, env, [tape], names)
        y = out[target]
        return y, [tape.jacobian(y, self._source(n, env, out)) for n in names]

    def jvp(self, program, check):
        def fn(env):
            def dtype(n):
                v = env[n] if n in env else None
                return v.dtype.as_numpy_dtype if v is not None else np.float32
            tangents = [tf.constant(program.array(t, dtype(n)))
                        for n, t in zip(check.wrt, check.tangents)]
            if check.mode == "forward":
                return self._forward(program, env, check.wrt, tangents, check.jvp)
            _, jacobians = self._reverse_jacobians(program, env, check.wrt, check.jvp)
            terms = [tf.tensordot(j, t, axes=len(t.shape))
                     for j, t in zip(jacobians, tangents) if j is not None]
            return tf.add_n(terms) if terms else None
        return self._staged(program, fn, self._inputs(program))

    def jacobian(self, program, check):
        def fn(env):
            if check.mode == "reverse":
                return self._reverse_jacobians(program, env, [check.wrt], check.jacobian)[1][0]
            primals, _ = self._primals(program, env, [check.wrt])
            x = tf.convert_to_tensor(primals[0])
            size = int(np.prod(x.shape))
            columns, out_shape = [], None
            for i in range(size):
                basis = tf.reshape(tf.one_hot(i, size, dtype=x.dtype), tf.shape(x))
                column = self._forward(program, env, [check.wrt], [basis], check.jacobian)
                if column is None:
                    return None
                columns.append(column)
                out_shape = column.shape
            return tf.reshape(tf.stack(columns, axis=-1), list(out_shape) + list(x.shape))
        return self._staged(program, fn, self._inputs(program))

    # ---- optimizers -------------------------------------------------------------------

    def _optimizer(self, spec):
        if spec.name == "sgd":
            return tf.keras.optimizers.SGD(learning_rate=spec.lr, momentum=spec.momentum,
                                           nesterov=spec.nesterov,
                                           weight_decay=spec.weight_decay or None)
        if spec.name == "adam":
            return tf.keras.optimizers.Adam(learning_rate=spec.lr, beta_1=spec.betas[0],
                                            beta_2=spec.betas[1],
                                            epsilon=1e-7 if spec.eps is None else spec.eps,
                                            weight_decay=spec.weight_decay or None)
        return None  # manual

    def optimize(self, program, check):
        spec = check.optimize
        opt = spec.optimizer
        env = self._inputs(program, variables=spec.params)
        params = [env[p] for p in spec.params]
        record = spec.record or list(spec.params) + [spec.loss]
        optimizer = self._optimizer(opt)
        if opt.style == "minimize" and not hasattr(optimizer, "minimize"):
            raise NotApplicable(
                f"tf.keras.optimizers.{type(optimizer).__name__} (Keras "
                f"{tf.keras.__version__}) has no minimize(): Keras 3 optimizers only "
                "offer apply_gradients (minimize was a Keras 2 / tf_keras method)")
        if optimizer is not None:
            optimizer.build(params)  # its slots exist before any staged step
        uses_step = "step" in ex.names_used(program.case.program)
        variables = {k: v for k, v in env.items() if isinstance(v, tf.Variable)}
        tensors = {k: v for k, v in env.items() if k not in variables}

        def loss_of(args, step):
            inner = {**variables, **args, "step": step}
            program.bind_globals(inner)
            return program.run(inner)[spec.loss]

        def one_step(args, step):
            if opt.style == "minimize":
                optimizer.minimize(lambda: loss_of(args, step), params)
                return
            with tf.GradientTape() as tape:
                loss = loss_of(args, step)
            update(tape.gradient(loss, params))

        def update(grads):
            if optimizer is None:
                for p, g in zip(params, grads):
                    p.assign_sub(opt.lr * g)
            else:
                optimizer.apply_gradients(zip(grads, params))

        def snapshot(args, step):
            inner = {**variables, **args, "step": step}
            program.bind_globals(inner)
            out = program.run(inner)
            return {n: tf.identity(out[n]) for n in record}

        # a long loop the case allows to take the fast path runs staged in eager too
        if self.mode == "function" or spec.fast_path:
            observe = tf.function(snapshot, autograph=False)
            if uses_step and opt.style != "minimize":
                # `step` is a host int: the gradient function is retraced for each value, as
                # TF does for a Python argument; the update is traced once
                def gradients(args, step):
                    with tf.GradientTape() as tape:
                        loss = loss_of(args, step)
                    return tape.gradient(loss, params)

                grad_fn = tf.function(gradients, autograph=False)
                update_fn = tf.function(lambda grads: update(grads), autograph=False)

                def block(start, n):
                    for s in range(start, start + n):
                        update_fn(grad_fn(tensors, s))
            elif uses_step:
                step_fn = tf.function(one_step, autograph=False)

                def block(start, n):
                    for s in range(start, start + n):
                        step_fn(tensors, s)
            else:
                @tf.function(autograph=False)
                def run_block(args, n):
                    def body(i):
                        one_step(args, i)
                        return (i + 1,)
                    return tf.while_loop(lambda i: i < n, body, (tf.constant(0),))

                def block(start, n):
                    run_block(tensors, tf.constant(n))
        else:
            observe = snapshot

            def block(start, n):
                for s in range(start, start + n):
                    one_step(tensors, s)

        history = {n: [] for n in record}

        def keep(step):
            values = observe(tensors, step)
            for n in record:
                history[n].append(self.to_numpy(values[n]))

        k = spec.record_every
        for start in range(0, spec.steps, k):
            keep(start)
            block(start, min(k, spec.steps - start))
        keep(spec.steps)
        return history

    # ---- tracing ------------------------------------------------------------------------

    def _argument(self, program, arg):
        if isinstance(arg, dict) and "tensor" in arg:
            dtype = arg.get("dtype")
            array = program.array(arg["tensor"], None if dtype == "string" else dtype)
            return self.constant(array)
        return arg

    def trace(self, program, check):
        staged = check.staged and self.mode == "function"
        if check.staged and not staged:
            raise NotApplicable("eager TensorFlow runs the Python function on every call; "
                                "staged tracing is the tensorflow[function] column")
        env = self._inputs(program)
        program.bind_globals(env)
        fn = program.function(check.trace)
        count = [0]

        def counted(*args):
            count[0] += 1
            return fn(*args)

        if staged:
            signature = None
            if check.signature is not None:
                signature = [tf.TensorSpec(s.get("shape"), tf.as_dtype(s.get("dtype",
                                                                            "float32")))
                             for s in check.signature]
            call = tf.function(counted, input_signature=signature, autograph=False)
        else:
            call = counted
        outputs, traced = [], []
        for args in check.calls:
            before = count[0]
            try:
                result = program.observe(call(*[self._argument(program, a) for a in args]))
            except NotApplicable:
                raise
            except Exception as exc:  # noqa: BLE001 - a call's error is its output
                result = self.error_value(exc)
            outputs.append(result)
            traced.append(count[0] > before)
        appended = ["symbolic" if _is_tensor(v) and tf.is_symbolic_tensor(v) else "concrete"
                    for v in program.appended]
        return self.trace_observation(program, outputs, traced, appended)

    # ---- graphs and loops ----------------------------------------------------------------

    def static_graph(self, program, check):
        spec = check.static_graph
        graph = tf.compat.v1.Graph()
        with graph.as_default():
            placeholders = {}
            for name, p in spec.placeholders.items():
                dtype = p.get("dtype")
                if dtype is None:
                    known = program.arrays.get(name)
                    dtype = "string" if isinstance(known, np.ndarray) and known.dtype == \
                        object else "float32"
                placeholders[name] = tf.compat.v1.placeholder(
                    tf.string if dtype == "string" else tf.as_dtype(dtype),
                    shape=p.get("shape"), name=name)
            env = {**{k: v for k, v in self._inputs(program).items()
                      if k not in placeholders}, **placeholders}
            program.bind_globals(env)
            out = program.run(env)
            fetches = out[spec.fetch] if isinstance(spec.fetch, str) else \
                [out[f] for f in spec.fetch]
            init = tf.compat.v1.global_variables_initializer()
            results = []
            with tf.compat.v1.Session(graph=graph) as session:
                session.run(init)
                for feed in spec.feeds:
                    feed_dict = {}
                    for name, value in feed.items():
                        ph = placeholders[name]
                        dtype = None if ph.dtype == tf.string else ph.dtype.as_numpy_dtype
                        feed_dict[ph] = program.array(value, dtype)
                    results.append(session.run(fetches, feed_dict=feed_dict))
        return results

    def while_loop(self, program, check):
        spec = check.while_loop
        names = list(spec.vars)

        def build(env):
            base = program.run(env)
            initial = tuple(self.constant(program.array(spec.vars[n])) for n in names)

            def scope(values):
                return {**base, **dict(zip(names, values))}

            def cond(*values):
                return program.evaluate(spec.cond, scope(values))

            def body(*values):
                s = scope(values)
                return tuple(tf.convert_to_tensor(program.evaluate(spec.body[n], s),
                                                  dtype_hint=v.dtype) if n in spec.body else v
                             for n, v in zip(names, values))

            final = tf.while_loop(cond, body, initial)
            return dict(zip(names, final))

        if spec.graph:
            graph = tf.compat.v1.Graph()
            with graph.as_default():
                env = self._inputs(program)
                program.bind_globals(env)
                fetches = build(env)
                init = tf.compat.v1.global_variables_initializer()
                with tf.compat.v1.Session(graph=graph) as session:
                    session.run(init)
                    return session.run(fetches)
        return self._staged(program, build, self._inputs(program))

    # ---- modules and SavedModel ----------------------------------------------------------

    def checkpoint(self, program, check):
        spec = check.checkpoint
        fn = program.function(spec.method)
        first = [self._argument(program, a) for a in (spec.before[0] if spec.before else
                                                       spec.after[0])]
        signature = [tf.TensorSpec.from_tensor(tf.convert_to_tensor(a)) for a in first]
        env = self._inputs(program)

        if spec.style == "class":
            def method(self_, *args):
                program.bind_globals({**env, **{n: getattr(self_, n) for n in spec.state}})
                return fn(*args)

            module_class = type("CaseModule", (tf.Module,), {
                spec.method: tf.function(method, input_signature=signature, autograph=False)})
            module = module_class(name="case_module")
            with module.name_scope:
                for name, value in spec.state.items():
                    setattr(module, name, tf.Variable(program.array(value), name=name))
        else:
            module = tf.Module()
            for name, value in spec.state.items():
                setattr(module, name, tf.Variable(program.array(value), name=name))

            def method(*args):
                program.bind_globals({**env, **{n: getattr(module, n) for n in spec.state}})
                return fn(*args)

            setattr(module, spec.method, tf.function(method, input_signature=signature,
                                                     autograph=False))

        def calls(obj, arglists):
            return [self.to_numpy(getattr(obj, spec.method)(
                *[self._argument(program, a) for a in args])) for args in arglists]

        before = calls(module, spec.before)
        refs = {getattr(module, n).ref(): n for n in spec.state}
        variables = [refs[v.ref()] for v in module.variables if v.ref() in refs]
        folder = tempfile.mkdtemp(prefix="tf-savedmodel-")
        try:
            tf.saved_model.save(module, folder)
            loaded = tf.saved_model.load(folder)
            after = calls(loaded, spec.after)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"before": before, "after": after, "variables": variables}

    # ---- repro scripts -----------------------------------------------------------------

    def repro(self, case, check):
        try:
            return _Repro(case, check, self.mode).script()
        except Untranslatable:
            return None


# ---- repro: the program in TensorFlow's own spelling ----------------------------------------


def _kw(kw, rename=None, drop=()):
    rename = rename or {}
    parts = [f"{rename.get(k, k)}={v}" for k, v in kw.items() if k not in drop]
    return "".join(", " + p for p in parts)


def _fmt(template):
    return lambda a, kw: template.format(*a)


def _call(name, rename=None):
    return lambda a, kw: f"{name}({', '.join(a)}{_kw(kw, rename)})"


def _clip_text(a, kw):
    lo = kw.get("min", "None")
    hi = kw.get("max", "None")
    lo = f"{a[0]}.dtype.min" if lo == "None" else lo
    hi = f"{a[0]}.dtype.max" if hi == "None" else hi
    return f"tf.clip_by_value({a[0]}, {lo}, {hi})"


def _mse_text(a, kw):
    reduce = "tf.reduce_sum" if kw.get("reduction") in ("'sum'", '"sum"') else "tf.reduce_mean"
    return f"{reduce}(tf.square({a[0]} - {a[1]}))"


REPRO_OPS = {
    "add": _fmt("({} + {})"), "sub": _fmt("({} - {})"), "mul": _fmt("({} * {})"),
    "div": _fmt("({} / {})"), "pow": _fmt("({} ** {})"), "matmul": _call("tf.matmul"),
    "neg": _fmt("(-{})"), "lt": _fmt("({} < {})"), "le": _fmt("({} <= {})"),
    "gt": _fmt("({} > {})"), "ge": _fmt("({} >= {})"), "eq": _call("tf.equal"),
    "ne": _call("tf.not_equal"),
    "exp": _call("tf.exp"), "log": _call("tf.math.log"), "sqrt": _call("tf.sqrt"),
    "square": _call("tf.square"), "abs": _call("tf.abs"), "sin": _call("tf.sin"),
    "cos": _call("tf.cos"), "tanh": _call("tf.tanh"), "sigmoid": _call("tf.sigmoid"),
    "relu": _call("tf.nn.relu"), "softplus": _call("tf.math.softplus"),
    "maximum": _call("tf.maximum"), "minimum": _call("tf.minimum"), "clip": _clip_text,
    "where": _call("tf.where"),
    "sum": _call("tf.reduce_sum"), "mean": _call("tf.reduce_mean"),
    "max": _call("tf.reduce_max"), "transpose": _call("tf.transpose", {"axes": "perm"}),
    "reshape": lambda a, kw: f"tf.reshape({a[0]}, {kw.get('shape', 'None')})",
    "getitem": lambda a, kw: f"{a[0]}[{a[1]}]",
    "concat": lambda a, kw: f"tf.concat({a[0]}, axis={kw.get('axis', 0)})",
    "stack": lambda a, kw: f"tf.stack({a[0]}, axis={kw.get('axis', 0)})",
    "softmax": _call("tf.nn.softmax"), "log_softmax": _call("tf.nn.log_softmax"),
    "one_hot": lambda a, kw: f"tf.one_hot({a[0]}, {kw.get('depth')}, dtype=tf.float32)",
    "cast": lambda a, kw: f"tf.cast({a[0]}, tf.{kw.get('dtype', '').strip(chr(39) + chr(34))})",
    "ones_like": _call("tf.ones_like"), "zeros_like": _call("tf.zeros_like"),
    "mse": _mse_text, "string_join": _call("tf.strings.join"),
    "assign_add": lambda a, kw: f"{a[0]}.assign_add({a[1]})",
    "assign_sub": lambda a, kw: f"{a[0]}.assign_sub({a[1]})",
    "new_variable": _call("tf.Variable"),
    "random_normal": lambda a, kw: f"tf.random.normal({kw.get('shape', '()')})",
    "host_random_normal": lambda a, kw:
        f"np.random.standard_normal({kw.get('shape', '()')}).astype('float32')",
    "effect": _call("print"),
    "outer_append": lambda a, kw: f"outer_list.append({a[0]})",
}


class _Repro:
    def __init__(self, case, check, mode):
        self.case, self.check, self.mode = case, check, mode
        self.writer = SourceWriter(REPRO_OPS, special=self._special)

    # expressions and statements
    def expr(self, node) -> str:
        return self.writer.expr(node)

    def _special(self, node, args, kwargs):
        if node.fn == "matmul" and any(self.rank(a) < 2 for a in node.args):
            return f"tf.experimental.numpy.matmul({args[0]}, {args[1]})"  # `@` of vectors
        return None

    def rank(self, node) -> int:
        """The rank of an input named by ``node`` (2 where it is not an input)."""
        if isinstance(node, ex.Name) and node.id in self.case.inputs:
            spec = self.case.inputs[node.id]
            if spec.kind != "host":
                return np.ndim(spec.array())
        return 2

    def statements(self, statements, indent, tapes=(), watch=()) -> list[str]:
        """The statements as Python lines; an assigned name of ``watch`` is watched by each of
        ``tapes`` right after its assignment."""
        def after(target, pad):
            if target in watch and target not in self.case.inputs:
                return [f"{pad}{t}.watch({target})" for t in tapes]
            return []
        return self.writer.statements(statements, " " * indent, after=after)

    # pieces of the script
    def inputs(self) -> list[str]:
        lines = []
        for name, spec in self.case.inputs.items():
            if spec.kind == "host":
                lines.append(f"{name} = {spec.value!r}")
                continue
            array = spec.array()
            if spec.random:
                literal = spec.numpy_source()
            elif array.dtype == object:
                literal = repr(array.tolist())
            else:
                literal = f"np.array({array.tolist()!r}, dtype={str(array.dtype)!r})"
            if spec.kind == "variable":
                lines.append(f"{name} = tf.Variable({literal}, trainable={spec.trainable}, "
                             f"name={name!r})")
            else:
                lines.append(f"{name} = tf.constant({literal})")
        return lines

    def functions(self) -> list[str]:
        lines = []
        for name, spec in self.case.functions.items():
            args = ", ".join(spec.args)
            if spec.forward is not None and spec.backward is not None:
                rules = [self.expr(ex.parse_expression(b)) for b in spec.backwards]
                lines += ["@tf.custom_gradient", f"def {name}({args}):",
                          f"    result = {self.expr(ex.parse_expression(spec.forward))}",
                          "    def backward(grad):",
                          f"        return {', '.join(rules)}",
                          "    return result, backward", ""]
            elif spec.forward is not None:
                lines += [f"def {name}({args}):",
                          f"    return {self.expr(ex.parse_expression(spec.forward))}", ""]
            else:
                lines += [f"def {name}({args}):"]
                lines += self.statements(ex.parse_program(spec.body), 4) + [""]
        return lines

    def watches(self, tape, names, indent) -> list[str]:
        pad = " " * indent
        watched = [n for n, s in self.case.inputs.items() if s.kind == "tensor" and s.track]
        watched += [n for n in names if n in self.case.inputs and n not in watched]
        return [f"{pad}{tape}.watch({n})" for n in watched]

    def body(self) -> list[str] | None:
        c = self.check
        program = self.statements(self.case.program, 8)
        if c.kind == "value":
            return self.statements(self.case.program, 4) + [
                f"    return {self.expr(ex.parse_expression(c.value))}"]
        if c.kind == "grad":
            return self.grad_body()
        if c.kind == "backward_twice":
            weights = "None" if c.weights is None else f"tf.constant({c.weights!r}, tf.float32)"
            return ([f"    with tf.GradientTape(persistent={c.retain_graph}) as tape:"]
                    + self.watches("tape", [], 8) + program
                    + [f"    tape.gradient({c.backward_twice}, [{', '.join(c.wrt)}], "
                       f"output_gradients={weights})",
                       f"    return tape.gradient({c.backward_twice}, [{', '.join(c.wrt)}], "
                       f"output_gradients={weights})"])
        if c.kind == "watched":
            t = c.tape
            return ([f"    with tf.GradientTape(persistent={t.persistent}, "
                     f"watch_accessed_variables={t.watch_accessed_variables}) as tape:"]
                    + self.watches("tape", t.watch, 8) + program
                    + ["    return sorted(v.name.split(':')[0] for v in "
                       "tape.watched_variables())"])
        if c.kind == "jacobian" and c.mode == "reverse":
            return (["    with tf.GradientTape() as tape:"] + self.watches("tape", [c.wrt], 8)
                    + program + [f"    return tape.jacobian({c.jacobian}, {c.wrt})"])
        if c.kind == "jvp" and c.mode == "forward":
            primals = ", ".join(c.wrt)
            tangents = ", ".join(f"tf.constant({t!r}, tf.float32)" for t in c.tangents)
            return ([f"    with tf.autodiff.ForwardAccumulator([{primals}], [{tangents}]) "
                     "as acc:"] + program + ["        pass", f"    return acc.jvp({c.jvp})"])
        return None

    def grad_body(self) -> list[str]:
        c, t = self.check, self.check.tape
        names = _names(c.wrt)
        lines, indent = [], 4
        for k in range(c.order, 0, -1):
            lines.append(" " * indent + f"with tf.GradientTape(persistent={t.persistent}, "
                         f"watch_accessed_variables={t.watch_accessed_variables}) as tape{k}:")
            lines += self.watches(f"tape{k}", t.watch, indent + 4)
            indent += 4
        lines += self.statements(self.case.program, indent,
                                 [f"tape{k}" for k in range(c.order, 0, -1)], t.watch)
        weights = "None" if c.weights is None else f"tf.constant({c.weights!r}, tf.float32)"
        sources = repr(c.wrt).replace("'", "") if not isinstance(c.wrt, dict) else \
            "{" + ", ".join(f"{k!r}: {v}" for k, v in c.wrt.items()) + "}"
        target = c.grad if isinstance(c.grad, str) else f"[{', '.join(c.grad)}]"
        for k in range(1, c.order + 1):
            indent -= 4
            pad = " " * indent
            src = sources if k == c.order else names[0]
            w = weights if k == 1 else "None"
            lines.append(f"{pad}d{k} = tape{k}.gradient({target}, {src}, output_gradients={w})")
            target = f"d{k}"
        lines.append(f"    return {target}")
        return lines

    def script(self) -> str | None:
        if self.check.kind == "optimize":
            return self.optimize_script()
        body = self.body()
        if body is None:
            return None
        head = ["import numpy as np", "import tensorflow as tf", ""]
        head += self.inputs() + [""] + self.functions()
        deco = ["@tf.function"] if self.mode == "function" else []
        return "\n".join(head + deco + ["def check():"] + body
                         + ["", "", "def show(t):",
                            "    v = t.numpy() if hasattr(t, 'numpy') else t",
                            "    return v.tolist() if hasattr(v, 'tolist') else v", "", "",
                            "print(tf.nest.map_structure(show, check()))", ""])

    def optimize_script(self) -> str | None:
        """The training loop: a tape and apply_gradients (or assign_sub for a manual step),
        the step staged with tf.function in the function column."""
        spec = self.check.optimize
        o = spec.optimizer
        if o.style == "minimize":
            return None
        if o.name == "sgd":
            make = (f"tf.keras.optimizers.SGD(learning_rate={o.lr}, momentum={o.momentum}, "
                    f"nesterov={o.nesterov}"
                    + (f", weight_decay={o.weight_decay})" if o.weight_decay else ")"))
        elif o.name == "adam":
            make = (f"tf.keras.optimizers.Adam(learning_rate={o.lr}, beta_1={o.betas[0]}, "
                    f"beta_2={o.betas[1]}" + (f", epsilon={o.eps})" if o.eps is not None
                                              else ")"))
        else:
            make = None
        head = ["import numpy as np", "import tensorflow as tf", ""] + self.inputs()
        for p in spec.params:  # a parameter must be a Variable to be updated
            if self.case.inputs[p].kind != "variable":
                head.append(f"{p} = tf.Variable({p})")
        head += [""] + self.functions()
        head += [f"params = [{', '.join(spec.params)}]"]
        head += [f"optimizer = {make}"] if make else []
        update = (["    optimizer.apply_gradients(zip(grads, params))"] if make else
                  ["    for p, g in zip(params, grads):", f"        p.assign_sub({o.lr} * g)"])
        small = sum(np.size(self.case.inputs[p].array()) for p in spec.params) <= 10
        shown = "[p.numpy().tolist() for p in params]" if small else "None"
        deco = ["@tf.function"] if self.mode == "function" else []
        return "\n".join(
            head + ["", ""] + deco + ["def train_step(step):",
                                      "    with tf.GradientTape() as tape:"]
            + self.statements(self.case.program, 8)
            + [f"    grads = tape.gradient({spec.loss}, params)"] + update
            + [f"    return {spec.loss}", "", "",
               "# as the harness records: the parameters before each step, and their loss",
               f"for step in range({spec.steps}):",
               f"    before = {shown}",
               "    loss = train_step(step)",
               f"    if step % {spec.record_every} == 0:",
               "        print(step, before, float(loss))",
               f"print('final', {shown})", ""])


BACKEND = TensorFlowBackend

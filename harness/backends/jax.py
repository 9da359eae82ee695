"""The JAX backend: plain immutable arrays and function transforms.

JAX has no tracked tensors, tapes or graphs: a gradient is a transform of a function. The
case program becomes that function through the interpreter's overrides:
``f(*values) = program.run(env, overrides=dict(zip(wrt, values)))[target]``, so the same
spelling differentiates w.r.t. inputs and intermediates. Two columns: ``jax`` (eager,
op by op) and ``jax[jit]`` (the same work under ``jax.jit``).

What JAX has no notion of is ``NotApplicable``: string arrays, variables and in-place
updates, graphs kept between gradient calls, tensor attributes, tapes, define-then-run
graphs and a native checkpoint format.
"""

from __future__ import annotations

import operator
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from harness import expressions as ex
from harness.backends.base import Backend, NotApplicable
from harness.repro import SourceWriter, Untranslatable
from harness.values import ErrorValue

NO_STRINGS = "JAX has no string arrays (its dtypes are numbers and bools)"


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _mse(a, b, reduction="mean"):
    squared = jnp.square(a - b)
    if reduction == "sum":
        return jnp.sum(squared)
    if reduction == "none":
        return squared
    return jnp.mean(squared)


def _random_normal(shape=()):
    # JAX's RNG is explicit and functional: a key in, numbers out. The backend holds one
    # fixed key, so every call gives the same numbers: that is JAX's design, not a bug.
    return jax.random.normal(jax.random.key(0), tuple(shape), dtype=jnp.float32)


def _cast(x, dtype=None):
    if dtype == "string":
        raise NotApplicable(NO_STRINGS)
    return jnp.asarray(x).astype(dtype)


def _is_array(x) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, np.generic))


class JaxBackend(Backend):
    framework = "jax"
    modes = ("eager", "jit")
    ABSENT = {
        "backward_twice": "JAX keeps no graph between gradient calls: jax.vjp's pullback is a "
                          "pure function that can be called any number of times, and nothing "
                          "accumulates into a .grad",
        "attributes": "JAX arrays have no is_leaf/requires_grad/grad_fn/.grad: gradients are "
                      "function transforms, not tensor state",
        "watched": "JAX has no gradient tape: jax.grad's argnums say what is differentiated",
        "static_graph": "JAX has no define-then-run graphs (placeholders and sessions): "
                        "jax.jit stages a Python function instead",
        "checkpoint": "JAX itself has no module or checkpoint format and no variables (saving "
                      "pytrees is left to separate libraries such as orbax)",
    }

    # Infix operators are Python's own operators: on JAX arrays they are jnp's (weak typing
    # keeps float32 with a Python scalar, ``x ** 2`` is ``lax.integer_pow``); on two Python
    # values they stay Python (as in a JAX program written by hand).
    OPS = {
        "add": operator.add, "sub": operator.sub, "mul": operator.mul,
        "div": operator.truediv, "pow": operator.pow, "matmul": operator.matmul,
        "neg": operator.neg,
        "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
        "eq": operator.eq, "ne": operator.ne,
        "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "square": jnp.square,
        "abs": jnp.abs, "sin": jnp.sin, "cos": jnp.cos, "tanh": jnp.tanh,
        "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "softplus": jax.nn.softplus,
        "maximum": jnp.maximum, "minimum": jnp.minimum,
        "clip": lambda x, min=None, max=None: jnp.clip(x, min, max),
        "where": jnp.where,
        "sum": lambda x, axis=None, keepdims=False: jnp.sum(x, _axis(axis), keepdims=keepdims),
        "mean": lambda x, axis=None, keepdims=False: jnp.mean(x, _axis(axis),
                                                              keepdims=keepdims),
        "max": lambda x, axis=None, keepdims=False: jnp.max(x, _axis(axis), keepdims=keepdims),
        "transpose": lambda x, axes=None: jnp.transpose(x, _axis(axes)),
        "reshape": lambda x, shape=None: jnp.reshape(x, tuple(shape)),
        "getitem": lambda x, index: x[index],
        "concat": lambda xs, axis=0: jnp.concatenate(xs, axis=axis),
        "stack": lambda xs, axis=0: jnp.stack(xs, axis=axis),
        "softmax": lambda x, axis=-1: jax.nn.softmax(x, axis=axis),
        "log_softmax": lambda x, axis=-1: jax.nn.log_softmax(x, axis=axis),
        "one_hot": lambda x, depth=None: jax.nn.one_hot(x, depth, dtype=jnp.float32),
        "cast": _cast,
        "ones_like": jnp.ones_like, "zeros_like": jnp.zeros_like,
        "mse": _mse,
        "random_normal": _random_normal,
    }
    LACKS = {
        "string_join": NO_STRINGS,
        "assign_add": "JAX arrays are immutable and JAX has no variables "
                      "(state is passed in and returned)",
        "assign_sub": "JAX arrays are immutable and JAX has no variables "
                      "(state is passed in and returned)",
        "new_variable": "JAX has no variables: state is a plain array passed in and returned",
    }
    ERRORS = [
        (r"^(ConcretizationTypeError|TracerBoolConversionError|TracerIntegerConversionError"
         r"|TracerArrayConversionError|UnexpectedTracerError|NonConcreteBooleanIndexError)",
         "tracer_leak"),
        (r"grad requires real- or complex-valued inputs", "integer_grad"),
        (r"Gradient only defined for scalar-output functions", "non_scalar_output"),
        (r"Incompatible shapes for broadcasting|dot_general requires|cannot reshape"
         r"|Shapes must be 1D sequences|not a valid JAX type|must have identical types",
         "invalid_argument"),
    ]

    @classmethod
    def version(cls) -> str:
        return jax.__version__

    # ---- the tensor boundary -------------------------------------------------------

    def constant(self, array, dtype=None):
        array = np.asarray(array)
        if array.dtype == object or dtype == "string":
            raise NotApplicable(NO_STRINGS)
        return jnp.asarray(array, dtype=dtype)

    def to_numpy(self, value):
        # an ErrorValue passes through: Program.observe hands a trace's per-call errors here
        if value is None or isinstance(value, (bytes, ErrorValue)):
            return value
        if isinstance(value, str):
            return value.encode()
        return np.asarray(value)

    def custom_function(self, name, nargs, forward, backward):
        # jax.custom_vjp: fwd returns the result and the residuals (inputs, result); bwd
        # runs the case's backward rules (written with these OPS, so differentiable) and
        # returns one cotangent per input, in a tuple.
        def fn(*xs):
            return forward(*xs)

        fn.__name__ = fn.__qualname__ = name
        fn = jax.custom_vjp(fn)

        def fwd(*xs):
            result = forward(*xs)
            return result, (xs, result)

        def bwd(residuals, grad):
            xs, result = residuals
            grads = backward(xs, result, grad)
            return tuple(_cotangent(g, x) for g, x in zip(grads, xs))

        fn.defvjp(fwd, bwd)
        return fn

    # ---- helpers -------------------------------------------------------------------

    def _env(self, program) -> dict:
        """Input name -> jnp array (host inputs are left to the interpreter)."""
        return {name: self.constant(array) for name, array in program.arrays.items()
                if program.inputs[name].kind != "host"}

    def _jit(self, fn, **kwargs):
        return jax.jit(fn, **kwargs) if self.mode == "jit" else fn

    def _target(self, program, env, names, target):
        """f(*values) = the program's ``target`` with ``names`` replaced by ``values`` (a
        tuple of outputs for a list of targets)."""
        def f(*values):
            ran = program.run(env, overrides=dict(zip(names, values)))
            return tuple(ran[t] for t in target) if isinstance(target, list) else ran[target]
        return f

    def _primals(self, program, env, names):
        if all(n in env for n in names):  # inputs only: no extra run of the program
            return [env[n] for n in names]
        ran = program.run(env)
        return [ran[n] for n in names]

    # ---- check kinds ---------------------------------------------------------------

    def value(self, program, check):
        def run(env):
            return program.evaluate(check.value, program.run(env))
        return self._jit(run)(self._env(program))

    def grad(self, program, check):
        # `track` and the tape options have no meaning in JAX: `wrt` alone says what is
        # differentiated (argnums).
        names, rebuild = _flatten_targets(check.wrt)

        def gradients(env):
            primals = self._primals(program, env, names)
            f = self._target(program, env, names, check.grad)
            weights = None if check.weights is None else program.array(check.weights)
            several = isinstance(check.grad, list)
            if check.order == 1:
                if len(set(names)) == len(names) and all(n in program.inputs for n in names):
                    return _vjp(f, primals, weights, several=several)
                # an intermediate is replaced where it is assigned, which cuts every path
                # through it: each name gets its own function and gradient (the total
                # derivative, as a tape or .grad gives), not one joint jax.vjp
                return [_vjp(self._target(program, env, [n], check.grad), [p], weights,
                             several=several)[0] for n, p in zip(names, primals)]
            # order k: differentiate the order-(k-1) gradient again w.r.t. the same input,
            # with implicit ones weights (nested jax.vjp)
            g = lambda x: _vjp(f, [x], weights, several=several)[0]  # noqa: E731
            for _ in range(check.order - 2):
                g = _nest(g)
            return list(_vjp(g, primals, None, implicit_ones=True))

        return rebuild(list(self._jit(gradients)(self._env(program))))

    def jvp(self, program, check):
        def product(env):
            primals = self._primals(program, env, check.wrt)
            tangents = [jnp.asarray(program.array(t), dtype=p.dtype)
                        for t, p in zip(check.tangents, primals)]
            f = self._target(program, env, check.wrt, check.jvp)
            if check.mode == "forward":
                return jax.jvp(f, tuple(primals), tuple(tangents))[1]
            jacobians = jax.jacrev(f, argnums=tuple(range(len(primals))))(*primals)
            return sum(jnp.tensordot(j, t, axes=t.ndim) for j, t in zip(jacobians, tangents))

        return self._jit(product)(self._env(program))

    def jacobian(self, program, check):
        def full(env):
            (primal,) = self._primals(program, env, [check.wrt])
            f = self._target(program, env, [check.wrt], check.jacobian)
            transform = jax.jacfwd if check.mode == "forward" else jax.jacrev
            return transform(f)(primal)

        return self._jit(full)(self._env(program))

    # ---- optimizers ----------------------------------------------------------------

    def optimize(self, program, check):
        spec = check.optimize
        opt = spec.optimizer
        if opt.style != "step":
            raise NotApplicable("optax has one spelling: update + apply_updates "
                                f"(no {opt.style})")
        record = spec.record or (list(spec.params) + [spec.loss])
        reads_step = "step" in ex.names_used(program.case.program)
        env = self._env(program)
        params = dict(zip(spec.params, self._primals(program, env, spec.params)))
        tx = _optimizer(opt)

        def loss_fn(params, env, step):
            return program.run(_with_step(env, step), overrides=params)[spec.loss]

        def observe(params, env, step):
            ran = program.run(_with_step(env, step), overrides=params)
            return {name: ran[name] for name in record}

        def update(params, state, env, step):
            grads = jax.grad(loss_fn)(params, env, step)
            if opt.name == "manual":
                if opt.weight_decay:
                    grads = jax.tree.map(lambda g, p: g + opt.weight_decay * p, grads, params)
                return jax.tree.map(lambda p, g: p - opt.lr * g, params, grads), state
            updates, state = tx.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        state = tx.init(params) if tx is not None else ()
        starts = list(range(0, spec.steps, spec.record_every))
        # a long loop the case allows to take the fast path runs compiled in eager too
        compiled = self.mode == "jit" or spec.fast_path
        if compiled and not reads_step:
            records = _fused(update, observe, params, state, env, starts, spec.steps)
        else:
            # eager: op by op. jit with a program that reads the host int `step`: the step
            # function is jitted with `step` static (traced again for every step value);
            # steps that build the same graph share one compiled executable.
            if compiled:
                update, observe = _ByGraph(update), _ByGraph(observe)
            records = []
            for step in range(spec.steps):
                if step % spec.record_every == 0:
                    records.append(observe(params, env, step if reads_step else None))
                params, state = update(params, state, env, step if reads_step else None)
            records.append(observe(params, env, spec.steps if reads_step else None))
        return {name: [r[name] for r in records] for name in record}

    # ---- tracing -------------------------------------------------------------------

    def trace(self, program, check):
        staged = check.staged
        if staged and self.mode == "eager":
            raise NotApplicable("eager JAX stages nothing: jax.jit runs in the jax[jit] column")
        for call in check.calls:
            for arg in call:
                if _tensor_arg(arg) and (arg.get("dtype") == "string"
                                         or program.array(arg["tensor"]).dtype == object):
                    raise NotApplicable(NO_STRINGS)
        fn = program.function(check.trace)
        traces = [0]

        def counted(*args):
            traces[0] += 1  # Python runs: once per trace under jax.jit, every plain call
            return fn(*args)

        jitted: dict = {}  # static_argnums -> jax.jit(counted, static_argnums=...)
        outputs, traced = [], []
        for call in check.calls:
            before = traces[0]
            try:
                args = [self.constant(program.array(a["tensor"], a.get("dtype")))
                        if _tensor_arg(a) else a for a in call]
                if staged:
                    static = tuple(i for i, a in enumerate(call) if not _tensor_arg(a))
                    if static not in jitted:
                        jitted[static] = jax.jit(counted, static_argnums=static)
                    out = jitted[static](*args)
                else:
                    out = counted(*args)
            except NotApplicable:
                raise
            except Exception as exc:
                out = self.error_value(exc)
            outputs.append(out)
            traced.append(traces[0] > before)
        kinds = ["symbolic" if isinstance(v, jax.core.Tracer) else "concrete"
                 for v in program.appended]
        return self.trace_observation(program, outputs, traced, kinds)

    # ---- loops ---------------------------------------------------------------------

    def while_loop(self, program, check):
        spec = check.while_loop
        if spec.graph:
            raise NotApplicable("no define-then-run graphs in JAX")
        cond = ex.parse_expression(spec.cond)
        body = {k: ex.parse_expression(v) for k, v in spec.body.items()}

        def loop(env, carry):
            env = program.run(env)

            def cond_fn(c):
                return program.eval(cond, {**env, **c})

            def body_fn(c):
                scope = {**env, **c}
                new = dict(c)
                for k, node in body.items():
                    new[k] = _like(program.eval(node, scope), c[k])
                return new

            return lax.while_loop(cond_fn, body_fn, carry)

        carry = {k: self.constant(program.array(v)) for k, v in spec.vars.items()}
        return self._jit(loop)(self._env(program), carry)

    # ---- repro scripts -------------------------------------------------------------

    def repro(self, case, check) -> str | None:
        try:
            return _Repro(case, check, self.mode).script()
        except _NoRepro:
            return None


BACKEND = JaxBackend


# ---- gradient helpers ---------------------------------------------------------------------


def _flatten_targets(wrt):
    """``wrt`` (a name, a list, a dict) -> names, and how to give results that structure."""
    if isinstance(wrt, str):
        return [wrt], lambda gs: gs[0]
    if isinstance(wrt, dict):
        keys = list(wrt)
        return [wrt[k] for k in keys], lambda gs: dict(zip(keys, gs))
    return list(wrt), list


def _vjp(f, primals, weights, implicit_ones=False, several=False):
    """The gradients of ``f`` at ``primals``: with ``weights`` a vector-Jacobian product
    (``jax.vjp`` with that cotangent); without, ``jax.grad`` (a scalar output only, as in
    JAX: a non-scalar one raises), or ones for every output (``implicit_ones``)."""
    argnums = tuple(range(len(primals)))
    if weights is None and not implicit_ones:
        # several outputs (a tuple): their gradients add up, as jax.grad of their sum
        summed = (lambda *v: sum(f(*v))) if several else f
        return jax.grad(summed, argnums=argnums)(*primals)
    for p in primals:  # jax.grad's own check (jax.vjp would give float0 zeros instead)
        dtype = jnp.result_type(p)
        if not jnp.issubdtype(dtype, jnp.inexact):
            raise TypeError("grad requires real- or complex-valued inputs (input dtype that "
                            f"is a sub-dtype of np.inexact), but got {dtype.name}.")
    out, pull = jax.vjp(f, *primals)

    def cotangent(o):
        dtype = jnp.result_type(o)
        return jnp.ones(jnp.shape(o), dtype) if weights is None \
            else jnp.asarray(weights, dtype=dtype)

    return pull(tuple(map(cotangent, out)) if isinstance(out, tuple) else cotangent(out))


def _nest(g):
    """d/dx of the gradient function ``g`` with implicit ones weights."""
    return lambda x: _vjp(g, [x], None, implicit_ones=True)[0]


def _cotangent(g, x):
    """One cotangent of a custom backward rule: a Python scalar becomes an array of the
    input's shape and dtype; integer inputs take JAX's float0 zeros."""
    x_dtype = jnp.result_type(x)
    if not jnp.issubdtype(x_dtype, jnp.inexact):
        return np.zeros(jnp.shape(x), dtype=jax.dtypes.float0)
    if not _is_array(g) and not isinstance(g, jax.core.Tracer):
        return jnp.broadcast_to(jnp.asarray(g, dtype=x_dtype), jnp.shape(x))
    return g


# ---- optimizer helpers --------------------------------------------------------------------


def _optimizer(opt):
    if opt.name == "manual":
        return None
    if opt.name == "sgd":
        tx = optax.sgd(opt.lr, momentum=opt.momentum or None, nesterov=opt.nesterov)
    else:
        b1, b2 = opt.betas
        tx = optax.adam(opt.lr, b1=b1, b2=b2, eps=1e-8 if opt.eps is None else opt.eps)
    if opt.weight_decay:
        # torch couples weight decay into the gradient (g + wd * p) before the update
        tx = optax.chain(optax.add_decayed_weights(opt.weight_decay), tx)
    return tx


def _with_step(env, step):
    return env if step is None else {**env, "step": step}


class _ByGraph:
    """``jax.jit(fn, static_argnums=<step>)`` for a function whose last argument is the host
    int ``step``: traced for every step value, as a static argument is, but compiled once per
    distinct graph (the jaxpr and its constants), not once per step: a dynamic network
    with 4 depths over 100 steps compiles 4 times, not 100."""

    def __init__(self, fn):
        self.fn = fn
        self.compiled: dict = {}

    def __call__(self, *args):
        *args, step = args
        closed, shapes = jax.make_jaxpr(lambda *a: self.fn(*a, step),
                                        return_shape=True)(*args)
        key = (str(closed.jaxpr), tuple((np.shape(c), str(np.result_type(c)),
                                         np.asarray(c).tobytes()) for c in closed.consts))
        if key not in self.compiled:
            self.compiled[key] = jax.jit(jax.extend.core.jaxpr_as_fun(closed))
        out = self.compiled[key](*jax.tree.leaves(args))
        return jax.tree.unflatten(jax.tree.structure(shapes), out)


def _fused(update, observe, params, state, env, starts, steps):
    """The whole optimisation in one jax.jit: lax.fori_loop between records, lax.scan over
    the full stretches (a program that reads no host ``step``)."""
    every = starts[1] - starts[0] if len(starts) > 1 else steps
    full = len(starts) - 1  # stretches of `every` steps; the last one may be shorter
    last = steps - starts[-1]

    @jax.jit
    def run(params, state, env):
        def stretch(carry, n):
            return lax.fori_loop(0, n, lambda _, c: update(*c, env, None), carry)

        def one(carry, _):
            record = observe(carry[0], env, None)
            return stretch(carry, every), record

        carry, records = lax.scan(one, (params, state), None, length=full)
        before_last = observe(carry[0], env, None)
        carry = stretch(carry, last)
        final = observe(carry[0], env, None)
        return records, before_last, final

    records, before_last, final = run(params, state, env)
    out = [jax.tree.map(lambda r: r[i], records) for i in range(full)]
    return out + [before_last, final]


# ---- trace helpers ------------------------------------------------------------------------


def _tensor_arg(arg) -> bool:
    return isinstance(arg, dict) and "tensor" in arg


def _like(value, carry):
    """A loop body's new value: a Python scalar takes the carry's dtype (weak typing)."""
    if _is_array(value) or isinstance(value, jax.core.Tracer):
        return value
    return jnp.asarray(value, dtype=jnp.result_type(carry))


# ---- repro scripts ------------------------------------------------------------------------


_NoRepro = Untranslatable


def _kw(kwargs, rename=None):
    rename = rename or {}
    return "".join(f", {rename.get(k, k)}={v}" for k, v in kwargs.items())


def _reduce(fn):
    return lambda a, kw: f"{fn}({a[0]}{_kw(kw)})"


# op -> (rendered args, rendered kwargs) -> JAX source
FORMATS: dict[str, Any] = {
    **{op: (lambda sym: lambda a, kw: f"({a[0]} {sym} {a[1]})")(sym) for op, sym in {
        "add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@",
        "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}.items()},
    "neg": lambda a, kw: f"(-{a[0]})",
    **{op: (lambda fn: lambda a, kw: f"{fn}({', '.join(a)})")(fn) for op, fn in {
        "exp": "jnp.exp", "log": "jnp.log", "sqrt": "jnp.sqrt", "square": "jnp.square",
        "abs": "jnp.abs", "sin": "jnp.sin", "cos": "jnp.cos", "tanh": "jnp.tanh",
        "sigmoid": "jax.nn.sigmoid", "relu": "jax.nn.relu", "softplus": "jax.nn.softplus",
        "maximum": "jnp.maximum", "minimum": "jnp.minimum", "where": "jnp.where",
        "ones_like": "jnp.ones_like", "zeros_like": "jnp.zeros_like"}.items()},
    "clip": lambda a, kw: f"jnp.clip({a[0]}{_kw(kw)})",
    "sum": _reduce("jnp.sum"), "mean": _reduce("jnp.mean"), "max": _reduce("jnp.max"),
    "transpose": lambda a, kw: f"jnp.transpose({a[0]}{_kw(kw)})",
    "reshape": lambda a, kw: f"jnp.reshape({a[0]}, {kw['shape']})",
    "concat": lambda a, kw: f"jnp.concatenate({a[0]}{_kw(kw)})",
    "stack": lambda a, kw: f"jnp.stack({a[0]}{_kw(kw)})",
    "softmax": lambda a, kw: f"jax.nn.softmax({a[0]}{_kw(kw)})",
    "log_softmax": lambda a, kw: f"jax.nn.log_softmax({a[0]}{_kw(kw)})",
    "one_hot": lambda a, kw: f"jax.nn.one_hot({a[0]}, {kw['depth']}, dtype=jnp.float32)",
    "cast": lambda a, kw: f"jnp.asarray({a[0]}).astype({kw['dtype']})",
    "mse": lambda a, kw: (f"jnp.sum(jnp.square({a[0]} - {a[1]}))"
                          if kw.get("reduction") == "'sum'"
                          else f"jnp.mean(jnp.square({a[0]} - {a[1]}))"),
    "random_normal": lambda a, kw: f"jax.random.normal(jax.random.key(0), "
                                   f"{kw.get('shape', '()')})",
    "host_random_normal": lambda a, kw: f"jnp.asarray(host_rng.standard_normal("
                                        f"{kw.get('shape', '()')}), jnp.float32)",
    "effect": lambda a, kw: f"print({a[0] if a else repr('')})",
    "outer_append": lambda a, kw: f"appended.append({a[0]})",
}


_WRITER = SourceWriter(FORMATS, host_int=lambda name: f"int({name})")
_src = _WRITER.expr


def _lines(statements, indent="    ", skip=()) -> list[str]:
    return _WRITER.statements(statements, indent, skip)


class _Repro:
    def __init__(self, case, check, mode):
        self.case, self.check, self.mode = case, check, mode
        self.jit = mode == "jit"

    def script(self) -> str:
        kind = self.check.kind
        tail = getattr(self, f"_{kind}", None)
        if tail is None:
            raise _NoRepro(kind)
        body = tail()
        head = ["import jax", "import jax.numpy as jnp", "import numpy as np", ""]
        if kind == "optimize":
            head.insert(2, "import optax")
        head += [f"# {self.case.id}: {self.case.title} ({kind} check, "
                 f"{'jax[jit]' if self.jit else 'jax'})", ""]
        head += self._inputs() + [""] + self._functions()
        return "\n".join(head + body) + "\n"

    def _inputs(self) -> list[str]:
        used = {c.fn for c in ex.calls_used(self.case.program)}
        for fn in self.case.functions.values():
            texts = [fn.forward] if fn.forward else []
            used |= {c.fn for t in texts + fn.backwards
                     for c in ex.calls_used(ex.parse_expression(t))}
            if fn.body:
                used |= {c.fn for c in ex.calls_used(ex.parse_program(fn.body))}
        out = []
        if "host_random_normal" in used:
            out.append("host_rng = np.random.default_rng(0)")
        if "outer_append" in used:
            out.append("appended = []")
        for name, spec in self.case.inputs.items():
            array = spec.array()
            if spec.kind == "host":
                out.append(f"{name} = {array!r}")
                continue
            array = np.asarray(array)
            if array.dtype == object:
                raise _NoRepro("strings")
            if spec.random:
                out.append(f"{name} = jnp.asarray({spec.numpy_source()})")
            else:
                out.append(f"{name} = jnp.array({array.tolist()!r}, dtype=jnp.{array.dtype})")
        return out

    def _functions(self) -> list[str]:
        out = []
        for name, fn in self.case.functions.items():
            args = ", ".join(fn.args)
            if fn.forward is not None:
                forward = _src(ex.parse_expression(fn.forward))
                if fn.backward is not None:
                    out.append("@jax.custom_vjp")
                out += [f"def {name}({args}):", f"    return {forward}", ""]
                if fn.backward is not None:
                    rules = ", ".join(_src(ex.parse_expression(b)) for b in fn.backwards)
                    packed = fn.args[0] if len(fn.args) == 1 else f"({args})"
                    out += [f"def {name}_fwd({args}):", f"    result = {forward}",
                            f"    return result, (({args},), result)", "",
                            f"def {name}_bwd(residuals, grad):",
                            f"    ({packed}{',' if len(fn.args) == 1 else ''}), result "
                            "= residuals",
                            f"    return ({rules},)", "",
                            f"{name}.defvjp({name}_fwd, {name}_bwd)", ""]
            else:
                out += [f"def {name}({args}):"] + _lines(ex.parse_program(fn.body)) + [""]
        return out

    def _function(self, fname, args, target, skip=()) -> list[str]:
        """def fname(args): the program, returning ``target`` (an expression). The other
        inputs are keyword defaults, so that the program may reassign them locally."""
        others = [f"{n}={n}" for n in self.case.inputs if n not in args]
        return ([f"def {fname}({', '.join(list(args) + others)}):"]
                + _lines(self.case.program, skip=skip)
                + [f"    return {_src(ex.parse_expression(target))}", ""])

    def _wrt_values(self, names) -> list[str]:
        """Module-level values of intermediates named in ``wrt`` (inputs are there)."""
        inner = [n for n in names if n not in self.case.inputs]
        if not inner:
            return []
        return self._function("intermediates", [], "[" + ", ".join(inner) + "]") + \
            [f"{', '.join(inner)}, = intermediates()", ""]

    def _wrap(self, expr) -> str:
        return f"jax.jit({expr})" if self.jit else expr

    def _value(self) -> list[str]:
        return self._function("f", [], self.check.value) + [f"print({self._wrap('f')}())"]

    def _grad(self) -> list[str]:
        c = self.check
        names, _ = _flatten_targets(c.wrt)
        several = isinstance(c.grad, list)
        target = "(" + ", ".join(c.grad) + ",)" if several else c.grad
        joint = len(set(names)) == len(names) and all(n in self.case.inputs for n in names)
        # an intermediate is an argument of its own function (replacing its assignment)
        groups = [names] if joint else [[n] for n in names]
        out = self._wrt_values(list(dict.fromkeys(names)))
        for i, group in enumerate(groups):
            f, args = f"f{i}", ", ".join(group)
            out += self._function(f, group, target, skip=set(group))
            if c.weights is None:
                summed = f"lambda *a: sum({f}(*a))" if several else f
                out += [f"grad{i} = jax.grad({summed}, argnums="
                        f"{tuple(range(len(group)))})", ""]
            else:
                cotangent = (f"tuple(jnp.asarray({c.weights!r}, o.dtype) for o in out)"
                             if several else f"jnp.asarray({c.weights!r}, out.dtype)")
                out += [f"def grad{i}({args}):", f"    out, pullback = jax.vjp({f}, {args})",
                        f"    return pullback({cotangent})", ""]
        if c.order > 1:
            out += ["g1 = lambda x: grad0(x)[0]"]
            for k in range(2, c.order + 1):
                out += [f"g{k} = lambda x: jax.vjp(g{k - 1}, x)[1](jnp.ones_like("
                        f"g{k - 1}(x)))[0]"]
            return out + [f"print({self._wrap(f'g{c.order}')}({names[0]}))"]
        if joint:
            return out + [f"print({self._wrap('grad0')}({', '.join(names)}))"]
        return out + ["print([" + ", ".join(f"{self._wrap(f'grad{i}')}({n})[0]"
                                            for i, n in enumerate(names)) + "])"]

    def _jvp(self) -> list[str]:
        c = self.check
        out = self._wrt_values(c.wrt) + self._function("f", c.wrt, c.jvp, skip=set(c.wrt))
        primals = "(" + "".join(f"{n}, " for n in c.wrt) + ")"
        tangents = "(" + "".join(f"jnp.asarray({t!r}, {n}.dtype), "
                                 for t, n in zip(c.tangents, c.wrt)) + ")"
        if c.mode == "forward":
            return out + [f"print({self._wrap('lambda p, t: jax.jvp(f, p, t)[1]')}"
                          f"({primals}, {tangents}))"]
        argnums = tuple(range(len(c.wrt)))
        return out + [f"jacobians = {self._wrap(f'jax.jacrev(f, argnums={argnums})')}"
                      f"(*{primals})",
                      f"print(sum(jnp.tensordot(j, t, axes=t.ndim) "
                      f"for j, t in zip(jacobians, {tangents})))"]

    def _jacobian(self) -> list[str]:
        c = self.check
        out = self._wrt_values([c.wrt]) + self._function("f", [c.wrt], c.jacobian,
                                                         skip={c.wrt})
        transform = "jax.jacfwd" if c.mode == "forward" else "jax.jacrev"
        return out + [f"print({self._wrap(f'{transform}(f)')}({c.wrt}))"]

    def _while_loop(self) -> list[str]:
        spec = self.check.while_loop
        if spec.graph:
            raise _NoRepro("graph")
        names = list(spec.vars)
        init = ", ".join(f"{k!r}: jnp.asarray({v!r})" for k, v in spec.vars.items())
        unpack = [f"    {k} = c[{k!r}]" for k in names]
        body = ", ".join(f"{k!r}: {_src(ex.parse_expression(spec.body.get(k, k)))}"
                         for k in names)
        return (["def cond(c):"] + unpack
                + [f"    return {_src(ex.parse_expression(spec.cond))}", "",
                   "def body(c):"] + unpack + [f"    return {{{body}}}", "",
                   f"print({self._wrap('lambda c: jax.lax.while_loop(cond, body, c)')}"
                   f"({{{init}}}))"])

    def _trace(self) -> list[str]:
        c = self.check
        if c.staged and not self.jit:
            raise _NoRepro("staged in eager")
        from harness.cases import to_array

        def arg(a):
            if not _tensor_arg(a):
                return repr(a)
            array = to_array(a["tensor"], a.get("dtype"))
            if array.dtype == object:
                raise _NoRepro("strings")
            return f"jnp.array({array.tolist()!r}, dtype=jnp.{array.dtype})"

        out = ["traces = 0", "", "def counted(*args):  # Python runs: once per trace",
               "    global traces", "    traces += 1", f"    return {c.trace}(*args)", ""]
        jitted: dict = {}
        calls = []
        for call in c.calls:
            callee = "counted"
            if c.staged:
                static = tuple(i for i, a in enumerate(call) if not _tensor_arg(a))
                if static not in jitted:
                    jitted[static] = f"jitted{len(jitted)}"
                    out.append(f"{jitted[static]} = jax.jit(counted, static_argnums={static})")
                callee = jitted[static]
            calls += ["before = traces", "try:",
                      f"    print({callee}({', '.join(arg(a) for a in call)}), "
                      "'traced:', traces > before)",
                      "except Exception as exc:",
                      "    print(type(exc).__name__, exc, 'traced:', traces > before)"]
        return out + [""] + calls

    def _optimize(self) -> list[str]:
        spec = self.check.optimize
        opt = spec.optimizer
        if opt.style != "step":
            raise _NoRepro("style")
        if opt.name == "sgd":
            tx = f"optax.sgd({opt.lr}, momentum={opt.momentum or None}, " \
                 f"nesterov={opt.nesterov})"
        elif opt.name == "adam":
            tx = f"optax.adam({opt.lr}, b1={opt.betas[0]}, b2={opt.betas[1]}, " \
                 f"eps={1e-8 if opt.eps is None else opt.eps})"
        else:
            tx = f"optax.sgd({opt.lr})  # manual: p - lr * g"
        if opt.weight_decay:
            tx = f"optax.chain(optax.add_decayed_weights({opt.weight_decay}), {tx})"
        params = spec.params
        out = ["step = 0"] + self._function("loss_fn", params, spec.loss, skip=set(params))
        out += [f"tx = {tx}", f"params = ({', '.join(params)},)", "state = tx.init(params)",
                "", "def update(params, state):",
                "    grads = jax.grad(lambda p: loss_fn(*p))(params)",
                "    updates, state = tx.update(grads, state, params)",
                "    return optax.apply_updates(params, updates), state", ""]
        if self.jit:
            out += ["update = jax.jit(update)", ""]
        out += [f"for step in range({spec.steps}):",
                f"    if step % {spec.record_every} == 0:",
                "        print(step, params, loss_fn(*params))",
                "    params, state = update(params, state)",
                f"print({spec.steps}, params, loss_fn(*params))"]
        return out

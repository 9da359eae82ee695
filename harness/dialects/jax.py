"""JAX: plain immutable arrays and function transforms, as a JAX user writes them.

JAX has no tracked tensors, tapes or graphs: a gradient is a transform of a function. A
script writes the case's program as a Python function of what is differentiated (an
intermediate named in ``wrt`` is an argument that replaces its assignment) and applies
``jax.grad``, ``jax.vjp``, ``jax.jvp``, ``jax.jacfwd``/``jacrev`` to it. A check's work is one
function of the case's tensor inputs; ``jax[jit]`` is the same function under ``jax.jit``
(inputs as arguments, not constants, as a user's jitted function takes them). Optimizers are
optax's, in a Python loop of steps, or one compiled ``lax.scan`` where the case allows it.
Longer script pieces are templates at the end of the module.
"""

from __future__ import annotations

import re
from collections import ChainMap

from harness import expressions as ex
from harness.dialects.base import Dialect, NotApplicable, Writer, python_literal, tensor_list
from harness.dialects.jax_ops import HELPERS, NO_STRINGS, OPS

X64 = {"float64", "int64", "uint64", "complex128"}
NO_STATE = "JAX arrays are immutable and JAX has no variables (state is passed in and returned)"


def _nodes(f) -> list:
    """A case function's parse nodes."""
    return [n for n in (f.forward, *(f.backward or ()), *(f.body or ())) if n is not None]


class _Fresh:
    """Script names that do not clash with the case's: ``n.params`` is ``params`` unless
    the case uses that name (then ``params_``)."""

    def __init__(self, plan):
        nodes = list(plan.program) + [n for f in plan.functions.values() for n in _nodes(f)]
        self._taken = set(plan.inputs) | set(plan.functions) | {"step"} | set(
            ex.assigned(nodes)) | ex.names_used(tuple(nodes)) | {
            x for f in plan.functions.values() for x in f.args}
        self._names: dict = {}

    def __getattr__(self, base: str) -> str:
        if base.startswith("_"):
            raise AttributeError(base)
        if base not in self._names:
            self._names[base] = base + "_" * next(
                k for k in range(99) if base + "_" * k not in self._taken)
            self._taken.add(self._names[base])
        return self._names[base]

    def __getitem__(self, key: str) -> str:
        return getattr(self, key)

    def fill(self, template: str, values: dict) -> str:
        """A script piece: ``{name}`` is ``values[name]``, else a fresh script name."""
        return "\n\n" + template.format_map(ChainMap(values, self)).strip("\n") + "\n"


class JaxDialect(Dialect):
    name = "jax"
    modes = ("eager", "jit")
    OPS = OPS
    LACKS = {"string_join": NO_STRINGS, "assign_add": NO_STATE, "assign_sub": NO_STATE,
             "new_variable": "JAX has no variables: state is a plain array passed in and "
                             "returned"}
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
    LACKS_KINDS = {
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

    FRESH = 'import jax\njax.config.update("jax_enable_x64", False)'  # JAX's start-up default

    def render(self, plan, mode=None) -> str:
        return re.sub(r"\n{4,}", "\n\n\n", super().render(plan, mode))  # PEP 8's blank lines

    def imports(self, w: Writer) -> list[str]:
        out = ["import jax", "import jax.numpy as jnp"]
        out += ["import numpy as np"] if w.needs & {"numpy", "host_rng"} else []
        out += ["import optax"] if "optax" in w.needs else []
        if w.plan.dtypes() & X64:  # without it, JAX makes a float64 array float32
            out += ["", 'jax.config.update("jax_enable_x64", True)']
        helpers = [HELPERS[n[7:]] for n in sorted(w.needs) if n.startswith("helper:")]
        return out + ["", *helpers] if helpers else out

    def from_numpy(self, source: str) -> str:
        return f"jnp.asarray({source})"

    # ---- the script's head: inputs and the case's functions ------------------------------

    def head(self, w: Writer, roots, only=False) -> None:
        """The inputs (``only``: just those ``roots`` read, where a traced function is all the
        script runs) and the case's functions that ``roots`` (nodes) call. A string input is
        n/a where it is read, and left out where not."""
        w.fresh = _Fresh(w.plan)
        functions = dict(w.plan.functions)
        keep, todo = set(), list(roots)
        while todo:
            for call in ex.calls_used(todo.pop()):
                if call.fn in functions and call.fn not in keep:
                    keep.add(call.fn)
                    todo += _nodes(functions[call.fn])
        used = ex.names_used(tuple(roots) + tuple(n for k in keep for n in _nodes(functions[k])))
        w.unused = {x for x, i in w.plan.inputs.items() if x not in used and (only or i.is_string)}
        for name, i in w.plan.inputs.items():
            if name in w.unused:
                continue
            if i.kind == "host":
                w.add(f"{name} = {python_literal(i.value)}")
            elif i.is_string:
                raise NotApplicable(NO_STRINGS)
            elif i.random_source:
                w.needs.add("numpy")
                w.add(f"{name} = jnp.asarray({i.random_source})")
            else:
                w.add(f"{name} = jnp.array({tensor_list(i.value)}, dtype=jnp.{i.dtype})")
        w.blank()
        w.plan.functions = {k: f for k, f in functions.items() if k in keep}
        try:  # only the functions the script calls: an op one lacks costs only its checks
            w.add("", *w.functions())
        finally:
            w.plan.functions = functions

    def custom_function(self, w: Writer, fn) -> list[str]:
        # jax.custom_vjp: the forward saves its inputs and result; the backward returns one
        # cotangent per input (a Python number becomes an array like that input)
        args = ", ".join(fn.args)
        forward = w.expr(fn.forward)
        rules = [f"jnp.broadcast_to(jnp.asarray({w.expr(r)}, {a}.dtype), jnp.shape({a}))"
                 if w.is_host(r) else w.expr(r) for r, a in zip(fn.backward, fn.args)]
        return ["@jax.custom_vjp", f"def {fn.name}({args}):", f"    return {forward}", "", "",
                f"def {fn.name}_fwd({args}):", f"    result = {forward}",
                f"    return result, ({args}, result)", "", "",
                f"def {fn.name}_bwd(residuals, grad):", f"    {args}, result = residuals",
                f"    return ({', '.join(rules)},)", "", "",
                f"{fn.name}.defvjp({fn.name}_fwd, {fn.name}_bwd)", ""]

    # ---- one function of the inputs, jitted in jax[jit] ----------------------------------

    def wrapped(self, w: Writer, name: str, body: list[str], result: str,
                extra: tuple = (), call_extra: tuple = ()) -> str:
        """``def name(<tensor inputs>, *extra)``: ``body``, returning ``result``; under
        ``@jax.jit`` in jax[jit]. Returns the call's source."""
        args = [x for x in w.plan.tensors if x not in w.unused]
        w.blank()
        w.add("", *(["@jax.jit"] if w.mode == "jit" else []),
              f"def {name}({', '.join(args + list(extra))}):", *body,
              f"    return {result}", "", "")
        return f"{name}({', '.join(args + list(call_extra))})"

    def primals(self, w: Writer, names) -> list[str]:
        """The program, where an intermediate among ``names`` needs its value."""
        inner = [n for n in names if not w.plan.is_input(n)]
        if not inner:
            return []
        return [f"    # the program: the values of {', '.join(inner)}"] + w.program("    ") + [""]

    def check_value(self, w: Writer) -> None:
        self.head(w, list(w.plan.program) + [ex.parse_expression(w.plan.check.value)])
        call = self.wrapped(w, w.fresh.forward, w.program("    "), w.text(w.plan.check.value))
        w.observe("value", call)

    def check_grad(self, w: Writer) -> None:
        p = w.plan
        self.head(w, p.program)
        n = w.fresh
        names = list(p.wrt.names)
        joint = len(set(names)) == len(names) and all(p.is_input(x) for x in names)
        # an intermediate is replaced where it is assigned, which cuts every path through
        # it: each name gets its own function (the total derivative a tape gives)
        groups = [names[:1]] if p.order > 1 else [names] if joint else [[x] for x in names]
        several = len(p.targets) > 1
        if several and p.weights is None:  # several targets: the gradient of their sum
            target = " + ".join(p.targets)
        else:
            target = ", ".join(p.targets) + ("," if several else "")
        body = self.primals(w, names)
        grads = {}
        for group in groups:
            f = n.f if joint or p.order > 1 else getattr(n, f"f_{group[0]}")
            body += w.function_of(f, group, target, "    ")
            argnums = f", argnums={tuple(range(len(group)))}" if len(group) > 1 else ""
            outs = [getattr(n, f"grad_{x}") for x in group]
            args = ", ".join(group)
            if p.order > 1:
                body += self.higher(w, f, p.order, group[0])
                outs = [f"d{p.order}{f}({group[0]})"]
            elif p.weights is None:
                body.append(f"    {', '.join(outs)} = jax.grad({f}{argnums})({args})")
            else:
                like = "o" if several else n.out
                weights = f"jnp.asarray({tensor_list(p.weights)}, dtype={like}.dtype)"
                if several:
                    weights = f"tuple({weights} for o in {n.out})"
                body += [f"    {n.out}, {n.pullback} = jax.vjp({f}, {args})",
                         f"    ({', '.join(outs)},) = {n.pullback}({weights})"]
            body.append("")
            grads.update(zip(group, outs))
        result = p.wrt.source([grads[x] for x in names])
        w.observe("grad", self.wrapped(w, n.gradients, body[:-1], result))

    def higher(self, w: Writer, f: str, order: int, x: str) -> list[str]:
        """d{order}f: jax.grad (or jax.vjp with the weights) of ``f``, then each order more
        a jax.vjp with ones (the gradient of the sum of the previous one)."""
        n, p = w.fresh, w.plan
        if p.weights is None:
            out = [f"    d1{f} = jax.grad({f})", ""]
        else:
            out = [f"    def d1{f}({x}):", f"        {n.out}, {n.pullback} = jax.vjp({f}, {x})",
                   f"        return {n.pullback}(jnp.asarray({tensor_list(p.weights)}, "
                   f"dtype={n.out}.dtype))[0]", ""]
        for k in range(2, order + 1):
            out += [f"    def d{k}{f}({x}):",
                    f"        {n.out}, {n.pullback} = jax.vjp(d{k - 1}{f}, {x})",
                    f"        return {n.pullback}(jnp.ones_like({n.out}))[0]", ""]
        return out

    def check_jvp(self, w: Writer) -> None:
        p = w.plan
        self.head(w, p.program)
        n = w.fresh
        args = ", ".join(p.wrt)
        names = [getattr(n, f"tangent_{x}") for x in p.wrt]
        body = self.primals(w, p.wrt) + w.function_of(n.f, p.wrt, p.target, "    ") + [
            f"    {t} = jnp.asarray({tensor_list(v)}, dtype={x}.dtype)"
            for t, x, v in zip(names, p.wrt, p.tangents)]
        tangents = f"({', '.join(names)}{',' * (len(names) == 1)})"
        if p.mode == "forward":
            body.append(f"    _, {n.tangent_out} = jax.jvp({n.f}, ({args},), {tangents})")
            result = n.tangent_out
        else:  # reverse mode: the Jacobian (jax.jacrev) contracted with the tangents
            body.append(f"    {n.jacobians} = jax.jacrev({n.f}, argnums="
                        f"{tuple(range(len(p.wrt)))})({args})")
            result = (f"sum(jnp.tensordot(j, t, axes=t.ndim) for j, t in "
                      f"zip({n.jacobians}, {tangents}))")
        w.observe("jvp", self.wrapped(w, n.jacobian_vector_product, body, result))

    def check_jacobian(self, w: Writer) -> None:
        p = w.plan
        self.head(w, p.program)
        n = w.fresh
        body = self.primals(w, [p.wrt]) + w.function_of(n.f, [p.wrt], p.target, "    ")
        transform = "jax.jacfwd" if p.mode == "forward" else "jax.jacrev"
        w.observe("jacobian", self.wrapped(w, n.jacobian, body, f"{transform}({n.f})({p.wrt})"))

    def check_while_loop(self, w: Writer) -> None:
        p = w.plan
        if p.graph:
            raise NotApplicable("JAX has no define-then-run graphs: jax.lax.while_loop is "
                                "one op, eager or under jax.jit")
        self.head(w, list(p.program) + [p.cond] + list(p.body.values()))
        n = w.fresh
        names = list(p.vars)
        unpack = f"        {', '.join(names)} = {', '.join(f'{n.carry}[{k!r}]' for k in names)}"

        def new(k):  # a Python number takes the loop variable's dtype (weak typing)
            if k not in p.body:
                return k
            value = w.expr(p.body[k])
            return f"jnp.asarray({value}, dtype={k}.dtype)" if w.is_host(p.body[k]) else value

        body = w.program("    ") + [
            f"    def {n.cond}({n.carry}):", unpack, f"        return {w.expr(p.cond)}", "",
            f"    def {n.body}({n.carry}):", unpack,
            "        return {" + ", ".join(f"{k!r}: {new(k)}" for k in names) + "}", ""]
        init = "{" + ", ".join(f"{k!r}: jnp.array({tensor_list(a.value)}, "
                                f"dtype=jnp.{a.value.dtype})" for k, a in p.vars.items()) + "}"
        call = self.wrapped(w, n.loop, body, f"jax.lax.while_loop({n.cond}, {n.body}, {n.carry})",
                            (n.carry,), (init,))
        w.add(f"{n.final} = {call}")
        for k in names:
            w.observe(k, f"{n.final}[{k!r}]")

    # ---- optimizers: optax ---------------------------------------------------------------

    def check_optimize(self, w: Writer) -> None:
        p = w.plan
        o = p.optimizer
        if o.style != "step":
            raise NotApplicable(f"optax has one spelling: update + apply_updates (no {o.style})")
        self.head(w, p.program)
        n = w.fresh
        data = [x for x in p.tensors if x not in p.opt_params and x not in w.unused]
        data += ["step"] * p.uses_step
        record = list(p.record) + [p.loss] * (p.loss not in p.record)
        stateful = o.name != "manual"  # the manual update keeps no optimizer state
        a = "".join(f", {x}" for x in data)
        final_a = "".join(f", {p.steps if x == 'step' else x}" for x in data)  # after the loop
        decay = f"\n    {n.grads} = jax.tree.map(lambda g, p: g + {o.weight_decay} * p, " \
            f"{n.grads}, {n.params})  # weight decay" if o.weight_decay else ""
        fill = dict(a=a, final_a=final_a, state=f"{n.params}, {n.opt_state}" if stateful else n.params,
                    loss=p.loss, lr=o.lr, decay=decay, optimizer=self.optimizer(o),
                    unpack="\n".join(f"    {x} = {n.params}[{x!r}]" for x in p.opt_params),
                    program="\n".join(w.program("    ", skip=set(p.opt_params))),
                    returns=", ".join(f"{x!r}: {x}" for x in record),
                    params_dict=", ".join(f"{x!r}: {x}" for x in p.opt_params))
        w.needs.update({"optax"} if stateful else ())
        w.add(n.fill(_MODEL + (_OPTAX if stateful else _MANUAL), fill))
        if (w.mode == "jit" or p.fast_path) and not p.uses_step:
            trajectory = self.fused(w, fill, stateful)
        else:
            trajectory = self.loop(w, fill)
        for x in p.record:
            w.observe(x, trajectory(x))

    def optimizer(self, o) -> str:
        def given(**kw):  # a field left None takes optax's own default: leave it out
            return "".join(f", {k}={v}" for k, v in kw.items() if v is not None)

        if o.name == "sgd":
            if o.dampening:
                raise NotApplicable("optax.sgd has no dampening: its momentum trace adds the whole "
                                    "gradient (PyTorch's dampening=0)")
            tx = f"optax.sgd({o.lr}" + (f", momentum={o.momentum}" if o.momentum else "") + (
                f", nesterov={o.nesterov}" if o.nesterov else "") + ")"
        elif o.name in ("adam", "adamw"):
            tx = f"optax.{o.name}({o.lr}, b1={o.betas[0]}, b2={o.betas[1]}{given(eps=o.eps)}"
            if o.name == "adamw":  # optax's own decoupled decay (also times the learning rate)
                return tx + given(weight_decay=o.weight_decay) + ")"
            tx += ")"
        elif o.name == "rmsprop":
            tx = f"optax.rmsprop({o.lr}" + given(decay=o.rho, eps=o.eps) + (
                ", centered=True" if o.centered else "") + (
                f", momentum={o.momentum}" if o.momentum else "") + ")"
        else:
            tx = f"optax.adagrad({o.lr}" + given(
                initial_accumulator_value=o.initial_accumulator_value, eps=o.eps) + ")"
        if o.weight_decay:  # g + wd * p before the update, as torch couples it
            tx = f"optax.chain(optax.add_decayed_weights({o.weight_decay}), {tx})"
        return tx

    def fused(self, w: Writer, fill: dict, stateful: bool):
        """The whole loop in one jax.jit: lax.scan over the stretches between records,
        lax.fori_loop over the steps of each (a last, shorter stretch after them)."""
        p, n = w.plan, w.fresh
        full, rest = divmod(p.steps, p.record_every)
        fill.update(steps=p.steps, every=p.record_every, full=full, rest=rest,
                    c_params=f"{n.carry}[0]" if stateful else n.carry,
                    init=f"({fill['state']})" if stateful else fill["state"],
                    run=f"lambda {n.i}, {n.carry}: {n.update}({'*' * stateful}{n.carry}"
                        f"{fill['a']})", tail=f"{n.before_last}, " * bool(rest))
        w.add(n.fill(_FUSED.replace("{rest_stretch}", _REST if rest else ""), fill))
        return lambda x: f"[*{n.history}[{x!r}], " + f"{n.before_last}[{x!r}], " * bool(rest) \
            + f"{n.final}[{x!r}]]"

    def loop(self, w: Writer, fill: dict):
        """A Python loop of steps: eager, or (the program reads the host ``step``) each step
        jitted with ``step`` static, compiled once per distinct graph."""
        p, n = w.plan, w.fresh
        fill.update(steps=p.steps, every=p.record_every, step_model=n.model,
                    step_update=n.update)
        if w.mode == "jit" or p.fast_path:
            w.needs.add("numpy")
            fill.update(step_model=n.model_jit, step_update=n.update_jit)
            w.add(n.fill(_JIT_PER_GRAPH, {}))
        w.add(n.fill(_LOOP, fill))
        return lambda x: f"[r[{x!r}] for r in {n.records}]"

    # ---- traced functions ----------------------------------------------------------------

    def check_trace(self, w: Writer) -> None:
        p = w.plan
        if p.staged and w.mode == "eager":
            raise NotApplicable("eager JAX stages nothing: jax.jit runs in the jax[jit] column")
        if any(a.tensor and a.value.dtype == object for call in p.call_args for a in call):
            raise NotApplicable(NO_STRINGS)
        w.needs.update({"log", "appended", "numpy"})
        self.head(w, [ex.parse_expression(f"{p.function}()")], only=True)
        n = w.fresh
        jitted, calls = {}, []
        for call in p.call_args:
            fn = n.counted
            if p.staged:  # Python values are static: each new value traces again
                static = tuple(k for k, a in enumerate(call) if not a.tensor)
                if static not in jitted:
                    jitted[static] = getattr(n, f"jitted_{len(jitted)}" if jitted else "jitted")
                fn = jitted[static]
            args = [f"jnp.array({tensor_list(a.value)}, dtype=jnp.{a.value.dtype})"
                    if a.tensor else python_literal(a.value) for a in call]
            calls.append(f"    ({fn}, ({', '.join(args)}{',' if len(args) == 1 else ''})),")
        jits = [f"{name} = jax.jit({n.counted}" + (f", static_argnums={static})" if static
                                                   else ")") for static, name in jitted.items()]
        w.add(n.fill(_TRACE, dict(function=p.function, jitted="\n".join(jits),
                                  calls="\n".join(calls))))


# ---- script pieces, filled with the script's names (``_Fresh.fill``) -----------------------

_MODEL = '''

def {model}({params}{a}):
    """The program as a function of the params: the values recorded."""
{unpack}
{program}
    return {{{returns}}}


def {loss_fn}({params}{a}):
    return {model}({params}{a})[{loss!r}]

'''

_OPTAX = '''
{tx} = {optimizer}


def {update}({params}, {opt_state}{a}):
    {grads} = jax.grad({loss_fn})({params}{a})
    {updates}, {opt_state} = {tx}.update({grads}, {opt_state}, {params})
    return optax.apply_updates({params}, {updates}), {opt_state}


{params} = {{{params_dict}}}
{opt_state} = {tx}.init({params})
'''

_MANUAL = '''
def {update}({params}{a}):
    {grads} = jax.grad({loss_fn})({params}{a}){decay}
    return jax.tree.map(lambda p, g: p - {lr} * g, {params}, {grads})


{params} = {{{params_dict}}}
'''

_FUSED = '''

@jax.jit
def {train}({state}{a}):
    """{steps} steps in one compiled loop, a record every {every}."""
    def {stretch}({carry}, _):
        {record} = {model}({c_params}{a})
        return jax.lax.fori_loop(0, {every}, {run}, {carry}), {record}

    {carry}, {history} = jax.lax.scan({stretch}, {init}, length={full})
{rest_stretch}    return {history}, {tail}{model}({c_params}{a})


{history}, {tail}{final} = {train}({state}{a})
{history} = jax.device_get({history})  # NumPy, to split into the records
'''

_REST = '''    {before_last} = {model}({c_params}{a})
    {carry} = jax.lax.fori_loop(0, {rest}, {run}, {carry})
'''

_LOOP = '''
{records} = []
for step in range({steps}):
    if step % {every} == 0:
        {records}.append({step_model}({params}{a}))
    {state} = {step_update}({state}{a})
{records}.append({step_model}({params}{final_a}))
'''

# the compiled step of a program that reads the host int `step` (its locals are its own)
_JIT_PER_GRAPH = '''

def {jit_per_graph}(fn):
    """jax.jit of fn with its last argument, the host int `step`, static: traced at every
    step, compiled once per distinct graph (its jaxpr and constants), not once per step."""
    jitted = jax.jit(fn, static_argnums=-1)
    executables = {{}}

    def call(*args):
        traced = jitted.trace(*args)
        graph = (str(traced.jaxpr), *(np.asarray(c).tobytes() for c in traced.jaxpr.consts))
        if graph not in executables:
            executables[graph] = traced.lower().compile()
        return executables[graph](*args[:-1])
    return call


{model_jit} = {jit_per_graph}({model})
{update_jit} = {jit_per_graph}({update})
'''

_TRACE = '''
{traces} = 0


def {counted}(*args):  # Python runs the body: once per trace under jax.jit
    global {traces}
    {traces} += 1
    return {function}(*args)


{jitted}
{outputs}, {traced} = [], []
for {fn}, {args} in [
{calls}
]:
    {before} = {traces}
    try:
        {outputs}.append({fn}(*{args}))
    except Exception as exc:  # a call that raised: its error is its output
        {outputs}.append(exc)
    {traced}.append({traces} > {before})

observe('outputs', {outputs})
observe('traced', {traced})
observe('log', log)
observe('appended', ['symbolic' if isinstance(v, jax.core.Tracer) else 'concrete'
                     for v in appended])
{values} = [np.asarray(o) for o in {outputs} if not isinstance(o, Exception)]
observe('distinct', len({{(v.dtype.str, v.shape, v.tobytes()) for v in {values}}}))
'''


DIALECT = JaxDialect()

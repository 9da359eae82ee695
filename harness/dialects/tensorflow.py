"""The TensorFlow dialect: cases as TensorFlow 2 scripts (tapes, ``tf.function``,
``ForwardAccumulator``, Keras optimizers, ``tf.compat.v1`` graphs, ``tf.saved_model``).

Two columns: ``tensorflow`` (eager) and ``tensorflow[function]``, where the work of a check
runs inside one ``tf.function``: the program, its tape and the gradient calls. Variables are
captured; the other tensor inputs are arguments (a small captured constant would become a
Const that Grappler may fold, which changes numbers). The program's ``for _ in range(n)``
loops are Python loops over host ints, unrolled at trace time. Staged functions say
``autograph=False``: no case needs AutoGraph, and without it an error raised while tracing
keeps TensorFlow's own message (AutoGraph rewrites it with the script's file and lines).
"""

from __future__ import annotations

import numpy as np

from harness import expressions as ex
from harness.dialects.base import Dialect, NotApplicable, Writer, python_literal, tensor_list
from harness.dialects.keras_api import keras_optimizer
from harness.dialects.tensorflow_ops import OPS, helpers

STAGE = "@tf.function(autograph=False)"

# ---- source pieces --------------------------------------------------------------------------


def _text(value):
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value.decode() if isinstance(value, bytes) else value


def _literal(array) -> str:
    """An array as ``values, dtype=...`` (strings as ``str``)."""
    array = np.asarray(array)
    if array.dtype == object:
        return f"{python_literal(_text(array.tolist()))}, dtype=tf.string"
    return f"{tensor_list(array)}, dtype=tf.{array.dtype}"


def _arg(arg, wrap="tf.constant") -> str:
    """A call argument: a tensor (``wrap(values, dtype=...)``) or a Python value."""
    return f"{wrap}({_literal(arg.value)})" if arg.tensor else python_literal(arg.value)


def _spec(arg) -> str:
    """The TensorSpec of a call argument (a Python number converts to float32 or int32)."""
    array = np.asarray(arg.value)
    dtype = "string" if array.dtype.kind in "OSU" else \
        {"float64": "float32", "int64": "int32"}.get(str(array.dtype), str(array.dtype))
    return f"tf.TensorSpec(shape={list(array.shape)}, dtype=tf.{dtype})"


def _listed(names) -> str:
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


def _tuple(items) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _free(w: Writer, name: str) -> str:
    """``name``, or ``name_`` where the case already uses it."""
    while name in {*w.plan.inputs, *w.plan.functions, *ex.assigned(w.plan.program)}:
        name += "_"
    return name


def _gap(w: Writer, *lines: str) -> None:
    """Two blank lines (before a top-level definition), then ``lines``."""
    while w.lines and w.lines[-1] == "":
        w.lines.pop()
    w.add(*(["", ""] if w.lines else []), *lines)




class TensorFlowDialect(Dialect):
    name = "tensorflow"
    modes = ("eager", "function")
    OPS = OPS
    IMPORTS = ("import tensorflow as tf",)
    SEED = "tf.random.set_seed(0)"
    # eager TensorFlow caches the tensors of Python scalars by value for the whole process,
    # and -0.0 == 0.0: a script's 0.0 would be the -0.0 of a script before it
    FRESH = "from tensorflow.python import pywrap_tfe\npywrap_tfe.TFE_ClearScalarCache()"
    LACKS_KINDS = {"attributes": "TensorFlow tensors have no is_leaf, requires_grad, grad_fn or "
                            ".grad: a GradientTape records operations, not tensors"}
    ERRORS = [
        (r"non-persistent GradientTape can only be used to compute one set|"
         r"GradientTape\.gradient can only be called once", "graph_freed"),
        (r"Binding inputs to tf\.function failed|incompatible with input_signature|"
         r"input_signature.*(mismatch|incompatible)|Can not cast TensorSpec", "signature_mismatch"),
        (r"tf\.function only supports singleton tf\.Variables created on the first call|"
         r"tried to create variables on non-first call", "variable_in_trace"),
        (r"OperatorNotAllowedInGraphError|SymbolicTensor' object has no attribute 'numpy'|"
         r"out of scope and cannot be used here|Attempting to capture an EagerTensor without "
         r"building a function|passed a \"Graph\" tensor|is being passed a .*Graph.* tensor",
         "tracer_leak"),
        (r"^(InvalidArgumentError|UnimplementedError)", "invalid_argument"),
    ]

    def imports(self, w: Writer) -> list[str]:
        return [*self.IMPORTS, *["import tensorflow.experimental.numpy as tnp"] * ("tnp" in w.needs),
                *helpers(w)]

    def from_numpy(self, source: str) -> str:
        return f"tf.constant({source})"

    def to_numpy(self, value):
        # a gather's gradient (tf.gather, tf.nn.embedding_lookup) is IndexedSlices: as dense
        if type(value).__name__ == "IndexedSlices":
            import tensorflow as tf
            value = tf.convert_to_tensor(value)
        return super().to_numpy(value)

    # ---- inputs, functions, the staged check ----------------------------------------------

    def inputs(self, w: Writer, indent="", variables=(), leave=(), functions=True) -> None:
        """Host inputs as Python values, variables (and ``variables``) as ``tf.Variable``,
        the rest as constants; then the case's functions."""
        for name, i in w.plan.inputs.items():
            if i.kind == "host" and name not in leave:
                w.add(f"{indent}{name} = {python_literal(i.value)}")
            elif name not in leave:
                w.needs.update(["import numpy as np"] * bool(i.random_source))
                value = i.random_source or _literal(i.value)
                if i.kind == "variable" or name in variables:
                    extra = ", trainable=False" * (i.kind == "variable" and not i.trainable)
                    w.add(f"{indent}{name} = tf.Variable({value}{extra}, name={name!r})")
                else:
                    w.add(f"{indent}{name} = tf.constant({value})")
        if functions and w.plan.functions:
            w.in_function = True
            _gap(w, *w.functions())
            w.in_function = False

    def custom_function(self, w: Writer, fn) -> list[str]:
        shadowed = w.host & set(fn.args)
        w.host -= shadowed
        rules = ", ".join(f"tf.zeros_like({a}) + {w.expr(r)}" if w.is_host(r) else w.expr(r)
                          for a, r in zip(fn.args, fn.backward))
        forward = w.expr(fn.forward)
        w.host |= shadowed
        variables = {n for n, i in w.plan.inputs.items() if i.kind == "variable"}
        variables |= set(w.plan.params.get("opt_params", ()))
        reads = (ex.names_used(fn.forward) & variables) - set(fn.args)
        return ["@tf.custom_gradient", f"def {fn.name}({', '.join(fn.args)}):",
                f"    result = {forward}", "",
                f"    def backward(grad{', variables=None' * bool(reads)}):",
                *(["        # the Variables the forward reads get no gradient: no rule for them",
                   f"        return ({rules}), [None] * len(variables)"] if reads else
                  [f"        return {rules}"]), "", "    return result, backward"]

    def _staged(self, w: Writer, fname: str, body) -> None:
        """The check's work: at the top level (eager), or inside one tf.function whose
        arguments are the tensor inputs. ``body(indent)`` writes the lines and returns
        {observed name: source}."""
        if w.mode == "eager":
            for name, source in body("").items():
                w.observe(name, source)
            return
        args = ", ".join(n for n, i in w.plan.inputs.items() if i.kind == "tensor")
        _gap(w, STAGE, f"def {fname}({args}):")
        results = body("    ")
        w.add(*[f"    return {', '.join(results.values())}"] * bool(results))
        if len(results) == 1:
            _gap(w)
            return w.observe(next(iter(results)), f"{fname}({args})")
        _gap(w, f"{', '.join(results)}{' = ' * bool(results)}{fname}({args})")
        for name in results:
            w.observe(name, name)

    def _tapes(self, w: Writer, indent, tapes, watch, late=(), persistent=False,
               watch_accessed_variables=True) -> None:
        """Nested ``with tf.GradientTape(...) as tape:`` (the first outermost), each watching
        ``watch`` on entry, around the program; each tape watches a name of ``late`` right
        after its assignment."""
        options = ", ".join(["persistent=True"] * bool(persistent) + [
            "watch_accessed_variables=False"] * (not watch_accessed_variables))
        watch = [n for n in watch if n not in w.host]
        for tape in tapes:
            w.add(f"{indent}with tf.GradientTape({options}) as {tape}:")
            indent += "    "
            w.add(*[f"{indent}{tape}.watch({_listed(watch)})"] * bool(watch))

        def after(target, pad):
            return [f"{pad}{t}.watch({target})" for t in tapes
                    if target in late and target not in w.host]
        w.add(*w.program(indent, after=after) or [indent + "pass"])

    @staticmethod
    def _tracked(w: Writer, names=()) -> list[str]:
        found = [n for n, i in w.plan.inputs.items() if i.kind == "tensor" and i.track]
        return found + [n for n in names if n in w.plan.inputs and n not in found]

    @staticmethod
    def _weights(w: Writer, indent: str, like: str) -> str:
        """The line defining ``weights`` (in the target's dtype), and the argument."""
        if w.plan.weights is None:
            return ""
        w.add(f"{indent}weights = tf.constant({tensor_list(w.plan.weights)}, dtype={like}.dtype)")
        return ", output_gradients=weights"

    # ---- checks ---------------------------------------------------------------------------

    def check_value(self, w: Writer) -> None:
        self.inputs(w)
        self._staged(w, "forward", lambda ind: w.add(*w.program(ind))
                     or {"value": w.text(w.plan.check.value)})

    def check_grad(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        tapes = ["tape"] if p.order == 1 else [f"tape{k}" for k in range(p.order, 0, -1)]

        def body(ind):
            self._tapes(w, ind, tapes, p.watch_inputs, p.watch_late, p.persistent,
                        p.watch_accessed_variables)
            target = _listed(list(p.targets))
            weights = self._weights(w, ind + "    " * (p.order - 1), p.targets[0])
            if weights and len(p.targets) > 1:  # one weight per target
                weights = f", output_gradients=[weights] * {len(p.targets)}"
            for k in range(1, p.order + 1):  # the innermost tape first, inside the others
                out = "grad" if k == p.order else f"grad{k}"
                src = p.wrt.source(list(p.wrt.names)) if k == p.order else p.wrt.names[0]
                w.add(f"{ind}{'    ' * (p.order - k)}{out} = {tapes[-k]}.gradient("
                      f"{target}, {src}{weights * (k == 1)})")
                target = out
            return {"grad": "grad"}
        self._staged(w, "gradients", body)

    def check_backward_twice(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)

        def body(ind):
            self._tapes(w, ind, ["tape"], self._tracked(w), (), p.retain_graph)
            call = f"tape.gradient({p.target}, [{', '.join(p.wrt)}]" \
                   f"{self._weights(w, ind, p.target)})"
            w.add(f"{ind}{call}", f"{ind}grads = {call}  # the second call")
            return {"backward_twice": "grads"}
        self._staged(w, "gradients_twice", body)

    def check_watched(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        _gap(w, "watched = []  # the names of the tape's Variables (Python objects: staged, "
                "they are known while tracing)")

        def body(ind):
            self._tapes(w, ind, ["tape"], p.watch_inputs, p.watch_late, p.persistent,
                        p.watch_accessed_variables)
            w.add(f"{ind}watched.extend(v.name.split(':')[0] for v in tape.watched_variables())")
            return {}
        self._staged(w, "watch", body)
        w.observe("watched", "sorted(watched)")

    def _forward(self, w: Writer, ind: str, wrt) -> str:
        """``def f(*wrt)``: the program from ``wrt``; an intermediate among them takes its
        value from a first run of the program. Returns the function's name."""
        inner = [n for n in wrt if n not in w.plan.inputs]
        w.add(*(w.program(ind) + [f"{ind}{n} = tf.identity({n})" for n in inner]) * bool(inner))
        w.add(*w.function_of(_free(w, "f"), wrt, w.plan.target, ind))
        return _free(w, "f")

    def check_jvp(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        tangents = [f"tf.constant({tensor_list(t)}, dtype=tf."
                    f"{p.inputs[n].dtype if n in p.inputs else 'float32'})"
                    for n, t in zip(p.wrt, p.tangents)]

        def body(ind):
            if p.mode == "forward":
                f = self._forward(w, ind, p.wrt)
                w.add(f"{ind}with tf.autodiff.ForwardAccumulator({_listed(list(p.wrt))}, "
                      f"{_listed(tangents)}) as acc:",
                      f"{ind}    {p.target} = {f}({', '.join(p.wrt)})",
                      f"{ind}product = acc.jvp({p.target})")
                return {"jvp": "product"}
            self._tapes(w, ind, ["tape"], self._tracked(w, p.wrt), p.wrt, len(p.wrt) > 1)
            terms = [f"tf.tensordot(tape.jacobian({p.target}, {n}), {t}, axes={np.ndim(v)})"
                     for n, t, v in zip(p.wrt, tangents, p.tangents)]
            w.add(f"{ind}product = " + (terms[0] if len(terms) == 1 else
                                        "tf.add_n([" + ", ".join(terms) + "])"))
            return {"jvp": "product"}
        self._staged(w, "compute_jvp", body)

    def check_jacobian(self, w: Writer) -> None:
        p = w.plan
        x, y = p.wrt, p.target
        self.inputs(w)

        def body(ind):
            if p.mode == "reverse":
                self._tapes(w, ind, ["tape"], self._tracked(w, [x]), [x])
                w.add(f"{ind}jacobian = tape.jacobian({y}, {x})")
                return {"jacobian": "jacobian"}
            f = self._forward(w, ind, [x])
            w.add(f"{ind}size = {x}.shape.num_elements()",
                  f"{ind}columns = []  # one forward pass per element of {x}",
                  f"{ind}for i in range(size):",
                  f"{ind}    basis = tf.reshape(tf.one_hot(i, size, dtype={x}.dtype), tf.shape({x}))",
                  f"{ind}    with tf.autodiff.ForwardAccumulator({x}, basis) as acc:",
                  f"{ind}        {y} = {f}({x})", f"{ind}    columns.append(acc.jvp({y}))",
                  f"{ind}jacobian = tf.reshape(tf.stack(columns, axis=-1), {y}.shape + {x}.shape)")
            return {"jacobian": "jacobian"}
        self._staged(w, "compute_jacobian", body)

    # ---- optimizers -----------------------------------------------------------------------

    def check_optimize(self, w: Writer) -> None:
        p = w.plan
        o = p.optimizer
        if o.style == "minimize":
            raise NotApplicable("tf.keras.optimizers (Keras 3) have no minimize(): Keras 3 "
                                "optimizers only offer apply_gradients (minimize was a "
                                "Keras 2 / tf_keras method)")
        if o.style == "fit":
            raise NotApplicable("model.fit / train_on_batch is Keras's training loop, not "
                                "TensorFlow's: checked in the keras columns")
        staged = w.mode == "function" or p.fast_path
        self.inputs(w, variables=p.opt_params)
        w.blank()
        w.add(f"params = [{', '.join(p.opt_params)}]")
        if o.name != "manual":
            w.add(f"optimizer = {keras_optimizer(o, 'tf.keras')}",
                  "optimizer.build(params)  # its slots exist before any staged step")
        # staged, the tensor inputs are arguments (not captured constants)
        args = [n for n, i in p.inputs.items() if i.kind == "tensor" and staged
                and n not in p.opt_params] + ["step"] * p.uses_step
        forward = f"{_free(w, 'forward')}({', '.join(args)})"
        snapshot = f"snapshot({', '.join(args)})" if staged else forward
        names = list(dict.fromkeys(p.record + (p.loss,)))
        _gap(w, f"def {forward}:", *w.program("    "),
             "    return {" + ", ".join(f"{n!r}: {n}" for n in names) + "}", "", "",
             "history = {" + ", ".join(f"{n!r}: []" for n in p.record) + "}", "", "",
             f"def record(values):  # before steps 0, {p.record_every}, ... and at the end",
             "    for name in history:", "        history[name].append(values[name].numpy())",
             "", "")
        step = ["with tf.GradientTape() as tape:", f"    loss = {forward}[{p.loss!r}]",
                "grads = tape.gradient(loss, params)"]
        step += ["for param, grad in zip(params, grads):", f"    param.assign_sub({o.lr} * grad)"
                 ] if o.name == "manual" else ["optimizer.apply_gradients(zip(grads, params))"]
        if staged:
            w.add(*["# fast_path: the case lets this long loop run staged in eager too"] * (
                w.mode == "eager"), f"snapshot = tf.function({_free(w, 'forward')}, autograph=False)",
                "", "", *["# `step`, a Python int, traces the gradients anew for each value"]
                * p.uses_step, STAGE)
        if not staged:
            w.add(f"for step in range({p.steps}):", f"    if step % {p.record_every} == 0:",
                  f"        record({snapshot})", *["    " + s for s in step])
        elif p.uses_step:
            w.add(f"def gradients({', '.join(args)}):", *["    " + s for s in step[:3]],
                  "    return grads", "", "", STAGE, "def apply(grads):",
                  *["    " + s for s in step[3:]], "", "", f"for step in range({p.steps}):",
                  f"    if step % {p.record_every} == 0:", f"        record({snapshot})",
                  f"    apply(gradients({', '.join(args)}))")
        else:
            w.add(f"def train({', '.join(args + ['steps'])}):", "    def body(i):",
                  *["        " + s for s in step], "        return (i + 1,)", "",
                  "    # returned: Grappler rewrites a loop whose result is unused otherwise",
                  "    return tf.while_loop(lambda i: i < steps, body, (tf.constant(0),))",
                  "", "", f"for start in range(0, {p.steps}, {p.record_every}):",
                  f"    record({snapshot})", f"    train({''.join(a + ', ' for a in args)}"
                  f"tf.constant(min({p.record_every}, {p.steps} - start)))")
        w.add(*[f"step = {p.steps}"] * p.uses_step, f"record({snapshot})")
        for n in p.record:
            w.observe(n, f"history[{n!r}]")

    # ---- traced functions, graphs, loops, modules -----------------------------------------

    def check_trace(self, w: Writer) -> None:
        p = w.plan
        if p.staged and w.mode == "eager":
            raise NotApplicable("eager TensorFlow runs the Python function on every call; "
                                "staged tracing is the tensorflow[function] column")
        w.needs.update({"log", "appended"})
        self.inputs(w)
        if p.staged:
            signature = "" if p.signature is None else ", input_signature=[" + ", ".join(
                f"tf.TensorSpec(shape={s.get('shape')!r}, dtype=tf.{s.get('dtype', 'float32')})"
                for s in p.signature) + "]"
            _gap(w, "traces = 0", "", "", "def counted(*args):  # Python runs it only to trace",
                 "    global traces", "    traces += 1", f"    return {p.function}(*args)", "",
                 "", f"staged = tf.function(counted, autograph=False{signature})")
        _gap(w, "def now(value):  # its value at this call: a returned Variable changes later",
             "    return value.numpy() if isinstance(value, (tf.Tensor, tf.Variable)) else value",
             "", "", "calls = [", *[f"    {_tuple([_arg(a) for a in call])}," for call in p.call_args],
             "]", "outputs, traced = [], []", "for args in calls:",
             *["    before = traces"] * p.staged, "    try:",
             f"        outputs.append(now({'staged' if p.staged else p.function}(*args)))",
             "    except Exception as exc:  # a call that raised: its error is its output",
             "        outputs.append(exc)", "    traced.append(traces > before)" if p.staged else
             "    traced.append(True)  # eager: Python runs the body on every call")
        for name in ("outputs", "traced", "log"):
            w.observe(name, name)
        w.observe("appended", "['symbolic' if tf.is_symbolic_tensor(v) else 'concrete' "
                              "for v in appended]")

    def _session(self, w: Writer, fetch: str, feeds=None) -> None:
        """The end of a ``with graph.as_default():`` block: ``fetch`` run in a tf.compat.v1
        Session, once per feed into ``results`` (or once, into ``final``)."""
        init = any(i.kind == "variable" for i in w.plan.inputs.values()) or \
            "new_variable" in w.plan.calls()
        w.add(*["    init = tf.compat.v1.global_variables_initializer()"] * init,
              *["    results = []"] * (feeds is not None),
              "    with tf.compat.v1.Session(graph=graph) as session:",
              *["        session.run(init)"] * init)
        if feeds is None:
            return w.add(f"        final = session.run({fetch})")
        w.add(*[f"        results.append(session.run({fetch}, feed_dict={{" + ", ".join(
            f"{k}: {python_literal(_text(np.asarray(v).tolist()))}" for k, v in feed.items())
            + "}))" for feed in feeds])

    def check_static_graph(self, w: Writer) -> None:
        p = w.plan
        w.add("graph = tf.Graph()", "with graph.as_default():",
              *[f"    {n} = tf.compat.v1.placeholder(tf.{dtype}, shape={shape!r}, name={n!r})"
                for n, (dtype, shape) in p.placeholders.items()])
        self.inputs(w, "    ", leave=p.placeholders, functions=False)
        w.add(*w.program("    "))
        self._session(w, _listed(list(p.fetch)) if p.fetch_list else p.fetch[0], p.feeds)
        w.observe("static_graph", "results")

    def check_while_loop(self, w: Writer) -> None:
        p = w.plan
        names = list(p.vars)

        def step(n):
            if n in p.body and w.is_host(p.body[n]):  # a number takes the variable's dtype
                return f"tf.convert_to_tensor({w.expr(p.body[n])}, dtype_hint={n}.dtype)"
            return w.expr(p.body[n]) if n in p.body else n

        def body(ind):
            w.add(*w.program(ind) + [""] * bool(w.plan.program), f"{ind}def cond({', '.join(names)}):",
                  f"{ind}    return {w.expr(p.cond)}", "", f"{ind}def body({', '.join(names)}):",
                  f"{ind}    return {_tuple([step(n) for n in names])}", "",
                  f"{ind}{_tuple(names)[1:-1]} = tf.while_loop(cond, body, "
                  f"{_tuple([_arg(a) for a in p.vars.values()])})")
            return {n: n for n in names}
        if not p.graph:
            self.inputs(w)
            return self._staged(w, "loop", body)
        w.add("graph = tf.Graph()", "with graph.as_default():")
        self.inputs(w, "    ", functions=False)
        body("    ")
        self._session(w, "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}")
        for n in names:
            w.observe(n, f"final[{n!r}]")

    def check_checkpoint(self, w: Writer) -> None:
        p = w.plan
        w.needs.add("import tempfile")
        fn, state = p.functions[p.method], list(p.state)
        signature = "input_signature=[" + ", ".join(map(_spec, (p.before or p.after)[0])) + "]"
        variables = [_arg(a, "tf.Variable")[:-1] + f", name={n!r})" if a.tensor else
                     f"tf.Variable({_arg(a)}, name={n!r})" for n, a in p.state.items()]
        if p.style == "class":  # the method reads the module's state as `self.x`
            functions, p.functions = p.functions, {k: v for k, v in p.functions.items()
                                                   if k != p.method}
            self.inputs(w)
            p.functions = functions
            w.in_function = True
            body = [f"return {w.expr(fn.forward)}"] if fn.forward is not None else \
                w.statements(fn.body)
            w.in_function = False
            _gap(w, "class CaseModule(tf.Module):", "    def __init__(self):",
                 "        super().__init__(name='case_module')",
                 *[f"        self.{n} = {v}" for n, v in zip(state, variables)], "",
                 f"    @tf.function({signature}, autograph=False)",
                 f"    def {p.method}(self, {', '.join(fn.args)}):",
                 f"        {', '.join(state)} = {', '.join('self.' + n for n in state)}",
                 *["        " + line for line in body], "", "", "module = CaseModule()")
        else:
            self.inputs(w)
            _gap(w, "module = tf.Module()", *[f"module.{n} = {v}" for n, v in zip(state, variables)],
                 f"{', '.join(state)} = {', '.join('module.' + n for n in state)}"
                 f"  # what {p.method} reads",
                 f"module.{p.method} = tf.function({p.method}, {signature}, autograph=False)")

        def calls(obj, arglists):
            return "[" + ", ".join(f"{obj}.{p.method}({', '.join(map(_arg, args))}).numpy()"
                                   for args in arglists) + "]"
        w.add(f"before = {calls('module', p.before)}",
              "variables = [v.name.split(':')[0] for v in module.variables]",
              "with tempfile.TemporaryDirectory() as folder:",
              "    tf.saved_model.save(module, folder)", "    loaded = tf.saved_model.load(folder)",
              f"    after = {calls('loaded', p.after)}")
        for n in ("before", "after", "variables"):
            w.observe(n, n)


DIALECT = TensorFlowDialect()

"""The reference dialect: cases as scripts for this project's NumPy engine, the oracle.

The engine speaks both dialects the seed documents teach, so a script picks per check:
gradients go through its ``GradientTape`` (TensorFlow's rules: ``None`` for what is not
watched or not connected) unless a check asks for a PyTorch spelling (``style``); graph
lifetime, leaf flags and hooks use its PyTorch-style tensors. These scripts are the
engine's teaching examples: each is what a reader of ``reference_engine/README.md`` writes.
"""

from __future__ import annotations

from harness.dialects.base import PYTHON_OPERATORS, Dialect, Writer, python_literal, tensor_list
from harness.vocabulary import OPS as VOCABULARY

_NAMES = {"clip": "clamp", "mse": "mse_loss", "max": "amax", "min": "amin"}
_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
               "adagrad": "Adagrad"}
_SPECIAL = {
    "eq": "re.eq({0}, {1})", "ne": "re.ne({0}, {1})",
    "getitem": "{0}[{1}]",
    "assign_add": "{0}.assign_add({1})", "assign_sub": "{0}.assign_sub({1})",
    "new_variable": "re.Variable({0})",
}
_OPERATORS = {k: v for k, v in PYTHON_OPERATORS.items() if k not in ("eq", "ne")}
OPS = {name: _OPERATORS.get(name) or _SPECIAL.get(name)
       or f"re.{_NAMES.get(name, name)}({{*}}{{kw}})" for name in VOCABULARY}


def _tensor(array, **options) -> str:
    extra = "".join(f", {k}={v}" for k, v in options.items())
    return f"re.tensor({tensor_list(array)}, dtype={_dtype(array)}{extra})"


def _dtype(array) -> str:
    return "re.string" if array.dtype == object else f"re.{array.dtype}"


class ReferenceDialect(Dialect):
    name = "reference"
    modes = ("eager",)
    OPS = OPS
    IMPORTS = ("import numpy as np", "import reference_engine as re")
    SEED = "re.manual_seed(0)"
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

    # ---- inputs, functions -------------------------------------------------------------

    def from_numpy(self, source: str) -> str:
        return f"re.tensor({source})"

    def inputs(self, w: Writer, style: str, require=()) -> None:
        """``torch`` style: tensors, ``requires_grad`` where tracked (a float tensor only);
        ``tape`` style: Variables for variables, constants otherwise."""
        for name, i in w.plan.inputs.items():
            if i.kind == "host":
                w.add(f"{name} = {python_literal(i.value)}")
                continue
            value = f"np.array({i.random_source})" if i.random_source else None
            if style == "tape" and (i.kind == "variable" or name in require):
                trainable = "" if i.trainable or name in require else ", trainable=False"
                w.add(f"{name} = re.Variable({value or _tensor(i.value)}{trainable})")
            elif style == "tape":
                w.add(f"{name} = re.constant({value or _tensor(i.value)})")
            else:
                grad = (i.track or name in require) and i.value.dtype.kind == "f"
                options = {"requires_grad": "True"} if grad else {}
                w.add(f"{name} = re.tensor({i.random_source})" if value and not grad else
                      f"{name} = {_tensor(i.value, **options)}")
        w.blank()
        w.add(*w.functions())

    def custom_function(self, w: Writer, fn) -> list[str]:
        args = ", ".join(fn.args)
        unpack = f"{args}, = ctx.saved_tensors" if len(fn.args) == 1 else \
            f"{args} = ctx.saved_tensors"
        rules = ", ".join(w.expr(r) for r in fn.backward)
        return [f"class {fn.name}(re.autograd.Function):",
                "    @staticmethod",
                f"    def forward(ctx, {args}):",
                f"        ctx.save_for_backward({args})",
                "        with re.no_grad():",
                f"            ctx.result = {w.expr(fn.forward)}",
                "        return ctx.result", "",
                "    @staticmethod",
                "    def backward(ctx, grad):",
                f"        {unpack}",
                "        result = ctx.result",
                f"        return {rules}", ""]

    def call_function(self, w: Writer, name: str, args: list[str]) -> str:
        custom = w.plan.functions[name].backward is not None
        return f"{name}{'.apply' if custom else ''}({', '.join(args)})"

    # ---- checks ----------------------------------------------------------------------

    def check_value(self, w: Writer) -> None:
        self.inputs(w, "torch")
        w.add(*w.program())
        w.observe("value", w.text(w.plan.check.value))

    def _weights(self, p, like: str) -> str | None:
        return None if p.weights is None else \
            f"re.tensor({tensor_list(p.weights)}, dtype={like}.dtype)"

    def check_grad(self, w: Writer) -> None:
        p = w.plan
        if p.style in (None, "tape"):
            return self._tape_grad(w)
        self.inputs(w, "torch")
        w.add(*w.program())
        names = list(p.wrt.names)
        targets = "[" + ", ".join(p.targets) + "]"
        weights = self._weights(p, p.targets[0])
        outputs = "None" if weights is None else f"[{weights}] * {len(p.targets)}"
        if p.style == "autograd" or p.order > 1:
            create = ", create_graph=True" if p.order > 1 else ""
            w.add(f"grads = re.autograd.grad({targets}, [{', '.join(names)}], "
                  f"grad_outputs={outputs}{create})")
            for _ in range(p.order - 1):
                w.add(f"grads = re.autograd.grad(list(grads), [{', '.join(names)}], "
                      "create_graph=True)")
            w.observe("grad", p.wrt.source([f"grads[{k}]" for k in range(len(names))]))
            return
        if p.style == "hooks":
            w.add("seen = {}")
            for n in names:
                w.add(f"{n}.register_hook(lambda g: seen.__setitem__({n!r}, g))")
        else:
            for n in names:
                w.add(f"if not {n}.is_leaf:", f"    {n}.retain_grad()")
        w.add(f"re.autograd.backward({targets}, grad_tensors={outputs})")
        got = [f"seen.get({n!r})" if p.style == "hooks" else f"{n}.grad" for n in names]
        w.observe("grad", p.wrt.source(got))

    def _tape_grad(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "tape")
        tapes = [f"tape{k}" if p.order > 1 else "tape" for k in range(p.order, 0, -1)]
        persistent = p.persistent or p.order > 1
        indent = ""
        for tape in tapes:  # the outermost tape first: it records the inner gradients
            w.add(f"{indent}with re.GradientTape(persistent={persistent}, "
                  f"watch_accessed_variables={p.watch_accessed_variables}) as {tape}:")
            indent += "    "
            w.add(*[f"{indent}{tape}.watch({n})" for n in p.watch_inputs])

        def after(target, pad):
            return [f"{pad}{t}.watch({target})" for t in tapes] if target in p.watch_late else []

        w.add(*w.program(indent, after=after))
        sources = p.wrt.source(list(p.wrt.names))
        target = p.targets[0] if len(p.targets) == 1 else "[" + ", ".join(p.targets) + "]"
        weights = self._weights(p, p.targets[0])
        for k, tape in enumerate(reversed(tapes)):
            indent = indent[:-4]
            extra = f", output_gradients={weights}" if k == 0 and weights else ""
            w.add(f"{indent}grad = {tape}.gradient({target if k == 0 else 'grad'}, "
                  f"{sources}{extra})")
        w.observe("grad", "grad")

    def check_jvp(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "torch")
        w.add(*w.program(), "")
        if p.mode == "forward":
            w.add(*w.function_of("f", p.wrt, p.target))
            primals = ", ".join(f"re.tensor({n}.numpy())" for n in p.wrt)
            tangents = ", ".join(f"re.tensor({tensor_list(t)}, dtype={n}.dtype)"
                                 for n, t in zip(p.wrt, p.tangents))
            w.add(f"_, product = re.jvp(f, [{primals}], [{tangents}])")
            return w.observe("jvp", "product")
        terms = []
        for n, t in zip(p.wrt, p.tangents):
            w.add(*self._jacobian_lines(w, p.target, n, f"jacobian_{n}"))
            terms.append(f"np.tensordot(jacobian_{n}.numpy(), np.array({tensor_list(t)}, "
                         f"{n}.numpy().dtype), axes={t.ndim})")
        w.observe("jvp", " + ".join(terms))

    def _jacobian_lines(self, w: Writer, target: str, name: str, out: str) -> list[str]:
        """d target / d name, one reverse sweep per output element (``tape.jacobian``)."""
        probe = f"{name}_probe"
        return (w.function_of(f"f_{name}", [name], target)
                + [f"{probe} = re.tensor({name}.numpy())",
                   "with re.GradientTape() as tape:", f"    tape.watch({probe})",
                   f"    {out}_y = f_{name}({probe})",
                   f"{out} = tape.jacobian({out}_y, {probe})", ""])

    def check_jacobian(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "torch")
        w.add(*w.program(), "")
        if p.mode == "reverse":
            w.add(*self._jacobian_lines(w, p.target, p.wrt, "jacobian"))
        else:
            w.add(*w.function_of("f", [p.wrt], p.target),
                  f"jacobian = re.jacfwd(f, re.tensor({p.wrt}.numpy()))")
        w.observe("jacobian", "jacobian")

    def check_backward_twice(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "torch")
        w.add(*w.program())
        weights = self._weights(p, p.target)
        call = f"{p.target}.backward(gradient={weights}, retain_graph={p.retain_graph})"
        w.add(call, call + "  # the second pass through the same graph")
        w.observe("backward_twice", "[" + ", ".join(f"{n}.grad" for n in p.wrt) + "]")

    def check_attributes(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "torch")
        w.add(*w.program())
        if p.backward:
            w.add(f"{p.backward}.backward(gradient={self._weights(p, p.backward)})")
        for n in p.names:
            fields = ", ".join(
                f"{f!r}: " + (f"{n}.grad_fn and {n}.grad_fn.name()" if f == "grad_fn"
                              else f"{n}.{f}")
                for f in p.fields)
            w.observe(n, "{" + fields + "}")

    def check_watched(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "tape")
        w.add(f"with re.GradientTape(persistent={p.persistent}, "
              f"watch_accessed_variables={p.watch_accessed_variables}) as tape:")
        w.add(*[f"    tape.watch({n})" for n in p.watch_inputs])
        w.add(*w.program("    ") or ["    pass"])
        pairs = ", ".join(f"({n!r}, {n})" for n, i in p.inputs.items() if i.kind != "host")
        w.add("watched = {id(v) for v in tape.watched_variables()}")
        w.observe("watched", f"sorted(name for name, v in [{pairs}] if id(v) in watched)")

    def check_optimize(self, w: Writer) -> None:
        p = w.plan
        o = p.optimizer
        tape = o.style in ("apply_gradients", "minimize")
        self.inputs(w, "tape" if tape else "torch", require=p.opt_params)
        params = ", ".join(p.opt_params)
        if o.name != "manual":
            w.add(f"optimizer = re.optim.{_OPTIMIZERS[o.name]}([{params}]{_options(o)})")
        w.add(*[f"{n}_trajectory = []" for n in p.record], "")
        record = [f"        {n}_trajectory.append(np.array({n}.numpy()))" for n in p.record]
        w.add(f"for step in range({p.steps + 1}):  # the last pass records the final values")
        w.add(f"    if step % {p.record_every} == 0 or step == {p.steps}:",
              "        with re.no_grad():")
        w.add(*w.program("            "), *["    " + r for r in record])
        w.add(f"    if step == {p.steps}:", "        break")
        if o.name == "manual":  # p -= lr * grad, outside the graph (x.data.sub_)
            w.add(*w.program("    "),
                  f"    grads = re.autograd.grad([{p.loss}], [{params}])")
            for k, n in enumerate(p.opt_params):
                w.add(f"    {n}.data = {n}.data - {o.lr} * grads[{k}].data")
        elif o.style == "minimize":
            w.add("", "    def loss_fn():")
            w.add(*w.program("        "), f"        return {p.loss}", "")
            w.add(f"    optimizer.minimize(loss_fn, [{params}])")
        elif o.style == "apply_gradients":
            w.add("    with re.GradientTape() as tape:", *w.program("        "))
            w.add(f"    grads = tape.gradient({p.loss}, [{params}])",
                  f"    optimizer.apply_gradients(zip(grads, [{params}]))")
        else:
            w.add("    optimizer.zero_grad()", *w.program("    "),
                  f"    {p.loss}.backward()", "    optimizer.step()")
        for n in p.record:
            w.observe(n, f"{n}_trajectory")

    # ---- traced functions, graphs, loops, modules ------------------------------------

    def _arg(self, arg) -> str:
        if not arg.tensor:
            return python_literal(arg.value)
        return f"re.constant({tensor_list(arg.value)}, dtype={_dtype(arg.value)})"

    def check_trace(self, w: Writer) -> None:
        p = w.plan
        w.needs.update({"log", "appended"})
        self.inputs(w, "tape")
        w.add("traces = 0", "", "",
              "def counted(*args):  # Python runs the body: once per trace when staged",
              "    global traces", "    traces += 1", f"    return {p.function}(*args)", "", "")
        if p.staged:
            signature = "" if p.signature is None else ", input_signature=[" + ", ".join(
                f"re.TensorSpec(shape={s.get('shape')!r}, dtype={s.get('dtype', 'float32')!r})"
                for s in p.signature) + "]"
            w.add(f"call = re.function(counted{signature})")
        else:
            w.add("call = counted")
        calls = ", ".join("(" + "".join(f"{self._arg(a)}, " for a in call) + ")"
                          for call in p.call_args)
        w.add("outputs, traced, kinds = [], [], []", f"for args in [{calls}]:",
              "    before, appended_before = traces, len(appended)",
              "    try:", "        result = call(*args)",
              "        outputs.append(result.numpy() if isinstance(result, re.Tensor) else result)",
              "    except Exception as exc:  # a call that raised: its error is its output",
              "        outputs.append(exc)", "    traced.append(traces > before)")
        # the engine traces by running eagerly inside a recording graph: what the body
        # appended while a staged call traced belongs to that graph (symbolic, as in TF)
        kind = "'symbolic' if traced[-1] else 'concrete'" if p.staged else "'concrete'"
        w.add(f"    kinds += [{kind}] * (len(appended) - appended_before)")
        for name, source in (("outputs", "outputs"), ("traced", "traced"), ("log", "log"),
                             ("appended", "kinds")):
            w.observe(name, source)

    def check_static_graph(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w, "tape")
        w.add("graph = re.Graph()", "with graph.as_default():")
        for name, (dtype, shape) in p.placeholders.items():
            dt = "re.string" if dtype == "string" else repr(dtype)
            w.add(f"    {name} = re.placeholder({dt}, shape={shape!r}, name={name!r})")
        w.add(*w.program("    ") or ["    pass"])
        w.add(f"    fetches = [{', '.join(p.fetch)}]", "", "results = []",
              "with re.Session(graph) as session:")
        for feed in p.feeds:
            feed_dict = ", ".join(f"{k}: np.array({tensor_list(v)}, {_np_dtype(v)})"
                                  for k, v in feed.items())
            got = "session.run(fetches, feed_dict={" + feed_dict + "})"
            w.add(f"    results.append({got if p.fetch_list else got + '[0]'})")
        w.observe("static_graph", "results")

    def check_while_loop(self, w: Writer) -> None:
        p = w.plan
        names = list(p.vars)
        args = ", ".join(names)
        body = ", ".join(w.expr(p.body[n]) if n in p.body else n for n in names)
        w.add(f"def cond({args}):", f"    return {w.expr(p.cond)}", "", "",
              f"def body({args}):", f"    return [{body}]", "", "")
        init = ", ".join(self._arg(a) for a in p.vars.values())
        if p.graph:
            w.add("graph = re.Graph()", "with graph.as_default():",
                  f"    loop = re.while_loop(cond, body, [{init}])",
                  "with re.Session(graph) as session:",
                  f"    {args}, = session.run(list(loop))")
        else:
            w.add(f"{args}, = re.while_loop(cond, body, [{init}])")
        for n in names:
            w.observe(n, n)

    def check_checkpoint(self, w: Writer) -> None:
        p = w.plan
        w.needs.update({"import os", "import tempfile"})
        self.inputs(w, "tape")
        names = list(p.state)

        def module(var, values):
            lines = [f"{var} = re.Module()"]
            lines += [f"{var}.{n} = re.Variable({v})" for n, v in zip(names, values)]
            return lines + [f"{', '.join(names)} = {', '.join(f'{var}.{n}' for n in names)}"
                            f"  # the state {p.method} reads"]

        def calls(arglists):
            return "[" + ", ".join(f"{p.method}({', '.join(self._arg(a) for a in args)})"
                                   ".numpy()" for args in arglists) + "]"

        w.add(*module("module", [self._arg(a) for a in p.state.values()]))
        w.add(f"before = {calls(p.before)}",
              "path = os.path.join(tempfile.mkdtemp(), 'module')", "module.save(path)")
        w.add(*module("fresh", ["0.0"] * len(names))[:-1], "fresh.load(path)",
              module("fresh", names)[-1], f"after = {calls(p.after)}")
        w.observe("before", "before")
        w.observe("after", "after")
        w.observe("variables", repr(sorted(names)))


def _options(o) -> str:
    """The optimizer's keyword arguments in the engine's (PyTorch's) names; a field left out
    (None) takes the engine's default, which follows PyTorch's."""
    options = {"lr": o.lr}
    if o.name == "sgd":
        options.update(momentum=o.momentum, dampening=o.dampening, nesterov=o.nesterov)
    if o.name in ("adam", "adamw"):
        options["betas"] = tuple(o.betas)
        options["eps"] = 1e-8 if o.eps is None and o.name == "adam" else o.eps
    if o.name == "rmsprop":
        options.update(alpha=o.rho, eps=o.eps, momentum=o.momentum, centered=o.centered)
    if o.name == "adagrad":
        options.update(eps=o.eps, initial_accumulator_value=o.initial_accumulator_value)
    options["weight_decay"] = o.weight_decay
    return "".join(f", {k}={v!r}" for k, v in options.items()
                   if v is not None and not (k == "dampening" and v == 0.0))


def _np_dtype(array) -> str:
    return "object" if array.dtype == object else repr(str(array.dtype))


DIALECT = ReferenceDialect()

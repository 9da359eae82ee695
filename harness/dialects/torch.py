"""The PyTorch dialect: eager tensors with ``requires_grad``, ``torch.autograd``, hooks and
``retain_grad``, ``torch.func`` for forward mode, ``torch.optim`` loops and ``nn.Module``
state dicts. Scripts are what a PyTorch user writes. PyTorch has no gradient tape, no tracer
with ``tf.function``'s retracing rules, no define-then-run graphs and no string tensors:
those checks are n/a.
"""

from __future__ import annotations

import numpy as np

from harness import expressions as ex
from harness.cases import to_array
from harness.dialects.base import (
    PYTHON_OPERATORS,
    Call,
    Dialect,
    NotApplicable,
    Writer,
    fill,
    python_literal,
    tensor_list,
)
from harness.dialects.torch_ops import BREADTH, HELPERS, number, tensors

NO_STRINGS = "PyTorch has no string tensors"
STAGED_NA = ("PyTorch runs eagerly: no tracer with tf.function's retracing semantics "
             "(torch.compile guards differ)")


# ---- the op table -------------------------------------------------------------------------


def _reduce(fn: str):
    """``sum``/``mean``/``max``/``min``: no axis reduces everything (``keepdims`` keeps every
    axis as 1); ``max``/``min`` over axes are ``torch.amax``/``torch.amin``."""
    def spell(call: Call) -> str:
        x, axis = tensors("{0}")(call), dict(call.node_kwargs).get("axis")
        if axis is None or axis == ex.Const(None):
            return f"torch.{fn}({x})" + (f".reshape([1] * {call.atoms[0]}.dim())"
                                         if call.const("keepdims") else "")
        dim = f"dim={call.kwargs['axis']}" + call.kw({"keepdims": "keepdim"}, drop=("axis",))
        if fn in ("max", "min"):  # torch.amax: tied maxima share the gradient (torch.max(x, dim) picks one)
            return f"torch.a{fn}({x}, {dim})"
        return f"torch.{fn}({x}, {dim})"
    return spell


def _transpose(call: Call) -> str:
    tensors("{0}")(call)
    x, node, inputs = call.atoms[0], call.nodes[0], call.writer.plan.inputs
    if call.given("axes"):
        return f"{x}.permute({call.kwargs['axes']})"
    if isinstance(node, ex.Name) and node.id in inputs and inputs[node.id].kind != "host" \
            and np.ndim(inputs[node.id].value) == 2:
        return f"{x}.T"  # a matrix input: the common spelling
    return f"{x}.permute(*reversed(range({x}.dim())))"


def _where(call: Call) -> str:
    """``torch.where`` takes a Python number beside a tensor (weakly typed); two numbers
    alone become tensors."""
    template = "torch.where({0}, {1}, {2})"
    return tensors(template)(call) if all(call.host[1:]) else fill(template, call)


def _cast(call: Call) -> str:
    dtype = call.const("dtype")
    if dtype == "string" or not isinstance(dtype, str):
        raise NotApplicable(NO_STRINGS if dtype == "string" else "cast needs a constant dtype")
    return tensors(f"{{0}}.to(torch.{dtype})")(call)


def _assign(method: str, sign: str):
    """``v.add_(x)``, run under ``torch.no_grad()`` (``_no_grad_updates``): a state update,
    not part of the graph. On a host number it is plain arithmetic."""
    return lambda c: f"{c.args[0]} {sign} {c.atoms[1]}" if c.host[0] else \
        f"{c.atoms[0]}.{method}({c.args[1]})"


def _new_variable(call: Call) -> str:
    if not call.host[0]:
        return f"torch.nn.Parameter({call.atoms[0]}.detach().clone())"
    integer = "int32" in number(call, 0)  # an integer Parameter cannot require grad
    return f"torch.nn.Parameter({number(call, 0)}{', requires_grad=False' if integer else ''})"


_TORCH = ("exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
          "ones_like", "zeros_like")
OPS = {
    **PYTHON_OPERATORS,  # torch's operators take Python numbers with weak typing
    **{n: tensors(f"torch.{n}({{0}})") for n in _TORCH},
    **{n: tensors(f"torch.{n}({{0}}, {{1}})") for n in ("maximum", "minimum")},
    **{n: tensors(f"torch.{n}({{0}}, dim={{axis}})") for n in ("softmax", "log_softmax")},
    **{n: _reduce(n) for n in ("sum", "mean", "max", "min")},
    "softplus": tensors("torch.nn.functional.softplus({0})"),
    "clip": tensors("torch.clamp({0}{kw})"),
    "where": _where,
    "transpose": _transpose,
    "reshape": tensors("{0}.reshape({shape})"),
    "getitem": "{0}[{1}]",
    "concat": "torch.cat({0}, dim={axis})",
    "stack": "torch.stack({0}, dim={axis})",
    "one_hot": lambda c: tensors("torch.nn.functional.one_hot({0}.long(), "
                                 f"{c.kwargs.get('depth', '-1')}).to(torch.float32)")(c),
    "cast": _cast,
    "mse": tensors("torch.nn.functional.mse_loss({0}, {1}, reduction={reduction})"),
    "assign_add": _assign("add_", "+"),
    "assign_sub": _assign("sub_", "-"),
    "new_variable": _new_variable,
    "random_normal": "torch.randn({shape})",
    **BREADTH,  # the breadth ops (issue #11): torch_ops.py
}


def _no_grad_updates(w: Writer) -> None:
    """State updates (``assign_add(v, x)`` as a statement or an assignment) are spelled the
    PyTorch way: ``with torch.no_grad(): v.add_(x)``, outside the graph."""
    plain = w.statements

    def statements(statements, indent="", skip=(), after=None):
        out = []
        for s in statements:
            v = getattr(s, "value", None)
            update = isinstance(s, (ex.Assign, ex.Do)) and isinstance(v, ex.Call) and \
                v.fn in ("assign_add", "assign_sub") and not w.is_host(v.args[0]) and \
                getattr(s, "target", "") not in skip
            out += [f"{indent}with torch.no_grad():"] * update + \
                plain((s,), indent + "    " * update, skip, after)
        return out
    w.statements = statements


def _tuple(items) -> str:
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _kw(**options) -> str:
    """Keyword arguments as source, those that are None left out."""
    return "".join(f", {k}={v}" for k, v in options.items() if v is not None)


def _free(w: Writer, name: str) -> str:
    """A script-level name that no input or assignment of the case uses."""
    taken = set(w.plan.inputs) | set(ex.assigned(w.plan.program)) | set(w.plan.functions)
    while name in taken:
        name += "_"
    return name


def _mentioned(plan) -> set[str]:
    """The names the program, the functions and the check mention."""
    nodes = [] if plan.kind in ("trace", "while_loop", "checkpoint") else list(plan.program)
    nodes += [ex.parse_expression(plan.check.value)] if plan.kind == "value" else []
    nodes += [plan.cond, *plan.body.values()] if plan.kind == "while_loop" else []
    for f in plan.functions.values():
        nodes += [n for n in (f.forward, *(f.backward or ()), *(f.body or ())) if n is not None]

    def strings(v):
        if isinstance(v, str):
            return {v}
        v = v.names if hasattr(v, "names") else list(v.values()) if isinstance(v, dict) else v
        return set().union(*map(strings, v)) if isinstance(v, (list, tuple)) else set()
    return ex.names_used(tuple(nodes)) | strings(plan.params)


# torch.optim's classes, and their defaults: an option is passed only where it differs (None:
# the case asks for PyTorch's own default)
_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
               "adagrad": "Adagrad"}
_OPTIONS = {  # torch's keyword: (the case's field, torch's default)
    "sgd": {"momentum": ("momentum", 0.0), "dampening": ("dampening", 0.0),
            "nesterov": ("nesterov", False), "weight_decay": ("weight_decay", 0.0)},
    "adam": {"betas": ("betas", (0.9, 0.999)), "eps": ("eps", 1e-8),
             "weight_decay": ("weight_decay", 0.0)},
    "adamw": {"betas": ("betas", (0.9, 0.999)), "eps": ("eps", 1e-8),
              "weight_decay": ("weight_decay", 1e-2)},
    "rmsprop": {"alpha": ("rho", 0.99), "eps": ("eps", 1e-8), "weight_decay": ("weight_decay", 0.0),
                "momentum": ("momentum", 0.0), "centered": ("centered", False)},
    "adagrad": {"weight_decay": ("weight_decay", 0.0),
                "initial_accumulator_value": ("initial_accumulator_value", 0.0),
                "eps": ("eps", 1e-10)},
}


def _optimizer_options(o) -> str:
    options = {}
    for keyword, (field, default) in _OPTIONS[o.name].items():
        value = getattr(o, field)
        value = tuple(value) if isinstance(value, list) else value
        if value is not None and value != default:
            options[keyword] = repr(value)
    return _kw(**options)


class TorchDialect(Dialect):
    name = "torch"
    modes = ("eager",)
    OPS = OPS
    LACKS = {"string_join": NO_STRINGS}
    IMPORTS = ("import torch",)
    SEED = "torch.manual_seed(0)"
    ERRORS = [
        (r"backward through the graph a second time", "graph_freed"),
        (r"grad can be implicitly created only for (real )?scalar outputs", "non_scalar_output"),
        (r"appears to not have been used in the graph", "unused_input"),
        (r"(?i)only Tensors of floating point", "integer_grad"),
        (r"does not require grad|doesn't require gradient|requires_grad=False",
         "not_differentiable"),
        (r"shapes cannot be multiplied|must match the size of tensor|is invalid for input of size"
         r"|Dimension out of range|expected scalar type|could not infer output dtype"
         r"|not implemented for '|size mismatch|out of bounds|out of range|Expected .* dtype"
         r"|cannot be broadcast|same shape", "invalid_argument"),
    ]
    LACKS_KINDS = {"watched": "PyTorch has no gradient tape: a tensor that requires grad records "
                         "its own graph",
              "static_graph": "PyTorch has no define-then-run graphs: the graph is built as "
                              "the program runs"}

    def imports(self, w: Writer) -> list[str]:
        """The imports, then the helpers the ops asked for (``lstm_cell``, ``gru_cell``)."""
        helpers = [line for name, lines in HELPERS.items() if f"helper:{name}" in w.needs
                   for line in ["", "", *lines]]
        return [*self.IMPORTS, *helpers, *[""] * bool(helpers)]  # two blank lines after a def

    # ---- values --------------------------------------------------------------------------

    def from_numpy(self, source: str) -> str:
        return f"torch.from_numpy({source})"

    def to_numpy(self, value):
        if hasattr(value, "detach"):  # a copy: a tensor updated later must not change it
            # force: detached, on the CPU, conj and neg resolved, and a ZeroTensor (the second
            # derivative of abs, say) as its zeros, which is what printing the tensor shows
            return value.numpy(force=True).copy()
        return super().to_numpy(value)

    def tensor(self, w: Writer, array, random_source=None, grad=False) -> str:
        array = np.asarray(array)
        if array.dtype == object:
            raise NotApplicable(NO_STRINGS)
        if random_source:
            w.needs.add("import numpy as np")
        floating = array.dtype.kind == "f" and not random_source
        text = f"torch.from_numpy({random_source})" if random_source else \
            f"torch.tensor({tensor_list(array)}, dtype=torch.{array.dtype}" \
            f"{', requires_grad=True' * (grad and floating)})"
        # (an integer tensor raises in requires_grad_(), as in PyTorch)
        return text + ".requires_grad_()" * (grad and not floating)

    def arg(self, w: Writer, arg) -> str:
        return self.tensor(w, arg.value) if arg.tensor else python_literal(arg.value)

    def like(self, w: Writer, array, name: str) -> str:
        """``array`` as a tensor of ``name``'s dtype (weights, tangents)."""
        i = w.plan.inputs.get(name)
        dtype = f"torch.{i.dtype}" if i is not None and i.kind != "host" else \
            "torch.float32" if name in w.host else f"{name}.dtype"
        return f"torch.tensor({tensor_list(array)}, dtype={dtype})"

    def weights(self, w: Writer, target: str) -> str | None:
        return None if w.plan.weights is None else self.like(w, w.plan.weights, target)

    def inputs(self, w: Writer, require=()) -> None:
        """The inputs (``requires_grad`` where tracked or in ``require``), then the case's
        functions."""
        _no_grad_updates(w)
        for name, i in w.plan.inputs.items():
            if i.kind == "host":
                w.add(f"{name} = {python_literal(i.value)}")
            elif i.is_string and name in _mentioned(w.plan):
                raise NotApplicable(f"input {name!r} is a string: {NO_STRINGS}")
            elif i.is_string:
                w.add(f"# {name}: a string, unused here ({NO_STRINGS})")
            else:
                grad = i.track or name in require
                w.add(f"{name} = {self.tensor(w, i.value, i.random_source, grad)}")
        w.blank()
        functions = w.functions()
        w.add(*[""] * bool(functions and w.lines), *functions)  # two blank lines before a def

    def custom_function(self, w: Writer, fn) -> list[str]:
        args = ", ".join(fn.args)
        rules = []
        for arg, rule in zip(fn.args, fn.backward):
            text = w.expr(rule)  # a constant rule is a gradient of the argument's shape
            rules.append(f"torch.full_like({arg}, {text})" if w.is_host(rule) else text)
        return [f"class {fn.name}(torch.autograd.Function):",
                "    @staticmethod",
                f"    def forward(ctx, {args}):",
                f"        result = {w.expr(fn.forward)}",
                f"        ctx.save_for_backward({args}, result)",
                "        return result", "",
                "    @staticmethod",
                "    def backward(ctx, grad):",
                f"        {args}, result = ctx.saved_tensors",
                f"        return {', '.join(rules)}"]

    def call_function(self, w: Writer, name: str, args: list[str]) -> str:
        custom = w.plan.functions[name].backward is not None
        return f"{name}{'.apply' if custom else ''}({', '.join(args)})"

    # ---- checks --------------------------------------------------------------------------

    def check_value(self, w: Writer) -> None:
        self.inputs(w)
        w.add(*w.program())
        w.observe("value", w.text(w.plan.check.value))

    def check_grad(self, w: Writer) -> None:
        p = w.plan
        style = p.style or "autograd"
        if style == "tape":
            raise NotApplicable("PyTorch has no gradient tape: tensors record their own graph")
        self.inputs(w, require=p.watch_inputs)
        w.add(*w.program(after=lambda t, pad: [  # tape.watch(u) on an intermediate
            f"{pad}{t} = {t}.detach().requires_grad_()  # watched: a leaf from here on"]
            if t in p.watch_late and t not in w.host else []))
        names = list(p.wrt.names)
        var, grads, seen, g = (_free(w, n) for n in ("weights", "grads", "seen", "g"))
        sources = "[" + ", ".join(names) + "]"
        output = "[" + ", ".join(p.targets) + "]" if p.several else p.targets[0]
        weights = [self.weights(w, t) for t in p.targets]
        if weights[0]:
            w.add(f"{var} = " + ("[" + ", ".join(weights) + "]" if p.several else weights[0]))
        var = var if weights[0] else None
        if style == "autograd":
            for k in range(p.order):  # a higher order: the first gradient differentiated
                out, ones = (output, var) if k == 0 else \
                    (f"{grads}[0]", f"torch.ones_like({grads}[0])")
                w.add(f"{grads} = torch.autograd.grad({out}, {sources}"
                      f"{_kw(grad_outputs=ones, create_graph=k < p.order - 1 or None)})")
            return w.observe("grad", p.wrt.source([f"{grads}[{k}]" for k in range(len(names))]))
        got = [f"{seen}.get({n!r})" if style == "hooks" else f"{n}.grad" for n in names]
        for k in range(p.order):
            create = k < p.order - 1 or None
            if k:  # the first gradient differentiated again, into fresh .grad fields
                w.add(f"{g} = {got[0]}", *[f"{n}.grad = None" for n in names])
            if style == "hooks":
                hooks = [f"{n}.register_hook(lambda grad: {seen}.update({n}=grad))"
                         for n in names]
                w.add(f"{seen} = {{}}",
                      *(hooks if p.order == 1 else [f"handles = [{', '.join(hooks)}]"]))
            elif not k:  # a non-leaf keeps its .grad only when asked
                w.add(*[f"{n}.retain_grad()" for n in names
                        if style == "retain_grad" or n not in p.inputs])
            if k:
                w.add(f"{g}.backward(gradient=torch.ones_like({g}){_kw(create_graph=create)})")
            elif p.several:
                w.add(f"torch.autograd.backward({output}"
                      f"{_kw(grad_tensors=var, create_graph=create)})")
            else:
                w.add(f"{output}.backward({_kw(gradient=var, create_graph=create)[2:]})")
            if style == "hooks" and p.order > 1:
                w.add("for handle in handles:", "    handle.remove()")
        w.observe("grad", p.wrt.source(got))

    def function_of(self, w: Writer, wrt, target) -> str:
        """The program as a function of ``wrt`` (their values now, detached, are the
        primals); the program runs first where one of them is an intermediate."""
        if any(n not in w.plan.inputs for n in wrt):
            w.add(*w.program(), "")
        f = _free(w, "f")
        w.add(*w.function_of(f, wrt, target), "")
        return f

    def check_jvp(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        product, t, jac = (_free(w, n) for n in ("product", "tangents", "jacobians"))
        f = self.function_of(w, p.wrt, p.target)
        primals = _tuple(f"{n}.detach()" for n in p.wrt)
        w.add(f"{t} = " + _tuple(self.like(w, v, n) for n, v in zip(p.wrt, p.tangents)))
        if p.mode == "forward":
            w.add(f"_, {product} = torch.func.jvp({f}, {primals}, {t})")
        else:  # the full Jacobian (reverse mode), contracted with the tangents
            w.add(f"{jac} = torch.autograd.functional.jacobian({f}, {primals})",
                  f"{product} = sum(torch.tensordot(j, t, dims=t.dim()) "
                  f"for j, t in zip({jac}, {t}))")
        w.observe("jvp", product)

    def check_jacobian(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        f = self.function_of(w, [p.wrt], p.target)
        w.observe("jacobian", f"torch.func.jacfwd({f})({p.wrt}.detach())" if p.mode == "forward"
                  else f"torch.autograd.functional.jacobian({f}, {p.wrt}.detach())")

    def check_backward_twice(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        w.add(*w.program(), *[f"{n}.retain_grad()" for n in p.wrt if n not in p.inputs])
        call = f"{p.target}.backward(" + _kw(gradient=self.weights(w, p.target),
                                             retain_graph=p.retain_graph or None)[2:] + ")"
        w.add(call, call + "  # the second pass through the same graph")
        w.observe("backward_twice", "[" + ", ".join(f"{n}.grad" for n in p.wrt) + "]")

    def check_attributes(self, w: Writer) -> None:
        p = w.plan
        self.inputs(w)
        w.add(*w.program())
        if p.backward:
            w.add(f"{p.backward}.backward({_kw(gradient=self.weights(w, p.backward))[2:]})")
        for n in p.names:
            def field(f):  # grad_fn: the node's class, without its trailing digits
                return "None" if n in w.host else f"{n}.{f}" if f != "grad_fn" else \
                    f"None if {n}.grad_fn is None else {n}.grad_fn.name().rstrip('0123456789')"
            w.observe(n, "{" + ", ".join(f"{f!r}: {field(f)}" for f in p.fields) + "}")

    def check_optimize(self, w: Writer) -> None:
        p = w.plan
        o = p.optimizer
        if o.style != "step":
            raise NotApplicable(f"PyTorch optimizers have no {o.style}: they step on .grad "
                                "(zero_grad, backward, step)")
        self.inputs(w, require=p.opt_params)
        params = ", ".join(p.opt_params)
        if o.name != "manual":
            w.add(f"optimizer = torch.optim.{_OPTIMIZERS[o.name]}([{params}], lr={o.lr!r}"
                  f"{_optimizer_options(o)})")
        history = _free(w, "history")
        w.add(f"{history} = {{{', '.join(f'{n!r}: []' for n in p.record)}}}", "")

        def record(pad):
            return [f"{pad}{history}[{n!r}].append("
                    + (n if n in w.host else f"{n}.detach().clone()") + ")" for n in p.record]

        w.add(f"for step in range({p.steps}):", *w.program("    "))
        if p.record_every == 1:
            w.add(*record("    "))
        else:
            w.add(f"    if step % {p.record_every} == 0:", *record("        "))
        if o.name == "manual":  # p -= lr * p.grad, outside the graph
            w.add(f"    {p.loss}.backward()", "    with torch.no_grad():",
                  *[f"        {n} -= {o.lr!r} * {n}.grad" for n in p.opt_params],
                  *[f"    {n}.grad.zero_()" for n in p.opt_params])
        else:
            w.add("    optimizer.zero_grad()", f"    {p.loss}.backward()", "    optimizer.step()")
        w.add("", "# the final parameters and their loss", *[f"step = {p.steps}"] * p.uses_step,
              *w.program(), *record(""))
        for n in p.record:
            w.observe(n, f"{history}[{n!r}]")

    def calls(self, w: Writer, results: str, call: str, arglists, catch=False) -> None:
        """``results``: what ``call`` returns for each argument list, copied then (a tensor
        returned may be state that later calls update); ``catch``: or the error it raised."""
        pad, out = "    " * (1 + catch), _free(w, "out")
        w.add(f"{results} = []", "for args in [" + ", ".join(
            _tuple(self.arg(w, a) for a in c) for c in arglists) + "]:",
            *["    try:"] * catch, f"{pad}{out} = {call}",
            f"{pad}{results}.append({out}.detach().clone() if torch.is_tensor({out}) else {out})",
            *["    except Exception as error:  # a call that raised: its error is its output",
              f"        {results}.append(error)"] * catch)

    def check_trace(self, w: Writer) -> None:
        p = w.plan
        if p.staged:
            raise NotApplicable(STAGED_NA)
        self.inputs(w)
        out = _free(w, "outputs")
        self.calls(w, out, self.call_function(w, p.function, ["*args"]), p.call_args, True)
        w.observe("outputs", out)
        w.add("# eager: Python runs the body on every call")
        w.observe("traced", f"[True] * len({out})")
        w.observe("log", "log" if "log" in w.needs else "[]")
        w.observe("appended", "['concrete'] * len(appended)" if "appended" in w.needs else "[]")
        w.observe("distinct", f"len({{repr((o.dtype, o.tolist())) if torch.is_tensor(o) else "
                              f"repr(o) for o in {out} if not isinstance(o, Exception)}})")

    def check_while_loop(self, w: Writer) -> None:
        p = w.plan
        if p.graph:
            raise NotApplicable("PyTorch has no static graph to build a loop op in: a loop "
                                "is a Python loop on the dynamic graph")
        self.inputs(w)
        for name, arg in p.vars.items():
            w.add(f"{name} = {self.tensor(w, arg.value if arg.tensor else to_array(arg.value))}")
        names = [n for n in p.vars if n in p.body]
        w.add(f"while {w.expr(p.cond)}:",
              f"    {', '.join(names)} = {', '.join(w.expr(p.body[n]) for n in names)}")
        for n in p.vars:
            w.observe(n, n)

    def check_checkpoint(self, w: Writer) -> None:
        p = w.plan
        fn = p.functions[p.method]
        if fn.backward is not None:
            raise NotApplicable("the module's method has a custom gradient")
        w.needs.update({"import os", "import tempfile"})
        p.functions, everything = {k: v for k, v in p.functions.items() if k != p.method}, \
            p.functions
        try:  # the other functions: the method is the module's own
            self.inputs(w)
        finally:
            p.functions = everything
        cls = p.style == "class"
        me, pad = ("self", "        ") if cls else ("module", "    ")
        state = []
        for name, arg in p.state.items():
            array = np.asarray(arg.value if arg.tensor else to_array(arg.value))
            state.append(f"{pad}{me}.{name} = torch.nn.Parameter({self.tensor(w, array)})"
                         if array.dtype.kind == "f" else
                         f"{pad}{me}.register_buffer({name!r}, {self.tensor(w, array)})")
        body = [f"        {', '.join(p.state)} = {', '.join(me + '.' + n for n in p.state)}"]
        body += w.statements(fn.body, "        ") if fn.body is not None else \
            [f"        return {w.expr(fn.forward)}"]
        args = ", ".join(fn.args)
        if cls:
            w.add("class StateModule(torch.nn.Module):", "    def __init__(self):",
                  "        super().__init__()", *state, "", f"    def forward(self, {args}):",
                  *body, "", "")
        else:  # a bare module given the state and the method as attributes
            w.add("def build():", "    module = torch.nn.Module()", *state, "",
                  f"    def {p.method}({args}):", *body, "",
                  f"    module.{p.method} = {p.method}", "    return module", "", "")
        build, method = ("StateModule()", "") if cls else ("build()", "." + p.method)
        w.add(f"module = {build}")
        self.calls(w, "before", f"module{method}(*args)", p.before)
        w.add("with tempfile.TemporaryDirectory() as tmp:",
              "    path = os.path.join(tmp, 'state.pt')",
              "    torch.save(module.state_dict(), path)",
              f"    fresh = {build}", "    fresh.load_state_dict(torch.load(path))")
        self.calls(w, "after", f"fresh{method}(*args)", p.after)
        w.observe("before", "before")
        w.observe("after", "after")
        w.observe("variables", "sorted(fresh.state_dict())")


DIALECT = TorchDialect()

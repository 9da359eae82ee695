"""The PyTorch backend: eager tensors with ``requires_grad``, ``torch.autograd``,
``torch.func`` for forward mode, ``torch.optim`` and ``nn.Module`` state dicts.

Only this module imports torch. Every check is spelled the way a PyTorch user would write it
(``backward``, ``autograd.grad``, hooks, ``retain_grad``); see ``docs/backends.md``.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import warnings

import numpy as np
import torch

from harness import expressions as ex
from harness.backends.base import Backend, NotApplicable
from harness.repro import SourceWriter
from harness.values import ErrorValue

# ---- the op table ---------------------------------------------------------------------------


def _is_number(x) -> bool:
    return isinstance(x, (bool, int, float, np.number, np.bool_))


def _t(x, like=None):
    """``x`` as a tensor. A Python scalar takes the dtype it would have next to ``like``
    (weak typing: ``maximum(x_float32, 0)`` stays float32); alone, float32 or int32."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(like, torch.Tensor) and _is_number(x):
        return torch.as_tensor(x, dtype=torch.result_type(like, x))
    if isinstance(x, bool):
        return torch.as_tensor(x)
    if isinstance(x, int):
        return torch.as_tensor(x, dtype=torch.int32)
    if isinstance(x, float):
        return torch.as_tensor(x, dtype=torch.float32)
    return torch.as_tensor(np.asarray(x))


def _pair(a, b):
    """Two operands as tensors, a Python scalar taking its dtype from the other one."""
    return _t(a, b), _t(b, a)


def _unary(fn):
    return lambda x: fn(_t(x))


def _binary(fn):
    return lambda a, b: fn(*_pair(a, b))


def _dims(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _reduce(fn):
    def op(x, axis=None, keepdims=False):
        x = _t(x)
        if axis is None:
            out = fn(x)
            return out.reshape([1] * x.dim()) if keepdims else out
        return fn(x, dim=_dims(axis), keepdim=bool(keepdims))
    return op


def _max(x, axis=None, keepdims=False):
    x = _t(x)
    if axis is None:
        out = torch.max(x)
        return out.reshape([1] * x.dim()) if keepdims else out
    if isinstance(axis, (list, tuple)):
        return torch.amax(x, dim=tuple(axis), keepdim=bool(keepdims))
    return torch.max(x, dim=axis, keepdim=bool(keepdims)).values


def _clip(x, min=None, max=None):  # noqa: A002 - the vocabulary's attribute names
    x = _t(x)
    if isinstance(min, torch.Tensor) or isinstance(max, torch.Tensor):
        min = None if min is None else _t(min, x)
        max = None if max is None else _t(max, x)
    return torch.clamp(x, min=min, max=max)


def _where(cond, a, b):
    cond = _t(cond)
    if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
        a, b = _t(a), _t(b)
    else:
        a, b = _pair(a, b)
    return torch.where(cond.bool() if cond.dtype != torch.bool else cond, a, b)


def _transpose(x, axes=None):
    x = _t(x)
    return x.permute(*(axes if axes is not None else reversed(range(x.dim()))))


def _reshape(x, shape=None):
    return torch.reshape(_t(x), tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


def _dtype(name):
    if name == "string":
        raise NotApplicable("PyTorch has no string tensors")
    return getattr(torch, name)


def _cast(x, dtype=None):
    return _t(x).to(_dtype(dtype))


def _one_hot(indices, depth=None):
    return torch.nn.functional.one_hot(_t(indices).long(),
                                       -1 if depth is None else int(depth)).to(torch.float32)


def _mse(a, b, reduction="mean"):
    a, b = _pair(a, b)
    return torch.nn.functional.mse_loss(a, b, reduction=reduction)


def _assign(method):
    def op(v, x):
        if not isinstance(v, torch.Tensor):  # a host number: plain arithmetic
            return v + x if method == "add_" else v - x
        with torch.no_grad():  # a state update, not part of the graph (as assign_add in TF)
            getattr(v, method)(x)
        return v
    return op


def _new_variable(x):
    x = _t(x).detach().clone()
    return torch.nn.Parameter(x, requires_grad=x.is_floating_point())


def _random_normal(shape=()):
    return torch.randn(tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": lambda a, b: a @ b,
    "neg": lambda a: -a,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "exp": _unary(torch.exp),
    "log": _unary(torch.log),
    "sqrt": _unary(torch.sqrt),
    "square": _unary(torch.square),
    "abs": _unary(torch.abs),
    "sin": _unary(torch.sin),
    "cos": _unary(torch.cos),
    "tanh": _unary(torch.tanh),
    "sigmoid": _unary(torch.sigmoid),
    "relu": _unary(torch.relu),
    "softplus": _unary(torch.nn.functional.softplus),
    "maximum": _binary(torch.maximum),
    "minimum": _binary(torch.minimum),
    "clip": _clip,
    "where": _where,
    "sum": _reduce(torch.sum),
    "mean": _reduce(torch.mean),
    "max": _max,
    "transpose": _transpose,
    "reshape": _reshape,
    "getitem": lambda x, index: x[index],
    "concat": lambda xs, axis=0: torch.cat([_t(x) for x in xs], dim=axis),
    "stack": lambda xs, axis=0: torch.stack([_t(x) for x in xs], dim=axis),
    "softmax": lambda x, axis=-1: torch.softmax(_t(x), dim=axis),
    "log_softmax": lambda x, axis=-1: torch.log_softmax(_t(x), dim=axis),
    "one_hot": _one_hot,
    "cast": _cast,
    "ones_like": lambda x: torch.ones_like(_t(x)),
    "zeros_like": lambda x: torch.zeros_like(_t(x)),
    "mse": _mse,
    "assign_add": _assign("add_"),
    "assign_sub": _assign("sub_"),
    "new_variable": _new_variable,
    "random_normal": _random_normal,
}

LACKS = {"string_join": "PyTorch has no string tensors"}

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

STAGED_NA = ("PyTorch runs eagerly: no tracer with tf.function's retracing semantics "
             "(torch.compile guards differ)")


def _no_strings(method):
    """A check touching a string input is n/a (PyTorch has no string tensors)."""
    @functools.wraps(method)
    def wrapper(self, program, check):
        try:
            return method(self, program, check)
        except KeyError as exc:
            if exc.args and exc.args[0] in getattr(program, "_torch_strings", ()):
                raise NotApplicable(f"input {exc.args[0]!r} is a string: PyTorch has no "
                                    "string tensors") from None
            raise
    return wrapper


def _structure(wrt):
    """Flatten ``wrt`` (a name, a list, a dict) and a function putting results back."""
    if isinstance(wrt, str):
        return [wrt], lambda gs: gs[0]
    if isinstance(wrt, dict):
        keys = list(wrt)
        return [wrt[k] for k in keys], lambda gs: dict(zip(keys, gs))
    return list(wrt), list


class TorchBackend(Backend):
    framework = "torch"
    modes = ("eager",)
    OPS = OPS
    LACKS = LACKS
    ERRORS = ERRORS

    @classmethod
    def version(cls) -> str:
        return str(torch.__version__)

    # ---- the tensor boundary -------------------------------------------------------------

    def constant(self, array, dtype=None):
        array = np.asarray(array)
        if array.dtype == object or array.dtype.kind in "SU":
            raise NotApplicable("PyTorch has no string tensors")
        if dtype is not None:
            array = array.astype(dtype)
        return torch.from_numpy(np.array(array, copy=True))

    def to_numpy(self, value):
        if value is None or isinstance(value, ErrorValue):
            return value
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().resolve_conj().numpy().copy()
        return np.asarray(value)

    def custom_function(self, name, nargs, forward, backward):
        def fwd(ctx, *xs):
            ctx.is_tensor = [isinstance(x, torch.Tensor) for x in xs]
            ctx.others = [None if t else x for x, t in zip(xs, ctx.is_tensor)]
            y = forward(*xs)
            if not isinstance(y, torch.Tensor):
                y = _t(y)
            ctx.save_for_backward(*[x for x, t in zip(xs, ctx.is_tensor) if t], y)
            return y

        def bwd(ctx, grad):
            *tensors, result = ctx.saved_tensors
            it = iter(tensors)
            xs = [next(it) if t else o for t, o in zip(ctx.is_tensor, ctx.others)]
            # with create_graph=True grad mode is on here: the rule's ops are differentiable
            grads = backward(xs, result, grad)
            out = []
            for x, g, is_tensor in zip(xs, grads, ctx.is_tensor):
                if not is_tensor or g is None:
                    out.append(None)
                elif not isinstance(g, torch.Tensor):
                    out.append(torch.full_like(x, g))  # a constant rule, as a tensor
                else:
                    out.append(g)
            return tuple(out)

        cls = type(name, (torch.autograd.Function,),
                   {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})
        return cls.apply

    # ---- helpers ----------------------------------------------------------------------------

    def _inputs(self, program, require=()) -> dict:
        """Input name -> tensor, ``requires_grad`` where the input is tracked (or in
        ``require``). String inputs are left out (and remembered, for an n/a)."""
        env, strings = {}, set()
        for name, spec in program.inputs.items():
            if spec.kind == "host":
                continue
            array = program.arrays[name]
            if np.asarray(array).dtype == object:
                strings.add(name)
                continue
            tensor = self.constant(array)
            if spec.track or name in require:
                tensor.requires_grad_(True)  # raises for an integer tensor, as torch does
            env[name] = tensor
        program._torch_strings = strings
        # function bodies read inputs by name: the same tensors the program runs on
        program.bind_globals({**{n: program.arrays[n] for n, spec in program.inputs.items()
                                 if spec.kind == "host"}, **env})
        return env

    def _weights(self, program, weights, target):
        if weights is None:
            return None
        dtype = str(target.dtype).removeprefix("torch.") if isinstance(
            target, torch.Tensor) else None
        return self.constant(program.array(weights, dtype))

    def _value_arg(self, program, value):
        """A call argument or state value: ``{tensor: v, dtype}`` is a tensor, else Python."""
        if isinstance(value, dict) and "tensor" in value:
            return self.constant(program.array(value["tensor"], value.get("dtype")))
        return value

    @staticmethod
    def _snapshot(value):
        return value.detach().clone() if isinstance(value, torch.Tensor) else value

    # ---- check kinds ------------------------------------------------------------------------

    @_no_strings
    def value(self, program, check):
        env = program.run(self._inputs(program))
        return program.evaluate(check.value, env)

    @_no_strings
    def grad(self, program, check):
        style = check.style or "autograd"
        if style == "tape":
            raise NotApplicable("PyTorch has no gradient tape: tensors record their own graph")
        env = self._run_watching(program, check.tape.watch)
        several = isinstance(check.grad, list)  # several outputs: their gradients add up
        targets = [env[n] for n in (check.grad if several else [check.grad])]
        names, pack = _structure(check.wrt)
        sources = [env[n] for n in names]
        weights = None if check.weights is None else [
            self._weights(program, check.weights, t) for t in targets]
        grads = self._grads(targets, sources, weights, style, check.order > 1, first=True)
        for k in range(2, check.order + 1):
            g = grads[0]
            if g is None:
                break
            # the order-(k-1) gradient differentiated again, with ones weights
            grads = self._grads([g], sources, [torch.ones_like(g)], style, k < check.order,
                                first=False)
        return pack(grads)

    def _run_watching(self, program, watch):
        """Run the program; a name in the check's ``tape.watch`` is made to require grad
        (PyTorch's spelling of watching: ``requires_grad_()``), an intermediate one as it is
        assigned (a leaf from there on, as ``u = x.float(); u.requires_grad_()``)."""
        inputs = self._inputs(program, require=[n for n in watch if n in program.inputs])
        env = program.run(inputs)
        late = {n: env[n].detach().requires_grad_(True) for n in watch
                if n not in program.inputs and isinstance(env.get(n), torch.Tensor)
                and not env[n].requires_grad}
        return program.run(inputs, overrides=late) if late else env

    @staticmethod
    def _backward(targets, weights, create_graph):
        if len(targets) == 1:
            targets[0].backward(gradient=None if weights is None else weights[0],
                                create_graph=create_graph)
        else:
            torch.autograd.backward(targets, grad_tensors=weights, create_graph=create_graph)

    def _grads(self, targets, sources, weights, style, create_graph, first):
        if style == "autograd":
            return list(torch.autograd.grad(targets, sources, grad_outputs=weights,
                                            create_graph=create_graph, allow_unused=False))
        if not first:
            for s in sources:
                s.grad = None
        if style == "hooks":
            captured = [None] * len(sources)
            handles = []
            for i, s in enumerate(sources):
                def hook(g, i=i):
                    captured[i] = g
                handles.append(s.register_hook(hook))
            try:
                self._backward(targets, weights, create_graph)
            finally:
                for h in handles:
                    h.remove()
            return captured
        for s in sources:
            if style == "retain_grad" or not s.is_leaf:
                s.retain_grad()
        self._backward(targets, weights, create_graph)
        return [s.grad for s in sources]

    def _function_of(self, program, env, target, names):
        def f(*values):
            return program.run(env, overrides=dict(zip(names, values)))[target]
        base = program.run(env)
        return f, [base[n].detach() for n in names]

    @_no_strings
    def jvp(self, program, check):
        env = self._inputs(program)
        f, primals = self._function_of(program, env, check.jvp, check.wrt)
        tangents = [self.constant(program.array(t, str(p.dtype).removeprefix("torch.")))
                    for t, p in zip(check.tangents, primals)]
        if check.mode == "forward":
            _, product = torch.func.jvp(f, tuple(primals), tuple(tangents))
            return product
        jac = torch.autograd.functional.jacobian(f, tuple(primals))
        return sum(torch.tensordot(j, t, dims=t.dim()) for j, t in zip(jac, tangents))

    @_no_strings
    def jacobian(self, program, check):
        env = self._inputs(program)
        f, (primal,) = self._function_of(program, env, check.jacobian, [check.wrt])
        if check.mode == "forward":
            return torch.func.jacfwd(f)(primal)
        return torch.autograd.functional.jacobian(f, primal)

    @_no_strings
    def backward_twice(self, program, check):
        env = program.run(self._inputs(program))
        out = env[check.backward_twice]
        sources = [env[n] for n in check.wrt]
        for s in sources:
            if not s.is_leaf:
                s.retain_grad()
        weights = self._weights(program, check.weights, out)
        out.backward(gradient=weights, retain_graph=check.retain_graph)
        out.backward(gradient=weights, retain_graph=check.retain_graph)
        return [s.grad for s in sources]

    @_no_strings
    def attributes(self, program, check):
        env = program.run(self._inputs(program))
        if check.backward:
            out = env[check.backward]
            out.backward(gradient=self._weights(program, check.weights, out))
        result = {}
        for name in check.attributes:
            t = env[name]
            fields = {}
            for f in check.fields:
                if not isinstance(t, torch.Tensor):
                    fields[f] = None
                elif f == "is_leaf":
                    fields[f] = bool(t.is_leaf)
                elif f == "requires_grad":
                    fields[f] = bool(t.requires_grad)
                elif f == "grad_fn":
                    fields[f] = None if t.grad_fn is None else re.sub(
                        r"\d+$", "", type(t.grad_fn).__name__)
                elif f == "grad":
                    with warnings.catch_warnings():  # .grad of a non-leaf warns: None it is
                        warnings.simplefilter("ignore")
                        fields[f] = t.grad
            result[name] = fields
        return result

    @_no_strings
    def optimize(self, program, check):
        spec = check.optimize
        opt = spec.optimizer
        if opt.style != "step":
            raise NotApplicable(f"PyTorch optimizers have no {opt.style}: they step on .grad "
                                "(zero_grad, backward, step)")
        env = self._inputs(program, require=spec.params)
        params = [env[n] for n in spec.params]
        if opt.name == "sgd":
            optimizer = torch.optim.SGD(params, lr=opt.lr, momentum=opt.momentum,
                                        nesterov=opt.nesterov, weight_decay=opt.weight_decay)
        elif opt.name == "adam":
            optimizer = torch.optim.Adam(params, lr=opt.lr, betas=tuple(opt.betas),
                                         eps=1e-8 if opt.eps is None else opt.eps,
                                         weight_decay=opt.weight_decay)
        else:
            optimizer = None
        record = spec.record or list(spec.params) + [spec.loss]
        trajectory = {n: [] for n in record}

        def snap(out):
            for n in record:
                trajectory[n].append(self._snapshot(out[n]))

        for step in range(spec.steps):
            out = program.run({**env, "step": step})
            if step % spec.record_every == 0:
                snap(out)
            loss = out[spec.loss]
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            else:
                loss.backward()
                for p in params:
                    if p.grad is not None:
                        p.data.sub_(opt.lr * p.grad)
                        p.grad.zero_()
        snap(program.run({**env, "step": spec.steps}))  # the final params and their loss
        return trajectory

    @_no_strings
    def trace(self, program, check):
        if check.staged:
            raise NotApplicable(STAGED_NA)
        fn = program.function(check.trace)
        self._inputs(program)  # what the function may read besides its arguments
        outputs, traced = [], []
        for call in check.calls:
            args = [self._value_arg(program, a) for a in call]
            try:
                out = self._snapshot(fn(*args))
            except NotApplicable:
                raise
            except Exception as exc:  # a call that raised is an observation of that call
                out = self.error_value(exc)
            outputs.append(out)
            traced.append(True)  # eager: Python runs on every call
        return self.trace_observation(program, outputs, traced,
                                      ["concrete"] * len(program.appended))

    @_no_strings
    def while_loop(self, program, check):
        spec = check.while_loop
        if spec.graph:
            raise NotApplicable("PyTorch has no static graph to build a loop op in: a loop "
                                "is a Python loop on the dynamic graph")
        env = self._inputs(program)
        for name, value in spec.vars.items():
            value = self._value_arg(program, value)
            env[name] = value if isinstance(value, torch.Tensor) else self.constant(
                program.array(value))
        for _ in range(1_000_000):
            if not bool(program.evaluate(spec.cond, env)):
                break
            env.update({k: program.evaluate(e, env) for k, e in spec.body.items()})
        else:
            raise RuntimeError("while_loop: no exit after 1,000,000 iterations")
        return {name: env[name] for name in spec.vars}

    @_no_strings
    def checkpoint(self, program, check):
        spec = check.checkpoint
        nn = torch.nn
        method = program.function(spec.method)
        backend = self

        def state_tensors():
            for name, value in spec.state.items():
                value = backend._value_arg(program, value)
                tensor = value if isinstance(value, torch.Tensor) else backend.constant(
                    program.array(value))
                yield name, tensor

        def hold(module):
            for name, tensor in state_tensors():
                if tensor.is_floating_point():
                    module.register_parameter(name, nn.Parameter(tensor))
                else:
                    module.register_buffer(name, tensor)

        self._inputs(program)  # binds the inputs; the module's state is bound per call

        def call(module, *args):
            program.bind_globals({n: getattr(module, n) for n in spec.state})
            return method(*args)

        class StateModule(nn.Module):
            def __init__(self):
                super().__init__()
                hold(self)

            def forward(self, *args):
                return call(self, *args)

        def build():
            if spec.style == "class":
                module = StateModule()
                return module, module
            module = nn.Module()  # a bare module given the state and the function
            hold(module)
            module.method = functools.partial(call, module)
            return module, module.method

        def run(fn, calls):
            return [self.to_numpy(fn(*[self._value_arg(program, a) for a in c])) for c in calls]

        module, fn = build()
        before = run(fn, spec.before)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state.pt")
            torch.save(module.state_dict(), path)
            fresh, fresh_fn = build()
            fresh.load_state_dict(torch.load(path))
        after = run(fresh_fn, spec.after)
        return {"before": before, "after": after, "variables": sorted(fresh.state_dict())}

    # ---- repro scripts ----------------------------------------------------------------------

    def repro(self, case, check):
        try:
            return _Repro(case, check).script()
        except _Untranslatable:
            return None


BACKEND = TorchBackend

# ---- repro: the case as a standalone PyTorch script -------------------------------------------


class _Untranslatable(Exception):
    pass


_INFIX_FMT = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@",
              "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}

_PREC = {"lt": 1, "le": 1, "gt": 1, "ge": 1, "eq": 1, "ne": 1, "add": 2, "sub": 2, "mul": 3,
         "div": 3, "matmul": 3, "neg": 4, "pow": 5}

_CALL_FMT = {
    "exp": "torch.exp", "log": "torch.log", "sqrt": "torch.sqrt", "square": "torch.square",
    "abs": "torch.abs", "sin": "torch.sin", "cos": "torch.cos", "tanh": "torch.tanh",
    "sigmoid": "torch.sigmoid", "relu": "torch.relu",
    "softplus": "torch.nn.functional.softplus", "maximum": "torch.maximum",
    "minimum": "torch.minimum", "where": "torch.where", "ones_like": "torch.ones_like",
    "zeros_like": "torch.zeros_like",
}


def _num(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    text = f"{float(v):.9g}"
    if text in ("nan", "inf", "-inf"):
        return f"float('{text}')"
    return text if any(c in text for c in ".en") else text + ".0"


def _literal(array) -> str:
    array = np.asarray(array)
    if array.ndim == 0:
        return _num(array.item())
    return "[" + ", ".join(_literal(a) for a in array) + "]"


def _tensor_literal(array, requires_grad=False) -> str:
    array = np.asarray(array)
    if array.dtype == object:
        raise _Untranslatable("string tensor")
    grad = ", requires_grad=True" if requires_grad else ""
    return f"torch.tensor({_literal(array)}, dtype=torch.{array.dtype}{grad})"


class _Repro:
    def __init__(self, case, check):
        self.case, self.check = case, check
        self.custom = {n for n, f in case.functions.items() if f.backward is not None}
        self.lines: list[str] = []
        self.uses_numpy = False
        self.uses_append = False
        self.writer = SourceWriter({}, expr=self.expr)

    # ---- expressions ----
    def expr(self, node, scalar_ok=True, need=0) -> str:
        """Python source for ``node``; ``need``: the precedence the context asks of it
        (parenthesised below that; 99 for a method receiver)."""
        if isinstance(node, ex.Const):
            if isinstance(node.value, (tuple, slice, ex.Name)):
                return self.writer.index(node.value)
            if _is_number(node.value) and not scalar_ok:
                return f"torch.tensor({_num(node.value)})"
            if not _is_number(node.value):
                return repr(node.value)
            text = _num(node.value)
            return f"({text})" if text.startswith("-") and need > _PREC["neg"] else text
        if isinstance(node, ex.Name):
            return node.id
        if isinstance(node, ex.ListOf):
            return "[" + ", ".join(self.expr(x) for x in node.items) + "]"
        fn, args = node.fn, node.args
        kw = {k: v for k, v in node.kwargs}
        a = [self.expr(x) for x in args]
        t = [self.expr(x, scalar_ok=False) for x in args]  # tensor-only arguments
        m = [self.expr(x, scalar_ok=False, need=99) for x in args]  # method receivers

        def attr(name, default=None):
            return self.expr(kw[name]) if name in kw else default

        if fn in _PREC:
            p = _PREC[fn]
            if fn == "neg":
                text = f"-{self.expr(args[0], need=p)}"
            else:
                left, right = (p + 1, p) if fn == "pow" else (p, p + 1)
                if p == _PREC["lt"]:
                    left = right = p + 1  # no chained comparisons
                text = (f"{self.expr(args[0], need=left)} {_INFIX_FMT[fn]} "
                        f"{self.expr(args[1], need=right)}")
            return f"({text})" if p < need else text
        if fn in self.case.functions:
            call = f"{fn}.apply" if fn in self.custom else fn
            return f"{call}({', '.join(a)})"
        if fn in _CALL_FMT:
            if fn == "where":
                return f"torch.where({a[0]}, {a[1]}, {a[2]})"
            return f"{_CALL_FMT[fn]}({', '.join(t)})"
        if fn == "clip":
            return f"torch.clamp({t[0]}, min={attr('min', 'None')}, max={attr('max', 'None')})"
        if fn in ("sum", "mean", "max"):
            axis, keep = attr("axis", "None"), attr("keepdims", "False")
            if axis == "None":
                full = f"torch.{fn}({t[0]})"
                return f"{full}.reshape([1] * {m[0]}.dim())" if keep == "True" else full
            if fn == "max":
                if isinstance(kw.get("axis"), ex.ListOf):
                    return f"torch.amax({t[0]}, dim={axis}, keepdim={keep})"
                return f"torch.max({t[0]}, dim={axis}, keepdim={keep}).values"
            return f"torch.{fn}({t[0]}, dim={axis}, keepdim={keep})"
        if fn == "transpose":
            axes = attr("axes")
            if axes is None and self._ndim(args[0]) in (0, 1, 2):
                return f"{m[0]}.t()"
            if axes is None:
                return f"{m[0]}.permute(*reversed(range({m[0]}.dim())))"
            return f"{m[0]}.permute({axes})"
        if fn == "reshape":
            return f"torch.reshape({t[0]}, {attr('shape')})"
        if fn == "getitem":
            return f"{m[0]}[{a[1]}]"
        if fn in ("concat", "stack"):
            name = "cat" if fn == "concat" else "stack"
            return f"torch.{name}({a[0]}, dim={attr('axis', '0')})"
        if fn in ("softmax", "log_softmax"):
            return f"torch.{fn}({t[0]}, dim={attr('axis', '-1')})"
        if fn == "one_hot":
            return (f"torch.nn.functional.one_hot({m[0]}.long(), {attr('depth', '-1')})"
                    ".to(torch.float32)")
        if fn == "cast":
            dtype = kw.get("dtype")
            if not isinstance(dtype, ex.Const) or dtype.value == "string":
                raise _Untranslatable("cast")
            return f"{m[0]}.to(torch.{dtype.value})"
        if fn == "mse":
            return (f"torch.nn.functional.mse_loss({t[0]}, {t[1]}, "
                    f"reduction={attr('reduction', repr('mean'))})")
        if fn in ("assign_add", "assign_sub"):
            return f"{m[0]}.data.{fn[7:]}_({a[1]})"
        if fn == "new_variable":
            return f"torch.nn.Parameter({m[0]}.detach().clone())"
        if fn == "random_normal":
            return f"torch.randn({attr('shape', '()')})"
        if fn == "host_random_normal":
            self.uses_numpy = True
            return (f"torch.from_numpy(host_rng.standard_normal({attr('shape', '()')})"
                    ".astype('float32'))")
        if fn == "effect":
            return f"print({', '.join(a)})"
        if fn == "outer_append":
            self.uses_append = True
            return f"appended.append({a[0]})"
        raise _Untranslatable(fn)

    def _ndim(self, node):
        if isinstance(node, ex.Name) and node.id in self.case.inputs and \
                self.case.inputs[node.id].kind != "host":
            return np.asarray(self.case.inputs[node.id].array()).ndim
        return None

    def statements(self, statements, indent="", skip=(), watch=()):
        def after(target, pad):
            return [f"{pad}{target}.requires_grad_()  # watched"] if target in watch else []
        return self.writer.statements(statements, indent, skip, after)

    # ---- pieces of the script ----
    def inputs(self, require=()):
        out = []
        for name, spec in self.case.inputs.items():
            array = spec.array()
            if spec.kind == "host":
                out.append(f"{name} = {array!r}")
                continue
            grad = bool(spec.track) or name in require
            if np.asarray(array).size > 64 and spec.random:
                self.uses_numpy = True
                out.append(f"{name} = torch.from_numpy({spec.numpy_source()})"
                           + (".requires_grad_()" if grad else ""))
            else:
                out.append(f"{name} = {_tensor_literal(array, grad)}")
        return out

    def functions(self):
        out = []
        for name, fn in self.case.functions.items():
            args = ", ".join(fn.args)
            if fn.backward is not None:
                rules = []
                for arg, rule in zip(fn.args, fn.backwards):
                    node = ex.parse_expression(rule)
                    text = self.expr(node)
                    if isinstance(node, ex.Const) and _is_number(node.value):
                        text = f"torch.full_like({arg}, {text})"
                    rules.append(text)
                out += [f"class {name}(torch.autograd.Function):",
                        "    @staticmethod",
                        f"    def forward(ctx, {args}):",
                        f"        result = {self.expr(ex.parse_expression(fn.forward))}",
                        f"        ctx.save_for_backward({args}, result)",
                        "        return result",
                        "",
                        "    @staticmethod",
                        "    def backward(ctx, grad):",
                        f"        {args}, result = ctx.saved_tensors",
                        f"        return {', '.join(rules)}",
                        ""]
            elif fn.forward is not None:
                out += [f"def {name}({args}):",
                        f"    return {self.expr(ex.parse_expression(fn.forward))}", ""]
            else:
                body = self.statements(ex.parse_program(fn.body), "    ")
                out += [f"def {name}({args}):"] + (body or ["    pass"]) + [""]
        return out

    def weights(self, weights):
        if weights is None:
            return None
        return _tensor_literal(np.asarray(_to_array(weights)))

    def arg(self, value) -> str:
        if isinstance(value, dict) and "tensor" in value:
            return _tensor_literal(_to_array(value["tensor"], value.get("dtype")))
        return repr(value)

    def script(self) -> str:
        kind = self.check.kind
        body = getattr(self, f"_{kind}", None)
        if body is None:
            raise _Untranslatable(kind)
        tail = body(self.check)
        head = ["import torch"]
        if self.uses_numpy:
            head += ["import numpy as np", "host_rng = np.random.default_rng(0)"]
        if self.uses_append:
            head.append("appended = []")
        return "\n".join(head + [""] + tail) + "\n"

    def _setup(self, require=(), watch=()):
        late = [n for n in watch if n not in self.case.inputs]
        return self.inputs(list(require) + list(watch)) + [""] + self.functions() + \
            self.statements(self.case.program, watch=late)

    def _value(self, check):
        return self._setup() + [f"print({self.expr(ex.parse_expression(check.value))})"]

    def _grad(self, check):
        style = check.style or "autograd"
        if style == "tape":
            raise _Untranslatable("tape")
        names, _ = _structure(check.wrt)
        lines = self._setup(watch=check.tape.watch)
        w = self.weights(check.weights)
        several = isinstance(check.grad, list)
        target = f"[{', '.join(check.grad)}]" if several else check.grad
        if several and w is not None:
            w = f"[{', '.join([w] * len(check.grad))}]"
        wrt = ", ".join(names)
        for k in range(1, check.order + 1):
            create = "True" if k < check.order else "False"
            weights = w if k == 1 else "torch.ones_like(g)"
            if k > 1:
                target = "g"
            if style == "autograd":
                extra = (f", grad_outputs={weights}" if weights else "") + (
                    ", create_graph=True" if create == "True" else "")
                lines.append(f"grads = torch.autograd.grad({target}, [{wrt}]{extra})")
                if k < check.order:
                    lines.append("g = grads[0]")
                continue
            if k > 1:
                lines += [f"{n}.grad = None" for n in names]
            if style == "hooks":
                lines.append("grads = {}")
                for n in names:
                    lines.append(f"{n}.register_hook(lambda g_: grads.__setitem__({n!r}, g_))")
            else:
                for n in names:
                    if style == "retain_grad" or n not in self.case.inputs:
                        lines.append(f"{n}.retain_grad()")
            graph = ", create_graph=True" if create == "True" else ""
            if several and k == 1:
                extra = (f", grad_tensors={weights}" if weights else "") + graph
                lines.append(f"torch.autograd.backward({target}{extra})")
            else:
                extra = (f"gradient={weights}" if weights else "") + graph
                lines.append(f"{target}.backward({extra.lstrip(', ')})")
            if style == "hooks":
                lines.append(f"grads = [grads.get(n) for n in {names!r}]")
            else:
                lines.append(f"grads = [{', '.join(n + '.grad' for n in names)}]")
            if k < check.order:
                lines.append("g = grads[0]")
        lines.append("print(grads)")
        return lines

    def _function(self, target, names):
        body = self.statements(self.case.program, "    ", skip=set(names))
        return [f"def f({', '.join(names)}):"] + body + [f"    return {target}", ""]

    def _tangents(self, check):
        return [_tensor_literal(_to_array(t)) for t in check.tangents]

    def _jvp(self, check):
        lines = self._setup() + [""] + self._function(check.jvp, check.wrt)
        primals = "(" + "".join(f"{n}.detach(), " for n in check.wrt) + ")"
        tangents = "(" + "".join(f"{t}, " for t in self._tangents(check)) + ")"
        if check.mode == "forward":
            lines.append(f"out, product = torch.func.jvp(f, {primals}, {tangents})")
        else:
            lines += [f"jac = torch.autograd.functional.jacobian(f, {primals})",
                      f"product = sum(torch.tensordot(j, t, dims=t.dim()) "
                      f"for j, t in zip(jac, {tangents}))"]
        return lines + ["print(product)"]

    def _jacobian(self, check):
        lines = self._setup() + [""] + self._function(check.jacobian, [check.wrt])
        if check.mode == "forward":
            lines.append(f"jac = torch.func.jacfwd(f)({check.wrt}.detach())")
        else:
            lines.append(f"jac = torch.autograd.functional.jacobian(f, {check.wrt}.detach())")
        return lines + ["print(jac)"]

    def _backward_twice(self, check):
        lines = self._setup()
        lines += [f"{n}.retain_grad()" for n in check.wrt if n not in self.case.inputs]
        call = (f"{check.backward_twice}.backward(gradient={self.weights(check.weights)}, "
                f"retain_graph={check.retain_graph})")
        lines += [call, call + "  # the second pass"]
        return lines + [f"print({', '.join(n + '.grad' for n in check.wrt)})"]

    def _attributes(self, check):
        lines = self._setup()
        if check.backward:
            lines.append(f"{check.backward}.backward(gradient={self.weights(check.weights)})")
        for n in check.attributes:
            parts = ", ".join(f"{f!r}, {n}.{f}" for f in check.fields)
            lines.append(f"print({n!r}, {parts})")
        return lines

    def _optimize(self, check):
        spec = check.optimize
        opt = spec.optimizer
        if opt.style != "step":
            raise _Untranslatable(opt.style)
        lines = self.inputs(require=spec.params) + [""] + self.functions()
        params = ", ".join(spec.params)
        if opt.name == "sgd":
            lines.append(f"optimizer = torch.optim.SGD([{params}], lr={opt.lr}, "
                         f"momentum={opt.momentum}, nesterov={opt.nesterov}, "
                         f"weight_decay={opt.weight_decay})")
        elif opt.name == "adam":
            eps = 1e-8 if opt.eps is None else opt.eps
            lines.append(f"optimizer = torch.optim.Adam([{params}], lr={opt.lr}, "
                         f"betas={tuple(opt.betas)}, eps={eps}, "
                         f"weight_decay={opt.weight_decay})")
        lines.append(f"for step in range({spec.steps}):")
        lines += self.statements(self.case.program, "    ")
        if opt.name == "manual":
            lines.append(f"    {spec.loss}.backward()")
            for p in spec.params:
                lines += [f"    {p}.data.sub_({opt.lr} * {p}.grad)", f"    {p}.grad.zero_()"]
        else:
            lines += ["    optimizer.zero_grad()", f"    {spec.loss}.backward()",
                      "    optimizer.step()"]
        lines.append(f"step = {spec.steps}")
        lines += self.statements(self.case.program)
        record = spec.record or list(spec.params) + [spec.loss]
        return lines + [f"print({', '.join(record)})"]

    def _trace(self, check):
        if check.staged:
            raise _Untranslatable("staged trace")
        lines = self.inputs() + [""] + self.functions()
        for call in check.calls:
            lines.append(f"print({check.trace}({', '.join(self.arg(a) for a in call)}))")
        return lines

    def _while_loop(self, check):
        spec = check.while_loop
        if spec.graph:
            raise _Untranslatable("graph loop")
        lines = self.inputs() + [""]
        for name, value in spec.vars.items():
            value = value if isinstance(value, dict) else {"tensor": value}
            lines.append(f"{name} = {self.arg(value)}")
        names = list(spec.body)
        values = ", ".join(self.expr(ex.parse_expression(e)) for e in spec.body.values())
        lines += [f"while {self.expr(ex.parse_expression(spec.cond))}:",
                  f"    {', '.join(names)} = {values}" + ("," if len(names) == 1 else "")]
        return lines + [f"print({', '.join(spec.vars)})"]

    def _checkpoint(self, check):
        spec = check.checkpoint
        fn = self.case.functions[spec.method]
        if fn.backward is not None:
            raise _Untranslatable("custom method")
        lines = ["import os, tempfile", ""] + self.functions()
        lines += ["class State(torch.nn.Module):", "    def __init__(self):",
                  "        super().__init__()"]
        for name, value in spec.state.items():
            array = _to_array(value["tensor"], value.get("dtype")) if isinstance(
                value, dict) else _to_array(value)
            tensor = _tensor_literal(array)
            if array.dtype.kind == "f":
                lines.append(f"        self.{name} = torch.nn.Parameter({tensor})")
            else:
                lines.append(f"        self.register_buffer({name!r}, {tensor})")
        names = list(spec.state)
        lines += ["", "    def forward(self, *args):"]
        lines += [f"        global {', '.join(names)}  # the state {spec.method} reads"]
        lines += [f"        {n} = self.{n}" for n in names]
        lines += [f"        return {spec.method}(*args)", "", "", "module = State()"]
        for call in spec.before:
            lines.append(f"print(module({', '.join(self.arg(a) for a in call)}))")
        lines += ["path = os.path.join(tempfile.mkdtemp(), 'state.pt')",
                  "torch.save(module.state_dict(), path)",
                  "fresh = State()", "fresh.load_state_dict(torch.load(path))"]
        for call in spec.after:
            lines.append(f"print(fresh({', '.join(self.arg(a) for a in call)}))")
        return lines + ["print(sorted(fresh.state_dict()))"]


def _to_array(value, dtype=None):
    from harness.cases import to_array
    return to_array(value, dtype)

"""Keras 3 on its three backends: ``keras[tensorflow]``, ``keras[jax]``, ``keras[torch]``.

``KERAS_BACKEND`` is read once, when ``keras`` is imported, so each column runs in its own
worker (``Framework.mode_env``) and each script starts by setting it, so that it runs alone
too. The vocabulary is spelled with ``keras.ops`` (inputs stay the backend's own tensors,
which ``keras.ops`` accepts); an op ``keras.ops`` does not offer is lacking, with that reason.
Gradients use the backend's own mechanism, as the Keras guides for custom training loops
do: ``tf.GradientTape``, ``jax.grad``, ``torch`` autograd (Keras has no backend-neutral
gradient API, keras-team/keras#20760). Each column is a subclass of that backend's dialect
with the Keras op table; optimizers are ``keras.optimizers`` in all three (on JAX through
``stateless_apply``), and ``style: fit`` trains a one-layer functional model with
``train_on_batch``.
"""

from __future__ import annotations

import os

from harness import expressions as ex
from harness.dialects.base import PYTHON_OPERATORS, Call, Dialect, NotApplicable, Writer, python_literal, tensor_list
from harness.dialects.jax import JaxDialect
from harness.dialects.tensorflow import TensorFlowDialect
from harness.dialects.torch import TorchDialect

BACKENDS = ("tensorflow", "jax", "torch")
K = "keras.ops"


def _no(what: str) -> str:
    return f"keras.ops has no {what}"


# ---- the op table (the same source on every backend) ----------------------------------------


def _tuple_kw(c: Call, rename: dict | None = None, drop=()) -> str:
    """The attributes the case gave, a list as a tuple (keras.ops takes axes as tuples)."""
    rename = rename or {}
    out = []
    for k, node in c.node_kwargs:
        if k in drop:
            continue
        value = c.kwargs[k]
        if isinstance(node, ex.ListOf):
            items = [c.writer.expr(x) for x in node.items]
            value = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        out.append(f", {rename.get(k, k)}={value}")
    return "".join(out)


def _call(fn: str, n: int = 1, rename: dict | None = None, drop=()):
    def spell(c: Call) -> str:
        return f"{K}.{fn}({', '.join(c.args[:n])}{_tuple_kw(c, rename, drop)})"
    return spell


def _clip(c: Call) -> str:
    lo, hi = c.kwargs.get("min"), c.kwargs.get("max")
    x = c.args[0]
    if lo is not None and hi is not None and lo != "None" and hi != "None":
        return f"{K}.clip({x}, {lo}, {hi})"
    if lo is not None and lo != "None":
        return f"{K}.maximum({x}, {lo})"
    if hi is not None and hi != "None":
        return f"{K}.minimum({x}, {hi})"
    return x


def _cast(c: Call) -> str:
    dtype = c.const("dtype")
    if dtype == "string" or not isinstance(dtype, str):
        raise NotApplicable("Keras has no string tensors" if dtype == "string"
                            else "cast needs a constant dtype")
    return f"{K}.cast({c.args[0]}, {dtype!r})"


def _mse(c: Call) -> str:
    squared = f"{K}.square({c.atoms[0]} - {c.atoms[1]})"
    reduction = c.const("reduction", "mean")
    return squared if reduction == "none" else f"{K}.{'sum' if reduction == 'sum' else 'mean'}({squared})"


def _ddof(fn: str):
    def spell(c: Call) -> str:
        if c.const("ddof", 0):
            raise NotApplicable(f"keras.ops.{fn} has no ddof (population {fn} only)")
        return _call(fn, drop=("ddof",))(c)
    return spell


def _sort(fn: str):
    def spell(c: Call) -> str:
        if c.const("descending", False):
            raise NotApplicable(f"keras.ops.{fn} has no descending order")
        return _call(fn, drop=("descending",))(c)
    return spell


def _topk(c: Call) -> str:
    if c.const("axis", -1) != -1 or not c.const("largest", True):
        raise NotApplicable("keras.ops.top_k takes the largest along the last axis only")
    return f"{K}.top_k({c.args[0]}, {c.attr('k')}, sorted=True)"


def _gelu(c: Call) -> str:
    return f"{K}.gelu({c.args[0]}, approximate={c.const('approximate', 'none') == 'tanh'})"


def _pad(c: Call) -> str:
    return (f"{K}.pad({c.args[0]}, {c.attr('pad_width')}, mode={c.attr('mode')}.lower(), "
            f"constant_values={c.attr('value')})" if c.const("mode", "constant") == "constant"
            else f"{K}.pad({c.args[0]}, {c.attr('pad_width')}, mode={c.attr('mode')}.lower())")


def _one_hot(c: Call) -> str:
    return f"{K}.one_hot({c.args[0]}, {c.attr('depth')}, dtype='float32')"


def _svd(c: Call) -> str:
    return f"{K}.svd({c.args[0]}, full_matrices={c.attr('full_matrices')})"


_SAME = ("exp", "log", "sqrt", "square", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
         "softplus", "ones_like", "zeros_like", "log1p", "expm1", "rsqrt", "reciprocal", "tan",
         "sinh", "cosh", "erf", "erfc", "sign", "floor", "ceil", "trunc", "relu6", "selu", "silu",
         "softsign", "log_sigmoid", "conj", "real", "imag", "det", "inv", "cholesky", "slogdet")
_RENAMED = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
            "acosh": "arccosh", "atanh": "arctanh"}
_REDUCE = ("sum", "mean", "max", "min", "prod", "logsumexp", "argmax", "argmin", "cumsum",
           "cumprod", "squeeze", "flip", "norm")

KERAS_OPS = {
    **{k: PYTHON_OPERATORS[k] for k in ("add", "sub", "mul", "div", "pow", "neg",
                                        "lt", "le", "gt", "ge")},
    "eq": f"{K}.equal({{0}}, {{1}})", "ne": f"{K}.not_equal({{0}}, {{1}})",
    "matmul": f"{K}.matmul({{0}}, {{1}})",
    **{n: f"{K}.{n}({{0}})" for n in _SAME},
    **{n: f"{K}.{k}({{0}})" for n, k in _RENAMED.items()},
    **{n: _call(n) for n in _REDUCE},
    "maximum": f"{K}.maximum({{0}}, {{1}})", "minimum": f"{K}.minimum({{0}}, {{1}})",
    "atan2": f"{K}.arctan2({{0}}, {{1}})", "remainder": f"{K}.mod({{0}}, {{1}})",
    "fmod": f"{K}.fmod({{0}}, {{1}})",
    "squared_difference": lambda c: f"{K}.square({c.atoms[0]} - {c.atoms[1]})",
    "clip": _clip, "where": f"{K}.where({{0}}, {{1}}, {{2}})",
    "transpose": _call("transpose"),
    "reshape": lambda c: f"{K}.reshape({c.args[0]}{_tuple_kw(c)[2:].replace('shape=', ', ')})"
    if c.given("shape") else f"{K}.reshape({c.args[0]}, None)",
    "getitem": "{0}[{1}]",
    "concat": _call("concatenate"), "stack": _call("stack"),
    "softmax": _call("softmax"), "log_softmax": _call("log_softmax"),
    "one_hot": _one_hot, "cast": _cast, "mse": _mse,
    "round": _call("round"), "leaky_relu": lambda c: f"{K}.leaky_relu({c.args[0]}, "
                                                    f"negative_slope={c.attr('alpha')})",
    "elu": lambda c: f"{K}.elu({c.args[0]}, alpha={c.attr('alpha')})", "gelu": _gelu,
    "std": _ddof("std"), "var": _ddof("var"),
    "expand_dims": _call("expand_dims"), "broadcast_to": _call("broadcast_to"),
    "tile": lambda c: f"{K}.tile({c.args[0]}, {c.attr('reps')})", "pad": _pad,
    "gather": lambda c: f"{K}.take({c.args[0]}, {c.args[1]}, axis={c.attr('axis')})",
    "take_along_axis": lambda c: f"{K}.take_along_axis({c.args[0]}, {c.args[1]}, "
                                 f"axis={c.attr('axis')})",
    "sort": _sort("sort"), "topk": _topk,
    "einsum": lambda c: f"{K}.einsum({c.attr('equation')}, *{c.atoms[0]})",
    "solve": f"{K}.solve({{0}}, {{1}})", "eigvalsh": f"{K}.eigh({{0}})[0]",
    "svdvals": lambda c: f"{K}.svd({c.args[0]}, compute_uv=False)",
    "random_normal": "keras.random.normal({shape}, seed=0)",
}

KERAS_LACKS = {
    "string_join": "Keras has no string tensors (keras.ops has no string ops)",
    "lgamma": _no("lgamma (log-gamma)"), "digamma": _no("digamma"),
    "xlogy": _no("xlogy"),
    "eigh": "keras.ops.eigh returns eigenvectors with the backend's own signs (no sign rule): "
            "the vocabulary fixes each vector's largest entry positive; see eigvalsh",
    "svd": "keras.ops.svd returns (u, s, v) with the backend's own signs (no sign rule): "
           "the vocabulary fixes them; see svdvals",
    "conv1d": _no("PyTorch-layout conv1d: keras.ops.conv is channels-last with kernels "
                  "(K, C, O) and no groups argument"),
    "conv2d": _no("PyTorch-layout conv2d: keras.ops.conv is channels-last with kernels "
                  "(kH, kW, C, O) and no groups argument"),
    "conv_transpose2d": _no("PyTorch-layout conv_transpose2d (keras.ops.conv_transpose has "
                            "no groups and its own output-padding rule)"),
    "max_pool2d": _no("max pool with padding or dilation (keras.ops.max_pool: 'valid' or "
                      "'same' only)"),
    "avg_pool2d": _no("average pool with numeric padding (keras.ops.average_pool: 'valid' "
                      "or 'same' only)"),
    "batch_norm": _no("batch_norm in training mode with gradients through the batch moments "
                      "(keras.ops.batch_normalization takes the moments as inputs)"),
    "batch_norm_train": _no("a batch-norm training step in keras.ops (keras.layers.BatchNormalization "
                            "is a layer)"),
    "layer_norm": _no("layer_norm with an eps argument of PyTorch's meaning (keras.ops."
                      "layer_normalization's epsilon default is 1e-3)"),
    "embedding": _no("embedding op (keras.layers.Embedding is a layer)"),
    "lstm_cell": _no("LSTM cell op (keras.layers.LSTMCell is a layer with its own gate layout)"),
    "gru_cell": _no("GRU cell op (keras.layers.GRUCell is a layer with its own gate layout)"),
    "dropout": _no("dropout op (keras.layers.Dropout is a layer)"),
    "cross_entropy": _no("op with PyTorch's cross_entropy (logits first, label smoothing on "
                         "integer labels): keras.losses take (y_true, y_pred)"),
    "binary_cross_entropy_with_logits": _no("pos_weight (keras.ops.binary_crossentropy "
                                            "takes no class weight)"),
    "huber": _no("huber op (keras.losses.Huber averages over the last axis first)"),
    "kl_div": _no("kl_div of log-probabilities: keras.losses.KLDivergence takes "
                  "probabilities and clips them"),
    "assign_add": "the Keras columns hold no state in the program: keras.Variable updates "
                  "run inside optimizers",
    "assign_sub": "the Keras columns hold no state in the program: keras.Variable updates "
                  "run inside optimizers",
    "new_variable": "the Keras columns hold no state in the program (keras.Variable is "
                    "created by layers and optimizers)",
}

LACKS_KINDS = {
    "attributes": "Keras tensors have no is_leaf/requires_grad/grad_fn/.grad: those are "
                  "PyTorch's (checked in the torch column)",
    "watched": "Keras has no gradient tape: tf.GradientTape is TensorFlow's (checked in the "
               "tensorflow columns)",
    "static_graph": "Keras 3 has no define-then-run graphs (tf.compat.v1 is TensorFlow's)",
    "backward_twice": "Keras has no backward pass of its own to call twice (backward() and "
                      "tape reuse are the backends', checked in their columns)",
    "trace": "Keras has no tracer of its own: tracing is tf.function's or jax.jit's, checked "
             "in those columns",
    "checkpoint": "the case's module is a bare state-and-method object, not a Keras layer "
                  "(Keras saves layers and models: .weights.h5 / .keras)",
    "while_loop": "keras.ops.while_loop is the backend's own loop (tf.while_loop, "
                  "lax.while_loop, a Python loop on torch), checked in those columns",
}


def _optimizer(o) -> str:
    """``keras.optimizers`` with the case's options (Keras's own defaults elsewhere)."""
    if o.name not in ("sgd", "adam", "adamw", "rmsprop", "adagrad"):
        raise NotApplicable(f"keras.optimizers has no {o.name!r} optimizer")
    if getattr(o, "dampening", 0.0):
        raise NotApplicable("keras.optimizers.SGD has no dampening")
    options = [f"learning_rate={o.lr}"]
    if o.name == "sgd":
        options += [f"momentum={o.momentum}"] * bool(o.momentum) + ["nesterov=True"] * o.nesterov
    elif o.name in ("adam", "adamw"):
        options += [f"beta_1={o.betas[0]}", f"beta_2={o.betas[1]}"] * (
            tuple(o.betas) != (0.9, 0.999)) + [f"epsilon={o.eps}"] * (o.eps is not None)
    else:
        options += [f"epsilon={o.eps}"] * (o.eps is not None)
        rho = getattr(o, "rho", None)
        options += [f"rho={rho}"] * (rho is not None and o.name == "rmsprop")
        options += ["centered=True"] * bool(getattr(o, "centered", False))
        init = getattr(o, "initial_accumulator_value", None)
        options += [f"initial_accumulator_value={init}"] * (init is not None)
    if o.weight_decay:
        options.append(f"weight_decay={o.weight_decay}")
    name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
            "adagrad": "Adagrad"}[o.name]
    return f"keras.optimizers.{name}({', '.join(options)})"


class _Keras:
    """What the three Keras columns share, mixed into each backend's dialect."""

    name = "keras"
    backend = ""
    OPS = KERAS_OPS
    LACKS = KERAS_LACKS
    LACKS_KINDS = LACKS_KINDS
    SEED = "keras.utils.set_random_seed(0)"

    def column(self, mode=None) -> str:
        return f"keras[{self.backend}]"

    def render(self, plan, mode=None) -> str:
        if plan.kind in self.LACKS_KINDS:
            raise NotApplicable(self.LACKS_KINDS[plan.kind])
        script = super().render(plan, self.modes[0])
        first, _, rest = script.partition("\n")
        return (f"{first}\nimport os\n\nos.environ['KERAS_BACKEND'] = {self.backend!r}  "
                "# read once, when keras is imported\n\nimport keras\n" + rest)

    def imports(self, w: Writer) -> list[str]:
        return super().imports(w)

    def check_grad(self, w: Writer) -> None:
        p = w.plan
        if p.style == "tape" or not p.watch_accessed_variables or _expects_none(p.check.expect):
            raise NotApplicable("what a tape watches (and the None it gives for the rest) is "
                                "tf.GradientTape's, checked in the tensorflow columns: Keras "
                                "has no tape")
        super().check_grad(w)

    # ---- optimize: keras.optimizers in a custom loop, or model.fit ------------------------

    def check_optimize(self, w: Writer) -> None:
        p = w.plan
        o = p.optimizer
        if o.style == "fit":
            return self.fit(w)
        if o.style not in ("step", "apply_gradients"):
            raise NotApplicable(f"keras.optimizers have no {o.style}: a custom loop calls "
                                "apply_gradients (or stateless_apply on JAX)")
        if o.name == "manual":
            return super().check_optimize(w)
        self.keras_loop(w)

    def _setup(self, w: Writer, fit: bool = False):
        """The inputs (no functions), the params as keras.Variable (``fit``: the model's
        layer makes them), the optimizer."""
        p = w.plan
        for name, i in p.inputs.items():
            if i.is_string:
                raise NotApplicable("Keras has no string tensors")
            if i.kind == "host":
                w.add(f"{name} = {python_literal(i.value)}")
            elif name not in p.opt_params:
                w.needs.update(["import numpy as np"] * bool(i.random_source))
                value = i.random_source or f"np.array({tensor_list(i.value)}, dtype={str(i.dtype)!r})"
                w.needs.add("import numpy as np")
                w.add(f"{name} = {K}.convert_to_tensor({value})")
        w.needs.add("import numpy as np")
        if fit:
            w.add(f"optimizer = {_optimizer(p.optimizer)}", "")
            return self._functions(w)
        w.add("variables = [" + ", ".join(
            f"keras.Variable(np.array({tensor_list(p.inputs[n].value)}, "
            f"dtype={p.inputs[n].dtype!r}), name={n!r})" for n in p.opt_params) + "]")
        w.add(f"optimizer = {_optimizer(p.optimizer)}", "optimizer.build(variables)", "")
        self._functions(w)

    @staticmethod
    def _functions(w: Writer) -> None:
        functions = w.functions()
        if functions:
            w.add("", *functions)

    def _keras_forward(self, w: Writer) -> str:
        p = w.plan
        names = list(dict.fromkeys(p.record + (p.loss,)))
        args = ", ".join(list(p.opt_params) + ["step"] * p.uses_step)
        w.add("", f"def forward({args}):", *w.program("    ", skip=()),
              "    return {" + ", ".join(f"{n!r}: {n}" for n in names) + "}", "", "")
        return args

    def _record(self, w: Writer, values: str) -> None:
        p = w.plan
        w.add(f"history = {{{', '.join(f'{n!r}: []' for n in p.record)}}}", "", "",
              f"def record(values):  # before steps 0, {p.record_every}, ... and at the end",
              "    for name in history:",
              f"        history[name].append(np.array({K}.convert_to_numpy(values[name]), copy=True))", "", "")

    def keras_loop(self, w: Writer) -> None:
        raise NotImplementedError

    def fit(self, w: Writer) -> None:
        """``train_on_batch`` on a one-layer functional model: the layer holds the params as
        its weights and returns the loss; the compiled loss is that output."""
        p = w.plan
        if p.uses_step:
            raise NotApplicable("model.fit has no host step counter for the program to read")
        if p.optimizer.name == "manual":
            raise NotApplicable("model.fit trains with a keras.optimizers optimizer")
        self._setup(w, fit=True)
        names = list(dict.fromkeys(p.record + (p.loss,)))
        data = _free_name(w, "batch")
        args = ", ".join(p.opt_params)
        w.add("", f"def forward({args}):", *w.program("    "),
              "    return {" + ", ".join(f"{n!r}: {n}" for n in names) + "}", "", "",
              "class CaseLayer(keras.layers.Layer):",
              "    \"\"\"The case's program as one layer: its params are the weights; it returns "
              "the loss.\"\"\"", "",
              "    def __init__(self):", "        super().__init__()",
              *[f"        self.{n} = self.add_weight(shape={list(p.inputs[n].value.shape)!r}, "
                f"initializer=keras.initializers.Constant("
                f"{tensor_list(p.inputs[n].value)}), "
                f"dtype={p.inputs[n].dtype!r}, name={n!r})" for n in p.opt_params],
              "", "    def call(self, inputs):",
              f"        loss = forward({', '.join('self.' + n for n in p.opt_params)})[{p.loss!r}]",
              f"        return {K}.zeros_like(inputs) + {K}.cast(loss, inputs.dtype)", "", "",
              "inputs = keras.Input(shape=(1,), batch_size=1)",
              "layer = CaseLayer()",
              "model = keras.Model(inputs, layer(inputs))",
              "model.compile(optimizer=optimizer, loss=lambda y_true, y_pred: y_pred[0, 0])",
              f"{data} = np.zeros((1, 1), dtype='float32')  # a dummy batch: the data are in "
              "the layer", "")
        self._record(w, "")
        state = "{" + ", ".join(f"{n!r}: layer.{n}" for n in p.opt_params) + "}"
        w.add("def snapshot():",
              f"    return forward(**{{k: v.value for k, v in {state}.items()}})", "", "",
              f"for step in range({p.steps}):", f"    if step % {p.record_every} == 0:",
              "        record(snapshot())", f"    model.train_on_batch({data}, {data})",
              "record(snapshot())")
        for n in p.record:
            w.observe(n, f"history[{n!r}]")


def _expects_none(value) -> bool:
    """Whether an expectation holds a None (no gradient): a tape's notion."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_expects_none(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_expects_none(v) for v in value)
    return False


def _free_name(w: Writer, name: str) -> str:
    """``name``, or ``name_`` where the case already uses it."""
    while name in {*w.plan.inputs, *w.plan.functions, *ex.assigned(w.plan.program)}:
        name += "_"
    return name


class KerasTensorFlow(_Keras, TensorFlowDialect):
    backend = "tensorflow"
    modes = ("eager",)
    ERRORS = TensorFlowDialect.ERRORS

    def keras_loop(self, w: Writer) -> None:
        p = w.plan
        self._setup(w)
        args = self._keras_forward(w)
        self._record(w, "")
        call = args.replace("step", "step") if p.uses_step else args
        values = ", ".join(f"variables[{k}].value" for k in range(len(p.opt_params)))
        step_arg = ", step" if p.uses_step else ""
        fast = p.fast_path and not p.uses_step  # a long loop: the step staged
        w.add(*["# fast_path: the case lets this long loop run its step compiled",
                "@tf.function(autograph=False)"] * fast, f"def train_step({'step' * p.uses_step}):",
              "    with tf.GradientTape() as tape:",
              f"        loss = forward({values}{step_arg})[{p.loss!r}]",
              "    grads = tape.gradient(loss, variables)",
              "    optimizer.apply_gradients(zip(grads, variables))", "", "",
              f"for step in range({p.steps}):", f"    if step % {p.record_every} == 0:",
              f"        record(forward({values}{step_arg}))",
              f"    train_step({'step' * p.uses_step})",
              *[f"step = {p.steps}"] * p.uses_step, f"record(forward({values}{step_arg}))")
        del call
        for n in p.record:
            w.observe(n, f"history[{n!r}]")


class KerasJax(_Keras, JaxDialect):
    backend = "jax"
    modes = ("eager",)

    def render(self, plan, mode=None) -> str:
        return _Keras.render(self, plan, mode)

    def imports(self, w: Writer) -> list[str]:
        return JaxDialect.imports(self, w)

    def keras_loop(self, w: Writer) -> None:
        p = w.plan
        self._setup(w)
        self._keras_forward(w)
        self._record(w, "")
        step_arg = ", step" if p.uses_step else ""
        w.add("", "def loss_fn(trainable" + step_arg + "):",
              f"    return forward(*trainable{step_arg})[{p.loss!r}]", "", "",
              "# the JAX custom-loop pattern: state in, state out (stateless_apply)",
              f"def train_step(trainable, optimizer_state{step_arg}):",
              f"    grads = jax.grad(loss_fn)(trainable{step_arg})",
              "    return optimizer.stateless_apply(optimizer_state, grads, trainable)", "", "",
              *["train_step = jax.jit(train_step)  # as the Keras JAX training-loop guide does",
                ""] * (not p.uses_step),
              "trainable = [v.value for v in variables]",
              "optimizer_state = [v.value for v in optimizer.variables]",
              f"for step in range({p.steps}):", f"    if step % {p.record_every} == 0:",
              f"        record(forward(*trainable{step_arg}))",
              "    trainable, optimizer_state = train_step(trainable, optimizer_state"
              f"{step_arg})",
              *[f"step = {p.steps}"] * p.uses_step, f"record(forward(*trainable{step_arg}))")
        for n in p.record:
            w.observe(n, f"history[{n!r}]")


class KerasTorch(_Keras, TorchDialect):
    backend = "torch"
    modes = ("eager",)

    def keras_loop(self, w: Writer) -> None:
        p = w.plan
        self._setup(w)
        self._keras_forward(w)
        self._record(w, "")
        step_arg = ", step" if p.uses_step else ""
        values = ", ".join(f"variables[{k}].value" for k in range(len(p.opt_params)))
        w.add(f"for step in range({p.steps}):", f"    if step % {p.record_every} == 0:",
              "        with torch.no_grad():", f"            record(forward({values}{step_arg}))",
              f"    loss = forward({values}{step_arg})[{p.loss!r}]",
              "    for v in variables:", "        v.value.grad = None",
              "    loss.backward()",
              "    grads = [v.value.grad for v in variables]",
              "    with torch.no_grad():", "        optimizer.apply(grads, variables)",
              *[f"step = {p.steps}"] * p.uses_step,
              "with torch.no_grad():", f"    record(forward({values}{step_arg}))")
        for n in p.record:
            w.observe(n, f"history[{n!r}]")


SUBDIALECTS = {"tensorflow": KerasTensorFlow(), "jax": KerasJax(), "torch": KerasTorch()}


class KerasDialect(Dialect):
    """The framework the registry names: each column renders with its backend's sub-dialect;
    running, the worker's ``KERAS_BACKEND`` says which one classifies and converts."""

    name = "keras"
    modes = BACKENDS
    OPS = KERAS_OPS
    LACKS = KERAS_LACKS
    LACKS_KINDS = LACKS_KINDS

    def column(self, mode: str) -> str:
        return f"keras[{mode}]"

    def sub(self, mode: str | None = None):
        return SUBDIALECTS[mode or os.environ.get("KERAS_BACKEND", "tensorflow")]

    def capabilities(self) -> list[str]:
        return self.sub("tensorflow").capabilities()

    def render(self, plan, mode=None) -> str:
        return self.sub(mode or self.modes[0]).render(plan)

    def from_numpy(self, source: str) -> str:
        return f"{K}.convert_to_tensor({source})"

    def to_numpy(self, value):
        return self.sub().to_numpy(value)

    def classify(self, exc: BaseException) -> str:
        return self.sub().classify(exc)


DIALECT = KerasDialect()

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

import numpy as np

from harness import expressions as ex
from harness.cases import to_array
from harness.dialects.base import Dialect, NotApplicable, Writer, python_literal, tensor_list
from harness.dialects.jax import JaxDialect
from harness.dialects.keras_api import keras_optimizer
from harness.dialects.keras_ops import LACKS as KERAS_LACKS
from harness.dialects.keras_ops import OPS as KERAS_OPS
from harness.dialects.keras_ops import helpers as keras_helpers
from harness.dialects.tensorflow import TensorFlowDialect
from harness.dialects.torch import TorchDialect

BACKENDS = ("tensorflow", "jax", "torch")
K = "keras.ops"

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
}


def _optimizer(o) -> str:
    """``keras.optimizers`` with the case's options: the tensorflow dialect's spelling of the
    same classes (``tf.keras.optimizers`` there), one source for both."""
    if o.name not in ("sgd", "adam", "adamw", "rmsprop", "adagrad"):
        raise NotApplicable(f"keras.optimizers has no {o.name!r} optimizer")
    return keras_optimizer(o)


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
        """The backend's imports and helpers, then the Keras layer helpers the ops asked for."""
        return [*super().imports(w), *keras_helpers(w, self.backend)]

    def check_grad(self, w: Writer) -> None:
        p = w.plan
        if p.style == "tape" or not p.watch_accessed_variables or _expects_none(p.check.expect):
            raise NotApplicable("what a tape watches (and the None it gives for the rest) is "
                                "tf.GradientTape's, checked in the tensorflow columns: Keras "
                                "has no tape")
        super().check_grad(w)

    # ---- inputs -----------------------------------------------------------------------------

    def _inputs(self, w: Writer, skip=()) -> None:
        """The inputs as the backend's tensors (``keras.ops.convert_to_tensor``), host inputs
        as Python values, except those in ``skip``; then the case's functions."""
        w.needs.add("import numpy as np")
        for name, i in w.plan.inputs.items():
            if i.is_string:
                raise NotApplicable("Keras has no string tensors")
            if i.kind == "host":
                w.add(f"{name} = {python_literal(i.value)}")
            elif name not in skip:
                value = i.random_source or f"np.array({tensor_list(i.value)}, dtype={str(i.dtype)!r})"
                w.add(f"{name} = {K}.convert_to_tensor({value})")
        functions = w.functions()
        if functions:
            w.add("", "", *functions)

    # ---- while_loop: keras.ops.while_loop ----------------------------------------------------

    def check_while_loop(self, w: Writer) -> None:
        p = w.plan
        if p.graph:
            raise NotApplicable("Keras 3 has no define-then-run graphs: keras.ops.while_loop "
                                "runs eagerly (or inside the backend's compiled function)")
        self._inputs(w)
        names = list(p.vars)

        def new(k):  # a Python number takes the loop variable's dtype
            if k not in p.body:
                return k
            value = w.expr(p.body[k])
            return f"{K}.cast({value}, {k}.dtype)" if w.is_host(p.body[k]) else value

        arrays = [np.asarray(a.value if a.tensor else to_array(a.value)) for a in p.vars.values()]
        init = ", ".join(f"{K}.convert_to_tensor(np.array({tensor_list(a)}, dtype={str(a.dtype)!r}))"
                         for a in arrays)
        program = w.program()
        w.add(*program, *["", ""] * bool(program), f"def cond({', '.join(names)}):", f"    return {w.expr(p.cond)}",
              "", "", f"def body({', '.join(names)}):",
              f"    return ({', '.join(new(k) for k in names)},)", "", "",
              f"final = {K}.while_loop(cond, body, ({init},))")
        for i, k in enumerate(names):
            w.observe(k, f"final[{i}]")

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
        self._inputs(w, skip=p.opt_params)
        w.add("", "variables = [" + ", ".join(
            f"keras.Variable(np.array({tensor_list(p.inputs[n].value)}, "
            f"dtype={p.inputs[n].dtype!r}), name={n!r})" for n in p.opt_params) + "]")
        w.add(f"optimizer = {_optimizer(o)}", "optimizer.build(variables)")
        names = list(dict.fromkeys(p.record + (p.loss,)))
        args = ", ".join(list(p.opt_params) + ["step"] * p.uses_step)
        w.add("", "", f"def forward({args}):", *w.program("    "),
              "    return {" + ", ".join(f"{n!r}: {n}" for n in names) + "}", "", "")
        self._record(w)
        self.train(w, ", step" if p.uses_step else "")
        for n in p.record:
            w.observe(n, f"history[{n!r}]")

    def _record(self, w: Writer) -> None:
        p = w.plan
        w.add(f"history = {{{', '.join(f'{n!r}: []' for n in p.record)}}}", "", "",
              f"def record(values):  # before steps 0, {p.record_every}, ... and at the end",
              "    for name in history:",
              f"        history[name].append(np.array({K}.convert_to_numpy(values[name]), copy=True))",
              "", "")

    def train(self, w: Writer, step_arg: str) -> None:
        """The custom training loop: the backend's gradients, the Keras optimizer's update."""
        raise NotImplementedError

    def fit(self, w: Writer) -> None:
        """``train_on_batch`` on a one-layer functional model: the layer holds the params as
        its weights and returns the loss; the compiled loss is that output."""
        p = w.plan
        if p.uses_step:
            raise NotApplicable("model.fit has no host step counter for the program to read")
        if p.optimizer.name == "manual":
            raise NotApplicable("model.fit trains with a keras.optimizers optimizer")
        self._inputs(w, skip=p.opt_params)
        w.add("", f"optimizer = {_optimizer(p.optimizer)}")
        names = list(dict.fromkeys(p.record + (p.loss,)))
        data = _free_name(w, "batch")
        args = ", ".join(p.opt_params)
        w.add("", "", f"def forward({args}):", *w.program("    "),
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
        self._record(w)
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


def _values(w: Writer) -> str:
    return ", ".join(f"variables[{k}].value" for k in range(len(w.plan.opt_params)))


def _descent(p, call: str, step: list[str], guard: str | None = None) -> list[str]:
    """The loop each backend's ``train`` ends with: ``record(call)`` every ``record_every``
    steps and after the last, the backend's ``step`` lines in between; ``guard`` wraps each
    record (torch: ``with torch.no_grad():``)."""
    record = [guard, f"    record({call})"] if guard else [f"record({call})"]
    return [f"for step in range({p.steps}):", f"    if step % {p.record_every} == 0:",
            *("        " + line for line in record), *("    " + line for line in step),
            *[f"step = {p.steps}"] * p.uses_step, *record]


class KerasTensorFlow(_Keras, TensorFlowDialect):
    backend = "tensorflow"
    modes = ("eager",)
    ERRORS = TensorFlowDialect.ERRORS

    def train(self, w: Writer, step_arg: str) -> None:
        p = w.plan
        values = _values(w)
        fast = p.fast_path and not p.uses_step  # a long loop: the step staged
        w.add(*["# fast_path: the case lets this long loop run its step compiled",
                "@tf.function(autograph=False)"] * fast, f"def train_step({step_arg[2:]}):",
              "    with tf.GradientTape() as tape:",
              f"        loss = forward({values}{step_arg})[{p.loss!r}]",
              "    grads = tape.gradient(loss, variables)",
              "    optimizer.apply_gradients(zip(grads, variables))", "", "",
              *_descent(p, f"forward({values}{step_arg})", [f"train_step({step_arg[2:]})"]))


class KerasJax(_Keras, JaxDialect):
    backend = "jax"
    modes = ("eager",)

    def render(self, plan, mode=None) -> str:
        return _Keras.render(self, plan, mode)

    def train(self, w: Writer, step_arg: str) -> None:
        p = w.plan
        w.add("def loss_fn(trainable" + step_arg + "):",
              f"    return forward(*trainable{step_arg})[{p.loss!r}]", "", "",
              "# the JAX custom-loop pattern: state in, state out (stateless_apply)",
              f"def train_step(trainable, optimizer_state{step_arg}):",
              f"    grads = jax.grad(loss_fn)(trainable{step_arg})",
              "    return optimizer.stateless_apply(optimizer_state, grads, trainable)", "", "",
              *["train_step = jax.jit(train_step)  # as the Keras JAX training-loop guide does",
                ""] * (not p.uses_step),
              "trainable = [v.value for v in variables]",
              "optimizer_state = [v.value for v in optimizer.variables]",
              *_descent(p, f"forward(*trainable{step_arg})", [
                  f"trainable, optimizer_state = train_step(trainable, optimizer_state{step_arg})"]))


class KerasTorch(_Keras, TorchDialect):
    backend = "torch"
    modes = ("eager",)

    def train(self, w: Writer, step_arg: str) -> None:
        p = w.plan
        values = _values(w)
        w.add(*_descent(p, f"forward({values}{step_arg})", [
            f"loss = forward({values}{step_arg})[{p.loss!r}]",
            "for v in variables:", "    v.value.grad = None",
            "loss.backward()",
            "grads = [v.value.grad for v in variables]",
            "with torch.no_grad():", "    optimizer.apply(grads, variables)"],
            guard="with torch.no_grad():"))


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

    @property
    def FRESH(self) -> str:  # noqa: N802 - the worker's reset before each script: the backend's
        return self.sub().FRESH

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

"""The Keras API as two dialects speak it: the tensorflow dialect (``tf.keras``) and the keras
dialect (``keras``, on each backend). Framework knowledge of Keras lives here, not in base."""

from __future__ import annotations

from harness.dialects.base import NotApplicable

_KERAS_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def keras_optimizer(o, module: str = "keras") -> str:
    """A Keras optimizer (``module`` is ``keras`` or ``tf.keras``); a field left at None is
    left out: Keras' own default applies."""
    if o.name == "sgd" and o.dampening:
        raise NotApplicable("keras.optimizers.SGD has no dampening (its momentum buffer adds "
                            "the whole gradient: PyTorch's dampening=0)")
    options = [f"learning_rate={o.lr}"]
    if o.name in ("sgd", "rmsprop"):
        options += [f"momentum={o.momentum}"] * bool(o.momentum)
    options += ["nesterov=True"] * (o.name == "sgd" and o.nesterov)
    if o.name in ("adam", "adamw"):
        options += [f"beta_1={o.betas[0]}", f"beta_2={o.betas[1]}"] * (tuple(o.betas) != (0.9, 0.999))
    if o.name == "rmsprop":
        options += [f"rho={o.rho}"] * (o.rho is not None) + ["centered=True"] * o.centered
    if o.name == "adagrad" and o.initial_accumulator_value is not None:
        options.append(f"initial_accumulator_value={o.initial_accumulator_value}")
    options += [f"epsilon={o.eps}"] * (o.eps is not None and o.name != "sgd")
    # AdamW's decay defaults to 0.004: a 0 the case gives is passed; the others default to none
    options += [f"weight_decay={o.weight_decay}"] * (
        o.weight_decay is not None if o.name == "adamw" else bool(o.weight_decay))
    return f"{module}.optimizers.{_KERAS_OPTIMIZERS[o.name]}({', '.join(options)})"

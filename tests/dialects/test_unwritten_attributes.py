"""An attribute a case does not write means the vocabulary's default, in every column.

Each op with attributes is called twice on the same operands: once with its attributes left
out, once with every one of them written as the vocabulary's default. A column must observe
the same thing both times: a framework whose own default differs from the vocabulary's has to
pass the vocabulary's explicitly. (``attr=default`` is the case language's way to ask for the
framework's own default instead; ``test_written_default_leaves_the_argument_out`` checks it.)
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.vocabulary import OPS
from tests.dialects.dialect_testing import Column, columns, observe, render

# Operands for the samples below (float64, so that only the attribute can make a difference;
# seeded uniform data in [-1, 1) where a list would be long).
INPUTS = """
      v: {value: [-1.5, -0.3, 0.2, 0.7, 2.0, 3.1], dtype: float64}
      w: {value: [0.5, -0.3, 0.9, 0.7, -2.0, 1.1], dtype: float64}
      m: {value: [[-1.5, -0.3, 0.2], [0.7, 2.0, 3.1]], dtype: float64}
      p: {value: [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype: float64}
      s: {value: [[[1.0], [2.0], [3.0]]], dtype: float64}
      sq: {value: [[2.0, 0.5], [0.5, 1.0]], dtype: float64}
      idx: {value: [1, 0, 1], dtype: int64}
      idxm: {value: [[2, 0], [1, 1]], dtype: int64}
      labels: {value: [2, 0], dtype: int64}
      img: {random: uniform, shape: [1, 2, 4, 4], seed: 1, dtype: float64}
      k2: {random: uniform, shape: [3, 2, 2, 2], seed: 1, dtype: float64}
      kt: {random: uniform, shape: [2, 3, 2, 2], seed: 1, dtype: float64}
      seq: {random: uniform, shape: [1, 2, 5], seed: 1, dtype: float64}
      k1: {random: uniform, shape: [3, 2, 2], seed: 1, dtype: float64}
      bx: {random: uniform, shape: [4, 3], seed: 1, dtype: float64}
      bmean: {value: [0.1, -0.2, 0.3], dtype: float64}
      bvar: {value: [1.5, 0.5, 2.0], dtype: float64}
      lx: {random: uniform, shape: [2, 3], seed: 2, dtype: float64}
      lh: {random: uniform, shape: [2, 2], seed: 3, dtype: float64}
      lwi: {random: uniform, shape: [6, 3], seed: 4, dtype: float64}
      lwh: {random: uniform, shape: [6, 2], seed: 5, dtype: float64}
      lwi4: {random: uniform, shape: [8, 3], seed: 6, dtype: float64}
      lwh4: {random: uniform, shape: [8, 2], seed: 7, dtype: float64}
"""

# op -> the call with its attributes left out; attributes the call itself writes (required
# ones: a kernel size, k, a pad width) are not among those compared.
SAMPLES = {
    "sum": "sum(m)", "mean": "mean(m)", "max": "max(m)", "min": "min(m)",
    "prod": "prod(m)", "logsumexp": "logsumexp(m)", "std": "std(m)", "var": "var(m)",
    "norm": "norm(m)", "argmax": "argmax(m)", "argmin": "argmin(m)",
    "cumsum": "cumsum(m)", "cumprod": "cumprod(m)", "flip": "flip(m)",
    "transpose": "transpose(m)", "squeeze": "squeeze(s)",
    "concat": "concat([m, p])", "stack": "stack([m, p])",
    "softmax": "softmax(m)", "log_softmax": "log_softmax(m)",
    "round": "round(v)", "leaky_relu": "leaky_relu(v)", "elu": "elu(v)", "gelu": "gelu(v)",
    "pad": "pad(m, pad_width=[[1, 0], [0, 2]])",
    "gather": "gather(m, idx)", "take_along_axis": "take_along_axis(m, idxm)",
    "sort": "sort(m)", "topk": "topk(m, k=2)[0]", "svd": "svd(sq)[1]",
    "conv1d": "conv1d(seq, k1)", "conv2d": "conv2d(img, k2)",
    "conv_transpose2d": "conv_transpose2d(img, kt)",
    "max_pool2d": "max_pool2d(img, kernel_size=2)", "avg_pool2d": "avg_pool2d(img, kernel_size=2)",
    "batch_norm": "batch_norm(bx, bmean, bvar)", "layer_norm": "layer_norm(m)",
    "batch_norm_train": "batch_norm_train(bx, bmean, bvar)[2]",
    "lstm_cell": "lstm_cell(lx, lh, lh, lwi4, lwh4)[1]", "gru_cell": "gru_cell(lx, lh, lwi, lwh)",
    "dropout": "dropout(v)", "mse": "mse(v, w)", "huber": "huber(v, w)",
    "kl_div": "kl_div(log_softmax(m), p)", "cross_entropy": "cross_entropy(m, labels)",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits(v, sigmoid(w))",
}
# attributes the samples must write, or that have no default to compare
REQUIRED = {"kernel_size", "k", "pad_width", "depth", "shape", "dtype", "equation", "reps",
            "min", "max", "separator"}


def written(op: str) -> str:
    """The sample with every attribute it leaves out written as the vocabulary's default."""
    call = SAMPLES[op]
    head, sep, tail = call.partition(op + "(")
    args, _, rest = _split_call(tail)
    given = {a.split("=")[0].strip() for a in args if "=" in a.split("[")[0]}
    extra = [f"{k}={v!r}" for k, v in OPS[op].attributes.items()
             if k not in REQUIRED and k not in given]
    return f"{head}{op}({', '.join(args + extra)}){rest}"


def _split_call(text: str):
    """The top-level arguments of a call whose opening parenthesis is already read."""
    depth, start, args = 0, 0, []
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            if depth == 0:
                args.append(text[start:i].strip())
                return [a for a in args if a], i, text[i + 1:]
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    raise ValueError(text)


def case_text(op: str) -> str:
    return f"""
cases:
  - id: unwritten-{op.replace('_', '-')}
    title: {op} with its attributes left out and written as the vocabulary's defaults
    inputs:{INPUTS}
    checks:
      - id: unwritten
        value: {SAMPLES[op]}
      - id: written
        value: {written(op)}
"""


# the eager columns: a staged mode spells its ops as its eager one does
EAGER = [p for p in columns("reference", "torch", "tensorflow", "jax") if p.values[0].mode == "eager"]


def test_every_op_with_attributes_has_a_sample():
    # random_normal draws; expand_dims's axis is required
    with_defaults = {name for name, op in OPS.items()
                     if set(op.attributes) - REQUIRED and name not in ("random_normal", "expand_dims")}
    assert with_defaults <= set(SAMPLES), sorted(with_defaults - set(SAMPLES))


@pytest.mark.parametrize("column", EAGER)
@pytest.mark.parametrize("op", sorted(SAMPLES))
def test_an_unwritten_attribute_means_the_vocabularys_default(tmp_path, op, column):
    got = observe(tmp_path, case_text(op), column)
    left_out, spelled = got["unwritten"], got["written"]
    assert left_out.status == spelled.status, (left_out.status, left_out.value, spelled.value,
                                               left_out.reason, spelled.reason)
    if left_out.status == "ok":
        np.testing.assert_allclose(np.asarray(left_out.value, dtype=float),
                                   np.asarray(spelled.value, dtype=float), rtol=1e-12, atol=0,
                                   err_msg=f"{written(op)} differs from {SAMPLES[op]}")


def test_written_default_leaves_the_argument_out(tmp_path):
    text = """
cases:
  - id: gelu-default
    title: gelu with the framework's own default form
    inputs:
      v: [-1.5, 0.2, 2.0]
    checks:
      - id: framework
        value: gelu(v, approximate=default)
"""
    assert "approximate" not in render(tmp_path, text, "framework", Column("jax", "eager")) \
        .split("jax.nn.gelu(")[1].split(")")[0]

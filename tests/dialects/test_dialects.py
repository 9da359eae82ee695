"""Every dialect on small inline cases, column by column: each check is rendered as its
framework's own script and run (``harness.scripts.observe_check``), and what it observes is
held to what that framework does.

A case the frameworks share is written once, with a table of expectations per column
(``Value``, ``Raises`` or ``NA`` with its reason: a framework's divergences and what it has
no notion of are data). Behaviours of one framework keep tests of their own below the
table; then the scripts run alone, and the error tables.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from harness.dialects import FRAMEWORKS, dialect
from harness.values import encode
from tests.dialects.dialect_testing import (
    ANY,
    NA,
    Column,
    Raises,
    Value,
    close,
    columns,
    each,
    expected,
    load_case,
    na,
    observe,
    ok,
    render,
    require,
    run_alone,
)

# ---- the shared cases ------------------------------------------------------------------------

CUSTOM_RELU = """
cases:
  - id: custom-relu
    title: a custom ReLU in a linear model (S000-07)
    inputs:
      w: {value: [[3.0, 1.0]], track: true}
      b: {value: [[3.0]], track: true}
      X: [[-1.0, -1.0], [1.0, 1.0]]
      Y: [[2.0, 3.0]]
    functions:
      MyReLU:
        args: [x]
        forward: maximum(x, 0.0)
        backward: where(x < 0, 0.0, grad)
    program: |
      Y_hat = MyReLU(X @ transpose(w) + b)
      loss = mean((Y_hat - Y) ** 2)
    checks:
      - {id: grads, grad: loss, wrt: [w, b]}
      - {id: backward, grad: loss, wrt: [w, b], style: backward}
      - {id: as-dict, grad: loss, wrt: {dw: w, db: b}}
      - {id: loss, value: loss}
      - id: attributes
        attributes: [Y_hat, w]
        fields: [grad_fn, is_leaf, requires_grad, grad]
        backward: loss
      - {id: second-order, grad: loss, wrt: b, order: 2}
"""

CUSTOM_NAME = """
cases:
  - id: custom-name
    title: a custom function's node is named after the function
    inputs:
      x: {value: [-1.0, 2.0], track: true}
    functions:
      my_relu:
        args: [a]
        forward: maximum(a, 0.0)
        backward: where(a < 0, 0.0, grad)
    program: |
      y = my_relu(x)
      s = sum(y)
    checks:
      - {id: node, attributes: [y], fields: [grad_fn], backward: s}
      - {id: grad, grad: s, wrt: x}
"""

VECTOR = """
cases:
  - id: vector-backward
    title: the gradient of a non-scalar output is weighted (S000-18, S001-05)
    inputs:
      x: {value: [[0.0, 0.0], [1.0, 2.0]], track: true}
      a: {value: [1.0, 2.0], track: true}
    program: |
      y = x ** 2 - 2 * x + 1
      b = a ** 2 + 1
    checks:
      - {id: value, value: y}
      - {id: weights, grad: y, wrt: x, weights: [[1.0, 1.0], [1.0, 1.0]]}
      - {id: weights-backward, grad: y, wrt: x, weights: [[1.0, 1.0], [1.0, 1.0]], style: backward}
      - {id: weights-list, grad: b, wrt: [a], weights: [1.0, 1.0], style: backward}
      - {id: no-weights, grad: y, wrt: x}
      - {id: no-weights-backward, grad: b, wrt: [a], style: backward}
"""

CHAIN = """
cases:
  - id: chain
    title: the chain rule, and gradients at intermediates (S000-05, S000-07)
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y1 = x + 1
      y2 = 2 * x
      loss = (y1 - y2) ** 2
    checks:
      - {id: autograd, grad: loss, wrt: [x]}
      - {id: backward, grad: loss, wrt: x, style: backward}
      - {id: hooks, grad: loss, wrt: [y1, y2, x], style: hooks}
      - {id: retain, grad: loss, wrt: [loss, y1, x], style: retain_grad}
      - {id: intermediate-dict, grad: loss, wrt: {first: y1, input: x}}
      - id: attributes
        attributes: [x, y1, y2, loss]
        fields: [is_leaf, grad, grad_fn]
        backward: loss
"""

TWICE = """
cases:
  - id: twice
    title: two backward passes through one graph (S000-03, S002-08)
    inputs:
      x: {value: 3.0, track: true}
      v: {value: [1.0, 2.0], track: true}
    program: |
      y = x * x
      z = y * y
      s = sum(v ** 2)
      t = v + 1
    checks:
      - {id: freed, backward_twice: z, wrt: [x]}
      - {id: retained, backward_twice: z, wrt: [x], retain_graph: true}
      - {id: retained-vector, backward_twice: s, wrt: [v], retain_graph: true}
      - {id: nothing-saved, backward_twice: t, wrt: [v], weights: [1.0, 1.0]}
"""

ORDERS = """
cases:
  - id: orders
    title: higher orders, and gradients at intermediates (S000-23, S000-25, S001-07, S001-09)
    inputs:
      x: {value: 0.0, track: true}
      t: {value: 3.0, track: true}
      m: {value: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], track: true}
    program: |
      y = x ** 2 - 2 * x + 1
      u = t * t
      q = u * u
      z = 3 * (m + 2) * (m + 2)
    checks:
      - {id: first, grad: y, wrt: x}
      - {id: second, grad: y, wrt: x, order: 2}
      - {id: second-backward, grad: y, wrt: x, order: 2, style: backward}
      - {id: second-hooks, grad: y, wrt: x, order: 2, style: hooks}
      - {id: third, grad: q, wrt: t, order: 3}
      - {id: third-of-a-quadratic, grad: y, wrt: x, order: 3}
      - {id: weighted, grad: z, wrt: [m], weights: [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]}
      - {id: weighted-second, grad: z, wrt: m, order: 2, weights: [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]}
      - {id: intermediate, grad: q, wrt: u}
      - {id: intermediate-and-input, grad: q, wrt: [q, u, t]}
"""

UNCONNECTED = """
cases:
  - id: unconnected
    title: an input the output does not use, and one that is not tracked
    inputs:
      x: {value: 2.0, track: true}
      u: {value: 5.0, track: true}
      c: 1.0
    program: |
      y = x * x
      w = x * c
    checks:
      - {id: unconnected, grad: y, wrt: [x, u]}
      - {id: unconnected-backward, grad: y, wrt: [x, u], style: backward}
      - {id: untracked, grad: w, wrt: [x, c]}
      - {id: untracked-backward, grad: w, wrt: [x, c], style: backward}
"""

INTEGER = """
cases:
  - id: integer
    title: an integer input asked to require grad
    inputs:
      n: {value: 3, dtype: int32, track: true}
    program: |
      y = n * n
    checks:
      - {id: grad, grad: y, wrt: n}
"""

TARGETS = """
cases:
  - id: targets
    title: several targets are summed; a watched cast is differentiable (S000-22, S000-24)
    inputs:
      x1: {value: 1.0, track: true}
      x2: {value: 2.0, track: true}
      k: {value: 0, dtype: int32}
    program: |
      y1 = x1 * x2
      y2 = x1 + x2
      u = cast(k, dtype="float32")
      y = pow(u, 2) - 2 * u + 1
    checks:
      - {id: summed, grad: [y1, y2], wrt: [x1, x2]}
      - {id: summed-backward, grad: [y1, y2], wrt: [x1, x2], style: backward}
      - {id: watched, grad: y, wrt: [u], tape: {watch: [u]}}
      - {id: unwatched, grad: y, wrt: [u]}
"""

WATCHED_CONSTANTS = """
cases:
  - id: watched-constants
    title: constants a tape watches (S000-21)
    inputs:
      x: {value: 0.0, kind: variable}
      a: 1.0
      b: -2.0
      c: 1.0
    program: |
      y = a * x ** 2 + b * x + c
    checks:
      - {id: list, grad: y, wrt: [a, b, c, x], tape: {watch: [a, b, c]}}
      - {id: dict, grad: y, wrt: {da: a, dx: x}, tape: {watch: [a]}}
"""

TAPE_WATCHES = """
cases:
  - id: what-a-tape-watches
    title: a tape watches trainable variables, and what it is told to (S002-04, S002-05, S002-07)
    inputs:
      x0: {value: 3.0, kind: variable}
      x1: {value: 3.0, kind: variable, trainable: false}
      x2: 3.0
      x3: 3.0
      v0: {value: 0.0, kind: variable}
      v1: {value: 10.0, kind: variable}
    program: |
      y = x0 ** 2 + x1 ** 2 + x2 ** 2
      s = sum(sin(v0) + softplus(v1))
    checks:
      - {id: grad, grad: y, wrt: [x0, x1, x2, x3]}
      - {id: watched, watched: true}
      - {id: watch-off, grad: s, wrt: [v0, v1], tape: {watch_accessed_variables: false, watch: [v1]}}
      - {id: watched-off, watched: true, tape: {watch_accessed_variables: false, watch: [v1]}}
"""

SGD = """
cases:
  - id: sgd
    title: SGD on the quadratic (x - 1) ** 2 (S000-26, S000-27)
    inputs:
      x: {value: 0.0, kind: variable}
    program: |
      y = x ** 2 - 2 * x + 1
    checks:
      - id: sgd
        optimize: {loss: y, params: [x], optimizer: {name: sgd, lr: 0.01}, steps: 500, record_every: 100}
      - id: manual
        optimize: {loss: y, params: [x], optimizer: {name: manual, lr: 0.01}, steps: 500, record_every: 100}
      - id: two-steps
        optimize: {loss: y, params: [x], optimizer: {name: sgd, lr: 0.25}, steps: 2}
      - id: apply-gradients
        optimize:
          loss: y
          params: [x]
          optimizer: {name: sgd, lr: 0.01, style: apply_gradients}
          steps: 1000
          record_every: 250
      - id: minimize
        optimize: {loss: y, params: [x], optimizer: {name: sgd, lr: 0.01, style: minimize}, steps: 5}
"""

FORMULAS = """
cases:
  - id: formulas
    title: Adam and SGD with momentum, step by step (S000-28)
    inputs:
      p: [1.0, -2.0]
      t: [0.5, 0.5]
    program: |
      loss = sum((p - t) ** 2 * p)
    checks:
      - id: adam
        optimize:
          loss: loss
          params: [p]
          optimizer: {name: adam, lr: 0.1, betas: [0.8, 0.99], eps: 0.01}
          steps: 5
      - id: adam-default-eps
        optimize: {loss: loss, params: [p], optimizer: {name: adam, lr: 0.1}, steps: 5}
      - id: sgd-momentum-nesterov-decay
        optimize:
          loss: loss
          params: [p]
          optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.1}
          steps: 5
          record_every: 2
"""

FORWARD = """
cases:
  - id: forward-reverse
    title: forward and reverse mode agree (S002-10)
    inputs:
      x: {value: [0.5, -1.0, 2.0], track: true}
      A: [[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]
      W: {random: normal, shape: [3, 3], seed: 3}
    program: |
      h = tanh(x)
      y = A @ h + sum(x * x)
      v = tanh(x @ W) * x
    checks:
      - {id: jac-f, jacobian: y, wrt: x, mode: forward}
      - {id: jac-r, jacobian: y, wrt: x, mode: reverse}
      - {id: jvp-f, jvp: y, wrt: [x], tangents: [[1.0, 0.0, 2.0]], mode: forward}
      - {id: jvp-r, jvp: y, wrt: [x], tangents: [[1.0, 0.0, 2.0]], mode: reverse}
      - {id: jvp-h, jvp: y, wrt: [h], tangents: [[1.0, 1.0, 1.0]], mode: forward}
      - {id: jac-v-f, jacobian: v, wrt: x, mode: forward}
      - {id: jac-v-r, jacobian: v, wrt: x, mode: reverse}
      - {id: jvp-v-f, jvp: v, wrt: [x], tangents: [[1.0, 0.0, 0.0]], mode: forward}
      - {id: jvp-v-r, jvp: v, wrt: [x], tangents: [[1.0, 0.0, 0.0]], mode: reverse}
"""

CHECKPOINT = """
cases:
  - id: module
    title: save a module's state and load it into a fresh one (S000-15, S000-16)
    functions:
      addprint:
        args: [value]
        body: |
          assign_add(x, value)
          return x
    checks:
      - id: class
        checkpoint: {state: {x: 1.0}, method: addprint, before: [[5.0]], after: [[5.0]]}
      - id: attributes
        checkpoint:
          state: {x: 0.0, count: {tensor: 0, dtype: int32}}
          method: addprint
          before: [[1.0], [2.0]]
          after: [[5.0]]
          style: attributes
"""

LOOPS = """
cases:
  - id: loops
    title: while loops (S001-03)
    checks:
      - id: loop
        while_loop:
          vars: {first: 0, second: 10}
          cond: first < second
          body: {first: first + 2, second: second + 1}
      - id: loop-graph
        while_loop:
          vars: {first: 0, second: 10}
          cond: first < second
          body: {first: first + 2, second: second + 1}
          graph: true
"""

GRAPHS = """
cases:
  - id: graphs
    title: define-then-run graphs (S000-01)
    inputs:
      a: hello
      b: world
      x: 1.0
    program: |
      c = string_join([a, b], separator=" ")
      y = x * 2.0
    checks:
      - id: strings
        static_graph:
          placeholders: {a: {dtype: string}, b: {dtype: string}}
          fetch: c
          feeds: [{a: hello, b: world}, {a: good, b: morning}]
      - id: numbers
        static_graph:
          placeholders: {x: {dtype: float32, shape: []}}
          fetch: [y, x]
          feeds: [{x: 1.0}, {x: 3.0}]
"""

STRINGS = """
cases:
  - id: strings
    title: string tensors, and a check that does not use them
    inputs:
      a: "hello"
      b: "world"
      x: 1.0
    program: |
      y = x + 1.0
    checks:
      - {id: string, value: a}
      - {id: number, value: y}
      - {id: join, value: 'string_join([a, b], separator=" ")'}
"""

WEAK_TYPING = """
cases:
  - id: weak-typing
    title: a Python number takes the dtype of the tensor beside it
    inputs:
      x: [-1.0, 2.0]
      i: {value: [1, 2], dtype: int32}
      m: [[1.0, 5.0], [3.0, 2.0]]
      o: {value: [[[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]],
                  [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]]}
    checks:
      - {id: maximum, value: 'maximum(x, 0.0)'}
      - {id: minimum, value: 'minimum(0, x)'}
      - {id: clip, value: 'clip(x, min=0.0)'}
      - {id: where, value: 'where(x < 0, 0.0, x)'}
      - {id: where-numbers, value: 'where(x < 0, 0.0, 1.0)'}
      - {id: add, value: 'x + 1'}
      - {id: mul, value: '2.5 * x'}
      - {id: pow, value: 'x ** 2'}
      - {id: mse, value: 'mse(x, 0.0)'}
      - {id: affine, value: 'x * 2.5 + 1'}
      - {id: int-add, value: 'i + 1'}
      - {id: int-maximum, value: 'maximum(i, 1.5)'}
      - {id: cast, value: 'cast(i, dtype="float32")'}
      - {id: one-hot, value: 'one_hot(i, depth=3)'}
      - {id: transpose, value: 'transpose(o)'}
      - {id: max-axis, value: 'max(m, axis=0)'}
      - {id: sum-keepdims, value: 'sum(m, keepdims=True)'}
"""

PLAIN_CALLS = """
cases:
  - id: plain-calls
    title: a function called without staging runs its body on every call
    inputs:
      x: {value: 1.0, kind: variable}
    functions:
      add_one:
        args: [a]
        body: |
          effect("tracing")
          outer_append(a + 1.0)
          return a + 1.0
    checks:
      - id: plain
        trace: add_one
        staged: false
        calls: [[{tensor: 1.0}], [{tensor: 1.0}], [{tensor: [1.0, 2.0]}], ["text"]]
"""

TRACING = """
cases:
  - id: tracing
    title: a staged function traces once per input signature (S000-10, S000-12, S000-13, S000-14)
    inputs:
      x: {value: 1.0, kind: variable}
    functions:
      myadd:
        args: [a, b]
        body: |
          c = a + b
          effect("tracing")
          return c
      add_print:
        args: [a]
        body: |
          assign_add(x, a)
          return x
      inner_var:
        args: []
        body: |
          v = new_variable(1.0)
          assign_add(v, 1.0)
          return v
      append_tensor:
        args: [t]
        body: |
          outer_append(t)
          return t
    checks:
      - id: retrace
        trace: myadd
        calls:
          - [{tensor: hello}, {tensor: world}]
          - [{tensor: good}, {tensor: morning}]
          - [{tensor: 1, dtype: int32}, {tensor: 2, dtype: int32}]
          - [hello, world]
          - [good, morning]
      - id: signature
        trace: add_print
        signature: [{shape: [], dtype: float32}]
        calls: [[{tensor: 3.0}], [{tensor: 3, dtype: int32}]]
      - id: inner
        trace: inner_var
        calls: [[]]
      - id: appended
        trace: append_tensor
        calls: [[{tensor: 5.0}], [{tensor: 6.0}]]
      - id: plain
        trace: append_tensor
        staged: false
        calls: [[{tensor: 5.0}], [{tensor: 6.0}]]
"""


# ---- what each column should observe ---------------------------------------------------------

# hand-written formulas: the values a check must reach, computed in float64


def sgd_quadratic(steps, every=1, lr=0.01):
    """SGD on (x - 1) ** 2 from 0: 1 - x shrinks by (1 - 2 lr) a step; recorded before steps
    0, K, 2K, ... and at the end."""
    xs = [1 - (1 - 2 * lr) ** k for k in list(range(0, steps, every)) + [steps]]
    return trajectory({"x": xs, "y": [(x - 1) ** 2 for x in xs]})


def trajectory(values: dict) -> dict:
    return {**values, "final": {k: v[-1] for k, v in values.items()}}


T = np.array([0.5, 0.5])


def formula_loss(p):
    return float(np.sum((p - T) ** 2 * p))


def formula_grad(p):
    return 2 * (p - T) * p + (p - T) ** 2


def adam(steps, lr, b1, b2, eps, keras=False):
    """Adam from p = [1, -2]; torch and optax add eps outside the square root of the
    corrected v; Keras scales the step by sqrt(1 - b2^t) / (1 - b1^t), so its eps acts as
    eps * sqrt(1 - b2^t) (the Adam epsilon divergence)."""
    p, m, v, ps = np.array([1.0, -2.0]), 0.0, 0.0, []
    for k in range(1, steps + 1):
        ps.append(p)
        g = formula_grad(p)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if keras:
            p = p - lr * np.sqrt(1 - b2**k) / (1 - b1**k) * m / (np.sqrt(v) + eps)
        else:
            p = p - lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
    ps.append(p)
    return trajectory({"p": ps, "loss": [formula_loss(q) for q in ps]})


def sgd_nesterov(steps, lr, momentum, wd, every, keras=False):
    """Nesterov SGD from p = [1, -2]. torch (and optax's chain) add wd * p to the gradient;
    Keras decays the weights apart from it (p -= lr * wd * p) and keeps a velocity -lr g."""
    p, buf, out = np.array([1.0, -2.0]), 0.0, []
    for k in range(steps):
        if k % every == 0:
            out.append(p)
        g = formula_grad(p)
        if keras:
            buf = momentum * buf - lr * g
            p = p * (1 - lr * wd) + momentum * buf - lr * g
        else:
            g = g + wd * p
            buf = g if k == 0 else momentum * buf + g
            p = p - lr * (g + momentum * buf)
    out.append(p)
    return trajectory({"p": out, "loss": [formula_loss(q) for q in out]})


X = np.array([0.5, -1.0, 2.0])
A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
W = np.random.default_rng(3).standard_normal((3, 3)).astype("float32").astype(float)
JAC_Y = A * (1 - np.tanh(X) ** 2) + 2 * X  # d(A tanh(x) + sum(x * x)) / dx
S = X @ W
JAC_V = np.diag(np.tanh(S)) + X[:, None] * (1 - np.tanh(S) ** 2)[:, None] * W.T

RELU_GRADS = Value([[[4.5, 4.5]], [[4.5]]], dtype="float32")  # d loss / d [w, b]
NO_ATTRIBUTES = NA("is_leaf")  # tensors without autograd state: TensorFlow, JAX
NO_TAPE = NA("tape")
NO_GRAPHS = NA("define-then-run")
STAGED_ONLY = NA("eager")  # an eager column stages nothing

TABLE = [
    (
        CUSTOM_RELU,
        {
            "grads": RELU_GRADS,
            "backward": RELU_GRADS,
            "as-dict": Value({"dw": [[4.5, 4.5]], "db": [[4.5]]}, dtype="float32"),
            "loss": Value(13.5, dtype="float32"),
            "attributes": each(
                Value(
                    {
                        "Y_hat": {"grad_fn": "MyReLUBackward", "is_leaf": False, "requires_grad": True, "grad": None},
                        "w": {"grad_fn": None, "is_leaf": True, "requires_grad": True, "grad": [[4.5, 4.5]]},
                    }
                ),
                tensorflow=NO_ATTRIBUTES,
                jax=NO_ATTRIBUTES,
            ),
            # the backward rule is made of differentiable ops: d2 loss / db2 = mean of 2 * 1
            "second-order": Value([[1.0]]),
        },
    ),
    (
        CUSTOM_NAME,
        {
            "node": each(Value({"y": {"grad_fn": "my_reluBackward"}}), tensorflow=NO_ATTRIBUTES, jax=NO_ATTRIBUTES),
            "grad": Value([0.0, 1.0]),
        },
    ),
    (
        VECTOR,
        {
            "value": Value([[1.0, 1.0], [0.0, 1.0]], dtype="float32"),
            "weights": Value([[-2.0, -2.0], [0.0, 2.0]]),
            "weights-backward": Value([[-2.0, -2.0], [0.0, 2.0]]),
            "weights-list": Value([[2.0, 4.0]]),
            # a tape sums a non-scalar target; torch's autograd and jax.grad want a scalar
            "no-weights": each(
                Value([[-2.0, -2.0], [0.0, 2.0]]), torch=Raises("non_scalar_output"), jax=Raises("non_scalar_output")
            ),
            "no-weights-backward": each(
                Raises("non_scalar_output", "RuntimeError", "scalar outputs"),
                tensorflow=Value([[2.0, 4.0]]),
                jax=Raises("non_scalar_output"),
            ),
        },
    ),
    (
        CHAIN,
        {
            "autograd": Value([4.0]),
            "backward": Value(4.0),
            "hooks": Value([-4.0, 4.0, 4.0]),
            "retain": Value([1.0, -4.0, 4.0]),
            "intermediate-dict": Value({"first": -4.0, "input": 4.0}),
            "attributes": each(
                Value(
                    {
                        "x": {"is_leaf": True, "grad": 4.0, "grad_fn": None},
                        "y1": {"is_leaf": False, "grad": None, "grad_fn": "AddBackward"},
                        "y2": {"is_leaf": False, "grad": None, "grad_fn": "MulBackward"},
                        "loss": {"is_leaf": False, "grad": None, "grad_fn": "PowBackward"},
                    }
                ),
                tensorflow=NO_ATTRIBUTES,
                jax=NO_ATTRIBUTES,
            ),
        },
    ),
    (
        TWICE,
        {
            "freed": each(Raises("graph_freed", "RuntimeError"), jax=NA("graph")),
            # torch accumulates both passes into .grad; a persistent tape gives the second
            "retained": each(Value([216.0]), tensorflow=Value([108.0]), jax=NA("graph")),
            "retained-vector": each(Value([[4.0, 8.0]]), tensorflow=Value([[2.0, 4.0]]), jax=NA("graph")),
            # an addition saves no tensors: PyTorch lets the second pass through
            "nothing-saved": each(Value([[2.0, 2.0]]), tensorflow=Raises("graph_freed"), jax=NA("graph")),
        },
    ),
    (
        ORDERS,
        {
            "first": Value(-2.0),
            "second": Value(2.0),
            "second-backward": Value(2.0),
            "second-hooks": Value(2.0),
            "third": Value(24 * 3.0),
            # TensorFlow differentiates x ** 2 as 2 * x ** 1, then as 2 * 1 * x ** 0, then as
            # 2 * 0 * x ** -1: 0 * inf at x = 0
            "third-of-a-quadratic": each(Value(0.0), tensorflow=Value(np.nan)),
            "weighted": Value([[[18.0, 24.0, 30.0], [36.0, 42.0, 48.0]]]),
            "weighted-second": Value(np.full((2, 3), 6.0)),
            "intermediate": Value(18.0),
            # each name its total derivative: dq/dq = 1, dq/du = 2u = 18, dq/dt = 4t^3 = 108
            "intermediate-and-input": Value([1.0, 18.0, 108.0]),
        },
    ),
    (
        UNCONNECTED,
        {
            # no gradient: None on a tape and in .grad; torch.autograd.grad raises; JAX: zeros
            "unconnected": each(Value([4.0, None]), torch=Raises("unused_input"), jax=Value([4.0, 0.0])),
            "unconnected-backward": each(Value([4.0, None]), jax=Value([4.0, 0.0])),
            # JAX differentiates any argument: nothing is "tracked"
            "untracked": each(Value([1.0, None]), torch=Raises("not_differentiable"), jax=Value([1.0, 2.0])),
            "untracked-backward": each(Value([1.0, None]), jax=Value([1.0, 2.0])),
        },
    ),
    (
        INTEGER,
        {
            # a tape gives no gradient for an integer it watches
            "grad": each(Value(None), torch=Raises("integer_grad"), jax=Raises("integer_grad")),
        },
    ),
    (
        TARGETS,
        {
            "summed": Value([3.0, 2.0]),
            "summed-backward": Value([3.0, 2.0]),
            "watched": Value([-2.0]),
            "unwatched": each(Value([None]), torch=Raises("not_differentiable"), jax=Value([-2.0])),
        },
    ),
    (
        WATCHED_CONSTANTS,
        {
            "list": Value([0.0, 0.0, 1.0, -2.0]),
            "dict": Value({"da": 0.0, "dx": -2.0}),
        },
    ),
    (
        TAPE_WATCHES,
        {
            "grad": each(
                Value([6.0, None, None, None]), torch=Raises("not_differentiable"), jax=Value([6.0, 6.0, 6.0, 0.0])
            ),
            "watched": each(Value(["v0", "v1", "x0"]), torch=NO_TAPE, jax=NO_TAPE),
            "watch-off": each(
                Value([None, 1 / (1 + np.exp(-10.0))]),
                torch=Value([1.0, 1 / (1 + np.exp(-10.0))]),
                jax=Value([1.0, 1 / (1 + np.exp(-10.0))]),
            ),
            "watched-off": each(Value(["v1"]), torch=NO_TAPE, jax=NO_TAPE),
        },
    ),
    (
        SGD,
        {
            "sgd": Value(sgd_quadratic(500, 100), dtype="float32"),
            "manual": Value(sgd_quadratic(500, 100), dtype="float32"),
            "two-steps": Value(trajectory({"x": [0.0, 0.5, 0.75], "y": [1.0, 0.25, 0.0625]})),
            "apply-gradients": each(
                Value(sgd_quadratic(1000, 250)), torch=NA("apply_gradients"), jax=NA("update + apply_updates")
            ),
            "minimize": each(
                Value(sgd_quadratic(5)),
                torch=NA("minimize"),
                tensorflow=NA("minimize"),
                jax=NA("update + apply_updates"),
            ),
        },
    ),
    (
        FORMULAS,
        {
            "adam": each(
                Value(adam(5, 0.1, 0.8, 0.99, 0.01)), tensorflow=Value(adam(5, 0.1, 0.8, 0.99, 0.01, keras=True))
            ),
            "adam-default-eps": each(
                Value(adam(5, 0.1, 0.9, 0.999, 1e-8)), tensorflow=Value(adam(5, 0.1, 0.9, 0.999, 1e-7, keras=True))
            ),
            "sgd-momentum-nesterov-decay": each(
                Value(sgd_nesterov(5, 0.05, 0.9, 0.1, 2)),
                tensorflow=Value(sgd_nesterov(5, 0.05, 0.9, 0.1, 2, keras=True)),
            ),
        },
    ),
    (
        FORWARD,
        {
            "jac-f": Value(JAC_Y, dtype="float32"),
            "jac-r": Value(JAC_Y, dtype="float32"),
            "jvp-f": Value(JAC_Y @ [1.0, 0.0, 2.0]),
            "jvp-r": Value(JAC_Y @ [1.0, 0.0, 2.0]),
            "jvp-h": Value(A.sum(axis=1)),  # along the intermediate h: A @ ones
            "jac-v-f": Value(JAC_V),
            "jac-v-r": Value(JAC_V),
            "jvp-v-f": Value(JAC_V[:, 0]),
            "jvp-v-r": Value(JAC_V[:, 0]),
        },
    ),
    (
        CHECKPOINT,
        {
            "class": each(Value({"before": [6.0], "after": [11.0], "variables": ["x"]}), jax=NA("checkpoint")),
            # each output is copied when returned, not aliased to the live state
            "attributes": each(
                Value({"before": [1.0, 3.0], "after": [8.0], "variables": ["count", "x"]}), jax=NA("checkpoint")
            ),
        },
    ),
    (
        LOOPS,
        {
            "loop": Value({"first": 20, "second": 20}, dtype="int32"),
            "loop-graph": each(Value({"first": 20, "second": 20}), torch=NA("graph"), jax=NA("graph")),
        },
    ),
    (
        GRAPHS,
        {
            "strings": each(Value([b"hello world", b"good morning"]), torch=NO_GRAPHS, jax=NO_GRAPHS),
            "numbers": each(Value([[2.0, 1.0], [6.0, 3.0]]), torch=NO_GRAPHS, jax=NO_GRAPHS),
        },
    ),
    (
        STRINGS,
        {
            "string": each(Value(b"hello"), torch=NA("string"), jax=NA("string")),
            "number": Value(2.0, dtype="float32"),  # a string input it does not use
            "join": each(Value(b"hello world"), torch=NA("string"), jax=NA("string")),
        },
    ),
    (
        WEAK_TYPING,
        {
            "maximum": Value([0.0, 2.0], dtype="float32"),
            "minimum": Value([-1.0, 0.0], dtype="float32"),
            "clip": Value([0.0, 2.0], dtype="float32"),
            "where": Value([0.0, 2.0], dtype="float32"),
            "where-numbers": Value([0.0, 1.0], dtype="float32"),
            "add": Value([0.0, 3.0], dtype="float32"),
            "mul": Value([-2.5, 5.0], dtype="float32"),
            "pow": Value([1.0, 4.0], dtype="float32"),
            "mse": Value(2.5, dtype="float32"),
            "affine": Value([-1.5, 6.0], dtype="float32"),
            "int-add": Value([2, 3], dtype="int32"),
            # not truncated to int; the reference promotes as NumPy does (its README says so);
            # TensorFlow has no mixed-dtype maximum
            "int-maximum": each(
                Value([1.5, 2.0], dtype="float32"), reference=Value([1.5, 2.0], dtype="float64"), tensorflow=Raises()
            ),
            "cast": Value([1.0, 2.0], dtype="float32"),
            "one-hot": Value([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype="float32"),
            "transpose": Value(np.ones((4, 3, 2)), dtype="float32"),
            "max-axis": Value([3.0, 5.0], dtype="float32"),
            "sum-keepdims": Value([[11.0]], dtype="float32"),
        },
    ),
    (
        PLAIN_CALLS,
        {
            "plain": Value(
                {
                    "outputs": [2.0, 2.0, [2.0, 3.0], Raises()],  # "text" + 1.0 raised
                    "traced": [True] * 4,
                    "log": ["tracing"] * 4,
                    "appended": ["concrete"] * 3,
                    "distinct": 2,
                }
            ),  # a call that raised gave no output
        },
    ),
    (
        TRACING,
        {
            "retrace": each(
                STAGED_ONLY,
                torch=NA("eagerly"),
                jax_jit=NA("string"),
                reference=Value(
                    {
                        "traced": [True, False, True, True, True],
                        "log": ["tracing"] * 4,
                        "outputs": [b"helloworld", b"goodmorning", 3, ANY, ANY],
                    },
                    partial=True,
                ),
                tensorflow_function=Value(
                    {
                        "traced": [True, False, True, True, True],
                        "log": ["tracing"] * 4,
                        "outputs": [b"helloworld", b"goodmorning", 3, ANY, b"goodmorning"],
                    },
                    partial=True,
                ),
            ),
            "signature": each(
                STAGED_ONLY,
                torch=NA("eagerly"),
                jax_jit=NA("assign_add"),
                reference=Value({"outputs": [4.0, Raises("signature_mismatch")]}, partial=True),
                tensorflow_function=Value({"outputs": [4.0, Raises("signature_mismatch")]}, partial=True),
            ),
            "inner": each(
                STAGED_ONLY,
                torch=NA("eagerly"),
                jax_jit=NA("new_variable"),
                reference=Value({"outputs": [Raises("variable_in_trace")]}, partial=True),
                tensorflow_function=Value({"outputs": [Raises("variable_in_trace")]}, partial=True),
            ),
            "appended": each(
                STAGED_ONLY,
                torch=NA("eagerly"),
                reference=Value({"appended": ["symbolic"], "traced": [True, False]}, partial=True),
                tensorflow_function=Value({"appended": ["symbolic"], "traced": [True, False]}, partial=True),
                jax_jit=Value({"appended": ["symbolic"], "traced": [True, False]}, partial=True),
            ),
            "plain": Value({"appended": ["concrete", "concrete"], "traced": [True, True], "distinct": 2}, partial=True),
        },
    ),
]


def _case_id(text: str) -> str:
    return re.search(r"- id: (\S+)", text).group(1)


def _table():
    for text, rows in TABLE:
        for check_id, row in rows.items():
            for param in columns():
                column = param.values[0]
                expect = expected(row, column)
                if expect is not None:
                    yield pytest.param(text, check_id, expect, column, id=f"{column.name}-{_case_id(text)}-{check_id}")


@pytest.mark.parametrize("text, check_id, expect, column", list(_table()))
def test_each_column_observes_what_its_framework_does(tmp_path, text, check_id, expect, column):
    expect.check(observe(tmp_path, text, column, check_id)[check_id])


# ---- one framework's own behaviour ------------------------------------------------------------

TRACES = """
cases:
  - id: traces
    title: jax.jit traces once per shape and dtype; Python values are static
    inputs:
      n: 3
    functions:
      myadd:
        args: [a, b]
        body: |
          c = a + b
          effect("tracing")
          return c
      keep:
        args: [x]
        body: |
          outer_append(x)
          return x
      draw:
        args: []
        body: |
          return random_normal(shape=[2])
      host_draw:
        args: []
        body: |
          return host_random_normal(shape=[2])
      loop_on_tensor:
        args: [k]
        body: |
          y = 0.0
          for _ in range(k):
              y = y + 1.0
          return y
      strings:
        args: [a]
        body: |
          return a
    checks:
      - id: numbers
        trace: myadd
        calls:
          - [{tensor: 1.0}, {tensor: 2.0}]
          - [{tensor: 3.0}, {tensor: 4.0}]
          - [{tensor: 1, dtype: int32}, {tensor: 2, dtype: int32}]
          - [1.0, 2.0]
          - [3.0, 4.0]
          - [3.0, 4.0]
      - id: plain
        trace: myadd
        staged: false
        calls: [[{tensor: 1.0}, {tensor: 2.0}], [{tensor: 1.0}, {tensor: 2.0}]]
      - id: appended
        trace: keep
        calls: [[{tensor: 5.0}], [{tensor: 6.0}]]
      - id: random
        trace: draw
        calls: [[], []]
      - id: host-random
        trace: host_draw
        calls: [[], []]
      - id: tracer-leak
        trace: loop_on_tensor
        calls: [[{tensor: 2, dtype: int32}], [3]]
      - id: strings
        trace: strings
        calls: [[{tensor: hello}]]
"""


def test_jax_jit_traces_once_per_shape_and_dtype(tmp_path):
    got = observe(tmp_path, TRACES, Column("jax", "jit"))
    numbers = ok(got["numbers"])
    assert numbers["traced"] == [True, False, True, True, True, False]
    assert numbers["log"] == ["tracing"] * 4
    assert [float(o) for o in numbers["outputs"]] == [3.0, 7.0, 3.0, 3.0, 7.0, 7.0]
    assert numbers["outputs"][2].dtype == np.int32
    assert numbers["distinct"] == 3
    plain = ok(got["plain"])
    assert plain["traced"] == [True, True] and plain["log"] == ["tracing"] * 2
    appended = ok(got["appended"])
    assert appended["appended"] == ["symbolic"] and appended["traced"] == [True, False]
    random = ok(got["random"])  # one fixed key: the same numbers every call
    assert random["distinct"] == 1 and random["traced"] == [True, False]
    assert ok(got["host-random"])["distinct"] == 1  # drawn once, while tracing
    leak = ok(got["tracer-leak"])
    assert leak["outputs"][0].category == "tracer_leak"
    assert float(leak["outputs"][1]) == 3.0  # a Python int is static: a concrete count
    assert "string" in na(got["strings"])


def test_eager_jax_stages_nothing(tmp_path):
    got = observe(tmp_path, TRACES, Column("jax", "eager"), "numbers", "plain")
    assert "eager" in na(got["numbers"])  # staged checks belong to jax[jit]
    plain = ok(got["plain"])
    assert plain["traced"] == [True, True] and [float(o) for o in plain["outputs"]] == [3, 3]


PRECISION = """
cases:
  - id: precision
    title: a product in the input's dtype
    inputs:
      x: {value: [0.1, 0.7], dtype: DTYPE}
    checks:
      - id: tripled
        value: x * 3.0
"""


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_jax_computes_in_float64_where_a_check_holds_it_and_in_float32_after(tmp_path, mode):
    column = Column("jax", mode)
    wide = ok(observe(tmp_path, PRECISION.replace("DTYPE", "float64"), column)["tripled"])
    assert wide.dtype == np.float64 and wide[0] == 0.1 * 3.0
    # the worker's process is shared: the next script starts as a fresh interpreter would,
    # where a Python float becomes a float32 array
    narrow = ok(
        observe(tmp_path, PRECISION.replace("DTYPE", "float32").replace("x * 3.0", "exp(0.5)"), column)["tripled"]
    )
    assert narrow.dtype == np.float32


SIGNED_ZERO = """
cases:
  - id: signed-zero
    title: the reciprocal of a scalar zero
    inputs:
      z: ZERO
    checks:
      - id: reciprocal
        value: reciprocal(z)
"""


@pytest.mark.parametrize("column", columns("tensorflow"))
def test_a_tensorflow_script_does_not_see_the_scalars_of_the_one_before(tmp_path, column):
    # eager TensorFlow caches Python scalars' tensors by value, and -0.0 == 0.0
    negative = ok(observe(tmp_path, SIGNED_ZERO.replace("ZERO", "-0.0"), column)["reciprocal"])
    positive = ok(observe(tmp_path, SIGNED_ZERO.replace("ZERO", "0.0"), column)["reciprocal"])
    assert (float(negative), float(positive)) == (-np.inf, np.inf)


HIMMELBLAU = """
cases:
  - id: himmelblau
    title: Himmelblau descent
    inputs:
      x: {value: [0.0, 0.0], kind: variable}
    program: |
      f = (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2
    checks:
      - id: manual
        optimize:
          loss: f
          params: [x]
          optimizer: {name: manual, lr: 0.001}
          steps: STEPS
          record_every: EVERY
      - id: sgd
        optimize:
          loss: f
          params: [x]
          optimizer: {name: sgd, lr: 0.001}
          steps: STEPS
          record_every: EVERY
      - id: fast
        optimize:
          loss: f
          params: [x]
          optimizer: {name: sgd, lr: 0.001}
          steps: STEPS
          record_every: EVERY
          fast_path: true
"""


def himmelblau(steps: int, every: int) -> str:
    return HIMMELBLAU.replace("STEPS", str(steps)).replace("EVERY", str(every))


def test_jitted_himmelblau_descent_reaches_3_2(tmp_path):
    got = observe(tmp_path, himmelblau(30000, 500), Column("jax", "jit"), "manual", "sgd")
    for check in ("manual", "sgd"):
        path = ok(got[check])
        assert len(path["x"]) == 30000 // 500 + 1
        close(path["x"][0], [0.0, 0.0])
        assert float(path["f"][0]) == 170.0
        np.testing.assert_allclose(path["x"][-1], [3.0, 2.0], atol=1e-4)
        assert float(path["f"][-1]) < 1e-6
    close(ok(got["manual"])["x"], ok(got["sgd"])["x"])


def test_a_long_loop_on_the_fast_path_runs_compiled_in_the_eager_jax_column(tmp_path):
    path = ok(observe(tmp_path, himmelblau(30000, 5000), Column("jax", "eager"), "fast")["fast"])
    assert len(path["x"]) == 30000 // 5000 + 1
    np.testing.assert_allclose(path["x"][-1], [3.0, 2.0], atol=1e-4)


@pytest.mark.parametrize("framework", ["tensorflow", "jax"])
def test_the_staged_column_descends_as_the_eager_one(tmp_path, framework):
    # eager steps dispatch op by op (slow): a short stretch, in both columns
    eager_mode, staged_mode = FRAMEWORKS[framework].modes
    text = himmelblau(7, 3)
    eager = observe(tmp_path, text, Column(framework, eager_mode), "manual", "sgd")
    staged = observe(tmp_path, text, Column(framework, staged_mode), "manual", "sgd")
    for check in ("manual", "sgd"):
        a, b = ok(eager[check]), ok(staged[check])
        assert len(a["x"]) == len(b["x"]) == 4  # before steps 0, 3, 6, and the end
        close(a["x"], b["x"])
        close(a["f"], b["f"])


STEP_READER = """
cases:
  - id: dynamic
    title: the program reads the host step
    inputs:
      w: [[0.5, -0.2], [0.1, 0.3]]
      x: [[1.0, 2.0]]
      depths: {kind: host, value: [2, 0, 2, 1, 0, 2]}
    program: |
      h = x
      for _ in range(depths[step]):
          h = tanh(h @ w)
      loss = sum(h * h)
    checks:
      - optimize: {loss: loss, params: [w], optimizer: {name: adam, lr: 0.01}, steps: 5, record: [loss]}
"""


def test_a_jax_program_reading_step_takes_the_same_path_in_both_columns(tmp_path):
    eager = ok(observe(tmp_path, STEP_READER, Column("jax", "eager"))["optimize"])
    jit = ok(observe(tmp_path, STEP_READER, Column("jax", "jit"))["optimize"])
    assert len(jit["loss"]) == 6  # steps 0..4, then the final params (read with step 5)
    close(jit["loss"][1], 5.0)  # depth 0 at step 1: the loss is sum(x * x), whatever w is
    close(eager["loss"], jit["loss"])


def test_torch_values_are_copies_not_views():
    require("torch")
    import torch

    d = dialect("torch")
    assert d.to_numpy(None) is None
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    out = d.to_numpy(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    with torch.no_grad():
        x.add_(1.0)
    assert out.tolist() == [1.0, 2.0]  # a tensor updated later does not change it


def test_torch_zero_tensors_read_as_the_zeros_they_print():
    require("torch")
    import torch

    x = torch.tensor(1.5, requires_grad=True)
    (g,) = torch.autograd.grad(torch.abs(x), x, create_graph=True)
    (g2,) = torch.autograd.grad(g, x)  # abs's second derivative: a ZeroTensor, printed tensor(0.)
    assert g2._is_zerotensor()
    assert dialect("torch").to_numpy(g2).tolist() == 0.0


def test_tensorflow_strings_and_variables_become_numpy():
    require("tensorflow")
    import tensorflow as tf

    d = dialect("tensorflow")
    assert d.to_numpy(tf.constant(b"hi")) == b"hi"
    close(d.to_numpy(tf.Variable([1.0, 2.0])), [1.0, 2.0])
    assert d.to_numpy(None) is None


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_each_dialect_reports_its_frameworks_version(framework):
    require(framework)
    import importlib

    module = importlib.import_module(FRAMEWORKS[framework].imports)
    assert dialect(framework).version() == str(getattr(module, "__version__", "0.1.0"))


# ---- a script run alone prints its observation ------------------------------------------------

# a few representative checks per column: the script rendered for the check, run in a fresh
# interpreter, prints what the check observed; and it is spelled in the framework's own API
ALONE = [
    ("reference", CUSTOM_RELU, "grads", ["class MyReLU(re.autograd.Function)", "GradientTape"]),
    ("reference", CHAIN, "attributes", [".backward("]),
    ("reference", SGD, "two-steps", ["re.optim.SGD"]),
    ("reference", TWICE, "freed", []),
    ("torch", CUSTOM_RELU, "grads", ["class MyReLU(torch.autograd.Function)", "ctx.save_for_backward"]),
    ("torch", CUSTOM_RELU, "backward", ["class MyReLU(torch.autograd.Function)", ".backward("]),
    ("torch", CUSTOM_RELU, "loss", ["MyReLU.apply("]),
    ("torch", CUSTOM_RELU, "attributes", ["grad_fn"]),
    ("torch", CUSTOM_RELU, "second-order", ["create_graph=True"]),
    ("torch", VECTOR, "no-weights", []),
    ("tensorflow", CUSTOM_RELU, "grads", ["tf.custom_gradient", "GradientTape"]),
    ("tensorflow[function]", CUSTOM_RELU, "grads", ["tf.custom_gradient", "tf.function"]),
    ("tensorflow[function]", SGD, "two-steps", ["tf.function", "apply_gradients"]),
    ("tensorflow", TWICE, "freed", []),
    ("jax", CUSTOM_RELU, "grads", ["jax.custom_vjp", "jax.grad"]),
    ("jax[jit]", FORMULAS, "adam", ["optax", "jax.jit"]),
    ("jax", INTEGER, "grad", []),
]


def _alone():
    for name, text, check_id, spelled in ALONE:
        framework, _, mode = name.rstrip("]").partition("[")
        column = Column(framework, mode or FRAMEWORKS[framework].modes[0])
        yield pytest.param(column, text, check_id, spelled, id=f"{column.name}-{_case_id(text)}-{check_id}")


@pytest.mark.parametrize("column, text, check_id, spelled", list(_alone()))
def test_a_script_run_alone_prints_its_observation(tmp_path, column, text, check_id, spelled):
    obs = observe(tmp_path, text, column, check_id)[check_id]
    assert obs.status in ("ok", "error"), (obs.status, obs.reason)
    script = render(tmp_path, text, check_id, column)
    assert script == obs.script
    for words in spelled:
        assert words in script, (words, script)
    kind = load_case(tmp_path, text).check(check_id).kind
    printed = run_alone(tmp_path, script, column.framework, kind, fails=obs.status == "error")
    assert printed == encode(obs.value)


# ---- errors, normalised -----------------------------------------------------------------------


class ConcretizationTypeError(Exception):
    """Named as JAX's: dialects classify some exceptions by their type's name."""


CLASSIFIED = [
    ("reference", RuntimeError("Trying to backward through the graph a second time"), "graph_freed"),
    (
        "reference",
        RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients"),
        "graph_freed",
    ),
    ("reference", RuntimeError("grad can be implicitly created only for scalar outputs"), "non_scalar_output"),
    (
        "torch",
        RuntimeError(
            "Trying to backward through the graph a second time (or directly "
            "access saved tensors after they have already been freed)"
        ),
        "graph_freed",
    ),
    ("torch", RuntimeError("Only Tensors of floating point and complex dtype can require gradients"), "integer_grad"),
    (
        "torch",
        RuntimeError(
            "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True"
        ),
        "unused_input",
    ),
    (
        "torch",
        RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn"),
        "not_differentiable",
    ),
    (
        "tensorflow",
        RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"),
        "graph_freed",
    ),
    (
        "tensorflow",
        ValueError(
            "tf.function only supports singleton tf.Variables created on the "
            "first call. Make sure the tf.Variable is only created once"
        ),
        "variable_in_trace",
    ),
    (
        "jax",
        TypeError(
            "grad requires real- or complex-valued inputs (input dtype that is a "
            "sub-dtype of np.inexact), but got int32."
        ),
        "integer_grad",
    ),
    (
        "jax",
        TypeError("Gradient only defined for scalar-output functions. Output had shape: (2,)."),
        "non_scalar_output",
    ),
    (
        "jax",
        ConcretizationTypeError("Abstract tracer value encountered where concrete value is expected"),
        "tracer_leak",
    ),
] + [(framework, ValueError("something else"), "raised") for framework in FRAMEWORKS]


@pytest.mark.parametrize("framework, exc, category", CLASSIFIED, ids=[f"{f}-{c}" for f, _, c in CLASSIFIED])
def test_each_dialect_normalises_its_frameworks_errors(framework, exc, category):
    # classifying needs no framework: a dialect module imports none
    assert dialect(framework).classify(exc) == category

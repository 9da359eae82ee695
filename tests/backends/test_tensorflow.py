"""The TensorFlow backend on small inline cases, in both columns (eager and tf.function)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytest.importorskip("tensorflow")

from harness.backends.tensorflow import TensorFlowBackend  # noqa: E402
from backend_testing import close, load_cases, ok  # noqa: E402
from harness.execute import observe_case  # noqa: E402
from harness.values import ErrorValue  # noqa: E402
from harness.vocabulary import OPS  # noqa: E402

MODES = ["eager", "function"]


def load(tmp_path, text):
    cases = load_cases(tmp_path, text)
    assert len(cases) == 1
    return cases[0]


def run(tmp_path, text, mode):
    case = load(tmp_path, text)
    return observe_case(case, TensorFlowBackend(mode))


CUSTOM_RELU = """
cases:
  - id: custom-relu
    title: custom relu
    inputs:
      w: {value: [[3.0, 1.0]], track: true}
      b: {value: [[3.0]], track: true}
      X: [[-1.0, -1.0], [1.0, 1.0]]
      Y: [[2.0, 3.0]]
    functions:
      my_relu:
        args: [x]
        forward: maximum(x, 0.0)
        backward: where(x < 0, 0.0, grad)
    program: |
      Y_hat = my_relu(X @ transpose(w) + b)
      loss = mean((Y_hat - Y) ** 2)
    checks:
      - id: grads
        grad: loss
        wrt: [w, b]
      - id: loss
        value: loss
      - id: as-dict
        grad: loss
        wrt: {dw: w, db: b}
"""


# ---- the backend's tables ----------------------------------------------------------------


def test_every_op_is_mapped_or_lacking():
    for name in OPS:
        assert name in TensorFlowBackend.OPS or name in TensorFlowBackend.LACKS, name


def test_boundary():
    backend = TensorFlowBackend()
    s = backend.constant(np.array(b"hi", dtype=object))
    assert s.dtype.name == "string" and backend.to_numpy(s) == b"hi"
    assert backend.constant(np.array([1.0, 2.0], dtype="float64").tolist()).dtype.name \
        == "float32"
    assert backend.to_numpy(None) is None
    import tensorflow as tf
    close(backend.to_numpy(tf.Variable([1.0, 2.0])), [1.0, 2.0])
    assert TensorFlowBackend.version() == tf.__version__


# ---- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_custom_relu(tmp_path, mode):
    obs = run(tmp_path, CUSTOM_RELU, mode)
    dw, db = ok(obs["grads"])
    close(dw, [[4.5, 4.5]])
    close(db, [[4.5]])
    close(ok(obs["loss"]), 13.5)
    grads = ok(obs["as-dict"])
    assert set(grads) == {"dw", "db"}
    close(grads["dw"], [[4.5, 4.5]])


@pytest.mark.parametrize("mode", MODES)
def test_watched_constants(tmp_path, mode):  # S000-21
    obs = run(tmp_path, """
    cases:
      - id: watched-constants
        title: t
        inputs:
          x: {value: 0.0, kind: variable}
          a: 1.0
          b: -2.0
          c: 1.0
        program: |
          y = a * x ** 2 + b * x + c
        checks:
          - grad: y
            wrt: [a, b, c, x]
            tape: {watch: [a, b, c]}
    """, mode)
    da, db, dc, dx = ok(obs["grad-y"])
    close([da, db, dc, dx], [0.0, 0.0, 1.0, -2.0])


WHAT_A_TAPE_WATCHES = """
cases:
  - id: what-a-tape-watches
    title: t
    inputs:
      x0: {value: 3.0, kind: variable}
      x1: {value: 3.0, kind: variable, trainable: false}
      x2: 3.0   # Variable(2.0) + 1.0 computed before the tape: a plain tensor
      x3: 3.0
    program: |
      y = x0 ** 2 + x1 ** 2 + x2 ** 2
    checks:
      - grad: y
        wrt: [x0, x1, x2, x3]
      - watched: true
"""


@pytest.mark.parametrize("mode", MODES)
def test_what_a_tape_watches(tmp_path, mode):  # S002-04, S002-05
    obs = run(tmp_path, WHAT_A_TAPE_WATCHES, mode)
    g = ok(obs["grad-y"])
    close(g[0], 6.0)
    assert g[1:] == [None, None, None]
    assert ok(obs["watched"]) == ["x0"]


@pytest.mark.parametrize("mode", MODES)
def test_watch_accessed_variables_off(tmp_path, mode):  # S002-07
    obs = run(tmp_path, """
    cases:
      - id: watch-off
        title: t
        inputs:
          x0: {value: 0.0, kind: variable}
          x1: {value: 10.0, kind: variable}
        program: |
          y = sum(sin(x0) + softplus(x1))
        checks:
          - grad: y
            wrt: [x0, x1]
            tape: {watch_accessed_variables: false, watch: [x1]}
          - watched: true
            tape: {watch_accessed_variables: false, watch: [x1]}
    """, mode)
    d0, d1 = ok(obs["grad-y"])
    assert d0 is None
    close(d1, 1 / (1 + np.exp(-10.0)))
    assert ok(obs["watched"]) == ["x1"]


GRAPH_LIFETIME = """
cases:
  - id: tape-lifetime
    title: t
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y = x * x
      z = y * y
    checks:
      - id: intermediate
        grad: z
        wrt: y
      - id: second-gradient
        backward_twice: z
        wrt: [x]
      - id: persistent
        backward_twice: z
        wrt: [x]
        retain_graph: true
      - id: order-2
        grad: y
        wrt: x
        order: 2
      - id: order-3
        grad: z
        wrt: x
        order: 3
"""


@pytest.mark.parametrize("mode", MODES)
def test_tape_lifetime_and_orders(tmp_path, mode):  # S002-08, S001-08, S000-25
    obs = run(tmp_path, GRAPH_LIFETIME, mode)
    close(ok(obs["intermediate"]), 18.0)
    freed = obs["second-gradient"]
    assert freed.status == "error" and freed.value.category == "graph_freed"
    assert freed.value.type == "RuntimeError"
    close(ok(obs["persistent"])[0], 108.0)  # TF does not accumulate: the second result
    close(ok(obs["order-2"]), 2.0)
    close(ok(obs["order-3"]), 24 * 3.0)


@pytest.mark.parametrize("mode", MODES)
def test_weights_and_several_targets(tmp_path, mode):  # S000-18, S000-24
    obs = run(tmp_path, """
    cases:
      - id: weights
        title: t
        inputs:
          x: {value: [[0.0, 0.0], [1.0, 2.0]], track: true}
          x1: {value: 1.0, track: true}
          x2: {value: 2.0, track: true}
        program: |
          y = x ** 2 - 2 * x + 1
          y1 = x1 * x2
          y2 = x1 + x2
        checks:
          - id: weighted
            grad: y
            wrt: x
            weights: [[1.0, 1.0], [1.0, 1.0]]
          - id: summed
            grad: [y1, y2]
            wrt: [x1, x2]
    """, mode)
    close(ok(obs["weighted"]), [[-2.0, -2.0], [0.0, 2.0]])
    close(ok(obs["summed"]), [3.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_forward_and_reverse_agree(tmp_path, mode):  # S002-10
    obs = run(tmp_path, """
    cases:
      - id: fwd-rev
        title: t
        inputs:
          x: [1.0, 2.0, 3.0]
          W: {random: normal, shape: [3, 3], seed: 3}
        program: |
          y = tanh(x @ W) * x
        checks:
          - {id: jf, jacobian: y, wrt: x, mode: forward}
          - {id: jr, jacobian: y, wrt: x, mode: reverse}
          - {id: vf, jvp: y, wrt: [x], tangents: [[1.0, 0.0, 0.0]], mode: forward}
          - {id: vr, jvp: y, wrt: [x], tangents: [[1.0, 0.0, 0.0]], mode: reverse}
    """, mode)
    jf, jr = ok(obs["jf"]), ok(obs["jr"])
    assert jf.shape == (3, 3)
    close(jf, jr)
    close(ok(obs["vf"]), jr[:, 0])
    close(ok(obs["vr"]), jr[:, 0])


# ---- optimizers -----------------------------------------------------------------------------


OPTIMIZE = """
cases:
  - id: sgd-1000
    title: t
    inputs:
      x: {value: 0.0, kind: variable}
      a: 1.0
      b: -2.0
      c: 1.0
    program: |
      y = a * pow(x, 2) + b * x + c
    checks:
      - id: sgd
        optimize:
          loss: y
          params: [x]
          optimizer: {name: sgd, lr: 0.01, style: apply_gradients}
          steps: 1000
          record_every: 250
      - id: manual
        optimize:
          loss: y
          params: [x]
          optimizer: {name: manual, lr: 0.01}
          steps: 10
      - id: adam
        optimize:
          loss: y
          params: [x]
          optimizer: {name: adam, lr: 0.1}
          steps: 3
      - id: minimize
        optimize:
          loss: y
          params: [x]
          optimizer: {name: sgd, lr: 0.01, style: minimize}
          steps: 10
"""


@pytest.mark.parametrize("mode", MODES)
def test_optimizers(tmp_path, mode):  # S000-27, S000-28
    obs = run(tmp_path, OPTIMIZE, mode)
    sgd = ok(obs["sgd"])
    assert len(sgd["x"]) == 5 and len(sgd["y"]) == 5  # steps 0, 250, 500, 750 and the end
    close(sgd["x"][0], 0.0)
    close(sgd["x"][1], 1 - 0.98 ** 250, rtol=1e-5)
    close(sgd["final"]["x"], 0.999998569, rtol=2e-7)
    close(sgd["final"]["y"], 0.0)
    manual = ok(obs["manual"])
    assert len(manual["x"]) == 11
    close(manual["x"][-1], 1 - 0.98 ** 10)
    # Keras Adam, step 1: x -= lr * m_hat / (sqrt(v_hat) + eps_hat) = 0.1 (|grad| >> eps)
    adam = ok(obs["adam"])
    close(adam["x"][1], 0.1, rtol=1e-4)
    minimize = obs["minimize"]
    assert minimize.status == "n/a" and "minimize" in minimize.reason


# ---- tracing, graphs, loops, modules ----------------------------------------------------------


TRACING = """
cases:
  - id: tracing
    title: t
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


def test_tracing_function_mode(tmp_path):  # S000-10, S000-12, S000-13, S000-14
    obs = run(tmp_path, TRACING, "function")
    retrace = ok(obs["retrace"])
    assert retrace["traced"] == [True, False, True, True, True]
    assert retrace["log"] == ["tracing"] * 4
    assert retrace["outputs"][0] == b"helloworld" and retrace["outputs"][4] == b"goodmorning"
    close(retrace["outputs"][2], 3)
    signature = ok(obs["signature"])
    close(signature["outputs"][0], 4.0)
    error = signature["outputs"][1]
    assert isinstance(error, ErrorValue) and error.category == "signature_mismatch"
    inner = ok(obs["inner"])["outputs"][0]
    assert isinstance(inner, ErrorValue) and inner.category == "variable_in_trace"
    appended = ok(obs["appended"])
    assert appended["appended"] == ["symbolic"] and appended["traced"] == [True, False]
    plain = ok(obs["plain"])
    assert plain["appended"] == ["concrete", "concrete"] and plain["traced"] == [True, True]


def test_tracing_eager_mode(tmp_path):
    obs = run(tmp_path, TRACING, "eager")
    for check in ("retrace", "signature", "inner", "appended"):
        assert obs[check].status == "n/a"
    assert ok(obs["plain"])["distinct"] == 2


GRAPHS = """
cases:
  - id: graphs
    title: t
    inputs:
      a: hello
      b: world
    program: |
      c = string_join([a, b], separator=" ")
    checks:
      - static_graph:
          placeholders: {a: {dtype: string}, b: {dtype: string}}
          fetch: c
          feeds: [{a: hello, b: world}, {a: good, b: morning}]
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


@pytest.mark.parametrize("mode", MODES)
def test_static_graph_and_while_loop(tmp_path, mode):  # S000-01, S001-03
    obs = run(tmp_path, GRAPHS, mode)
    assert ok(obs["static_graph"]) == [b"hello world", b"good morning"]
    for check in ("loop", "loop-graph"):
        final = ok(obs[check])
        close([final["first"], final["second"]], [20, 20])


CHECKPOINT = """
cases:
  - id: module
    title: t
    functions:
      addprint:
        args: [a]
        body: |
          assign_add(x, a)
          return x
    checks:
      - id: class
        checkpoint:
          state: {x: 1.0}
          method: addprint
          before: [[5.0]]
          after: [[5.0]]
      - id: attributes
        checkpoint:
          state: {x: 0.0}
          method: addprint
          before: [[1.0]]
          after: [[5.0]]
          style: attributes
"""


@pytest.mark.parametrize("mode", MODES)
def test_checkpoint(tmp_path, mode):  # S000-15, S000-16
    obs = run(tmp_path, CHECKPOINT, mode)
    cls = ok(obs["class"])
    close(cls["before"], [6.0])
    close(cls["after"], [11.0])
    assert cls["variables"] == ["x"]
    attrs = ok(obs["attributes"])
    close(attrs["before"], [1.0])
    close(attrs["after"], [6.0])


# ---- repro scripts --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_repro_script_runs(tmp_path, mode):
    case = load(tmp_path, CUSTOM_RELU)
    script = TensorFlowBackend(mode).repro(case, case.check("grads"))
    assert "tf.custom_gradient" in script and "tape1.gradient(loss, [w, b]" in script
    if mode == "function":
        assert "@tf.function" in script
        return  # the eager script below runs the same lines; one TF import is enough
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[[[4.5, 4.5]], [[4.5]]]"


@pytest.mark.parametrize("mode", MODES)
def test_watching_an_intermediate(tmp_path, mode):  # S000-22: tape.watch(tf.cast(x))
    obs = run(tmp_path, """
    cases:
      - id: watch-intermediate
        title: t
        inputs:
          x: {value: 0, dtype: int32}
        program: |
          u = cast(x, dtype="float32")
          y = pow(u, 2) - 2.0 * u + 1.0
        checks:
          - id: watched
            grad: y
            wrt: [u]
            tape: {watch: [u]}
          - id: unwatched
            grad: y
            wrt: [u]
    """, mode)
    close(ok(obs["watched"])[0], -2.0)
    assert ok(obs["unwatched"]) == [None]


SGD_QUADRATIC = """
cases:
  - id: sgd-repro
    title: t
    inputs:
      x: {value: 0.0, kind: variable}
    program: |
      y = (x - 1.0) ** 2
    checks:
      - id: sgd
        optimize:
          loss: y
          params: [x]
          optimizer: {name: sgd, lr: 0.25}
          steps: 2
"""


def test_the_repro_of_an_optimizer_loop_prints_the_recorded_trajectory(tmp_path):
    case = load(tmp_path, SGD_QUADRATIC)
    script = TensorFlowBackend("function").repro(case, case.check("sgd"))
    assert "@tf.function" in script and "optimizer.apply_gradients" in script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr
    # x -= 0.25 * 2 (x - 1): 0 -> 0.5 -> 0.75; each line is the params before the step
    assert done.stdout.strip().splitlines() == ["0 [0.0] 1.0", "1 [0.5] 0.25", "final [0.75]"]

"""The JAX backend: small inline cases run through ``observe_case`` in both columns (``jax``
and ``jax[jit]``), with the values the seed documents and JAX itself give."""

import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

from harness.backends.jax import JaxBackend  # noqa: E402
from backend_testing import close, load_cases, ok  # noqa: E402
from harness.execute import observe_case  # noqa: E402

MODES = ["eager", "jit"]


def load(tmp_path, text):
    return load_cases(tmp_path, text)


def observe(tmp_path, text, mode):
    """{check id: Observation} for the (first) case of ``text``."""
    return observe_case(load(tmp_path, text)[0], JaxBackend(mode))


CUSTOM_RELU = """
cases:
  - id: custom-relu
    title: custom ReLU in a linear model
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
"""

QUADRATIC = """
cases:
  - id: quadratic
    title: the quadratic
    inputs:
      x: {value: [[0.0, 0.0], [1.0, 2.0]], track: true}
      s: 0.0
      a: 1.0
      b: -2.0
      c: 1.0
      unused: [1.0, 2.0]
      n: 3
    program: |
      y = a * x ** 2 + b * x + c
      z = a * s ** 2 + b * s + c
    checks:
      - id: s000-18
        grad: y
        wrt: x
        weights: [[1, 1], [1, 1]]
      - id: s000-21
        grad: z
        wrt: [a, b, c, s]
      - id: as-a-dict
        grad: z
        wrt: {da: a, ds: s}
      - id: second-order
        grad: z
        wrt: s
        order: 2
      - id: third-order
        grad: z
        wrt: s
        order: 3
      - id: unconnected
        grad: z
        wrt: [s, unused]
      - id: no-weights
        grad: y
        wrt: x
      - id: integer
        grad: z
        wrt: n
      - id: value
        value: y
      - id: python-scalars-keep-float32
        value: x * 2.5 + 1
"""


@pytest.mark.parametrize("mode", MODES)
def test_custom_relu_gradients_through_custom_vjp(tmp_path, mode):
    got = observe(tmp_path, CUSTOM_RELU, mode)
    w, b = ok(got["grads"])
    close(w, [[4.5, 4.5]])
    close(b, [[4.5]])
    close(ok(got["loss"]), 13.5)


@pytest.mark.parametrize("mode", MODES)
def test_quadratic_gradients(tmp_path, mode):
    got = observe(tmp_path, QUADRATIC, mode)
    close(ok(got["s000-18"]), [[-2, -2], [0, 2]])
    assert [float(g) for g in ok(got["s000-21"])] == [0.0, 0.0, 1.0, -2.0]
    grads = ok(got["as-a-dict"])
    assert set(grads) == {"da", "ds"} and float(grads["ds"]) == -2.0
    assert float(ok(got["second-order"])) == 2.0
    assert float(ok(got["third-order"])) == 0.0
    value = ok(got["value"])
    close(value, [[1, 1], [0, 1]])
    assert ok(got["python-scalars-keep-float32"]).dtype == np.float32


@pytest.mark.parametrize("mode", MODES)
def test_an_unconnected_input_gets_zeros(tmp_path, mode):
    # JAX's real behaviour (torch raises, TensorFlow gives None): the cases declare it
    s, unused = ok(observe(tmp_path, QUADRATIC, mode)["unconnected"])
    assert float(s) == -2.0
    close(unused, [0.0, 0.0])


@pytest.mark.parametrize("mode", MODES)
def test_grad_errors_are_jaxs_own(tmp_path, mode):
    got = observe(tmp_path, QUADRATIC, mode)
    assert got["no-weights"].status == "error"
    assert got["no-weights"].value.category == "non_scalar_output"
    assert got["integer"].status == "error"
    assert got["integer"].value.category == "integer_grad"


INTERMEDIATES = """
cases:
  - id: intermediates
    title: gradients at intermediates and higher orders
    inputs:
      x: 3.0
      X: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
      x1: 1.0
      x2: 2.0
    program: |
      y = x * x
      z = y * y
      Y = X + 2
      Z = 3 * Y * Y
      y1 = x1 * x2
      y2 = x1 + x2
    checks:
      - id: s002-08
        grad: z
        wrt: y
      - id: intermediate-and-input
        grad: z
        wrt: [z, y, x]
      - id: s001-07
        grad: Z
        wrt: [X]
        weights: [[1, 1, 1], [1, 1, 1]]
      - id: s001-09
        grad: Z
        wrt: X
        weights: [[1, 1, 1], [1, 1, 1]]
        order: 2
      - id: several-outputs
        grad: [y1, y2]
        wrt: [x1, x2]
"""


@pytest.mark.parametrize("mode", MODES)
def test_gradients_at_intermediates_and_higher_orders(tmp_path, mode):
    got = observe(tmp_path, INTERMEDIATES, mode)
    assert float(ok(got["s002-08"])) == 18.0
    # each name gets its total derivative: dz/dz = 1, dz/dy = 2y = 18, dz/dx = 4x^3 = 108
    assert [float(g) for g in ok(got["intermediate-and-input"])] == [1.0, 18.0, 108.0]
    close(ok(got["s001-07"])[0], [[18, 24, 30], [36, 42, 48]])
    close(ok(got["s001-09"]), np.full((2, 3), 6.0))
    assert [float(g) for g in ok(got["several-outputs"])] == [3.0, 2.0]


FORWARD = """
cases:
  - id: forward
    title: forward and reverse mode
    inputs:
      x: [1.0, 2.0, 3.0]
      W: [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9]]
    program: |
      y = tanh(x @ W) * x
    checks:
      - {id: jvp-forward, jvp: y, wrt: [x], tangents: [[1.0, 0.5, -1.0]], mode: forward}
      - {id: jvp-reverse, jvp: y, wrt: [x], tangents: [[1.0, 0.5, -1.0]], mode: reverse}
      - {id: jac-forward, jacobian: y, wrt: x, mode: forward}
      - {id: jac-reverse, jacobian: y, wrt: x, mode: reverse}
"""


@pytest.mark.parametrize("mode", MODES)
def test_forward_and_reverse_mode_agree(tmp_path, mode):
    got = observe(tmp_path, FORWARD, mode)
    close(ok(got["jvp-forward"]), ok(got["jvp-reverse"]))
    jac = ok(got["jac-forward"])
    assert jac.shape == (3, 3)
    close(jac, ok(got["jac-reverse"]))
    close(ok(got["jvp-forward"]), jac @ np.array([1.0, 0.5, -1.0]))


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
"""


def test_himmelblau_descent_reaches_3_2_fast_under_jit(tmp_path):
    text = HIMMELBLAU.replace("STEPS", "30000").replace("EVERY", "500")
    case = load(tmp_path, text)[0]
    start = time.perf_counter()
    got = observe_case(case, JaxBackend("jit"))
    elapsed = time.perf_counter() - start
    for check in ("manual", "sgd"):
        trajectory = ok(got[check])
        assert len(trajectory["x"]) == 30000 // 500 + 1
        close(trajectory["x"][0], [0.0, 0.0])
        assert float(trajectory["f"][0]) == 170.0
        np.testing.assert_allclose(trajectory["x"][-1], [3.0, 2.0], atol=1e-4)
        assert float(trajectory["f"][-1]) < 1e-6
    close(ok(got["manual"])["x"], ok(got["sgd"])["x"])
    assert elapsed < 5.0, f"2 x 30000 jitted steps took {elapsed:.1f} s"


def test_eager_descent_takes_the_jitted_path(tmp_path):
    # eager JAX dispatches op by op (slow): a short stretch, compared with jax[jit]
    text = HIMMELBLAU.replace("STEPS", "7").replace("EVERY", "3")
    case = load(tmp_path, text)[0]
    eager = ok(observe_case(case, JaxBackend("eager"))["sgd"])
    jit = ok(observe_case(case, JaxBackend("jit"))["sgd"])
    assert len(eager["x"]) == len(jit["x"]) == 4  # before steps 0, 3, 6, and the end
    close(eager["x"], jit["x"])
    close(eager["f"], jit["f"])


def test_a_long_loop_with_the_fast_path_runs_compiled_in_the_eager_column(tmp_path):
    text = HIMMELBLAU.replace("STEPS", "30000").replace("EVERY", "5000").replace(
        "record_every: 5000", "record_every: 5000\n          fast_path: true")
    got = observe_case(load(tmp_path, text)[0], JaxBackend("eager"))
    assert got["sgd"].status == "ok"
    assert np.allclose(got["sgd"].value["x"][-1], [3.0, 2.0], atol=1e-4)


ADAM = """
cases:
  - id: adam
    title: Adam and SGD variants on a small problem
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
        optimize:
          loss: loss
          params: [p]
          optimizer: {name: adam, lr: 0.1}
          steps: 5
      - id: sgd-momentum-nesterov-decay
        optimize:
          loss: loss
          params: [p]
          optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.1}
          steps: 5
          record_every: 2
      - id: minimize
        optimize:
          loss: loss
          params: [p]
          optimizer: {name: sgd, lr: 0.05, style: minimize}
          steps: 5
"""


def _loss_and_grad(p):
    t = np.array([0.5, 0.5])
    return np.sum((p - t) ** 2 * p), 2 * (p - t) * p + (p - t) ** 2


def _adam(steps, lr, b1, b2, eps):
    p, m, v, out = np.array([1.0, -2.0]), 0.0, 0.0, []
    for k in range(1, steps + 1):
        out.append(p.copy())
        g = _loss_and_grad(p)[1]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** k)) / (np.sqrt(v / (1 - b2 ** k)) + eps)
    return out + [p]


def _sgd(steps, lr, momentum, wd, every):
    p, buf, out = np.array([1.0, -2.0]), None, []
    for k in range(steps):
        if k % every == 0:
            out.append(p.copy())
        g = _loss_and_grad(p)[1] + wd * p
        buf = g if buf is None else momentum * buf + g
        p = p - lr * (g + momentum * buf)  # nesterov, as torch
    return out + [p]


@pytest.mark.parametrize("mode", MODES)
def test_optimizers_follow_the_written_formulas(tmp_path, mode):
    got = observe(tmp_path, ADAM, mode)
    adam = ok(got["adam"])
    np.testing.assert_allclose(adam["p"], _adam(5, 0.1, 0.8, 0.99, 0.01), rtol=1e-5)
    np.testing.assert_allclose(adam["loss"], [_loss_and_grad(p)[0] for p in
                                              _adam(5, 0.1, 0.8, 0.99, 0.01)], rtol=1e-5)
    np.testing.assert_allclose(ok(got["adam-default-eps"])["p"],
                               _adam(5, 0.1, 0.9, 0.999, 1e-8), rtol=1e-5)
    np.testing.assert_allclose(ok(got["sgd-momentum-nesterov-decay"])["p"],
                               _sgd(5, 0.05, 0.9, 0.1, 2), rtol=1e-5)
    assert got["minimize"].status == "n/a"
    assert "update + apply_updates" in got["minimize"].reason


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
      - optimize:
          loss: loss
          params: [w]
          optimizer: {name: adam, lr: 0.01}
          steps: 5
          record: [loss]
"""


def test_a_program_reading_step_gives_the_same_path_in_both_columns(tmp_path):
    case = load(tmp_path, STEP_READER)[0]
    eager = ok(observe_case(case, JaxBackend("eager"))["optimize"])
    jit = ok(observe_case(case, JaxBackend("jit"))["optimize"])
    assert len(jit["loss"]) == 6  # steps 0..4, then the final params (read with step 5)
    close(eager["loss"], jit["loss"])


LOOPS = """
cases:
  - id: loops
    title: while loops
    checks:
      - id: loop
        while_loop:
          vars: {first: 0, second: 10}
          cond: first < second
          body: {first: first + 2, second: second + 1}
      - id: graph
        while_loop:
          vars: {first: 0, second: 10}
          cond: first < second
          body: {first: first + 2, second: second + 1}
          graph: true
"""


@pytest.mark.parametrize("mode", MODES)
def test_while_loop(tmp_path, mode):
    got = observe(tmp_path, LOOPS, mode)
    final = ok(got["loop"])
    assert int(final["first"]) == 20 and int(final["second"]) == 20
    assert got["graph"].status == "n/a"


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


def test_traces_under_jit(tmp_path):
    got = observe(tmp_path, TRACES, "jit")
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
    assert ok(got["host-random"])["distinct"] == 1  # frozen at trace time
    leak = ok(got["tracer-leak"])
    assert leak["outputs"][0].category == "tracer_leak"
    assert float(leak["outputs"][1]) == 3.0  # a Python int is static: a concrete count
    assert got["strings"].status == "n/a" and "string" in got["strings"].reason


def test_traces_in_the_eager_column(tmp_path):
    got = observe(tmp_path, TRACES, "eager")
    assert got["numbers"].status == "n/a"  # staged checks belong to jax[jit]
    plain = ok(got["plain"])
    assert plain["traced"] == [True, True] and [float(o) for o in plain["outputs"]] == [3, 3]


NOT_APPLICABLE = """
cases:
  - id: not-applicable
    title: what JAX has no notion of
    inputs:
      x: {value: 2.0, track: true}
      s: hello
    functions:
      f:
        args: [a]
        body: |
          return a
    program: |
      y = x * x
    checks:
      - {id: twice, backward_twice: y, wrt: [x]}
      - {id: attributes, attributes: [x, y]}
      - {id: watched, watched: true}
      - id: static
        static_graph:
          placeholders: {a: {dtype: float32, shape: []}}
          fetch: a
          feeds: [{a: 1.0}]
      - id: checkpoint
        checkpoint: {state: {v: 1.0}, method: f, before: [[1.0]], after: [[1.0]]}
      - {id: strings, value: s}
"""


@pytest.mark.parametrize("mode", MODES)
def test_what_jax_has_no_notion_of_is_not_applicable(tmp_path, mode):
    got = observe(tmp_path, NOT_APPLICABLE, mode)
    for check in ("twice", "attributes", "watched", "static", "checkpoint", "strings"):
        assert got[check].status == "n/a", check
        assert got[check].reason
    assert "checkpoint" in got["checkpoint"].reason


def test_every_op_is_mapped_or_lacking():
    from harness.vocabulary import OPS
    assert set(OPS) == set(JaxBackend.OPS) | set(JaxBackend.LACKS)
    assert not set(JaxBackend.OPS) & set(JaxBackend.LACKS)


def test_repro_of_the_custom_relu_runs_and_prints_the_gradients(tmp_path):
    case = load(tmp_path, CUSTOM_RELU)[0]
    script = JaxBackend("eager").repro(case, case.checks[0])
    assert "jax.custom_vjp" in script and "jax.grad" in script
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "[[4.5, 4.5]]" in run.stdout and "[[4.5]]" in run.stdout


@pytest.mark.parametrize("mode", MODES)
def test_repros_of_other_checks_run(tmp_path, mode, capsys):
    backend = JaxBackend(mode)
    texts = [QUADRATIC, INTERMEDIATES, FORWARD, LOOPS, ADAM]
    for i, text in enumerate(texts):
        (tmp_path / str(i)).mkdir()
        case = load(tmp_path / str(i), text)[0]
        for check in case.checks:
            script = backend.repro(case, check)
            if script is None:  # n/a checks (the minimize style) have no repro
                continue
            try:
                exec(compile(script, "repro", "exec"), {"__name__": "__main__"})
            except TypeError as exc:  # the checks that raise in JAX raise in the repro too
                assert "scalar-output" in str(exc) or "real- or complex" in str(exc)
    assert "Array" in capsys.readouterr().out

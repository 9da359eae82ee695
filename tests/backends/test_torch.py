"""The PyTorch backend, on small inline cases: real values, real errors, real repro scripts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from harness.backends.base import NotApplicable  # noqa: E402
from harness.backends.torch import BACKEND, TorchBackend  # noqa: E402
from backend_testing import close, error, load_cases, ok  # noqa: E402
from harness.execute import observe_case  # noqa: E402
from harness.values import ErrorValue  # noqa: E402
from harness.vocabulary import OPS  # noqa: E402


def load(tmp_path, text):
    return load_cases(tmp_path, text)


def observe(tmp_path, text):
    """{check id: Observation} of the first case."""
    return observe_case(load(tmp_path, text)[0], TorchBackend())


CUSTOM_RELU = """
cases:
  - id: custom-relu
    title: custom ReLU
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
      - id: autograd
        grad: loss
        wrt: [w, b]
      - id: backward
        grad: loss
        wrt: [w, b]
        style: backward
      - value: loss
      - attributes: [Y_hat, w]
        fields: [grad_fn, is_leaf, requires_grad, grad]
        backward: loss
      - id: second-order
        grad: loss
        wrt: b
        order: 2
"""


def test_backend_identity():
    assert BACKEND is TorchBackend
    assert TorchBackend.framework == "torch" and TorchBackend.modes == ("eager",)
    assert TorchBackend.version() == torch.__version__


def test_every_op_is_mapped_or_lacking():
    assert set(TorchBackend.OPS) | set(TorchBackend.LACKS) == set(OPS)
    assert not set(TorchBackend.OPS) & set(TorchBackend.LACKS)
    assert "string" in TorchBackend.LACKS["string_join"]


def test_custom_relu_gradients_and_node_name(tmp_path):
    got = observe(tmp_path, CUSTOM_RELU)
    for cid in ("autograd", "backward"):
        w, b = ok(got[cid])
        close(w, [[4.5, 4.5]])
        close(b, [[4.5]])
        assert w.dtype == np.float32
    close(ok(got["value-loss"]), 13.5)
    attrs = ok(got["attributes-Y_hat-w"])
    assert attrs["Y_hat"]["grad_fn"] == "MyReLUBackward"
    assert attrs["Y_hat"]["is_leaf"] is False and attrs["Y_hat"]["grad"] is None
    assert attrs["w"] == {"grad_fn": None, "is_leaf": True, "requires_grad": True,
                          "grad": attrs["w"]["grad"]}
    close(attrs["w"]["grad"], [[4.5, 4.5]])
    # the backward rule is made of differentiable ops: d2 loss / db2 = mean of 2 * 1 over 2
    close(ok(got["second-order"]), [[1.0]])


def test_custom_function_node_is_named_after_the_function():
    backend = TorchBackend()
    fn = backend.custom_function("my_relu", 1, lambda x: torch.clamp(x, min=0.0),
                                 lambda xs, y, g: (torch.where(xs[0] < 0, 0.0, g),))
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    y = fn(x)
    assert type(y.grad_fn).__name__ == "my_reluBackward"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


def test_repro_of_custom_relu_runs_and_prints_the_gradients(tmp_path):
    case = load(tmp_path, CUSTOM_RELU)[0]
    backend = TorchBackend()
    for check_id in ("autograd", "backward"):
        script = backend.repro(case, case.check(check_id))
        assert "class MyReLU(torch.autograd.Function)" in script
        assert "ctx.save_for_backward" in script
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        assert "4.5000, 4.5000" in run.stdout and "[[4.5000]]" in run.stdout, run.stdout


def test_repro_of_other_check_kinds_runs(tmp_path):
    case = load(tmp_path, CUSTOM_RELU)[0]
    backend = TorchBackend()
    script = "\n".join(
        backend.repro(case, case.check(cid)) for cid in
        ("value-loss", "attributes-Y_hat-w", "second-order"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "13.5" in run.stdout and "MyReLUBackward" in run.stdout


def test_vector_backward_with_weights_S000_18(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: quadratic-vector
        title: vector backward
        inputs:
          x: {value: [[0.0, 0.0], [1.0, 2.0]], track: true}
        program: |
          y = x ** 2 - 2 * x + 1
        checks:
          - value: y
          - id: weights
            grad: y
            wrt: x
            weights: [[1.0, 1.0], [1.0, 1.0]]
            style: backward
          - id: autograd-weights
            grad: y
            wrt: [x]
            weights: [[1.0, 1.0], [1.0, 1.0]]
          - id: no-weights
            grad: y
            wrt: x
            style: backward
    """)
    close(ok(got["value-y"]), [[1, 1], [0, 1]])
    assert ok(got["value-y"]).dtype == np.float32
    close(ok(got["weights"]), [[-2, -2], [0, 2]])
    close(ok(got["autograd-weights"])[0], [[-2, -2], [0, 2]])
    assert error(got["no-weights"]) == "non_scalar_output"


CHAIN = """
cases:
  - id: chain
    title: chain rule
    inputs:
      x: {value: 3.0, track: true}
    program: |
      y1 = x + 1
      y2 = 2 * x
      loss = (y1 - y2) ** 2
    checks:
      - id: autograd
        grad: loss
        wrt: [x]
      - id: backward
        grad: loss
        wrt: x
        style: backward
      - id: hooks
        grad: loss
        wrt: [y1, y2, x]
        style: hooks
      - id: retain
        grad: loss
        wrt: [loss, y1, x]
        style: retain_grad
      - id: intermediate-dict
        grad: loss
        wrt: {first: y1, input: x}
      - attributes: [x, y1, y2, loss]
        fields: [is_leaf, grad, grad_fn]
        backward: loss
"""


def test_chain_rule_and_intermediate_gradients_S000_05_07(tmp_path):
    got = observe(tmp_path, CHAIN)
    close(ok(got["autograd"]), [4.0])
    close(ok(got["backward"]), 4.0)
    close(ok(got["hooks"]), [-4.0, 4.0, 4.0])
    close(ok(got["retain"]), [1.0, -4.0, 4.0])
    grads = ok(got["intermediate-dict"])
    assert set(grads) == {"first", "input"}
    close(grads["first"], -4.0)
    close(grads["input"], 4.0)
    attrs = ok(got["attributes-x-y1-y2-loss"])
    assert attrs["x"]["is_leaf"] is True and attrs["y1"]["is_leaf"] is False
    close(attrs["x"]["grad"], 4.0)
    assert attrs["y1"]["grad"] is None and attrs["loss"]["grad"] is None
    assert attrs["y1"]["grad_fn"] == "AddBackward"
    assert attrs["y2"]["grad_fn"] == "MulBackward"
    assert attrs["loss"]["grad_fn"] == "PowBackward"


def test_backward_twice_S000_03(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: twice
        title: backward twice
        inputs:
          x: {value: [1.0, 2.0], track: true}
        program: |
          y = sum(x ** 2)
          z = x + 1
        checks:
          - id: freed
            backward_twice: y
            wrt: [x]
          - id: retained
            backward_twice: y
            wrt: [x]
            retain_graph: true
          - id: nothing-saved
            backward_twice: z
            wrt: [x]
            weights: [1.0, 1.0]
    """)
    assert error(got["freed"]) == "graph_freed"
    close(ok(got["retained"]), [[4.0, 8.0]])  # 2x, accumulated over both passes
    # an addition saves no tensors: PyTorch lets the second pass through
    close(ok(got["nothing-saved"]), [[2.0, 2.0]])


def test_non_scalar_output_S001_05(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: non-scalar
        title: b = a**2 + 1
        inputs:
          a: {value: [1.0, 2.0], track: true}
        program: |
          b = a ** 2 + 1
        checks:
          - id: no-weights
            grad: b
            wrt: [a]
            style: backward
          - id: with-weights
            grad: b
            wrt: [a]
            weights: [1.0, 1.0]
            style: backward
    """)
    obs = got["no-weights"]
    assert error(obs) == "non_scalar_output"
    assert obs.value.type == "RuntimeError" and "scalar outputs" in obs.value.message
    close(ok(got["with-weights"]), [[2.0, 4.0]])


def test_higher_order_S000_23(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: second
        title: second derivative
        inputs:
          x: {value: 0.0, track: true}
          m: {value: [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], track: true}
        program: |
          y = x ** 2 - 2 * x + 1
          z = 3 * (m + 2) * (m + 2)
        checks:
          - {id: first, grad: y, wrt: x}
          - {id: second, grad: y, wrt: x, order: 2}
          - {id: second-backward, grad: y, wrt: x, order: 2, style: backward}
          - {id: second-hooks, grad: y, wrt: x, order: 2, style: hooks}
          - {id: matrix, grad: z, wrt: m, order: 2,
             weights: [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]}
    """)
    close(ok(got["first"]), -2.0)
    close(ok(got["second"]), 2.0)
    close(ok(got["second-backward"]), 2.0)
    close(ok(got["second-hooks"]), 2.0)
    close(ok(got["matrix"]), np.full((2, 3), 6.0))  # S001-09


def test_unconnected_and_untracked_inputs(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: unconnected
        title: an input the output does not use
        inputs:
          x: {value: 2.0, track: true}
          u: {value: 5.0, track: true}
        program: |
          y = x * x
        checks:
          - {id: autograd, grad: y, wrt: [x, u]}
          - {id: backward, grad: y, wrt: [x, u], style: backward}
    """)
    assert error(got["autograd"]) == "unused_input"
    x, u = ok(got["backward"])
    close(x, 4.0)
    assert u is None


def test_integer_input_cannot_require_grad(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: integer
        title: an integer input asked to require grad
        inputs:
          n: {value: 3, dtype: int32, track: true}
        program: |
          y = n * n
        checks:
          - {grad: y, wrt: n}
    """)
    assert error(got["grad-y"]) == "integer_grad"


def test_untracked_input_is_not_differentiable(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: untracked
        title: a constant
        inputs:
          x: {value: 2.0, track: true}
          c: 1.0
        program: |
          y = x * c
        checks:
          - {id: autograd, grad: y, wrt: [x, c]}
          - {id: backward, grad: y, wrt: [x, c], style: backward}
    """)
    assert error(got["autograd"]) == "not_differentiable"
    x, c = ok(got["backward"])
    close(x, 1.0)
    assert c is None


def test_several_targets_are_summed_and_tape_watch_is_requires_grad(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: targets
        title: several outputs, and a watched cast
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
    """)
    close(ok(got["summed"]), [3.0, 2.0])
    close(ok(got["summed-backward"]), [3.0, 2.0])
    close(ok(got["watched"]), [-2.0])
    assert error(got["unwatched"]) == "not_differentiable"


def test_weak_typing_keeps_float32():
    ops = TorchBackend.OPS
    x = torch.tensor([-1.0, 2.0])
    for out in (ops["maximum"](x, 0.0), ops["minimum"](0, x), ops["clip"](x, min=0.0),
                ops["where"](x < 0, 0.0, x), ops["add"](x, 1), ops["mul"](2.5, x),
                ops["pow"](x, 2), ops["mse"](x, 0.0), ops["where"](x < 0, 0.0, 1.0)):
        assert out.dtype == torch.float32
    i = torch.tensor([1, 2], dtype=torch.int32)
    assert ops["add"](i, 1).dtype == torch.int32
    assert ops["maximum"](i, 1.5).dtype == torch.float32  # not truncated to int
    assert ops["maximum"](i, 1.5).tolist() == [1.5, 2.0]
    assert ops["cast"](i, dtype="float32").dtype == torch.float32
    assert ops["one_hot"](i, depth=3).tolist() == [[0, 1, 0], [0, 0, 1]]
    assert ops["transpose"](torch.ones(2, 3, 4)).shape == (4, 3, 2)
    assert ops["max"](torch.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=0).tolist() == [3.0, 5.0]
    assert ops["sum"](torch.ones(2, 3), keepdims=True).shape == (1, 1)


def test_sgd_500_steps_S000_26(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: sgd
        title: SGD on the quadratic
        inputs:
          x: {value: 0.0, kind: variable}
        program: |
          y = x ** 2 - 2 * x + 1
        checks:
          - optimize:
              loss: y
              params: [x]
              optimizer: {name: sgd, lr: 0.01}
              steps: 500
              record_every: 100
          - id: manual
            optimize:
              loss: y
              params: [x]
              optimizer: {name: manual, lr: 0.01}
              steps: 500
              record_every: 100
          - id: keras-style
            optimize:
              loss: y
              params: [x]
              optimizer: {name: sgd, lr: 0.01, style: apply_gradients}
              steps: 5
    """)
    traj = ok(got["optimize"])
    assert len(traj["x"]) == 6 and len(traj["y"]) == 6  # steps 0, 100, ..., 400, final
    close(traj["x"][0], 0.0)
    close(traj["y"][0], 1.0)
    close(traj["final"]["x"], 0.99996, atol=2e-6)
    close(traj["x"][-1], 1 - 0.98 ** 500, rtol=1e-5)
    assert traj["x"][-1].dtype == np.float32
    manual = ok(got["manual"])
    close(manual["x"], traj["x"])
    assert got["keras-style"].status == "n/a"


def test_sgd_momentum_nesterov_weight_decay_match_the_formula(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: momentum
        title: SGD with momentum
        inputs:
          x: {value: 0.0, kind: variable}
        program: |
          y = x ** 2 - 2 * x + 1
        checks:
          - optimize:
              loss: y
              params: [x]
              optimizer: {name: sgd, lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 0.01}
              steps: 4
    """)
    x, buf, xs = 0.0, None, [0.0]
    for _ in range(4):
        g = 2 * x - 2 + 0.01 * x
        buf = g if buf is None else 0.9 * buf + g
        x -= 0.1 * (g + 0.9 * buf)
        xs.append(x)
    close(ok(got["optimize"])["x"], xs, rtol=1e-5)


def test_adam_matches_the_hand_written_formula(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: adam
        title: Adam
        inputs:
          x: {value: [0.0, 1.0], kind: variable}
        program: |
          loss = sum((x - 3.0) ** 2)
        checks:
          - id: default-eps
            optimize:
              loss: loss
              params: [x]
              optimizer: {name: adam, lr: 0.1}
              steps: 5
          - id: large-eps
            optimize:
              loss: loss
              params: [x]
              optimizer: {name: adam, lr: 0.1, eps: 0.5, betas: [0.8, 0.9]}
              steps: 5
    """)

    def adam(lr, b1, b2, eps, steps=5):
        x = np.array([0.0, 1.0])
        m = v = np.zeros(2)
        xs = [x.copy()]
        for t in range(1, steps + 1):
            g = 2 * (x - 3.0)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            x = x - lr * mhat / (np.sqrt(vhat) + eps)  # torch: eps outside the square root
            xs.append(x.copy())
        return xs

    close(ok(got["default-eps"])["x"], adam(0.1, 0.9, 0.999, 1e-8), rtol=1e-5)
    close(ok(got["large-eps"])["x"], adam(0.1, 0.8, 0.9, 0.5), rtol=1e-5)
    loss = ok(got["default-eps"])["loss"]
    close(loss[0], 13.0)
    close(loss[-1], float(np.sum((adam(0.1, 0.9, 0.999, 1e-8)[-1] - 3.0) ** 2)), rtol=1e-5)


def test_jvp_and_jacobian_forward_and_reverse_agree(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: modes
        title: forward vs reverse
        inputs:
          x: {value: [0.5, -1.0, 2.0], track: true}
          A: {value: [[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]}
        program: |
          h = tanh(x)
          y = A @ h + sum(x * x)
        checks:
          - {id: jac-f, jacobian: y, wrt: x, mode: forward}
          - {id: jac-r, jacobian: y, wrt: x, mode: reverse}
          - {id: jvp-f, jvp: y, wrt: [x], tangents: [[1.0, 0.0, 2.0]], mode: forward}
          - {id: jvp-r, jvp: y, wrt: [x], tangents: [[1.0, 0.0, 2.0]], mode: reverse}
          - {id: jvp-h, jvp: y, wrt: [h], tangents: [[1.0, 1.0, 1.0]], mode: forward}
    """)
    x = np.array([0.5, -1.0, 2.0])
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    jac = A * (1 - np.tanh(x) ** 2) + 2 * x
    jf, jr = ok(got["jac-f"]), ok(got["jac-r"])
    assert jf.shape == jr.shape == (2, 3)
    close(jf, jac, rtol=1e-5)
    close(jr, jf, rtol=1e-6)
    t = np.array([1.0, 0.0, 2.0])
    close(ok(got["jvp-f"]), jac @ t, rtol=1e-5)
    close(ok(got["jvp-r"]), ok(got["jvp-f"]), rtol=1e-6)
    close(ok(got["jvp-h"]), A.sum(axis=1), rtol=1e-6)  # w.r.t. the intermediate h


def test_checkpoint_save_and_load_S000_15(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: module
        title: save and load
        functions:
          addprint:
            args: [value]
            body: |
              assign_add(x, value)
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
              state: {x: 0.0, count: {tensor: 0, dtype: int32}}
              method: addprint
              before: [[1.0], [2.0]]
              after: [[5.0]]
              style: attributes
    """)
    out = ok(got["class"])
    close(out["before"], [6.0])
    close(out["after"], [11.0])
    assert out["variables"] == ["x"]
    out = ok(got["attributes"])
    close(out["before"], [1.0, 3.0])  # each output copied when returned, not aliased
    close(out["after"], [8.0])
    assert out["variables"] == ["count", "x"]


def test_while_loop_trace_and_static_graph(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: loops
        title: loops and traces
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
          - id: staged
            trace: add_one
            calls: [[{tensor: 1.0}], [{tensor: 2.0}]]
          - id: plain
            trace: add_one
            staged: false
            calls: [[{tensor: 1.0}], [{tensor: 1.0}], [{tensor: [1.0, 2.0]}], ["text"]]
          - static_graph:
              placeholders: {a: {dtype: float32, shape: []}}
              fetch: a
              feeds: [{a: 1.0}]
          - watched: true
    """)
    loop = ok(got["loop"])
    assert loop["first"] == 20 and loop["second"] == 20 and loop["first"].dtype == np.int32
    assert got["loop-graph"].status == "n/a"
    assert got["staged"].status == "n/a" and "eagerly" in got["staged"].reason
    plain = ok(got["plain"])
    close(plain["outputs"][0], 2.0)
    close(plain["outputs"][2], [2.0, 3.0])
    assert isinstance(plain["outputs"][3], ErrorValue)  # "text" + 1.0 raised, per call
    assert plain["traced"] == [True] * 4
    assert plain["log"] == ["tracing"] * 4
    assert plain["appended"] == ["concrete"] * 3
    assert plain["distinct"] == 2  # 2.0 and [2.0, 3.0]; a call that raised gave no output
    assert got["static_graph"].status == "n/a"
    assert got["watched"].status == "n/a"


def test_strings_are_not_applicable(tmp_path):
    got = observe(tmp_path, """
    cases:
      - id: strings
        title: strings
        inputs:
          a: "hello"
          b: "world"
          x: 1.0
        program: |
          y = x + 1.0
        checks:
          - value: a
          - value: y
          - {id: join, value: 'string_join([a, b], separator=" ")'}
    """)
    assert got["value-a"].status == "n/a"
    assert "string" in got["value-a"].reason
    close(ok(got["value-y"]), 2.0)
    assert got["join"].status == "n/a"
    with pytest.raises(NotApplicable):
        TorchBackend().constant(np.array([b"a"], dtype=object))


def test_to_numpy_and_classify():
    backend = TorchBackend()
    assert backend.to_numpy(None) is None
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    out = backend.to_numpy(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    with torch.no_grad():
        x.add_(1.0)
    assert out.tolist() == [1.0, 2.0]  # a copy, not a view of the live tensor
    assert backend.constant(np.float32(2.0)).dtype == torch.float32
    assert backend.constant(np.array([1, 2], dtype=np.int32)).dtype == torch.int32
    assert backend.classify(RuntimeError(
        "Trying to backward through the graph a second time")) == "graph_freed"
    assert backend.classify(RuntimeError(
        "Only Tensors of floating point and complex dtype can require gradients")) \
        == "integer_grad"
    assert backend.classify(ValueError("something else")) == "raised"

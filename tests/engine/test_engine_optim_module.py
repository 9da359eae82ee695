"""Optimizers against torch and Keras; Module save/load."""
import json
import os

import numpy as np
import pytest

import reference_engine as re
from reference_engine import GradientTape, Module, Variable, optim

rng = np.random.default_rng(0)
A, B = rng.standard_normal((3, 3)), rng.standard_normal(3)
X0 = rng.standard_normal(3)


def loss_np(x):  # a fixed smooth loss, written once per library
    return ((A @ x - B) ** 2).sum() + (x ** 4).sum()


def run_engine(make, steps=6, style="step"):
    x = re.tensor(X0, requires_grad=True) if style == "step" else Variable(X0, dtype="float64")
    opt = make([x] if style == "step" else None)
    for _ in range(steps):
        if style == "step":
            opt.zero_grad()
            loss_np(x).backward()
            opt.step()
        else:
            with GradientTape() as tape:
                y = loss_np(x)
            opt.apply_gradients([(tape.gradient(y, x), x)])
    return x.numpy()


def run_torch(make, steps=6):
    torch = pytest.importorskip("torch")
    x = torch.tensor(X0, requires_grad=True)
    At, Bt = torch.tensor(A), torch.tensor(B)
    opt = make([x])
    for _ in range(steps):
        opt.zero_grad()
        (((At @ x - Bt) ** 2).sum() + (x ** 4).sum()).backward()
        opt.step()
    return x.detach().numpy()


@pytest.mark.parametrize("kw", [dict(), dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                                dict(momentum=0.9, nesterov=True), dict(weight_decay=0.1, momentum=0.5)])
def test_sgd_matches_torch(kw):
    torch = pytest.importorskip("torch")
    mine = run_engine(lambda p: optim.SGD(p, lr=0.01, **kw))
    np.testing.assert_allclose(mine, run_torch(lambda p: torch.optim.SGD(p, lr=0.01, **kw)), rtol=1e-10)


@pytest.mark.parametrize("kw", [dict(), dict(amsgrad=True), dict(weight_decay=0.1), dict(betas=(0.8, 0.9), eps=1e-3)])
def test_adam_torch_style_matches_torch(kw):
    torch = pytest.importorskip("torch")
    mine = run_engine(lambda p: optim.Adam(p, lr=0.05, **kw))
    np.testing.assert_allclose(mine, run_torch(lambda p: torch.optim.Adam(p, lr=0.05, **kw)), rtol=1e-10)


def test_sgd_apply_gradients_equals_step():
    a = run_engine(lambda p: optim.SGD(p, lr=0.01, momentum=0.9))
    b = run_engine(lambda p: optim.SGD(lr=0.01, momentum=0.9), style="tape")
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_adam_keras_style_formula():
    """epsilon hat: alpha = lr*sqrt(1-b2^t)/(1-b1^t); p -= alpha*m/(sqrt(v)+eps), eps default 1e-7."""
    opt = optim.Adam(lr=0.1, epsilon_style="keras")
    assert opt.eps == 1e-7 and optim.Adam(lr=0.1).eps == 1e-8
    p, g = Variable([1.0, -2.0], dtype="float64"), np.array([0.5, -3.0])
    m = v = 0
    expected = p.numpy().copy()
    for t in range(1, 4):
        opt.apply_gradients([(re.tensor(g), p)])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected -= 0.1 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_keras_style_matches_keras(amsgrad):
    tf = pytest.importorskip("tensorflow")
    x = tf.Variable(X0)
    opt = tf.keras.optimizers.Adam(learning_rate=0.05, amsgrad=amsgrad)
    for _ in range(6):
        with tf.GradientTape() as tape:
            y = tf.reduce_sum((tf.linalg.matvec(tf.constant(A), x) - B) ** 2) + tf.reduce_sum(x ** 4)
        opt.apply_gradients([(tape.gradient(y, x), x)])
    mine = run_engine(lambda p: optim.Adam(lr=0.05, amsgrad=amsgrad, epsilon_style="keras"), style="tape")
    # Keras rounds its bias corrections through float32 (1 - 0.999 -> 0.0009999871), hence ~1e-5.
    np.testing.assert_allclose(mine, x.numpy(), rtol=1e-4)


def test_minimize():
    x = Variable(0.0)
    opt = optim.SGD(learning_rate=0.1)
    for _ in range(100):
        opt.minimize(lambda: (x - 3) ** 2, [x])
    assert abs(x.item() - 3) < 1e-4


def test_apply_gradients_replays_in_traced_function():
    x = Variable(0.0)
    opt = optim.SGD(0.1)

    @re.function
    def step():
        with GradientTape() as tape:
            y = (x - 3) ** 2
        opt.apply_gradients(zip(tape.gradient(y, [x]), [x]))
        return y
    for _ in range(100):
        step()
    assert abs(x.item() - 3) < 1e-4 and step.trace_count == 1


class Dense(Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        self.w = Variable(np.full((n_in, n_out), 0.5), dtype="float32", name="w")
        self.b = Variable(np.zeros(n_out), dtype="float32", name="b", trainable=False)

    def __call__(self, x):
        return x @ self.w + self.b


class Net(Module):
    def __init__(self):
        super().__init__()
        self.layers = [Dense(2, 3), Dense(3, 1)]
        self.scale = Variable(1.0)


def test_module_collects_variables():
    net = Net()
    assert [p for p, _ in net.named_variables()] == ["layers/0/w", "layers/0/b", "layers/1/w", "layers/1/b", "scale"]
    assert len(net.variables) == 5 and len(net.trainable_variables) == 3 and net.name == "net"


def test_module_save_load_roundtrip(tmp_path):
    net = Net()
    net.layers[1].w.assign(np.arange(3.0).reshape(3, 1))
    net.scale.assign(4.0)
    net.save(str(tmp_path / "net"))
    manifest = json.loads((tmp_path / "net" / "manifest.json").read_text())
    assert manifest["variables"][2] == {"path": "layers/1/w", "name": "w", "dtype": "<f4", "shape": [3, 1],
                                        "trainable": True}
    assert os.path.exists(tmp_path / "net" / "variables.npz")
    fresh = Net().load(str(tmp_path / "net"))
    assert fresh.scale.item() == 4.0 and fresh.layers[1].w.numpy().ravel().tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(KeyError):
        Dense(2, 3).load(str(tmp_path / "net"))

"""AdamW, RMSprop, Adagrad and SGD (dampening, nesterov, weight decay) against their update
formulas written out by hand, for random gradient sequences; torch as extra evidence."""
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_engine as re
from reference_engine import optim

OPT = settings(max_examples=10, deadline=None)
P0 = np.array([0.5, -1.0, 2.0])


def gradient_sequences():
    return hnp.arrays(np.float64, (4, 3), elements=st.floats(-2, 2, allow_nan=False, allow_subnormal=False))


def run(opt_factory, grads):
    """Feed a fixed gradient sequence through apply_gradients (Keras) and step (torch): same result."""
    v = re.Variable(P0.copy(), dtype="float64")
    opt = opt_factory(None)
    for g in grads:
        opt.apply_gradients([(re.tensor(g), v)])
    p = re.tensor(P0.copy(), requires_grad=True)
    opt2 = opt_factory([p])
    for g in grads:
        p.grad = re.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(v.numpy(), p.numpy())
    return v.numpy()


# --- the formulas, written out ---------------------------------------------------------------------
def adamw(grads, lr, b1, b2, eps, wd, keras=False):
    p, m, v = P0.copy(), 0.0, 0.0
    for t, g in enumerate(grads, 1):
        p = p - lr * wd * p
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        if keras:
            p = p - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        else:
            p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def rmsprop_torch(grads, lr, alpha, eps, wd, momentum, centered):
    p, v, a, b = P0.copy(), 0.0, 0.0, 0.0
    for g in grads:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
        d = np.sqrt(v - a * a) + eps
        if momentum:
            b = momentum * b + g / d
            p = p - lr * b
        else:
            p = p - lr * g / d
    return p


def rmsprop_keras(grads, lr, rho, eps, wd, momentum, centered):
    p, v, a, b = P0.copy(), 0.0, 0.0, 0.0
    for g in grads:
        p = p - lr * wd * p
        v = rho * v + (1 - rho) * g * g
        if centered:
            a = rho * a + (1 - rho) * g
        inc = lr * g / np.sqrt(v - a * a + eps)
        if momentum:
            b = momentum * b + inc
            p = p - b
        else:
            p = p - inc
    return p


def adagrad_torch(grads, lr, lr_decay, wd, initial, eps):
    p, s = P0.copy(), np.full(3, initial)
    for t, g in enumerate(grads, 1):
        g = g + wd * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return p


def adagrad_keras(grads, lr, initial, eps):
    p, s = P0.copy(), np.full(3, initial)
    for g in grads:
        s = s + g * g
        p = p - lr * g / np.sqrt(s + eps)
    return p


def sgd(grads, lr, momentum, dampening, nesterov, wd):
    p, buf = P0.copy(), None
    for g in grads:
        g = g + wd * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


# --- against the formulas --------------------------------------------------------------------------
@OPT
@given(grads=gradient_sequences(), wd=st.sampled_from([0.0, 0.1]), keras=st.booleans())
def test_adamw(grads, wd, keras):
    style = "keras" if keras else "torch"
    got = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=wd, epsilon_style=style), grads)
    np.testing.assert_allclose(got, adamw(grads, 0.1, 0.9, 0.999, 1e-7 if keras else 1e-8, wd, keras), rtol=1e-12)


def test_adamw_defaults():
    assert optim.AdamW().weight_decay == 1e-2 and optim.AdamW().eps == 1e-8
    assert optim.AdamW(epsilon_style="keras").eps == 1e-7
    assert not optim.Adam(weight_decay=0.1).decoupled  # torch's Adam: weight decay is an L2 term


@OPT
@given(grads=gradient_sequences(), wd=st.sampled_from([0.0, 0.05]), momentum=st.sampled_from([0.0, 0.9]),
       centered=st.booleans(), keras=st.booleans())
def test_rmsprop(grads, wd, momentum, centered, keras):
    kw = dict(weight_decay=wd, momentum=momentum, centered=centered)
    if keras:
        got = run(lambda ps: optim.RMSprop(ps, learning_rate=0.01, rho=0.8, epsilon=1e-3, epsilon_style="keras", **kw),
                  grads)
        want = rmsprop_keras(grads, 0.01, 0.8, 1e-3, wd, momentum, centered)
    else:
        got = run(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.8, eps=1e-3, **kw), grads)
        want = rmsprop_torch(grads, 0.01, 0.8, 1e-3, wd, momentum, centered)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_rmsprop_defaults():
    torch_style, keras_style = optim.RMSprop(), optim.RMSprop(epsilon_style="keras")
    assert (torch_style.lr, torch_style.rho, torch_style.eps) == (0.01, 0.99, 1e-8)
    assert (keras_style.lr, keras_style.rho, keras_style.eps) == (0.001, 0.9, 1e-7)
    with pytest.raises(ValueError):
        optim.RMSprop(epsilon_style="jax")


@OPT
@given(grads=gradient_sequences(), wd=st.sampled_from([0.0, 0.1]), lr_decay=st.sampled_from([0.0, 0.5]),
       initial=st.sampled_from([0.0, 0.1]), keras=st.booleans())
def test_adagrad(grads, wd, lr_decay, initial, keras):
    if keras:
        got = run(lambda ps: optim.Adagrad(ps, 0.1, initial_accumulator_value=initial + 0.1, epsilon=1e-7,
                                           epsilon_style="keras"), grads)
        want = adagrad_keras(grads, 0.1, initial + 0.1, 1e-7)
    else:
        got = run(lambda ps: optim.Adagrad(ps, 0.1, lr_decay, wd, initial, 1e-10), grads)
        want = adagrad_torch(grads, 0.1, lr_decay, wd, initial, 1e-10)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_adagrad_defaults():
    t, k = optim.Adagrad(), optim.Adagrad(epsilon_style="keras")
    assert (t.lr, t.initial, t.eps) == (0.01, 0.0, 1e-10) and (k.lr, k.initial, k.eps) == (0.001, 0.1, 1e-7)


@OPT
@given(grads=gradient_sequences(), momentum=st.sampled_from([0.0, 0.9]), dampening=st.sampled_from([0.0, 0.3]),
       nesterov=st.booleans(), wd=st.sampled_from([0.0, 0.1]))
def test_sgd(grads, momentum, dampening, nesterov, wd):
    got = run(lambda ps: optim.SGD(ps, lr=0.05, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                   weight_decay=wd), grads)
    np.testing.assert_allclose(got, sgd(grads, 0.05, momentum, dampening, nesterov, wd), rtol=1e-12)


# --- torch, as evidence ---------------------------------------------------------------------------
def torch_run(make, grads):
    torch = pytest.importorskip("torch")
    p = torch.tensor(P0.copy(), requires_grad=True)
    opt = make(torch.optim, [p])
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


@pytest.mark.parametrize("name, kw", [
    ("AdamW", dict(lr=0.1, weight_decay=0.1)), ("AdamW", dict(lr=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.3, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
])
def test_matches_torch(name, kw):
    grads = np.random.default_rng(8).standard_normal((5, 3))
    want = torch_run(lambda torch_optim, ps: getattr(torch_optim, name)(ps, **kw), grads)
    np.testing.assert_allclose(run(lambda ps: getattr(optim, name)(ps, **kw), grads), want, rtol=1e-12)

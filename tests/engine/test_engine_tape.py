"""GradientTape, Variable and constant: TensorFlow's eager semantics."""
import numpy as np
import pytest

import reference_engine as re
from reference_engine import GradientTape, Variable, constant


def test_variable_is_watched_automatically():
    x = Variable(3.0)
    with GradientTape() as tape:
        y = x ** 2
    assert tape.gradient(y, x).item() == 6.0
    assert not x.requires_grad  # only while the tape is open


def test_unconnected_nontrainable_and_unwatched_sources_give_none():
    x0, x1 = Variable(3.0, name="x0"), Variable(3.0, name="x1", trainable=False)
    x2, x3 = Variable(2.0, name="x2") + 1.0, constant(3.0)
    with GradientTape() as tape:
        y = x0 ** 2 + x1 ** 2 + x2 ** 2 + x0 * x3
    grads = tape.gradient(y, [x0, x1, x2, x3])
    assert grads[0].item() == 9.0 and grads[1:] == [None, None, None]
    assert [v.name for v in tape.watched_variables()] == ["x0"]


def test_unconnected_source():
    x, w = Variable(1.0), Variable(2.0)
    with GradientTape() as tape:
        y = x * 2
        w * 1  # read, watched, but not connected to y
    assert tape.gradient(y, [x, w])[1] is None


def test_non_persistent_tape_raises_on_second_call():
    x = Variable(1.0)
    with GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to compute one set"):
        tape.gradient(y, x)


def test_persistent_tape():
    x = constant([1.0, 3.0])
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(z, x).tolist() == [4.0, 108.0]
    assert tape.gradient(y, x).tolist() == [2.0, 6.0]


def test_structures_are_kept():
    w, b = Variable(np.ones((3, 2)), dtype="float32"), Variable(np.zeros(2), dtype="float32")
    x = constant([[1.0, 2.0, 3.0]])
    with GradientTape(persistent=True) as tape:
        loss = re.mean((x @ w + b) ** 2)
    as_list = tape.gradient(loss, [w, b])
    as_dict = tape.gradient(loss, {"w": w, "b": b})
    as_tuple = tape.gradient(loss, (w, b))
    assert isinstance(as_tuple, tuple) and set(as_dict) == {"w", "b"}
    np.testing.assert_allclose(as_list[0].data, as_dict["w"].data)
    np.testing.assert_allclose(as_list[1].data, as_tuple[1].data)


def test_watch_accessed_variables_false():
    x0, x1 = Variable(0.0), Variable(10.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x1)
        ys = re.sum(re.sin(x0) + re.softplus(x1))
    grad = tape.gradient(ys, {"x0": x0, "x1": x1})
    assert grad["x0"] is None and np.isclose(grad["x1"].item(), 0.9999546)


def test_nested_tapes_second_derivative():
    x = Variable(0.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x ** 2 - 2 * x + 1
        dy = inner.gradient(y, x)
    assert dy.item() == -2.0 and outer.gradient(dy, x).item() == 2.0


def test_gradient_wrt_intermediate_and_output_gradients():
    x = constant(3.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(z, y).item() == 18.0
    assert tape.gradient(y, x, output_gradients=constant(2.0)).item() == 12.0


def test_jacobian_matches_forward_mode():
    x = constant([1.0, 2.0])
    f = lambda t: re.stack([t[0] * t[1], re.sin(t[0]), t[1] ** 2])
    with GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    np.testing.assert_allclose(tape.jacobian(y, x).data, re.jacfwd(f, x).data, rtol=1e-6)


def test_assign_ops():
    v = Variable(1.0)
    v.assign_add(2.0)
    v.assign_sub(constant(0.5))
    assert v.numpy() == 2.5 and v.dtype == np.float32
    v.assign(7)
    assert v.item() == 7.0


def test_constant_dtypes_follow_tensorflow():
    assert constant(1).dtype == np.int32 and constant(1.0).dtype == np.float32
    assert constant("hi").numpy() == b"hi"

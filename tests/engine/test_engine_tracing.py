"""Traced functions (tf.function semantics) and static graphs (TF1 Graph/Session)."""
import numpy as np
import pytest

import reference_engine as re
from reference_engine import (
    GradientTape,
    Graph,
    Session,
    TensorSpec,
    Variable,
    autograd,
    constant,
    function,
    placeholder,
    print_,
    string_join,
    while_loop,
)


def test_traces_once_per_signature_and_replays():
    calls = []

    @function
    def f(x, n):
        calls.append(n)            # Python: runs only while tracing
        return x * n + 1

    assert f(re.tensor(1.0), 2).item() == 3.0
    assert f(re.tensor(5.0), 2).item() == 11.0            # replay: same dtype/shape/value
    assert f(re.tensor([1.0, 2.0]), 2).tolist() == [3.0, 5.0]   # new shape: retrace
    assert f(re.tensor(1.0), 3).item() == 4.0             # new Python value: retrace
    assert f.trace_count == 3 == f.experimental_get_tracing_count() and calls == [2, 2, 3]


def test_host_randomness_is_frozen_engine_randomness_is_not():
    @function
    def host():
        return re.tensor(np.random.randn(2))

    @function
    def engine():
        return re.random_normal((2,))
    assert host().tolist() == host().tolist()
    assert engine().tolist() != engine().tolist()


def test_engine_print_runs_on_every_call(capsys):
    @function
    def f(x):
        print("tracing")
        for i in range(2):
            print_(i)
        return x
    f(re.tensor(1.0))
    f(re.tensor(2.0))
    assert capsys.readouterr().out.split() == ["tracing", "0", "1", "0", "1"]


def test_variable_state_and_creation_rules():
    v = Variable(1.0)

    @function
    def outer():
        v.assign_add(1.0)
        return v
    assert outer().item() == 2.0 and outer().item() == 3.0

    @function
    def inner():
        w = Variable(1.0)
        w.assign_add(1.0)
        return w
    with pytest.raises(ValueError, match="singleton"):
        inner()

    class Lazy:
        w = None

        @function
        def __call__(self, x):
            if self.w is None:
                self.w = Variable(2.0)
            return self.w * x
    lazy = Lazy()
    assert lazy(re.tensor(3.0)).item() == 6.0 and lazy(re.tensor(4.0)).item() == 8.0

    @function
    def retrace_creates(x):
        return Variable(1.0) * x
    with pytest.raises(ValueError):
        retrace_creates(re.tensor(1.0))


def test_input_signature():
    x = Variable(1.0)

    @function(input_signature=[TensorSpec([], re.float32)])
    def add_print(a):
        x.assign_add(a)
        return x
    assert add_print(constant(3.0)).item() == 4.0
    assert add_print(2.0).item() == 6.0   # Python numbers convert to the spec
    with pytest.raises((TypeError, ValueError)):
        add_print(constant(3))
    with pytest.raises((TypeError, ValueError)):
        add_print(constant([1.0, 2.0]))
    assert add_print.trace_count == 1


def test_replay_is_differentiable():
    @function
    def f(x, w):
        return re.sum(re.tanh(x @ w))

    x = re.tensor([[1.0, 2.0]])
    w1, w2 = re.tensor([[0.1], [0.2]], requires_grad=True), re.tensor([[0.3], [-0.1]], requires_grad=True)
    f(x, w1).backward()
    f(x, w2).backward()   # replayed
    for w in (w1, w2):
        ref = re.tensor(w.data, requires_grad=True)
        re.sum(re.tanh(x @ ref)).backward()
        np.testing.assert_allclose(w.grad.data, ref.grad.data)

    v = Variable([[0.5], [0.5]])
    for _ in range(2):
        with GradientTape() as tape:
            y = f(x, v)
        np.testing.assert_allclose(tape.gradient(y, v).data, (1 - np.tanh(1.5) ** 2) * np.array([[1], [2]]), rtol=1e-6)


def test_tape_inside_traced_function_replays_its_gradient():
    @function
    def f(x):
        x = re.cast(x, re.float32)
        with GradientTape() as tape:
            tape.watch(x)
            y = x ** 2 - 2 * x + 1
        return tape.gradient(y, x), y
    assert [t.item() for t in f(constant(0.0))] == [-2.0, 1.0]
    assert [t.item() for t in f(constant(1.0))] == [0.0, 0.0]
    assert [t.item() for t in f(constant(3.0))] == [4.0, 4.0]
    assert f.trace_count == 1


def test_custom_function_replays_inside_trace():
    class Double(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    @function
    def f(x):
        return Double.apply(x) + 1
    f(re.tensor(1.0))
    x = re.tensor(3.0, requires_grad=True)
    y = f(x)
    y.backward()
    assert y.item() == 7.0 and x.grad.item() == 2.0 and y.grad_fn.name() == "AddBackward"


def test_traced_function_calling_traced_function():
    @function
    def inner(x):
        return x * 2

    @function
    def outer(x):
        return inner(x) + 1
    assert outer(re.tensor(1.0)).item() == 3.0 and outer(re.tensor(2.0)).item() == 5.0


def test_static_graph_string_join():
    g = Graph()
    with g.as_default():
        x = placeholder(name="x", shape=[], dtype=re.string)
        y = placeholder(name="y", shape=[], dtype=re.string)
        z = string_join([x, y], name="join", separator=" ")
    with Session(graph=g) as sess:
        assert sess.run(fetches=z, feed_dict={x: "hello", y: "world"}) == b"hello world"
        assert sess.run(z, {x: "good", y: "morning"}) == b"good morning"


def test_eager_string_join_and_strings_in_traces():
    assert string_join([constant("hello"), constant("world")], separator=" ").numpy() == b"hello world"

    @function
    def join(a, b):
        return a + b
    assert join(constant("he"), constant("llo")).item() == b"hello"
    assert join(constant("good"), constant("morning")).item() == b"goodmorning"
    assert join.trace_count == 1   # all string tensors share one dtype


def test_while_loop_graph_and_eager():
    cond = lambda a, b: a < b
    body = lambda a, b: (a + 2, b + 1)
    assert [int(v) for v in while_loop(cond, body, [constant(0), constant(10)])] == [20, 20]
    assert while_loop(cond, body, [0, 10]) == [20, 20]
    g = Graph()
    with g.as_default():
        a, b = placeholder(re.int32), placeholder(re.int32)
        c1, c2 = while_loop(cond, body, [a, b])
    with Session(g) as sess:
        assert sess.run([c1, c2], {a: 0, b: 10}) == [20, 20]
        assert sess.run([c1, c2], {a: 1, b: 4}) == [7, 7]


def test_while_loop_closing_over_graph_tensors():
    g = Graph()
    with g.as_default():
        n = placeholder(re.int32)
        limit = n * 2                      # only the loop's cond reads it
        (out,) = while_loop(lambda i: i < limit, lambda i: (i + 3,), [constant(0)])
    with Session(g) as sess:
        assert sess.run(out, {n: 5}) == 12 and sess.run(out, {n: 1}) == 3


def test_session_prunes_to_what_fetches_need():
    g = Graph()
    with g.as_default():
        x, y = placeholder(re.float32), placeholder(re.float32)
        double, total = x * 2, x + y
    with Session(g) as sess:
        assert sess.run(double, {x: 3.0}) == 6.0          # y is not needed
        assert sess.run([double, total], {x: 1.0, y: 2.0}) == [2.0, 3.0]


def test_while_loop_in_traced_function_follows_its_inputs():
    @function
    def count(n):
        return while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i), [constant(0), constant(0)])[1]
    assert count(constant(4)).item() == 6 and count(constant(5)).item() == 10

"""TensorFlow's eager API over the same graph machinery: Variable, constant, GradientTape.

Inside a tape, a watched tensor simply requires grad for as long as the tape is open,
so ops on it record grad_fns as in torch; ``tape.gradient`` is then ``autograd.grad``
with allow_unused=True and retain_graph=persistent.
"""
import numpy as np

from . import engine
from .engine import Tensor, as_array, backward_pass, recorded
from .nest import flatten, unflatten
from .ops import ones_like, reshape, stack, zeros_like

NOT_PERSISTENT = ("A non-persistent GradientTape can only be used to compute one set of gradients "
                  "(or jacobians)")


def constant(value, dtype=None, shape=None, name=None):
    """An immutable tensor (tf.constant): Python floats become float32, Python ints int32."""
    arr = as_array(value, dtype)
    if dtype is None and arr.dtype == np.int64 and not isinstance(value, (np.ndarray, np.generic, Tensor)):
        arr = arr.astype(np.int32)
    return Tensor._wrap(arr if shape is None else np.broadcast_to(arr, shape).copy())


class Variable(Tensor):
    """A mutable tensor (tf.Variable). Tapes watch trainable variables they see read.
    Assignments rebind ``.data`` to a new array and enter traces as recorded calls."""
    __slots__ = ("trainable", "name")

    def __init__(self, value, trainable=True, name=None, dtype=None):
        super().__init__(constant(value, dtype).data)
        self.trainable, self.name = trainable, name or "Variable"
        if engine._graph is not None:
            engine._graph.created(self)

    @recorded
    def assign(self, value):
        self.data = as_array(value, self.data.dtype).reshape(self.data.shape)
        return self

    @recorded
    def assign_add(self, delta):
        self.data = (self.data + _array(delta)).astype(self.data.dtype, copy=False)
        return self

    @recorded
    def assign_sub(self, delta):
        self.data = (self.data - _array(delta)).astype(self.data.dtype, copy=False)
        return self

    def __repr__(self):
        return f"<Variable '{self.name}' shape={self.data.shape} dtype={self.data.dtype}, numpy={self.data!r}>"


def _array(x):
    return x.data if isinstance(x, Tensor) else x


_lifted = {}  # id -> [tensor, number of open tapes that made it require grad]


class GradientTape:
    """Records the ops on watched tensors so gradients can be taken afterwards (tf.GradientTape)."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent, self._auto = persistent, watch_accessed_variables
        self._watched = {}   # id -> tensor, in watch order
        self._mine = []      # tensors this tape made require grad, handed back on exit
        self._used = False

    def __enter__(self):
        engine._tapes = engine._tapes + (self,)
        return self

    def __exit__(self, *exc):
        engine._tapes = tuple(t for t in engine._tapes if t is not self)
        for x in self._mine:
            entry = _lifted[id(x)]
            entry[1] -= 1
            if entry[1] == 0:
                del _lifted[id(x)]
                x._requires_grad = False
        self._mine = []

    def watch(self, tensor):
        """Record ops on ``tensor`` (a tensor, or a nested list of them)."""
        for x in flatten(tensor):
            if isinstance(x, Tensor) and x.data.dtype.kind in "fc" and id(x) not in self._watched:
                self._watched[id(x)] = x
                if not x._requires_grad or id(x) in _lifted:
                    _lifted.setdefault(id(x), [x, 0])[1] += 1
                    x._requires_grad = True
                    self._mine.append(x)

    def _saw(self, xs):
        """Called by every op while this tape is open: watch the trainable variables it reads."""
        if self._auto:
            for x in xs:
                if isinstance(x, Variable) and x.trainable and id(x) not in self._watched:
                    self.watch(x)

    def watched_variables(self):
        return tuple(x for x in self._watched.values() if isinstance(x, Variable))

    def _start(self):
        if self._used and not self._persistent:
            raise RuntimeError(NOT_PERSISTENT)
        self._used = True
        return bool(engine._tapes)  # another tape (or this one) still records: keep gradients differentiable

    def _sweep(self, targets, grads, sources, recording):
        known = [s for s in sources if id(s) in self._watched or s.grad_fn is not None]
        return backward_pass(targets, grads, self._persistent or recording, recording, known)

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(target)/d(source) for each of ``sources``, in the same structure (single, list, dict).
        None for sources that are unconnected, unwatched, or non-trainable variables."""
        recording = self._start()
        targets = [t for t in flatten(target) if isinstance(t, Tensor)]
        grads = ([ones_like(t) for t in targets] if output_gradients is None
                 else [g if isinstance(g, Tensor) else Tensor(as_array(g, t.data.dtype))
                       for g, t in zip(flatten(output_gradients), targets)])
        flat = flatten(sources)
        found = self._sweep(targets, grads, flat, recording)
        result = [found.get(id(s)) for s in flat]
        if unconnected_gradients == "zero":
            result = [zeros_like(s) if g is None else g for g, s in zip(result, flat)]
        return unflatten(sources, result)

    def jacobian(self, target, source):
        """d(target[i])/d(source[j]) with shape target.shape + source.shape, one reverse sweep per row."""
        recording = self._start()
        rows = []
        for i in range(target.data.size):
            seed = np.zeros(target.data.size, target.data.dtype)
            seed[i] = 1
            g = backward_pass([target], [Tensor(seed.reshape(target.data.shape))], True, recording,
                              [source]).get(id(source))
            rows.append(zeros_like(source) if g is None else g)
        return reshape(stack(rows), target.data.shape + source.data.shape)

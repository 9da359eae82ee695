"""Tensor, the graph it records, and the reverse sweep.

A Tensor wraps a NumPy array. An op applied to tensors that require grad leaves a
Node on its output (``grad_fn``): the op, its inputs, and what its vector-Jacobian
products read. ``backward_pass`` sorts that graph topologically and walks it from
the output back to the leaves, calling each node's vjps. The vjps are themselves
written with engine ops (see ops.py), so with ``create_graph`` the sweep records a
graph of its own and gradients can be differentiated again.
"""
import functools
import weakref

import numpy as np

# Engine-wide modes, read on every op (module globals are Python's cheapest lookup).
_grad_enabled = True  # autograd.no_grad switches it off
_graph = None         # graph.Graph that captures calls instead of (symbolic) or while (tracing) running them
_tapes = ()           # active GradientTapes: each op tells them which tensors it read
_jvp_levels = ()      # forward-mode levels, outermost first: dicts id(primal) -> (primal, tangent)

FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
         "after they have already been freed). Saved intermediate values of the graph are freed "
         "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
         "backward through the graph a second time or if you need to access saved tensors after "
         "calling backward.")


def as_array(data, dtype=None):
    """A fresh NumPy array. Python floats become float32 (torch's default); text becomes
    an object array of bytes (as TensorFlow holds tf.string)."""
    if isinstance(data, Tensor):
        data = data.data
    arr = np.array(data, dtype=None if dtype is None or np.dtype(dtype) == object else dtype)
    if arr.dtype.kind in "US" or (arr.dtype == object and arr.size and isinstance(arr.flat[0], (str, bytes))):
        encode = np.frompyfunc(lambda s: s.encode() if isinstance(s, str) else bytes(s), 1, 1)
        return np.array(encode(arr), dtype=object)
    if dtype is None and arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):
        return arr.astype(np.float32)
    return arr


class Tensor:
    """An n-d array that remembers how it was computed (torch.Tensor-like)."""
    __slots__ = ("data", "_requires_grad", "grad", "grad_fn", "_hooks", "_retains_grad", "__weakref__")
    __array_ufunc__ = None       # ndarray <op> Tensor defers to the Tensor's reflected operator
    __hash__ = object.__hash__   # == is elementwise, so tensors hash by identity

    def __init__(self, data=(), requires_grad=False):
        self.data = data if type(data) is np.ndarray else as_array(data)
        self._requires_grad = self._retains_grad = False
        self.grad = self.grad_fn = self._hooks = None
        if requires_grad:
            self.requires_grad_()

    @classmethod
    def _wrap(cls, data):
        """A result tensor around an array already in its final form (skips __init__'s conversions)."""
        t = object.__new__(cls)
        t.data = data
        t._requires_grad = t._retains_grad = False
        t.grad = t.grad_fn = t._hooks = None
        return t

    # --- autograd state -------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self._requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def retain_grad(self):
        self._retains_grad = self.grad_fn is not None   # leaves keep .grad anyway

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is ready; a non-None return replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        self._hooks = (self._hooks or ()) + (hook,)
        return hook

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        backward_pass([self], seeds([self], [gradient]),
                      create_graph if retain_graph is None else retain_graph, create_graph)

    # --- NumPy-facing ----------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)

    def numpy(self):
        return self.data

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return (self[i] for i in range(len(self.data)))

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __index__(self):
        return int(self.data)

    def __format__(self, spec):
        return format(self.data.item(), spec) if spec and self.data.size == 1 else str(self)

    def __repr__(self):
        if self.data is None:
            return "<symbolic Tensor>"
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = (f", grad_fn={self.grad_fn!r}" if self.grad_fn is not None
                 else ", requires_grad=True" if self._requires_grad else "")
        return f"tensor({body}{extra})"


class Node:
    """grad_fn of a tensor: one application of an op, holding what its vjps read.

    ``parents`` are the inputs that require grad (None for the others); ``saved`` is
    (inputs, weakref to the output) -- weak, so an output and its node make no cycle.
    """
    __slots__ = ("parents", "saved", "attrs")
    op = None  # each op's subclass (AddBackward, MulBackward, ...) sets it

    def __init__(self, parents, inputs, out, attrs):
        self.parents, self.saved, self.attrs = parents, (inputs, weakref.ref(out)), attrs

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()}>"

    def vjp(self, g, wanted):
        """The gradient for each input flagged in ``wanted`` (None elsewhere)."""
        if self.saved is None:
            raise RuntimeError(FREED)
        xs, out = self.saved
        z = out()
        return [self.op.pullback(i, g, z, xs, self.attrs) if w else None for i, w in enumerate(wanted)]

    def release(self):
        """Drop saved values after a backward without retain_graph (as torch frees its buffers).
        Ops whose vjps read only shapes (add, sum, reshape...) keep theirs and can run again."""
        if self.op.saves:
            self.saved = None


def apply(op, args, attrs):
    """Run ``op`` forward; record a Node when grad is on and an input requires grad."""
    if _graph is not None:  # tracing or building a graph: the graph runs (or defers) the call
        return _graph.capture(apply, (op, args, attrs), {})
    for a in args:
        if not isinstance(a, Tensor):
            args = lift(args)
            break
    for tape in _tapes:
        tape._saw(args)
    data = op.forward(*[x.data for x in args], **attrs)
    out = Tensor._wrap(data if type(data) is np.ndarray else np.asarray(data))
    if _grad_enabled and op.vjp is not None:
        needs = [x._requires_grad for x in args]
        if True in needs and out.data.dtype.kind in "fc":
            out._requires_grad = True
            out.grad_fn = op.node(tuple([x if n else None for x, n in zip(args, needs)]), args, out, attrs)
    if _jvp_levels:
        _push_tangents(op, args, out, attrs)
    return out


def lift(args):
    """Wrap non-Tensor arguments. A Python number takes the dtype of a tensor operand
    (a float or complex one if there is one), as in torch, so ``x * 2`` stays float32."""
    like = None
    for a in args:
        if isinstance(a, Tensor) and (like is None or a.data.dtype.kind in "fc"):
            like = a
    return tuple([a if isinstance(a, Tensor) else Tensor._wrap(_scalar(a, like)) for a in args])


def _scalar(a, like):
    """``like``'s dtype when it keeps the number's kind (any number by a float or complex tensor, an int
    by an int tensor, a bool by a bool tensor); otherwise the defaults of as_array."""
    if like is not None and type(a) in (bool, int, float):
        kind = like.data.dtype.kind
        if kind in "fc" or (kind in "iu" and type(a) is not float) or (kind == "b" and type(a) is bool):
            return np.asarray(a, like.data.dtype)
    return as_array(a)


def _push_tangents(op, xs, out, attrs):
    """Forward mode: at each level where an input carries a tangent, give ``out`` one."""
    global _jvp_levels
    levels = _jvp_levels
    for k, level in enumerate(levels):
        pairs = [level.get(id(x)) for x in xs]
        if op.jvp is None or pairs.count(None) == len(pairs):
            continue
        _jvp_levels = levels[:k]  # the rule's own ops are seen by outer levels only
        try:
            t = None
            for i, pair in enumerate(pairs):
                if pair is not None:
                    ti = op.pushforward(i, pair[1], out, xs, attrs)
                    t = ti if t is None else t + ti
            level[id(out)] = (out, t)
        finally:
            _jvp_levels = levels


def recorded(fn):
    """Make a stateful call (print_, Variable.assign, Function.apply, ...) enter traces and
    graphs as one unit, so replaying a traced function repeats it."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if _graph is None:
            return fn(*args, **kwargs)
        return _graph.capture(call, args, kwargs)
    return call


# --- reverse mode ---------------------------------------------------------

def seeds(outputs, grads):
    """The starting gradients: given ones as tensors, or 1 for scalar outputs."""
    result = []
    for y, g in zip(outputs, grads):
        if not y._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if y.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if y.data.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs")
            g = Tensor._wrap(np.ones_like(y.data))
        result.append(g if isinstance(g, Tensor) else Tensor(as_array(g, y.data.dtype)))
    return result


def toposort(roots):
    """Tensors reachable from ``roots`` through grad_fn, each before those it was computed from
    (a depth-first post-order, reversed; iterative, so deep graphs don't hit the recursion limit)."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.grad_fn.parents if root.grad_fn else ()))]
        while stack:
            t, parents = stack[-1]
            for p in parents:
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p.grad_fn.parents if p.grad_fn else ())))
                    break
            else:
                stack.pop()
                order.append(t)
    order.reverse()
    return order


def backward_pass(roots, grads, retain_graph=False, create_graph=False, inputs=None):
    """The reverse sweep: walk the graph from ``roots`` (seeded with ``grads``) to the leaves.

    inputs=None: leaves that require grad accumulate into ``.grad`` (Tensor.backward).
    Otherwise: return {id(x): gradient} for the ``inputs`` a gradient reached (autograd.grad),
    and only the part of the graph that leads to them is walked.
    """
    global _grad_enabled
    order = toposort(roots)
    pending = {}  # id(tensor) -> gradient summed so far
    for r, g in zip(roots, grads):
        _accumulate(pending, r, g)
    needed = None if inputs is None else _leading_to(order, inputs)
    targets = set() if inputs is None else {id(x) for x in inputs}
    found = {}
    enabled, _grad_enabled = _grad_enabled, create_graph  # the sweep is recorded only for create_graph
    try:
        for t in order:
            g = pending.pop(id(t), None)
            if g is None:
                continue
            for hook in t._hooks or ():
                replaced = hook(g)
                g = g if replaced is None else replaced
            node = t.grad_fn
            if needed is not None:
                if id(t) in targets:
                    found[id(t)] = g
            elif node is None or t._retains_grad:  # leaves (and retain_grad) keep their gradient
                if t.grad is not None:
                    t.grad = t.grad + g
                else:  # a copy: one g may reach several tensors (add hands it to both inputs)
                    t.grad = g if create_graph else Tensor._wrap(g.data.copy())
            if node is None:
                continue
            wanted = [p is not None and (needed is None or id(p) in needed) for p in node.parents]
            for p, gp in zip(node.parents, node.vjp(g, wanted)):
                if gp is not None:
                    _accumulate(pending, p, gp)
            if not retain_graph:
                node.release()
    finally:
        _grad_enabled = enabled
    return found


def _accumulate(pending, t, g):
    pending[id(t)] = pending[id(t)] + g if id(t) in pending else g


def _leading_to(order, inputs):
    """ids of the tensors in ``order`` from which some input can be reached."""
    needed = {id(x) for x in inputs}
    for t in reversed(order):  # producers before consumers
        if t.grad_fn is not None and any(p is not None and id(p) in needed for p in t.grad_fn.parents):
            needed.add(id(t))
    return needed


# --- making tensors ---------------------------------------------------------------

def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data`` (torch.tensor)."""
    return Tensor(as_array(data, dtype), requires_grad)


def zeros(*shape, dtype="float32", requires_grad=False):
    return Tensor(np.zeros(_dims(shape), dtype), requires_grad)


def ones(*shape, dtype="float32", requires_grad=False):
    return Tensor(np.ones(_dims(shape), dtype), requires_grad)


def _dims(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape

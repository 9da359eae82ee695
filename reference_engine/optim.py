"""Optimizers: torch's step() over ``.grad`` and Keras' apply_gradients([(g, v), ...]).

Updates are host-side NumPy on ``.data`` (as torch's are under no_grad).
apply_gradients is a recorded call, so it replays inside traced functions.
"""
import numpy as np

from .engine import Tensor, recorded


class Optimizer:
    def __init__(self, params=None, lr=None, learning_rate=None, weight_decay=0):
        if isinstance(params, (int, float)):  # Keras style: SGD(0.01)
            params, lr = None, params
        self.params = [] if params is None else list(params)
        self.lr = learning_rate if learning_rate is not None else lr
        self.weight_decay = weight_decay
        self.state = {}  # id(param) -> (param, its slots)

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None if set_to_none or p.grad is None else Tensor(np.zeros_like(p.grad.data))

    def step(self):
        """Update every param from its ``.grad`` (torch)."""
        for p in self.params:
            if p.grad is not None:
                self._update(p, p.grad.data)

    def apply_gradients(self, grads_and_vars):
        """Update each variable from its gradient (Keras); None gradients are skipped."""
        self._apply(list(grads_and_vars))  # a list, not an iterator, so a replay sees the pairs again

    @recorded
    def _apply(self, grads_and_vars):
        for g, v in grads_and_vars:
            if g is not None:
                self._update(v, g.data if isinstance(g, Tensor) else np.asarray(g))

    def minimize(self, loss, var_list):
        """One step on ``loss()`` (a callable) w.r.t. ``var_list``: a tape plus apply_gradients."""
        from .tape import GradientTape
        with GradientTape() as tape:
            value = loss()
        self.apply_gradients(zip(tape.gradient(value, var_list), var_list))
        return value

    def _slots(self, p, **init):
        entry = self.state.get(id(p))
        if entry is None:
            entry = self.state[id(p)] = (p, dict(init))  # keeps p alive, so its id stays its own
        return entry[1]

    def _update(self, p, g):
        raise NotImplementedError


class SGD(Optimizer):
    """torch.optim.SGD:  g += wd*p;  v = mu*v + (1-dampening)*g  (v = g on the first step);
    g = g + mu*v if nesterov else v;  p -= lr*g.  With dampening=0 this equals Keras' momentum SGD."""

    def __init__(self, params=None, lr=None, momentum=0, dampening=0, nesterov=False, weight_decay=0,
                 learning_rate=None):
        super().__init__(params, lr, learning_rate, weight_decay)
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov

    def _update(self, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if self.momentum:
            s = self._slots(p)
            s["v"] = g.copy() if "v" not in s else self.momentum * s["v"] + (1 - self.dampening) * g
            g = g + self.momentum * s["v"] if self.nesterov else s["v"]
        p.data = (p.data - self.lr * g).astype(p.data.dtype, copy=False)


class Adam(Optimizer):
    """Adam, with epsilon placed as either library places it.

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g**2;  t = step count.
    epsilon_style="torch" (torch.optim.Adam, optax.adam), eps default 1e-8:
        p -= lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m/(1-b1**t),  v_hat = v/(1-b2**t)
        weight_decay is L2: g += wd*p before the moments.
    epsilon_style="keras" (tf.keras.optimizers.Adam, "epsilon hat"), eps default 1e-7:
        alpha = lr * sqrt(1-b2**t) / (1-b1**t);  p -= alpha * m / (sqrt(v) + eps)
        weight_decay is decoupled (Keras 3): p -= lr*wd*p before the step.
    amsgrad keeps the running maximum of v (torch: of v, then bias-corrected) in the denominator.
    """

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=None, weight_decay=0, amsgrad=False,
                 epsilon_style="torch", learning_rate=None, beta_1=None, beta_2=None, epsilon=None):
        super().__init__(params, lr, learning_rate, weight_decay)
        if epsilon_style not in ("torch", "keras"):
            raise ValueError("epsilon_style is 'torch' or 'keras'")
        self.b1, self.b2 = beta_1 if beta_1 is not None else betas[0], beta_2 if beta_2 is not None else betas[1]
        eps = epsilon if epsilon is not None else eps
        self.eps = eps if eps is not None else 1e-8 if epsilon_style == "torch" else 1e-7
        self.amsgrad, self.style = amsgrad, epsilon_style

    def _update(self, p, g):
        s = self._slots(p, t=0, m=0.0, v=0.0, vmax=0.0)
        lr, b1, b2 = self.lr, self.b1, self.b2
        if self.weight_decay and self.style == "torch":
            g = g + self.weight_decay * p.data
        if self.weight_decay and self.style == "keras":
            p.data = p.data - lr * self.weight_decay * p.data
        s["t"] += 1
        t = s["t"]
        s["m"] = b1 * s["m"] + (1 - b1) * g
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        v = s["v"]
        if self.amsgrad:
            v = s["vmax"] = np.maximum(s["vmax"], v)
        if self.style == "torch":
            step = lr * (s["m"] / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + self.eps)
        else:
            step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(v) + self.eps)
        p.data = (p.data - step).astype(p.data.dtype, copy=False)

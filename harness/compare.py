"""Comparing an observation with an expectation: structure, shape, dtype, then values.

NaN equals NaN, infinities compare exactly, ``None`` (no gradient) is not zero, an expected
``{error: category}`` matches an observed error of that category. Tolerances are per dtype;
a case may override them for one check, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.values import ErrorValue

# (rtol, atol) per dtype of the observed value
TOLERANCES = {
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
    "float32": (1e-5, 1e-6),
    "float64": (1e-10, 1e-12),
}


@dataclass
class Comparison:
    ok: bool
    message: str = ""
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    where: list | None = None  # the index of the largest error, with its path

    def __bool__(self):
        return self.ok


def compare(observed, expected, tolerance=None, path: str = "", dtypes: bool = True) -> Comparison:
    """Does ``observed`` conform to ``expected`` (a YAML value, or another observation)?
    ``dtypes=False`` compares values only, for an oracle that runs in a wider dtype on purpose."""
    at = f" at {path}" if path else ""
    if isinstance(expected, dict) and set(expected) == {"error"}:
        expected = ErrorValue(expected["error"])
    if isinstance(expected, ErrorValue):
        if isinstance(observed, ErrorValue) and observed.category == expected.category:
            return Comparison(True)
        return Comparison(False, f"expected error {expected.category}{at}, got "
                          f"{describe(observed)}")
    if isinstance(observed, ErrorValue):
        return Comparison(False, f"raised {observed.type or observed.category}{at}: "
                          f"{headline(observed.message)}")
    if expected is None or observed is None:
        if expected is None and observed is None:
            return Comparison(True)
        return Comparison(False, f"expected {describe(expected)}{at}, got {describe(observed)}")
    if isinstance(expected, dict) and set(expected) == {"bytes"}:
        expected = expected["bytes"].encode()
    if isinstance(expected, dict):
        if not isinstance(observed, dict):
            return Comparison(False, f"expected a mapping{at}, got {describe(observed)}")
        return _all([compare(observed.get(k, _MISSING), v, tolerance, f"{path}.{k}".lstrip("."), dtypes)
                     if k in observed else Comparison(False, f"missing {k!r}{at}")
                     for k, v in expected.items()])
    if isinstance(observed, (list, tuple)):
        if not isinstance(expected, (list, tuple)) or len(expected) != len(observed):
            return Comparison(False, f"expected {describe(expected)}{at}, got a list of "
                              f"{len(observed)}")
        return _all([compare(o, e, tolerance, f"{path}[{i}]", dtypes)
                     for i, (o, e) in enumerate(zip(observed, expected))])
    if isinstance(observed, dict):
        return Comparison(False, f"expected {describe(expected)}{at}, got a mapping")
    if isinstance(expected, (str, bytes)) or isinstance(observed, (str, bytes)) or \
            _is_text_array(observed):
        return _compare_text(observed, expected, at)
    return _compare_arrays(observed, expected, tolerance, path, dtypes)


_MISSING = object()


def _all(results: list[Comparison]) -> Comparison:
    bad = [r for r in results if not r.ok]
    worst = max(results, key=lambda r: r.max_abs_err or 0.0, default=Comparison(True))
    if bad:
        return Comparison(False, bad[0].message, worst.max_abs_err, worst.max_rel_err,
                          worst.where)
    return Comparison(True, "", worst.max_abs_err, worst.max_rel_err, worst.where)


def _is_text_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == object


def _text(x):
    if isinstance(x, np.ndarray):
        return [_text(v) for v in x.tolist()] if x.ndim else _text(x.item())
    if isinstance(x, list):
        return [_text(v) for v in x]
    return x.decode() if isinstance(x, bytes) else x


def _compare_text(observed, expected, at) -> Comparison:
    if _text(observed) == _text(expected):
        return Comparison(True)
    return Comparison(False, f"expected {_text(expected)!r}{at}, got {_text(observed)!r}")


def _compare_arrays(observed, expected, tolerance, path, dtypes=True) -> Comparison:
    at = f" at {path}" if path else ""
    obs = np.asarray(observed)
    exp = np.asarray(expected)
    if obs.dtype == object or exp.dtype == object:
        return Comparison(False, f"cannot compare {describe(observed)} with "
                          f"{describe(expected)}{at}")
    if obs.shape != exp.shape:
        return Comparison(False, f"shape {list(obs.shape)} != expected {list(exp.shape)}{at}")
    if obs.dtype.kind == "b" or exp.dtype.kind == "b":
        if obs.dtype.kind != exp.dtype.kind:
            return Comparison(False, f"dtype {obs.dtype} != expected {exp.dtype}{at}")
        same = np.array_equal(obs, exp)
        return Comparison(same, "" if same else f"expected {exp.tolist()}{at}, got "
                          f"{obs.tolist()}")
    if exp.dtype.kind == "f" and obs.dtype.kind in "iu" and not np.all(exp == np.round(exp)):
        return Comparison(False, f"dtype {obs.dtype} where a float was expected{at}")
    # Against another column's observation (an array with its own dtype), a float result of a
    # different precision is a difference in itself: a silent float64 -> float32 downcast would
    # otherwise pass within the looser dtype's tolerance. A YAML literal has no dtype to hold.
    if dtypes and isinstance(expected, np.ndarray) and obs.dtype.kind in "fc" \
            and exp.dtype.kind in "fc" and obs.dtype != exp.dtype:
        values = _compare_arrays(observed, exp.tolist(), tolerance, path)  # a literal now
        return Comparison(False, f"dtype {obs.dtype} != expected {exp.dtype}{at}; values "
                          + (f"agree to {obs.dtype}'s tolerance (max abs error {values.max_abs_err:.3g})"
                             if values.ok else values.message),
                          values.max_abs_err, values.max_rel_err, values.where)
    rtol, atol = _tolerance(obs, exp, tolerance)
    if obs.dtype.kind == "c" or exp.dtype.kind == "c":  # complex: compare [re, im] pairs
        obs, exp = (np.stack([np.real(a), np.imag(a)], axis=-1) for a in (obs, exp))
    o = obs.astype(np.float64)
    e = exp.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        special = np.isnan(o) | np.isnan(e) | np.isinf(o) | np.isinf(e)
        special_ok = (np.isnan(o) & np.isnan(e)) | (np.isinf(o) & (o == e))
        diff = np.where(special, np.where(special_ok, 0.0, np.inf), np.abs(o - e))
        ok = np.where(special, special_ok, diff <= atol + rtol * np.abs(e))
        rel = np.where(diff == 0, 0.0, diff / np.abs(e))
    if diff.size:
        worst = int(np.argmax(np.where(ok, -1.0, diff))) if (~ok).any() else int(np.argmax(diff))
        index = [int(i) for i in np.unravel_index(worst, diff.shape)] if diff.ndim else []
        max_abs, max_rel = float(diff.max()), float(rel.max())
    else:
        index, max_abs, max_rel = [], 0.0, 0.0
    where = [path, index] if path else index
    if bool(ok.all()):
        return Comparison(True, "", max_abs, max_rel, where)
    at_index = f"{path}{index if index else ''}"
    return Comparison(False, f"max abs error {max_abs:.3g} (rel {max_rel:.3g}) at "
                      f"{at_index or 'the value'}: got {_item(o, index)}, expected "
                      f"{_item(e, index)} (rtol {rtol:g}, atol {atol:g})", max_abs, max_rel,
                      where)


def _item(a, index):
    return a[tuple(index)].item() if index else a.item() if a.size == 1 else a.tolist()


def _tolerance(obs, exp, tolerance) -> tuple[float, float]:
    dtype = (str(obs.dtype) if obs.dtype.kind == "f" else
             {"complex64": "float32"}.get(str(obs.dtype), "float64"))
    rtol, atol = TOLERANCES.get(dtype, TOLERANCES["float32"])
    if obs.dtype.kind in "iu" and exp.dtype.kind in "iu":
        rtol, atol = 0.0, 0.0
    if tolerance is not None:
        rtol = tolerance.rtol if tolerance.rtol is not None else rtol
        atol = tolerance.atol if tolerance.atol is not None else atol
    return rtol, atol


def describe(value) -> str:
    if value is None:
        return "None (no gradient)"
    if value is _MISSING:
        return "nothing"
    if isinstance(value, ErrorValue):
        return f"error {value.category} ({value.type or 'no type'}: {headline(value.message)})"
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return f"{value.tolist()!r} ({value.dtype})"
        return f"array{list(value.shape)} ({value.dtype})"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}" if len(value) > 6 else repr(value)
    return repr(value)


def headline(message) -> str:
    """The first line of an error's message that says something (never empty)."""
    for line in str(message or "").splitlines():
        if line.strip():
            return line.strip()
    return "(no message)"

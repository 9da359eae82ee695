"""Consensus: the columns of one (program, check) partitioned into agreement classes.

Two answers agree when each is within the other's tolerance (``harness.compare.compare``,
the explorer's tolerance per dtype, both directions); NaN equals NaN; ``None`` (no
gradient), zero and an error are three different answers; two errors agree when their
normalised categories do. ``n/a`` columns take no part.
"""

from __future__ import annotations

from types import SimpleNamespace

from harness.compare import compare
from harness.scripts import Observation


def agree(a: Observation, b: Observation, tol, dtypes: bool = True) -> bool:
    """``dtypes=False`` for the float64 oracle: its values count, not its wider dtype."""
    if (a.status == "error") != (b.status == "error"):
        return False
    if a.status == "error":
        return a.value.category == b.value.category
    t = SimpleNamespace(rtol=tol[0], atol=tol[1])
    try:
        return (compare(a.value, b.value, t, dtypes=dtypes).ok
                and compare(b.value, a.value, t, dtypes=dtypes).ok)
    except Exception:
        return False


def partition(observations: dict[str, Observation], tol) -> list[list[str]]:
    """Agreement classes in column order, each led by its first column."""
    classes: list[list[str]] = []
    for column, obs in observations.items():
        if obs is None or obs.status == "n/a":
            continue
        for cls in classes:
            if agree(observations[cls[0]], obs, tol):
                cls.append(column)
                break
        else:
            classes.append([column])
    return classes


def key(classes: list[list[str]]) -> frozenset:
    return frozenset(frozenset(c) for c in classes)


def spell(classes: list[list[str]]) -> str:
    """``reference+torch | tensorflow+tensorflow[function] | ...`` (largest class first)."""
    ordered = sorted(classes, key=lambda c: (-len(c), c[0]))
    return " | ".join("+".join(c) for c in ordered)


def crashed(observations: dict[str, Observation]) -> bool:
    return any(o is not None and o.status == "error" and getattr(o.value, "category", "") ==
               "crashed" for o in observations.values())


def numeric(value) -> bool:
    """A float value (or a list of them): not None, not an error."""
    import numpy as np
    if isinstance(value, (list, tuple)):
        return bool(value) and all(numeric(v) for v in value)
    if value is None or isinstance(value, dict) or not hasattr(value, "dtype") and \
            not isinstance(value, float):
        return False
    return np.asarray(value).dtype.kind == "f"


def finite(value) -> bool:
    """A float value (or a list of them) with every element finite."""
    import numpy as np
    if isinstance(value, (list, tuple)):
        return bool(value) and all(finite(v) for v in value)
    return numeric(value) and bool(np.all(np.isfinite(np.asarray(value, dtype=float))))

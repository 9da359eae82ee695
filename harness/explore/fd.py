"""Central finite differences in float64 of the reference engine's value: an oracle for
first derivatives (grad order 1, jvp, jacobian) independent of every column's autodiff,
where the function is smooth around the point.

Where it applies: a check of one of those kinds; no input the program uses at a singular
special value (0, -0, ties, tiny, huge, ±inf, NaN: ±1 and -2.5 are ordinary points, and the
shrinker turns generic values into 1); no integer or unused input among ``wrt``; and, at the
point, numerically smooth: every value finite, the central estimates at steps ``h`` and
``h/2`` agreeing (stable), and the one-sided estimates agreeing with each other (no kink or
jump there: ``clip`` at its bound, ``floor`` at an integer). Otherwise ``None``: no opinion.

The function is the program as the reference dialect spells it (``Writer.function_of``),
evaluated on float64 copies of the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from harness.explore.generate import CheckSpec, InputSpec, Program

# special points at which no derivative is asked of finite differences
SINGULAR = {"zero", "negzero", "tie", "tiny", "huge", "inf", "neginf", "nan"}
STEP = 1e-5  # relative step (times max(1, |x|)); the second estimate uses STEP / 2
STABLE = (1e-6, 1e-7)  # (rtol, atol): the two central estimates agree
SMOOTH = (1e-3, 1e-4)  # (rtol, atol): the forward and backward estimates agree
# FD's own accuracy: a column agrees with FD within the looser of this and its dtype's
# tolerance (float64 columns are held to 1e-9, which FD cannot resolve)
TOLERANCE = (1e-5, 1e-6)


@dataclass
class FD:
    value: object  # the derivative, shaped like the check's observation
    max_step_error: float  # the largest |central(h) - central(h/2)|


def applies(program: Program, check: CheckSpec) -> bool:
    if check.kind not in ("grad", "jvp", "jacobian") or check.order != 1:
        return False
    used = program.live()
    if any(i.special in SINGULAR for i in program.inputs if i.name in used):
        return False
    for name in check.wrt:
        i = program.input(name)
        if i.dtype.startswith("int") or name not in used:
            return False
    return True


def value_function(program: Program, workdir):
    """``f(**arrays) -> ndarray``: the program's target in the reference engine."""
    import reference_engine as re
    from harness.dialects import dialect
    from harness.dialects.base import Writer
    from harness.explore.cases import case_dict, load_many
    from harness.plan import make_plan

    p = replace(program, checks=(CheckSpec("value", 1, ()),))
    _, valid = load_many([("fd", case_dict(p, "fd"))], workdir, "fd")
    case = valid["fd"]
    plan = make_plan(case, case.checks[0], case.check_ids[0])
    names = [i.name for i in program.inputs]
    w = Writer(dialect("reference"), plan, "eager")
    source = "\n".join(w.function_of("f", names, program.target))
    namespace = {"re": re, "np": np}
    exec(compile(source, "<finite differences>", "exec"), namespace)  # noqa: S102 - our rendering
    f = namespace["f"]

    def evaluate(arrays: dict) -> np.ndarray:
        out = f(*[re.tensor(arrays[n]) for n in names])
        return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float64)

    return evaluate


def finite_differences(program: Program, check: CheckSpec, workdir) -> FD | None:
    """The check's derivative by central differences, or ``None`` where they do not apply."""
    if not applies(program, check):
        return None
    try:
        f = value_function(program, workdir)
        point = {i.name: np.array(i.array(), dtype=np.float64) if not i.dtype.startswith("int")
                 else i.array() for i in program.inputs}
        with np.errstate(all="ignore"):
            y0 = f(point)
            if not np.all(np.isfinite(y0)):
                return None
            jacobians, worst = {}, 0.0
            for name in check.wrt:
                jac, err = _jacobian(f, point, name, y0)
                if jac is None:
                    return None
                jacobians[name] = jac
                worst = max(worst, err)
    except Exception:  # a program the engine refuses: no opinion
        return None
    out_axes = tuple(range(y0.ndim))
    if check.kind == "grad":  # of the target, summed when it is not a scalar
        grads = [jacobians[n].sum(axis=out_axes) for n in check.wrt]
        value = grads[0] if len(grads) == 1 else grads
    elif check.kind == "jvp":  # tangents of ones for every name
        value = sum(jacobians[n].sum(axis=tuple(range(y0.ndim, jacobians[n].ndim)))
                    for n in check.wrt)
    else:
        value = jacobians[check.wrt[0]]
    return FD(_as_observed(value), worst)


def _jacobian(f, point, name, y0):
    """d target / d input ``name``: shape ``target.shape + input.shape``; ``None`` where the
    function is not finite, not stable or not smooth around the point."""
    x = point[name]
    jac = np.zeros(y0.shape + x.shape)
    worst = 0.0
    for idx in np.ndindex(x.shape):
        h = STEP * max(1.0, abs(float(x[idx])))
        values = {}
        for step in (h, -h, h / 2, -h / 2):
            moved = x.copy()
            moved[idx] += step
            values[step] = f({**point, name: moved})
            if values[step].shape != y0.shape or not np.all(np.isfinite(values[step])):
                return None, 0.0
        c1 = (values[h] - values[-h]) / (2 * h)
        c2 = (values[h / 2] - values[-h / 2]) / h
        forward = (values[h / 2] - y0) / (h / 2)
        backward = (y0 - values[-h / 2]) / (h / 2)
        if not np.allclose(c1, c2, rtol=STABLE[0], atol=STABLE[1]):
            return None, 0.0
        if not np.allclose(forward, backward, rtol=SMOOTH[0], atol=SMOOTH[1]):
            return None, 0.0
        worst = max(worst, float(np.max(np.abs(c1 - c2), initial=0.0)))
        jac[(...,) + idx] = (4 * c2 - c1) / 3  # Richardson: the h^2 error terms cancel
    return jac, worst


def _as_observed(value):
    if isinstance(value, list):
        return [_as_observed(v) for v in value]
    value = np.asarray(value, dtype=np.float64)
    return value if value.ndim else np.float64(value)


def tolerance(program_tol) -> tuple[float, float]:
    return (max(program_tol[0], TOLERANCE[0]), max(program_tol[1], TOLERANCE[1]))


def observation(fd: FD):
    """FD as an ``Observation`` (for ``consensus.agree``)."""
    from harness.scripts import Observation
    return Observation("ok", fd.value)


__all__ = ["FD", "applies", "finite_differences", "observation", "tolerance", "InputSpec"]

"""Plots drawn at report time as small inline SVG (matplotlib, no pyplot, no JS needed).

- `optimize` checks: the loss curve of every backend overlaid (log scale when it spans
  decades), and, when the parameter trajectory is 2-D and the case asks for
  `plot: {kind: contour, function: himmelblau}`, the path on that function's contours.
- `plot: {kind: curve}`: 1-D observed arrays of every backend overlaid against their index.
Curves are downsampled to at most MAX_POINTS points.
"""
from __future__ import annotations

import io
import itertools
import math
import re

from markupsafe import Markup

from .formatting import decode, is_array, is_error, to_float

MAX_POINTS = 200
_counter = itertools.count()

BACKEND_STYLE = {  # colour-blind-safe palette (Okabe-Ito), mode = dashes
    "reference": ("#000000", "-", "o"),
    "torch": ("#D55E00", "-", "s"),
    "tensorflow": ("#E69F00", "-", "^"),
    "tensorflow[function]": ("#E69F00", "--", "v"),
    "jax": ("#0072B2", "-", "D"),
    "jax[jit]": ("#56B4E9", "--", "P"),
}
_EXTRA_COLOURS = ["#009E73", "#CC79A7", "#F0E442", "#999999"]
_VERSION_DASHES = ["-", "--", ":", "-."]


def himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def booth(x, y):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


FUNCTIONS = {  # name -> (f, default domain (xmin, xmax, ymin, ymax), minima)
    "himmelblau": (himmelblau, (-5.0, 5.0, -5.0, 5.0),
                   [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]),
    "rosenbrock": (rosenbrock, (-2.0, 2.0, -1.0, 3.0), [(1.0, 1.0)]),
    "booth": (booth, (-10.0, 10.0, -10.0, 10.0), [(1.0, 3.0)]),
}


# ---------------------------------------------------------------- data

def _numbers(seq):
    """A list of scalars (or 1-element lists) as floats; None when it is not one."""
    out = []
    for v in seq:
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        f = to_float(v)
        if f is None:
            return None
        out.append(f)
    return out


def _series(value):
    """A recorded series: scalars (or 0-d arrays) -> floats; small vectors -> lists of floats."""
    if not isinstance(value, list) or not value:
        return None
    out = []
    for item in decode(value):
        if isinstance(item, list):
            nums = _numbers(item)
            if nums is None or not nums:
                return None
            out.append(nums if len(nums) > 1 else nums[0])
        else:
            f = to_float(item)
            if f is None:
                return None
            out.append(f)
    return out


_ON_NAME = re.compile(r"\bon ([A-Za-z_]\w*)")
_STEPS = re.compile(r"\b(\d+) steps\b")


def _loss_name(series: dict, check: dict) -> str | None:
    scalar = [k for k, v in series.items() if all(isinstance(x, float) for x in v)]
    spec = check.get("plot") if isinstance(check.get("plot"), dict) else {}
    for name in ("loss", check.get("loss"), spec.get("loss")):
        if name in scalar:
            return name
    match = _ON_NAME.search(str(check.get("summary") or ""))
    if match and match.group(1) in scalar:
        return match.group(1)
    return scalar[-1] if scalar else None


def trajectory(value, check: dict | None = None):
    """{"loss", "loss_name", "step", "params"} from an observed optimize value, or None.

    A trajectory is an object of recorded series, one per name: the objective and the
    parameters (`{"x": [[0, 0], ...], "f": [170.0, ...], "final": {...}}`); scalars may be
    0-d arrays. The objective is `loss`, the check's `loss`, the name after "on" in its
    summary ("adam lr=0.1 on f"), or else the last scalar series.
    """
    check = check or {}
    if not isinstance(value, dict) or is_error(value) or is_array(value):
        return None
    series = {}
    for key, v in value.items():
        if key in ("final", "step", "steps"):
            continue
        s = _series(v)
        if s is not None:
            series[key] = s
    name = _loss_name(series, check)
    if name is None:
        return None
    loss = series.pop(name)
    step = _series(value.get("step") or value.get("steps"))
    if step is None or len(step) != len(loss) or not all(isinstance(x, float) for x in step):
        step = None
        spec = check.get("plot") if isinstance(check.get("plot"), dict) else {}
        every = check.get("every") or check.get("record_every") or spec.get("every")
        if not every and len(loss) > 1:
            match = _STEPS.search(str(check.get("summary") or ""))
            if match and int(match.group(1)) % (len(loss) - 1) == 0:
                every = int(match.group(1)) // (len(loss) - 1)
        if every:
            step = [float(i * every) for i in range(len(loss))]
    return {"loss": loss, "loss_name": name, "step": step, "params": series}


def _expected_final(expected, traj):
    """The expected final point of a 2-D parameter ({"final": {"x": [3.0, 2.0]}}), or None."""
    if not isinstance(expected, dict) or not isinstance(expected.get("final"), dict):
        return None
    for key, value in expected["final"].items():
        if key in traj["params"]:
            point = decode(value)
            point = [decode(p) if is_array(p) else p for p in point] if isinstance(point, list) else None
            nums = _numbers(point) if point else None
            if nums and len(nums) == 2:
                return nums
    return None


def path_2d(traj):
    """The (xs, ys) path of a trajectory whose parameter is 2-D, or None."""
    params = traj["params"]
    for v in params.values():
        if v and all(isinstance(p, list) and len(p) == 2 for p in v):
            xs, ys = _numbers([p[0] for p in v]), _numbers([p[1] for p in v])
            if xs is not None and ys is not None:
                return xs, ys
    scalars = [v for v in params.values() if _numbers(v) is not None]
    if len(scalars) == 2 and len(scalars[0]) == len(scalars[1]):
        return _numbers(scalars[0]), _numbers(scalars[1])
    return None


def downsample(n: int, limit: int = MAX_POINTS) -> list[int]:
    if n <= limit:
        return list(range(n))
    step = (n - 1) / (limit - 1)
    idx = sorted({round(i * step) for i in range(limit)})
    return idx


def _style(column: dict, index: int):
    backend = column["backend"]
    colour, dash, marker = BACKEND_STYLE.get(
        backend, (_EXTRA_COLOURS[index % len(_EXTRA_COLOURS)], "-", "x"))
    if column.get("version_rank") is not None:
        dash = _VERSION_DASHES[column["version_rank"] % len(_VERSION_DASHES)]
    return colour, dash, marker


# ---------------------------------------------------------------- figures

RC = {"svg.fonttype": "none", "svg.hashsalt": "conformance", "font.size": 8,
      "axes.titlesize": 9, "legend.fontsize": 7, "font.family": "sans-serif",
      "axes.spines.top": False, "axes.spines.right": False}


def _figure(width=5.0, height=2.8):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=72)
    return fig, fig.add_subplot(1, 1, 1)


_ID = re.compile(r'\bid="([^"]+)"')
_ID_ATTR = re.compile(r' id="([^"]+)"')


_NUM = re.compile(r"-?\d+\.\d+")
_GEOMETRY = re.compile(r'\b(d|x|y|x1|x2|y1|y2|cx|cy|r|width|height|transform|points)="([^"]*)"')
_REF = re.compile(r'(?:url\(#|href="#)([^")]+)')


def _round(match) -> str:
    text = f"{float(match.group(0)):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _minify(text: str) -> str:
    """Smaller SVG: 0.1 pt precision for geometry, compact paths, only the ids in use."""
    text = _GEOMETRY.sub(lambda m: f'{m.group(1)}="{_NUM.sub(_round, " ".join(m.group(2).split()))}"', text)
    text = re.sub(r' ?([MLQCZz]) ', r"\1", text)
    used = set(_REF.findall(text))
    return _ID_ATTR.sub(lambda m: m.group(0) if m.group(1) in used else "", text)


def _svg(fig, alt: str) -> Markup:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r">\s+<", "><", text)
    text = _minify(text)
    # Ids must be unique in the page: give this plot's ids a prefix of their own.
    prefix = f"p{next(_counter)}-"
    ids = set(_ID.findall(text))
    if ids:
        alternatives = "|".join(map(re.escape, sorted(ids, key=len, reverse=True)))
        pattern = re.compile(r'(id="|url\(#|href="#)(' + alternatives + r')(?=["\)])')
        text = pattern.sub(lambda m: m.group(1) + prefix + m.group(2), text)
    text = text.replace("<svg ", f'<svg class="plot" role="img" aria-label="{_attr(alt)}" ', 1)
    end = text.index(">") + 1
    text = text[:end] + f"<title>{_attr(alt)}</title>" + text[end:]
    return Markup(text)


def _attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def loss_plot(curves, title: str, step_label: str, loss_label: str = "loss") -> Markup | None:
    """curves: list of (label, column, traj) ; expected first with column None."""
    fig, ax = _figure()
    finite_all = []
    n_markers = max(1, len(curves))
    for i, (label, column, traj) in enumerate(curves):
        loss = traj["loss"]
        idx = downsample(len(loss))
        steps = traj["step"] if traj["step"] and len(traj["step"]) == len(loss) else None
        xs = [steps[j] if steps else j for j in idx]
        ys = [loss[j] if math.isfinite(loss[j]) else math.nan for j in idx]
        finite_all += [y for y in ys if math.isfinite(y)]
        if column is None:
            ax.plot(xs, ys, color="#bbbbbb", linewidth=4, label=label, solid_capstyle="round", zorder=1)
            continue
        colour, dash, marker = _style(column, i)
        every = max(1, len(xs) // 8)
        ax.plot(xs, ys, color=colour, linestyle=dash, linewidth=1.3, marker=marker, markersize=3.5,
                markevery=(min(i * max(1, every // n_markers), max(0, len(xs) - 1)), every),
                label=label, zorder=2 + i)
    if not finite_all:
        return None
    positive = [y for y in finite_all if y > 0]
    if len(positive) == len(finite_all) and max(positive) / min(positive) >= 100:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=8))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain text, no mathtext
        ax.yaxis.set_minor_locator(NullLocator())  # minor ticks cost more than they show
        title += " (log scale)"
    ax.set_xlabel(step_label)
    ax.set_ylabel(loss_label)
    ax.set_title(title, loc="left")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.subplots_adjust(left=0.13, right=0.70, bottom=0.16, top=0.9)
    return _svg(fig, title)


def contour_plot(curves, function: str, title: str, target=None) -> Markup | None:
    import numpy as np
    f, (x0, x1, y0, y1), minima = FUNCTIONS[function]
    paths = [(label, column, path_2d(traj)) for label, column, traj in curves]
    paths = [(label, column, p) for label, column, p in paths if p]
    if not paths:
        return None
    xs_all = [x for _, _, (xs, _) in paths for x in xs if math.isfinite(x)]
    ys_all = [y for _, _, (_, ys) in paths for y in ys if math.isfinite(y)]
    if xs_all and ys_all:
        pad_x = 0.1 * (max(xs_all) - min(xs_all) or 1)
        pad_y = 0.1 * (max(ys_all) - min(ys_all) or 1)
        x0, x1 = min(x0, min(xs_all) - pad_x), max(x1, max(xs_all) + pad_x)
        y0, y1 = min(y0, min(ys_all) - pad_y), max(y1, max(ys_all) + pad_y)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 90), np.linspace(y0, y1, 90))
    gz = f(gx, gy)
    fig, ax = _figure(5.0, 3.6)
    lo = max(float(gz.min()), 1e-2)
    levels = np.geomspace(lo + 0.5, float(gz.max()), 14)
    ax.contour(gx, gy, gz, levels=levels, colors="#9aa5b1", linewidths=0.6)
    for mx, my in minima:
        ax.plot([mx], [my], marker="*", color="#444444", markersize=7, linestyle="none", zorder=3)
    for i, (label, column, (xs, ys)) in enumerate(paths):
        idx = downsample(len(xs))
        px, py = [xs[j] for j in idx], [ys[j] for j in idx]
        if column is None:
            ax.plot(px, py, color="#bbbbbb", linewidth=4, label=label, zorder=2)
            continue
        colour, dash, marker = _style(column, i)
        ax.plot(px, py, color=colour, linestyle=dash, linewidth=1.3, label=label, zorder=4 + i)
        ax.plot(px[-1:], py[-1:], color=colour, marker=marker, markersize=5, linestyle="none", zorder=5 + i)
    first = paths[0][2]
    ax.plot([first[0][0]], [first[1][0]], marker="o", markerfacecolor="white", markeredgecolor="black",
            markersize=6, linestyle="none", label="start", zorder=20)
    if target:
        ax.plot([target[0]], [target[1]], marker="X", color="#666666", markersize=7, linestyle="none",
                label="expected end", zorder=19)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_title(title, loc="left")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.subplots_adjust(left=0.11, right=0.70, bottom=0.12, top=0.92)
    return _svg(fig, title)


def curve_plot(curves, title: str) -> Markup | None:
    fig, ax = _figure()
    drawn = False
    for i, (label, column, ys) in enumerate(curves):
        idx = downsample(len(ys))
        px = list(idx)
        py = [ys[j] if math.isfinite(ys[j]) else math.nan for j in idx]
        if column is None:
            ax.plot(px, py, color="#bbbbbb", linewidth=4, label=label, zorder=1)
        else:
            colour, dash, marker = _style(column, i)
            ax.plot(px, py, color=colour, linestyle=dash, linewidth=1.3, label=label, zorder=2 + i)
        drawn = True
    if not drawn:
        return None
    ax.set_title(title, loc="left")
    ax.set_xlabel("index")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.subplots_adjust(left=0.13, right=0.70, bottom=0.16, top=0.9)
    return _svg(fig, title)


# ---------------------------------------------------------------- entry point

def _flat_curve(value):
    data = decode(value) if is_array(value) else value
    if isinstance(data, list):
        return _numbers(data)
    return None


def plots_for_check(check: dict, kind: str, expected, rows: list[tuple[dict, dict]]) -> list[Markup]:
    """SVG plots for one check. rows: (column description, row) in column order."""
    spec = check.get("plot") if isinstance(check.get("plot"), dict) else {}
    if not (kind == "optimize" or spec.get("kind") in ("trajectory", "contour", "curve")):
        return []
    import matplotlib
    with matplotlib.rc_context(RC):
        return _plots(check, spec, kind, expected, rows)


def _plots(check, spec, kind, expected, rows):
    out = []
    try:
        if kind == "optimize" or spec.get("kind") in ("trajectory", "contour"):
            curves = []
            exp = trajectory(expected, check)
            if exp:
                curves.append(("expected", None, exp))
            for column, row in rows:
                traj = trajectory(row.get("observed"), check)
                if traj:
                    curves.append((column["key"], column, traj))
            if not any(c[1] for c in curves):
                return []
            first = next(c[2] for c in curves if c[1])
            step_label = "step" if any(c[2]["step"] for c in curves) else "recorded point"
            name = check.get("summary") or check.get("id") or "loss"
            svg = loss_plot(curves, f"{first['loss_name']}: {name}", step_label, first["loss_name"])
            if svg:
                out.append(svg)
            function = spec.get("function")
            if function in FUNCTIONS and spec.get("kind") in ("contour", "trajectory", None):
                svg = contour_plot(curves, function, f"Path on {function}", _expected_final(expected, first))
                if svg:
                    out.append(svg)
        elif spec.get("kind") == "curve":
            curves = []
            exp = _flat_curve(expected)
            if exp:
                curves.append(("expected", None, exp))
            for column, row in rows:
                ys = _flat_curve(row.get("observed"))
                if ys:
                    curves.append((column["key"], column, ys))
            svg = curve_plot(curves, check.get("summary") or check.get("id") or "curve")
            if svg:
                out.append(svg)
    except Exception as exc:  # a plot must never cost the report
        out.append(Markup('<p class="plot-error">plot failed: ') + str(exc) + Markup("</p>"))
    return out

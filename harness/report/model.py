"""From a results document to what the HTML template shows (no HTML here but values).

`build(doc)` groups rows by topic, case, check and column, and computes the summary: counts
per verdict and per column, the cell colours (worst verdict first), what needs attention,
the version changes of a merged document, and the plots.
"""
from __future__ import annotations

import datetime as _dt
import re

from . import plots
from .documents import STATUS_TEXT, STATUSES, backend_rank, is_merged, severity, version_key, worst
from .formatting import describe, format_error_figure, format_where, render_html
from .merge import column_key

ATTENTION_LIMIT = 200
OPEN_STATUSES = {"error", "fail", "fixed", "divergence"}


def status_class(status) -> str:
    return "s-" + re.sub(r"[^a-z]", "", str(status).lower()) if status else "s-none"


class _Anchors:
    def __init__(self):
        self.used = set()

    def __call__(self, *parts) -> str:
        base = "--".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", str(p)) for p in parts)
        anchor, n = base, 1
        while anchor in self.used:
            n += 1
            anchor = f"{base}-{n}"
        self.used.add(anchor)
        return anchor


def format_time(stamp) -> str:
    if not stamp:
        return ""
    try:
        t = _dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return str(stamp)
    if t.tzinfo is not None and t.utcoffset() == _dt.timedelta(0):
        return t.strftime("%Y-%m-%d %H:%M:%S UTC")
    return t.strftime("%Y-%m-%d %H:%M:%S %z").strip()


def format_duration(seconds) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return ""
    if s < 1:
        return f"{s * 1000:.1f} ms" if s < 0.1 else f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    m, s = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {s} s"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"


def _columns_single(doc: dict) -> list[dict]:
    frameworks = (doc.get("environment") or {}).get("frameworks") or {}
    found: dict[str, dict] = {}
    for row in doc["rows"]:
        backend = row["backend"]
        if backend not in found:
            framework = row.get("framework") or backend.split("[", 1)[0]
            found[backend] = {"key": backend, "backend": backend, "framework": framework,
                              "version": row.get("version") or frameworks.get(framework)}
        elif not found[backend]["version"] and row.get("version"):
            found[backend]["version"] = row["version"]
    return sorted(found.values(), key=lambda c: backend_rank(c["backend"]))


def _columns_merged(doc: dict) -> list[dict]:
    columns = [dict(c) for c in doc.get("columns") or []]
    known = {c["key"] for c in columns}
    for row in doc["rows"]:  # a hand-made merged doc without `columns`
        key = row.get("column") or column_key(row["backend"], row.get("version"))
        if key not in known:
            known.add(key)
            columns.append({"key": key, "backend": row["backend"], "version": row.get("version")})
    columns.sort(key=lambda c: (backend_rank(c["backend"]), version_key(c.get("version"))))
    by_backend: dict[str, int] = {}
    for c in columns:
        c["version_rank"] = by_backend.get(c["backend"], 0)
        by_backend[c["backend"]] = c["version_rank"] + 1
    return columns


def _environment(env: dict) -> list[tuple[str, str]]:
    items = []
    for key, label in (("python", "Python"), ("platform", "OS"), ("machine", "Machine"), ("cpu", "CPU"),
                       ("cores", "Cores"), ("harness", "Harness")):
        if env.get(key) not in (None, ""):
            items.append((label, str(env[key])))
    return items


def _frameworks(env: dict) -> list[dict]:
    out = [{"name": k, "version": str(v), "missing": None} for k, v in (env.get("frameworks") or {}).items()]
    for k, reason in (env.get("skipped_frameworks") or {}).items():
        out.append({"name": k, "version": "not installed", "missing": str(reason)})
    out.sort(key=lambda f: backend_rank(f["name"]))
    return out


def _run(run: dict) -> dict:
    return {"started": format_time(run.get("started")), "finished": format_time(run.get("finished")),
            "duration": format_duration(run.get("duration_s")) if run.get("duration_s") is not None else "",
            "complete": run.get("complete", True) is not False, "command": run.get("command") or "",
            "label": run.get("label") or "", "paths": run.get("paths") or []}


def _cell(column_key_: str, statuses: list[str], anchor: str) -> dict:
    w = worst(statuses)
    counts = {s: statuses.count(s) for s in STATUSES if s in statuses}
    for s in statuses:
        if s not in counts:
            counts[s] = statuses.count(s)
    n = len(statuses)
    title = f"{column_key_}: " + ", ".join(f"{c} {s}" for s, c in counts.items())
    return {"column": column_key_, "worst": w, "cls": status_class(w), "n": n,
            "n_worst": counts.get(w, 0), "title": title, "anchor": anchor,
            "statuses": " ".join(sorted(counts, key=severity, reverse=True)), "rank": severity(w),
            "changed": False}


def build(doc: dict, title: str | None = None, with_plots: bool = True) -> dict:
    merged = is_merged(doc)
    columns = _columns_merged(doc) if merged else _columns_single(doc)
    col_of = (lambda r: r.get("column") or column_key(r["backend"], r.get("version"))) if merged else (
        lambda r: r["backend"])
    col_index = {c["key"]: i for i, c in enumerate(columns)}
    anchors = _Anchors()
    cases_meta = doc.get("cases") or {}

    # rows grouped: case -> check -> column -> row
    grouped: dict[str, dict[str, dict[str, dict]]] = {}
    for row in doc["rows"]:
        grouped.setdefault(row["case"], {}).setdefault(row["check"], {})[col_of(row)] = row
    changes = doc.get("changes") or []
    changed_checks = {(c["case"], c["check"]) for c in changes}
    changed_cells = {(c["case"], c["check"], v["column"]) for c in changes for v in c["verdicts"]}

    case_order = list(cases_meta) + [c for c in grouped if c not in cases_meta]
    topics: dict[str, list] = {}
    counts = {s: 0 for s in STATUSES}
    col_counts = {c["key"]: {s: 0 for s in STATUSES} for c in columns}
    attention, claims = [], {}
    n_checks = 0
    for case_id in case_order:
        meta = cases_meta.get(case_id) or {}
        checks_meta = {c.get("id"): c for c in meta.get("checks") or [] if isinstance(c, dict)}
        by_check = grouped.get(case_id, {})
        check_order = list(checks_meta) + [c for c in by_check if c not in checks_meta]
        case_anchor = anchors("case", case_id)
        case = {"id": case_id, "anchor": case_anchor, "title": meta.get("title") or case_id,
                "topic": meta.get("topic") or "(no topic)", "file": meta.get("file"), "line": meta.get("line"),
                "source": meta.get("source"), "covers": meta.get("covers") or [], "checks": [],
                "changed": False}
        statuses_by_col: dict[str, list[str]] = {}
        for check_id in check_order:
            cmeta = checks_meta.get(check_id) or {"id": check_id}
            rows_by_col = by_check.get(check_id, {})
            n_checks += 1
            check_anchor = anchors("check", case_id, check_id)
            kind = cmeta.get("kind") or next((r.get("kind") for r in rows_by_col.values() if r.get("kind")), "")
            has_expect = "expect" in cmeta
            top_expected = cmeta.get("expect") if has_expect else next(
                (r.get("expected") for r in rows_by_col.values() if "expected" in r), None)
            expected_label = "expected (document)" if has_expect else "expected"
            if not has_expect and rows_by_col and all(r.get("compared_with") == "reference"
                                                      for r in rows_by_col.values()):
                expected_label = "expected (reference engine)"
            row_views, cells, plot_rows = [], [], []
            for column in columns:
                row = rows_by_col.get(column["key"])
                if row is None:
                    cells.append(None)
                    continue
                status = row.get("status")
                counts[status] = counts.get(status, 0) + 1
                col_counts[column["key"]][status] = col_counts[column["key"]].get(status, 0) + 1
                statuses_by_col.setdefault(column["key"], []).append(status)
                anchor = anchors("row", case_id, check_id, column["key"])
                view = _row_view(row, column, anchor, top_expected, (case_id, check_id, column["key"]) in changed_cells)
                row_views.append(view)
                plot_rows.append((column, row))
                cells.append(_cell(column["key"], [status], anchor))
                if status in ("fail", "error", "fixed") and len(attention) < ATTENTION_LIMIT:
                    attention.append({"status": status, "cls": status_class(status), "case": case_id,
                                      "check": check_id, "column": column["key"], "anchor": anchor,
                                      "message": row.get("message") or ""})
                if row.get("claim_holds") is False:
                    claim = claims.setdefault((case_id, check_id), {"case": case_id, "check": check_id,
                                                                     "anchor": check_anchor, "columns": []})
                    claim["columns"].append(column["key"])
            for c in cells:
                if c and (case_id, check_id, c["column"]) in changed_cells:
                    c["changed"] = True
            check = {"id": check_id, "anchor": check_anchor, "kind": kind, "summary": cmeta.get("summary") or "",
                     "has_expect": top_expected is not None or has_expect, "expected_label": expected_label,
                     "expect_html": render_html(top_expected), "expect_shape": describe(top_expected),
                     "claim": "claim" in cmeta,
                     "claim_html": render_html(cmeta.get("claim")) if "claim" in cmeta else None,
                     "claim_note": cmeta.get("claim_note") or "",
                     "rows": row_views, "cells": cells, "changed": (case_id, check_id) in changed_checks,
                     "statuses": " ".join(sorted({r["status"] for r in row_views}, key=severity, reverse=True)),
                     "plots": plots.plots_for_check(cmeta, kind, top_expected, plot_rows) if with_plots else []}
            case["changed"] = case["changed"] or check["changed"]
            case["checks"].append(check)
        case["cells"] = []
        for column in columns:
            sts = statuses_by_col.get(column["key"])
            if not sts:
                case["cells"].append(None)
                continue
            cell = _cell(column["key"], sts, case_anchor)
            # a cell with one check goes straight to that check's detail
            only = [ch for ch in case["checks"] if ch["cells"][col_index[column["key"]]]]
            if len(only) == 1:
                cell["anchor"] = only[0]["cells"][col_index[column["key"]]]["anchor"]
            cell["changed"] = any(ch["cells"][col_index[column["key"]]] and
                                  ch["cells"][col_index[column["key"]]].get("changed") for ch in case["checks"])
            case["cells"].append(cell)
        all_statuses = [s for sts in statuses_by_col.values() for s in sts]
        case["worst"] = worst(all_statuses)
        case["cls"] = status_class(case["worst"])
        case["open"] = bool(set(all_statuses) & OPEN_STATUSES) or case["changed"]
        case["text"] = " ".join([case_id, case["title"], case["topic"], case["source"] or "", *case["covers"],
                                 *(f"{ch['id']} {ch['kind']} {ch['summary']}" for ch in case["checks"])]).lower()
        topics.setdefault(case["topic"], []).append(case)

    for column in columns:
        c = col_counts[column["key"]]
        column["counts"] = [(s, status_class(s), c.get(s, 0)) for s in STATUSES]
        column["total"] = sum(c.values())
        column["label"] = column["key"]
        column["failed"] = c.get("fail", 0) + c.get("error", 0)
    total = sum(counts.values())
    n_attention = sum(counts.get(s, 0) for s in ("fail", "error", "fixed"))
    env = doc.get("environment") or {}
    run = _run(doc.get("run") or {})
    if title is None:
        title = "Version matrix" if merged else "Conformance report" + (f": {run['label']}" if run["label"] else "")
    runs = []
    for r in doc.get("runs") or []:
        renv = r.get("environment") or {}
        runs.append({"label": r.get("label"), "run": _run(r.get("run") or {}),
                     "environment": _environment(renv), "frameworks": _frameworks(renv)})
    return {
        "title": title, "merged": merged,
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "run": run, "environment": _environment(env), "frameworks": _frameworks(env), "runs": runs,
        "columns": columns,
        "statuses": [{"name": s, "cls": status_class(s), "text": STATUS_TEXT[s], "count": counts.get(s, 0)}
                     for s in STATUSES],
        "other_statuses": {s: n for s, n in counts.items() if s not in STATUSES and n},
        "total": total, "n_cases": sum(len(v) for v in topics.values()), "n_checks": n_checks,
        "topics": [{"name": name, "anchor": anchors("topic", name), "cases": cases} for name, cases in topics.items()],
        "attention": sorted(attention, key=lambda a: -severity(a["status"])), "n_attention": n_attention,
        "claims": list(claims.values()),
        "changes": [dict(c, anchor=_first_anchor(topics, c)) for c in changes],
        "conflicts": doc.get("conflicts") or [],
        "keras_promise": _promise_view(doc, topics),
        "failed": counts.get("fail", 0) + counts.get("error", 0) > 0,
    }


# ---- the Keras promise: one model, identical numerics on every backend ----------------------

KERAS_PROMISE = 1e-7  # "numerics are identical across backends" up to 1e-7 in float32


def _leaves(value, path=""):
    """``(path, float64 array)`` for every numeric leaf of an observed value; a leaf that is
    not numeric (an error, text) as ``(path, None)``."""
    import numpy as np

    if isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k], f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        try:
            array = np.asarray(value)
            if array.dtype.kind in "biufc":
                yield path, array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)
                return
        except (TypeError, ValueError):
            pass
        yield path, None


def promise_difference(a, b) -> float:
    """The largest absolute difference between two observations of the same check (inf where
    their structures, shapes or non-finite entries differ; 0 where both are the same
    non-numbers)."""
    import numpy as np

    from harness.values import decode

    la, lb = dict(_leaves(decode(a))), dict(_leaves(decode(b)))
    if la.keys() != lb.keys():
        return float("inf")
    worst = 0.0
    for k, x in la.items():
        y = lb[k]
        if x is None or y is None:
            if (x is None) != (y is None) or repr(x) != repr(y):
                return float("inf")
            continue
        if x.shape != y.shape:
            return float("inf")
        if x.size == 0:
            continue
        same_nonfinite = (np.isnan(x) & np.isnan(y)) | (np.isinf(x) & (x == y))
        if np.any(~np.isfinite(x) ^ ~np.isfinite(y)):
            return float("inf")
        with np.errstate(invalid="ignore"):  # inf - inf where both agree: masked out
            diff = np.where(same_nonfinite, 0.0, np.abs(x - y))
        worst = max(worst, float(np.max(diff)))
    return worst


def keras_promise(doc: dict, framework: str = "keras", limit: float = KERAS_PROMISE) -> dict:
    """For every check the Keras columns observed on two or more backends: the largest
    difference between them, worst first, and those over ``limit`` (Keras 3's promise)."""
    groups: dict = {}
    for row in doc.get("rows") or []:
        if row.get("framework") != framework or row.get("status") in ("n/a", "skipped"):
            continue
        key = (row["case"], row["check"], row.get("version") or "")
        groups.setdefault(key, {})[row["backend"]] = row
    items = []
    for (case, check, version), rows in groups.items():
        if len(rows) < 2:
            continue
        names = sorted(rows)
        worst, pair = 0.0, (names[0], names[1])
        for i, x in enumerate(names):
            for y in names[i + 1:]:
                d = promise_difference(rows[x].get("observed"), rows[y].get("observed"))
                if d > worst or (d != d):
                    worst, pair = d, (x, y)
        items.append({"case": case, "check": check, "version": version, "kind": rows[x].get("kind"),
                      "difference": worst, "text": format_error_figure(worst),
                      "pair": pair, "columns": names, "over": not worst <= limit,
                      "anchor": "", "statuses": {c: r.get("status") for c, r in rows.items()}})
    items.sort(key=lambda it: (-(it["difference"] if it["difference"] == it["difference"]
                                 else float("inf")), it["case"], it["check"]))
    over = [it for it in items if it["over"]]
    return {"limit": limit, "checks": items, "over": over, "n": len(items), "n_over": len(over)}


def _promise_view(doc: dict, topics) -> dict | None:
    view = keras_promise(doc)
    if not view["n"]:
        return None
    for it in view["checks"]:
        it["anchor"] = _first_anchor(topics, it)
    return view


def _first_anchor(topics, change) -> str:
    for cases in topics.values():
        for case in cases:
            if case["id"] == change["case"]:
                for ch in case["checks"]:
                    if ch["id"] == change["check"]:
                        return ch["anchor"]
                return case["anchor"]
    return ""


def _worth_marking(row: dict) -> bool:
    """Mark the largest error only where there is one (a passing exact match has none)."""
    if row.get("status") in ("fail", "divergence"):
        return True
    err = row.get("max_abs_err")
    return isinstance(err, (int, float)) and not isinstance(err, bool) and err != 0


def _row_view(row: dict, column: dict, anchor: str, top_expected, changed: bool) -> dict:
    status = row.get("status")
    expected = row.get("expected")
    div = row.get("divergence")
    divergence = None
    if isinstance(div, dict):
        divergence = {"reason": div.get("reason") or "", "evidence": div.get("evidence") or "",
                      "versions": div.get("versions") or "",
                      "expect_html": render_html(div.get("expect")) if "expect" in div else None}
    observed = row.get("observed")
    shapes = describe(observed)
    exp_shape = describe(expected)
    show_expected = "expected" in row and expected != top_expected
    return {
        "column": column["key"], "backend": row["backend"], "version": row.get("version") or column.get("version"),
        "status": status, "cls": status_class(status), "anchor": anchor, "changed": changed,
        "observed_html": render_html(observed, row.get("where") if _worth_marking(row) else None),
        "shape": shapes, "expected_shape": exp_shape if exp_shape != shapes else "",
        "expected_html": render_html(expected) if show_expected else None,
        "reference_html": (render_html(row.get("reference"))
                           if row.get("compared_with") not in ("reference", None) and "reference" in row
                           and row.get("reference") is not None and row.get("reference") != expected
                           and row["backend"] != "reference" else None),
        "compared_with": row.get("compared_with") or "",
        "abs_err": format_error_figure(row.get("max_abs_err")), "rel_err": format_error_figure(row.get("max_rel_err")),
        "where": format_where(row.get("where")), "message": row.get("message") or "",
        "divergence": divergence,
        "claim_html": render_html(row.get("claim")) if row.get("claim_holds") is False else None,
        "claim_holds": row.get("claim_holds"),
        "duration": format_duration(row.get("duration_s")) if row.get("duration_s") is not None else "",
        "note_only": status in ("n/a", "skipped") and observed is None,
        "repro": row.get("repro"), "show_repro": status in ("fail", "divergence", "error", "fixed"),
        "detail": status not in ("pass", "n/a", "skipped") or row.get("claim_holds") is False or bool(divergence),
    }

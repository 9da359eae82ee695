"""JUnit XML: one testcase per (case, check, backend) row.

classname = `topic.case` (the case id alone when the case has no topic), name =
`check[backend]`; fail -> <failure>, error -> <error>, each with the row's message and an
expected/observed diff; divergence, n/a and skipped -> <skipped message=...> (a divergence's
message starts with "divergence:" and carries the declared reason); time = duration_s.
Several documents give one <testsuite> per run.
"""
from __future__ import annotations

import difflib
import os
import re
import xml.etree.ElementTree as ET

from .documents import check_docs, is_merged
from .formatting import format_error_figure, format_number, format_where, render_text, value_at

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clean(text) -> str:
    text = "" if text is None else str(text)
    return _INVALID_XML.sub("?", _ANSI.sub("", text))


def _time(row) -> str:
    try:
        return f"{float(row.get('duration_s') or 0):.6f}"
    except (TypeError, ValueError):
        return "0"


def diff_text(row: dict) -> str:
    """A readable expected/observed comparison for a failing row."""
    expected, observed = row.get("expected"), row.get("observed")
    exp_text, obs_text = render_text(expected), render_text(observed)
    lines = [f"compared with: {row.get('compared_with') or 'expect'}"]
    if "\n" in exp_text or "\n" in obs_text:
        lines.append("--- expected\n+++ observed")
        lines += [line for line in difflib.unified_diff(
            exp_text.splitlines(), obs_text.splitlines(), lineterm="", n=2)][2:]
    else:
        lines.append(f"expected: {exp_text}")
        lines.append(f"observed: {obs_text}")
    figures = []
    if row.get("max_abs_err") is not None:
        figures.append(f"max abs err {format_error_figure(row['max_abs_err'])}")
    if row.get("max_rel_err") is not None:
        figures.append(f"max rel err {format_error_figure(row['max_rel_err'])}")
    where = row.get("where")
    if where is not None:
        at_exp, at_obs = value_at(expected, where), value_at(observed, where)
        place = f"at {format_where(where)}"
        if at_exp is not None or at_obs is not None:
            place += f" (expected {format_number(at_exp)}, observed {format_number(at_obs)})"
        figures.append(place)
    if figures:
        lines.append("; ".join(figures))
    if row.get("claim_holds") is False:
        lines.append(f"the document claims: {render_text(row.get('claim'))}")
    if row.get("reference") is not None and row.get("compared_with") != "reference":
        lines.append(f"reference: {render_text(row.get('reference'))}")
    if row.get("repro"):
        lines.append("\nrepro:\n" + row["repro"])
    return "\n".join(lines)


def _suite_name(doc: dict, index: int) -> str:
    run = doc.get("run") or {}
    return "conformance" + (f".{run['label']}" if run.get("label") else (f".{index}" if index else ""))


def _testcase(parent, row: dict, case: dict):
    topic = case.get("topic")
    classname = f"{topic}.{row['case']}" if topic else row["case"]
    tc = ET.SubElement(parent, "testcase", classname=_clean(classname),
                       name=_clean(f"{row['check']}[{row['backend']}]"), time=_time(row))
    status = row.get("status")
    message = _clean(row.get("message") or status)
    if status == "fail":
        el = ET.SubElement(tc, "failure", message=message, type="fail")
        el.text = _clean(diff_text(row))
    elif status == "error":
        observed = row.get("observed")
        etype = observed.get("type") if isinstance(observed, dict) and observed.get("type") else "error"
        el = ET.SubElement(tc, "error", message=message, type=_clean(etype))
        el.text = _clean(diff_text(row))
    elif status == "divergence":
        div = row.get("divergence") or {}
        text = f"divergence: {div.get('reason') or row.get('message') or 'declared divergence'}"
        if div.get("evidence"):
            text += f" (evidence: {div['evidence']})"
        ET.SubElement(tc, "skipped", message=_clean(text))
    elif status in ("n/a", "skipped"):
        ET.SubElement(tc, "skipped", message=_clean(f"{status}: {row.get('message') or status}"))
    elif status == "fixed":
        out = ET.SubElement(tc, "system-out")
        out.text = _clean("fixed: declared divergent but now conforms; the declaration is stale. "
                          f"{row.get('message') or ''}")
    elif status != "pass":
        el = ET.SubElement(tc, "error", message=_clean(f"unknown status {status!r}: {message}"), type="unknown-status")
    return status


def render_junit(docs) -> str:
    docs = check_docs(docs)
    root = ET.Element("testsuites", name="conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for index, doc in enumerate(docs):
        if is_merged(doc):
            suites = _merged_suites(doc)
        else:
            suites = [(_suite_name(doc, index), doc.get("run") or {}, doc.get("environment") or {}, doc["rows"])]
        for name, run, env, rows in suites:
            suite = ET.SubElement(root, "testsuite", name=_clean(name))
            if run.get("started"):
                suite.set("timestamp", _clean(run["started"]))
            props = ET.SubElement(suite, "properties")
            for key in ("python", "platform", "machine", "cpu"):
                if env.get(key):
                    ET.SubElement(props, "property", name=key, value=_clean(env[key]))
            for fw, version in (env.get("frameworks") or {}).items():
                ET.SubElement(props, "property", name=f"version.{fw}", value=_clean(version))
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
            for row in rows:
                case = (doc.get("cases") or {}).get(row["case"]) or {}
                status = _testcase(suite, row, case)
                counts["tests"] += 1
                counts["time"] += float(row.get("duration_s") or 0)
                if status == "fail":
                    counts["failures"] += 1
                elif status in ("divergence", "n/a", "skipped"):
                    counts["skipped"] += 1
                elif status not in ("pass", "fixed"):
                    counts["errors"] += 1
            for key, value in counts.items():
                suite.set(key, f"{value:.3f}" if key == "time" else str(value))
                totals[key] += value
            if len(props) == 0:
                suite.remove(props)
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _merged_suites(doc: dict):
    by_run: dict[int, list] = {}
    for row in doc["rows"]:
        by_run.setdefault(int(row.get("run", 0)), []).append(row)
    runs = doc.get("runs") or []
    for index in sorted(by_run):
        r = runs[index] if index < len(runs) else {"run": {}, "environment": {}, "label": f"run {index + 1}"}
        yield (f"conformance.{r.get('label')}", r.get("run") or {}, r.get("environment") or {}, by_run[index])


def write_junit(docs, path) -> str:
    """Write JUnit XML for one or more results documents; returns the path."""
    text = render_junit(docs)
    _write_atomic(path, text)
    return os.fspath(path)


def _write_atomic(path, text: str):
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)

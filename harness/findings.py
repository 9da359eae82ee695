"""The README's table of findings, built from a results document (never kept by hand).

One row per declared divergence that a run observed (a check whose verdict is
``divergence`` on one or more columns): the case, the check, the columns that part, the
reason and the evidence, grouped by topic (the case file), with the counts of the run.
``conformance findings RESULTS.json [--readme README.md]`` prints it, and with ``--readme``
rewrites the part of the README between the markers below.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

START = "<!-- findings:start -->"
END = "<!-- findings:end -->"


def _cell(text) -> str:
    """One Markdown table cell: a single line, pipes escaped."""
    text = " ".join(str(text or "").split())
    return text.replace("|", "\\|")


def _evidence(text) -> str:
    text = _cell(text)
    if re.fullmatch(r"https?://\S+", text):
        return f"<{text}>"
    return text


def divergences(doc: dict) -> list[dict]:
    """The declared divergences a run observed, one entry per (case, check, reason,
    evidence) with the columns that show it, in the document's row order."""
    found: dict[tuple, dict] = {}
    for row in doc.get("rows", []):
        if row.get("status") != "divergence":
            continue
        decl = row.get("divergence") or {}
        key = (row["case"], row["check"], decl.get("reason", ""), decl.get("evidence", ""))
        entry = found.get(key)
        if entry is None:
            case = doc.get("cases", {}).get(row["case"], {})
            entry = found[key] = {
                "topic": case.get("topic") or Path(case.get("file") or "?").stem,
                "case": row["case"], "check": row["check"], "columns": [],
                "reason": decl.get("reason", ""), "evidence": decl.get("evidence", "")}
        if row["backend"] not in entry["columns"]:
            entry["columns"].append(row["backend"])
    return list(found.values())


def counts(doc: dict) -> str:
    """One sentence: cases, checks, verdicts, framework versions, statuses."""
    rows = doc.get("rows", [])
    cases = doc.get("cases", {})
    checks = sum(len(c.get("checks", [])) for c in cases.values())
    status = Counter(r.get("status") for r in rows)
    versions = ", ".join(f"`{name} {version}`" for name, version in
                         doc.get("environment", {}).get("frameworks", {}).items()
                         if name != "reference")
    parts = ", ".join(f"{n} `{s}`" for s, n in sorted(status.items(), key=lambda kv: -kv[1]))
    return (f"{len(cases)} cases, {checks} checks, {len(rows)} verdicts"
            + (f" ({versions})" if versions else "") + f": {parts or 'no rows'}.")


def table(doc: dict) -> str:
    """The Markdown: the counts, then one table per topic."""
    found = divergences(doc)
    topics: dict[str, list[dict]] = {}
    for entry in found:
        topics.setdefault(entry["topic"], []).append(entry)
    lines = [counts(doc), "",
             f"{len(found)} declared divergences (a check that parts on one or more columns) "
             f"in {len(topics)} topics, each with the reason and evidence given in its case:"]
    if not found:
        lines += ["", "No declared divergence was observed."]
    for topic in sorted(topics):
        lines += ["", f"### {topic} ({len(topics[topic])})", "",
                  "| case | check | columns | what was observed | evidence |",
                  "|---|---|---|---|---|"]
        for e in topics[topic]:
            lines.append(f"| `{_cell(e['case'])}` | `{_cell(e['check'])}` | "
                         f"{_cell(', '.join(e['columns']))} | {_cell(e['reason'])} | "
                         f"{_evidence(e['evidence'])} |")
    return "\n".join(lines) + "\n"


def rewrite_readme(text: str, markdown: str) -> str:
    """``text`` with the part between the markers replaced by ``markdown``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"the README lacks the markers {START} ... {END}")
    return text[:start + len(START)] + "\n\n" + markdown.rstrip("\n") + "\n\n" + text[end:]

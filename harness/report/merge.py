"""Merge several runs into one version matrix.

Every row keeps its fields and gains `column` ("tensorflow 2.18.0", "jax[jit] 0.4.38") and
`run` (the index of the run it came from). When two runs give the same (backend, version)
the rows are one column: the worse verdict is kept and a disagreement is recorded under
`conflicts`. `changes` lists the (case, check, backend) whose verdict changes between
versions of the same backend: what the version matrix is for.
"""
from __future__ import annotations

from .documents import backend_rank, check_docs, is_merged, severity, version_key


def row_version(row: dict, environment: dict) -> str | None:
    version = row.get("version")
    if not version:
        version = (environment.get("frameworks") or {}).get(row.get("framework") or _framework(row["backend"]))
    return str(version) if version else None


def _framework(backend: str) -> str:
    return backend.split("[", 1)[0]


def column_key(backend: str, version: str | None) -> str:
    return f"{backend} {version}" if version else backend


def _run_summary(doc: dict, index: int) -> dict:
    run = dict(doc.get("run") or {})
    env = doc.get("environment") or {}
    return {"index": index, "run": run, "environment": env,
            "label": run.get("label") or f"run {index + 1}"}


def merge(docs) -> dict:
    """One results document holding the rows of several runs, with version columns.

    Returns a document in the results format plus: `merged: true`, `runs` (each run's
    `run` and `environment`), `columns` (ordered column descriptions), `changes` and
    `conflicts`. Merged documents may themselves be merged again.
    """
    docs = check_docs(docs)
    runs, cases, rows = [], {}, []
    dropped = 0
    by_key: dict[tuple, dict] = {}
    conflicts = []
    columns: dict[str, dict] = {}

    flat = []  # (run summary, doc run index, row)
    for doc in docs:
        if is_merged(doc):
            offset = len(runs)
            for r in doc.get("runs", []):
                runs.append(dict(r, index=len(runs)))
            for row in doc["rows"]:
                flat.append((offset + int(row.get("run", 0)), row, doc))
        else:
            runs.append(_run_summary(doc, len(runs)))
            for row in doc["rows"]:
                flat.append((len(runs) - 1, row, doc))
        for case_id, case in (doc.get("cases") or {}).items():
            cases.setdefault(case_id, case)

    for run_index, row, doc in flat:
        env = runs[run_index]["environment"] if run_index < len(runs) else {}
        version = row_version(row, env)
        if row.get("status") == "skipped" and not version:
            dropped += 1  # a framework that was not installed says nothing about a version
            continue
        key = column_key(row["backend"], version)
        if key not in columns:
            columns[key] = {"key": key, "backend": row["backend"], "version": version,
                            "framework": row.get("framework") or _framework(row["backend"]),
                            "mode": row.get("mode"), "runs": []}
        if run_index not in columns[key]["runs"]:
            columns[key]["runs"].append(run_index)
        merged_row = dict(row, column=key, run=run_index, version=version)
        ident = (row["case"], row["check"], key)
        previous = by_key.get(ident)
        if previous is None:
            by_key[ident] = merged_row
            rows.append(merged_row)
            continue
        if previous["status"] != merged_row["status"]:
            conflicts.append({"case": row["case"], "check": row["check"], "column": key,
                              "verdicts": {runs[previous["run"]]["label"]: previous["status"],
                                           runs[run_index]["label"]: merged_row["status"]}})
        if severity(merged_row["status"]) > severity(previous["status"]):
            rows[rows.index(previous)] = merged_row
            by_key[ident] = merged_row

    ordered = sorted(columns.values(), key=lambda c: (backend_rank(c["backend"]), version_key(c["version"])))
    return {
        "schema_version": 1,
        "merged": True,
        "run": _merged_run(runs),
        "runs": runs,
        "environment": {},
        "columns": ordered,
        "cases": cases,
        "rows": rows,
        "changes": verdict_changes(rows, ordered),
        "conflicts": conflicts,
        "dropped_skipped_rows": dropped,
    }


def _merged_run(runs: list[dict]) -> dict:
    started = [r["run"].get("started") for r in runs if r["run"].get("started")]
    finished = [r["run"].get("finished") for r in runs if r["run"].get("finished")]
    return {
        "started": min(started) if started else None,
        "finished": max(finished) if finished else None,
        "duration_s": sum(float(r["run"].get("duration_s") or 0) for r in runs),
        "complete": all(r["run"].get("complete", True) for r in runs),
        "command": "merge of " + ", ".join(r["label"] for r in runs),
    }


def verdict_changes(rows: list[dict], columns: list[dict]) -> list[dict]:
    """(case, check, backend) whose verdict differs between versions of that backend.

    `skipped` is not a verdict about a version (deselected), so it never makes a change.
    """
    order = {c["key"]: i for i, c in enumerate(columns)}
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row.get("status") == "skipped":
            continue
        groups.setdefault((row["case"], row["check"], row["backend"]), []).append(row)
    changes = []
    for (case, check, backend), group in groups.items():
        if len({r["status"] for r in group}) < 2:
            continue
        group = sorted(group, key=lambda r: order.get(r["column"], 0))
        changes.append({"case": case, "check": check, "backend": backend,
                        "verdicts": [{"column": r["column"], "version": r.get("version"),
                                      "status": r["status"]} for r in group]})
    changes.sort(key=lambda c: (c["case"], c["check"], backend_rank(c["backend"])))
    return changes

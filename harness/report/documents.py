"""Reading results documents (docs/results.md) and the vocabulary the reports share.

Nothing here knows about HTML or XML: statuses, their order of severity, the order of
backend columns, and `load_results`, which reads and checks documents.
"""
from __future__ import annotations

import json
import os
import re
from typing import Iterable

SUPPORTED_SCHEMA_VERSIONS = (1,)

# Worst first: the order in which a cell takes the colour of its checks.
STATUSES = ("error", "fail", "fixed", "divergence", "pass", "n/a", "skipped")
SEVERITY = {status: len(STATUSES) - i for i, status in enumerate(STATUSES)}
STATUS_TEXT = {
    "error": "crashed or raised unexpectedly",
    "fail": "differs unexpectedly",
    "fixed": "declared divergent but now conforms: the declaration is stale",
    "divergence": "differs as the case declares (reason and evidence), like an xfail",
    "pass": "conforms",
    "n/a": "the backend lacks the capability",
    "skipped": "framework not installed, or check deselected",
}
BACKEND_ORDER = ("reference", "torch", "tensorflow", "tensorflow[function]", "jax", "jax[jit]")


class ResultsError(ValueError):
    """A results document that cannot be read or is not one this code understands."""


def severity(status: str) -> int:
    """Rank of a status; unknown statuses rank with `error` (they are a harness bug)."""
    return SEVERITY.get(status, SEVERITY["error"])


def worst(statuses: Iterable[str]) -> str | None:
    result = None
    for status in statuses:
        if result is None or severity(status) > severity(result):
            result = status
    return result


def backend_rank(backend: str) -> tuple:
    try:
        return (BACKEND_ORDER.index(backend), backend)
    except ValueError:
        return (len(BACKEND_ORDER), backend)


def version_key(version: str | None) -> tuple:
    """Natural order of version strings: 2.9.0 < 2.18.0 < 2.18.0+cpu; missing last."""
    if not version:
        return ((2, ""),)
    parts = re.split(r"(\d+)", str(version))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def is_merged(doc: dict) -> bool:
    return bool(doc.get("merged"))


def _check_doc(doc, name: str) -> dict:
    if not isinstance(doc, dict):
        raise ResultsError(f"{name}: not a results document (expected a JSON object, got {type(doc).__name__})")
    if "schema_version" not in doc:
        raise ResultsError(f"{name}: not a results document (no 'schema_version'; see docs/results.md)")
    version = doc["schema_version"]
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ResultsError(
            f"{name}: unsupported schema_version {version!r} "
            f"(this version of the harness reads {', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))})")
    rows = doc.get("rows")
    if not isinstance(rows, list):
        raise ResultsError(f"{name}: 'rows' must be a list")
    cases = doc.get("cases", {})
    if not isinstance(cases, dict):
        raise ResultsError(f"{name}: 'cases' must be an object keyed by case id")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ResultsError(f"{name}: rows[{i}] is not an object")
        missing = [key for key in ("case", "check", "backend", "status") if key not in row]
        if missing:
            raise ResultsError(f"{name}: rows[{i}] lacks {', '.join(missing)}")
    return doc


def load_results(paths) -> list[dict]:
    """Read results documents; a single path or an iterable of paths.

    Raises ResultsError naming the file when one is missing, is not JSON, is not a results
    document, or has a schema_version this code does not read.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    docs = []
    for path in paths:
        name = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            raise ResultsError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise ResultsError(f"{name}: is a directory, not a results file") from None
        except UnicodeDecodeError as exc:
            raise ResultsError(f"{name}: not UTF-8 text ({exc.reason})") from None
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        docs.append(_check_doc(doc, name))
    if not docs:
        raise ResultsError("no results files given")
    return docs


def check_docs(docs, name: str = "results") -> list[dict]:
    """Accept one document or a list of them (as given to write_html / write_junit)."""
    if isinstance(docs, dict):
        docs = [docs]
    docs = list(docs)
    if not docs:
        raise ResultsError("no results documents given")
    return [_check_doc(doc, f"{name}[{i}]") for i, doc in enumerate(docs)]

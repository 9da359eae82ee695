"""pytest plugin (entry point ``pytest11``): ``pytest cases/`` runs the conformance cases.

Each YAML case file is collected; each (case, check, backend) is one item named
``case::check[backend]``. ``pass`` passes, ``divergence`` is an xfail with its reason,
``n/a`` and ``skipped`` skip, ``fixed``/``fail``/``error`` fail with a readable diff. The cases
run once per session, through the same runner (and worker processes) as ``conformance run``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cases import load_file
from harness.dialects import DEFAULT_FRAMEWORKS, FRAMEWORKS

_ROWS = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "autodiff conformance cases")
    group.addoption("--frameworks", default=",".join(DEFAULT_FRAMEWORKS),
                    help="comma-separated frameworks to run cases on (default: all but keras)")
    group.addoption("--conformance-json", default=None, help="write the results document")
    group.addoption("--conformance-jobs", type=int, default=0, help="cases at a time")


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix in (".yaml", ".yml") and _is_case_file(file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


def _is_case_file(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            return any(line.startswith("cases:") for line in f)
    except (OSError, UnicodeDecodeError):
        return False


def _frameworks(config) -> list[str]:
    names = [x.strip() for x in config.getoption("frameworks").split(",") if x.strip()]
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise pytest.UsageError(f"--frameworks: unknown {unknown[0]!r}; choose from "
                                + ", ".join(FRAMEWORKS))
    return names


class CaseFile(pytest.File):
    def collect(self):
        loaded = load_file(self.path)
        for err in loaded.errors:
            yield InvalidCase.from_parent(self, name=f"line {err.line or 1}", error=err)
        columns = [c for name in _frameworks(self.config) for c in FRAMEWORKS[name].columns()]
        for case in loaded.cases:
            for cid in case.check_ids:
                for column in columns:
                    yield CheckItem.from_parent(self, name=f"{case.id}::{cid}[{column}]",
                                                case=case, check_id=cid, column=column)


class InvalidCase(pytest.Item):
    def __init__(self, *, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self):
        raise InvalidCaseError(str(self.error))

    def repr_failure(self, excinfo):
        return f"invalid case: {excinfo.value}"

    def reportinfo(self):
        return self.path, (self.error.line or 1) - 1, f"invalid case {self.error.field}"


class InvalidCaseError(Exception):
    pass


class ConformanceFailure(Exception):
    def __init__(self, row):
        super().__init__(row.get("message") or row.get("status") or "failed")
        self.row = row


class CheckItem(pytest.Item):
    def __init__(self, *, case, check_id, column, **kwargs):
        super().__init__(**kwargs)
        self.case, self.check_id, self.column = case, check_id, column

    def runtest(self):
        rows = _session_rows(self.session)
        row = rows.get((self.case.id, self.check_id, self.column))
        if row is None:
            raise ConformanceFailure({"message": "no verdict was produced", "status": "error"})
        status = row["status"]
        if status == "pass":
            return
        if status == "divergence":
            pytest.xfail(f"divergence: {row['message']}")
        if status in ("n/a", "skipped"):
            pytest.skip(f"{status}: {row['message']}")
        raise ConformanceFailure(row)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ConformanceFailure):
            return _describe(excinfo.value.row)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line - 1, self.name


def _describe(row) -> str:
    """The failure text of a row. Every field may be absent, None, NaN or infinite (a
    results row says "inf" or "nan" in words where an error is not finite): this is the
    path a user reads when something is wrong, so it never raises."""
    import json

    from harness.report.formatting import format_error_figure, format_where
    lines = [f"{row.get('status', 'error')}: {row.get('message') or '(no message)'}"]
    for key in ("expected", "observed", "reference"):
        if row.get(key) is not None:
            lines.append(f"  {key:>9}: {json.dumps(row[key], default=str)[:600]}")
    figures = [f"{name} {format_error_figure(row.get(key))}"
               for name, key in (("max abs error", "max_abs_err"), ("rel", "max_rel_err"))
               if row.get(key) is not None]
    if figures:
        where = format_where(row.get("where"))
        lines.append("  " + ", ".join(figures) + (f" at {where}" if where else ""))
    if isinstance(row.get("divergence"), dict):
        lines.append(f"  declared divergence: {row['divergence'].get('reason')}")
    return "\n".join(lines)


def _session_rows(session) -> dict:
    """Run every collected case once, the first time an item asks."""
    config = session.config
    if _ROWS in config.stash:
        return config.stash[_ROWS]
    from harness.results import ResultsWriter
    from harness.runner import RunOptions, run_cases

    cases, seen = [], set()
    for item in session.items:
        if isinstance(item, CheckItem) and item.case.id not in seen:
            seen.add(item.case.id)
            cases.append(item.case)
    json_path = config.getoption("conformance_json")
    writer = ResultsWriter(json_path, "pytest", [str(a) for a in config.args]) \
        if json_path else None
    options = RunOptions(frameworks=_frameworks(config),
                         jobs=config.getoption("conformance_jobs"))
    rows = run_cases(cases, options, writer)
    if writer:
        writer.finish()
    config.stash[_ROWS] = {(r["case"], r["check"], r["backend"]): r for r in rows}
    return config.stash[_ROWS]

"""The results document of a run (``docs/results.md``), written as verdicts arrive."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

from harness import __version__
from harness.cases import ABSENT
from harness.values import encode

SCHEMA_VERSION = 1


def environment(versions: dict[str, str], skipped: dict[str, str]) -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpu": _cpu(), "cores": os.cpu_count(),
            "harness": __version__, "frameworks": dict(versions),
            "skipped_frameworks": dict(skipped)}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def case_meta(case) -> dict:
    checks = []
    for cid, check in zip(case.check_ids, case.checks):
        entry = {"id": cid, "kind": check.kind, "summary": summary(check)}
        if check.expect is not ABSENT:  # absent: compared with the reference engine
            entry["expect"] = encode(check.expect)
        if check.claim is not ABSENT:
            entry["claim"] = encode(check.claim)
            entry["claim_note"] = check.claim_note
        if check.kind == "optimize":  # what a plot needs: the objective and the x axis
            o = check.optimize
            entry.update(loss=o.loss, params=o.params, steps=o.steps,
                         record_every=o.record_every, optimizer=o.optimizer.model_dump(),
                         fast_path=o.fast_path)
        if check.plot:
            entry["plot"] = check.plot
        if check.note:
            entry["note"] = check.note
        checks.append(entry)
    return {"title": case.title, "file": case.file, "line": case.line, "topic": case.topic,
            "covers": case.covers, "source": case.source, "program": case.text,
            "checks": checks}


def _names(x) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in x.items()) + "}"
    return "[" + ", ".join(x) + "]"


def summary(check) -> str:
    kind = check.kind
    if kind == "value":
        return f"value of {check.value}"
    if kind == "grad":
        order = {1: "", 2: "second ", 3: "third "}.get(check.order, f"order-{check.order} ")
        weights = " weighted" if check.weights is not None else ""
        return f"{order}d {_names(check.grad)} / d {_names(check.wrt)}{weights}"
    if kind in ("jvp", "jacobian"):
        return f"{kind} of {getattr(check, kind)} w.r.t. {_names(check.wrt)} ({check.mode} mode)"
    if kind == "backward_twice":
        return f"backward of {check.backward_twice} twice (retain_graph={check.retain_graph})"
    if kind == "attributes":
        return f"{', '.join(check.fields)} of {', '.join(check.attributes)}"
    if kind == "optimize":
        o = check.optimize
        fast = "; compiled in the eager columns too (fast_path)" if o.fast_path else ""
        return f"{o.optimizer.name} lr={o.optimizer.lr} on {o.loss}, {o.steps} steps{fast}"
    if kind == "trace":
        return f"trace {check.trace} over {len(check.calls)} calls"
    return kind.replace("_", " ")


class ResultsError(ValueError):
    """A results file that cannot be resumed or merged as asked (the message says why)."""


class ResultsWriter:
    """Keeps the document in memory and rewrites the file atomically as rows arrive, so an
    interrupted run leaves a valid document with ``complete: false`` (which ``resume``
    continues)."""

    def __init__(self, path, command: str, paths, label: str | None = None,
                 options: dict | None = None):
        self.path = Path(path) if path else None
        self.started = dt.datetime.now(dt.timezone.utc)
        self.earlier_s = 0.0  # time spent by the runs this one resumes
        self.resumed = False
        self.doc = {"schema_version": SCHEMA_VERSION,
                    "run": {"started": self.started.isoformat(timespec="seconds"),
                            "finished": None, "duration_s": None, "complete": False,
                            "command": command, "paths": [str(p) for p in paths],
                            "label": label, "options": dict(options or {})},
                    "environment": environment({}, {}), "cases": {}, "rows": []}

    @classmethod
    def resume(cls, path, command: str) -> "ResultsWriter":
        """A writer that continues the results file at ``path``: its rows stay, the rows of
        the cases it lacks are added, and the file is rewritten in place."""
        doc = read_results(path)
        if doc.get("merged"):
            raise ResultsError(f"{path}: a merged document (a version matrix) cannot be resumed")
        writer = cls(path, command, doc["run"].get("paths") or [], doc["run"].get("label"))
        writer.doc = doc
        writer.resumed = True
        writer.earlier_s = float(doc["run"].get("duration_s") or 0.0)
        doc["run"].setdefault("options", {})
        doc["run"]["complete"] = False
        doc["run"].setdefault("resumed", []).append(
            writer.started.isoformat(timespec="seconds"))
        return writer

    def set_environment(self, versions, skipped) -> None:
        if self.resumed and self.doc["rows"]:  # rows from two installs are not one run
            before = self.doc["environment"].get("frameworks") or {}
            if before != dict(versions):
                raise ResultsError(
                    f"{self.path}: it was run with {_versions(before)}; this run has "
                    f"{_versions(versions)}; resume it where it ran, or start a new file")
        self.doc["environment"] = environment(versions, skipped)

    def done_cases(self, cases, columns: list[str]) -> set[str]:
        """The ids of ``cases`` whose rows are all in the document (every check on every
        column); the rows of a case only partly there are dropped, to run it again."""
        have: dict[str, set] = {}
        for row in self.doc["rows"]:
            have.setdefault(row["case"], set()).add((row["check"], row["backend"]))
        done = set()
        for case in cases:
            want = {(cid, column) for cid in case.check_ids for column in columns}
            if have.get(case.id) == want:
                done.add(case.id)
        self.doc["rows"] = [r for r in self.doc["rows"] if r["case"] in done
                            or r["case"] not in {c.id for c in cases}]
        return done

    def add_cases(self, cases) -> None:
        for case in cases:
            self.doc["cases"][case.id] = case_meta(case)

    def add_rows(self, rows) -> None:
        self.doc["rows"].extend(rows)
        self.flush()

    def finish(self) -> dict:
        end = dt.datetime.now(dt.timezone.utc)
        self.doc["run"].update(finished=end.isoformat(timespec="seconds"), complete=True)
        put_in_order(self.doc)
        self.flush()
        return self.doc

    def flush(self) -> None:
        # the time so far (with the runs this one resumes): an interrupted file keeps it
        elapsed = (dt.datetime.now(dt.timezone.utc) - self.started).total_seconds()
        self.doc["run"]["duration_s"] = round(self.earlier_s + elapsed, 3)
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.doc, f, indent=1, allow_nan=False, default=str)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a results file is for sharing
            os.replace(tmp, self.path)
        except BaseException:  # interrupted mid-write: the file keeps its last whole state
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def command_line() -> str:
    return " ".join(["conformance"] + sys.argv[1:])


def _versions(versions: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in versions.items()) or "no frameworks"


def read_results(path) -> dict:
    """A results document, checked enough to resume or merge it."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: not a results file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION \
            or not isinstance(doc.get("rows"), list) or not isinstance(doc.get("run"), dict):
        raise ResultsError(f"{path}: not a results file of schema_version {SCHEMA_VERSION}")
    doc.setdefault("cases", {})
    doc.setdefault("environment", {})
    return doc


def _column_rank() -> dict[str, int]:
    from harness.dialects import FRAMEWORKS
    return {c: i for i, c in enumerate(c for fw in FRAMEWORKS.values() for c in fw.columns())}


def put_in_order(doc: dict) -> dict:
    """One order for a document however its rows arrived (concurrent frameworks, a resumed
    run, merged shards): cases by file and line, rows by case, check, then column."""
    cases = doc.get("cases") or {}
    ordered = sorted(cases.items(), key=lambda kv: (str(kv[1].get("file", "")),
                                                    int(kv[1].get("line") or 0), kv[0]))
    doc["cases"] = dict(ordered)
    case_rank = {cid: i for i, (cid, _) in enumerate(ordered)}
    check_rank = {(cid, c["id"]): i for cid, meta in ordered
                  for i, c in enumerate(meta.get("checks", []))}
    column_rank = _column_rank()
    doc["rows"].sort(key=lambda r: (case_rank.get(r["case"], len(case_rank)), r["case"],
                                    check_rank.get((r["case"], r["check"]), 0), r["check"],
                                    column_rank.get(r["backend"], len(column_rank)),
                                    r["backend"]))
    return doc


def shard_of(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; raises ``ValueError`` with what is wrong."""
    try:
        k, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError(f"{text!r} is not a shard K/N such as 1/3") from None
    if not 1 <= k <= n:
        raise ValueError(f"shard {text}: K is 1 to N")
    return k, n


def select_shard(cases: list, k: int, n: int) -> list:
    """Shard K of N: every N-th case of the list sorted by id, starting at the K-th. The
    same on every machine and in every job; the order the cases run in is unchanged."""
    ids = sorted(c.id for c in cases)
    mine = {cid for i, cid in enumerate(ids) if i % n == k - 1}
    return [c for c in cases if c.id in mine]


def merge_shards(docs: list[dict], names: list[str] | None = None) -> dict:
    """The shards of one run (``conformance run --shard K/N``, one file each) as the
    document one unsharded run would have written: the same cases and rows, in order."""
    names = names or [f"shard file {i + 1}" for i in range(len(docs))]
    if not docs:
        raise ResultsError("no shard files")
    for doc, name in zip(docs, names):
        if doc.get("merged"):
            raise ResultsError(f"{name}: a merged version matrix, not a shard")
    versions = [d.get("environment", {}).get("frameworks") or {} for d in docs]
    for v, name in zip(versions[1:], names[1:]):
        if v != versions[0]:
            raise ResultsError(f"{name} ran {_versions(v)} but {names[0]} ran "
                               f"{_versions(versions[0])}: shards of one run share an install "
                               "(for a version matrix use `conformance merge` without --shards)")
    shards = [(d["run"].get("options") or {}).get("shard") for d in docs]
    if all(shards):
        parsed = [shard_of(s) for s in shards]
        totals = {n for _, n in parsed}
        if len(totals) != 1:
            raise ResultsError("the files are shards of different splits: " + ", ".join(shards))
        total = totals.pop()
        got = sorted(k for k, _ in parsed)
        missing = sorted(set(range(1, total + 1)) - set(got))
        twice = sorted({k for k in got if got.count(k) > 1})
        if missing or twice:
            raise ResultsError("shards " + (f"missing: {', '.join(f'{k}/{total}' for k in missing)}"
                                            if missing else "")
                               + ("; " if missing and twice else "")
                               + (f"given twice: {', '.join(f'{k}/{total}' for k in twice)}"
                                  if twice else ""))
    rows, seen, cases = [], {}, {}
    for doc, name in zip(docs, names):
        for row in doc["rows"]:
            key = (row["case"], row["check"], row["backend"])
            if key in seen:
                raise ResultsError(f"{name} and {seen[key]} both hold "
                                   f"{row['case']}::{row['check']}[{row['backend']}]: the "
                                   "files overlap, they are not shards of one run")
            seen[key] = name
            rows.append(row)
        cases.update(doc.get("cases") or {})
    first = docs[0]
    env = dict(first.get("environment") or {})
    skipped = {}
    for d in docs:
        skipped.update(d.get("environment", {}).get("skipped_frameworks") or {})
    env["skipped_frameworks"] = skipped
    runs = [d["run"] for d in docs]
    started = [r.get("started") for r in runs if r.get("started")]
    finished = [r.get("finished") for r in runs if r.get("finished")]
    options = dict(first["run"].get("options") or {}, shard=None)
    run = {"started": min(started) if started else None,
           "finished": max(finished) if finished and len(finished) == len(runs) else None,
           "duration_s": max(float(r.get("duration_s") or 0) for r in runs),
           "complete": all(r.get("complete") for r in runs),
           "command": re.sub(r"\s--shard[= ]\S+", "", first["run"].get("command") or ""),
           "paths": first["run"].get("paths", []), "label": first["run"].get("label"),
           "options": options, "shards": len(docs)}
    return put_in_order({"schema_version": SCHEMA_VERSION, "run": run, "environment": env,
                         "cases": cases, "rows": rows})

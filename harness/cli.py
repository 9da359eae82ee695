"""The ``conformance`` command: run, validate, list, frameworks, report, merge, findings.

Exit status: 0 when nothing failed or errored, 1 when something did, 2 for invalid input.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import limits
from harness.cases import CaseError, load_paths
from harness.dialects import DEFAULT_FRAMEWORKS, FRAMEWORKS, installed
from harness.report.documents import ResultsError as ReportError
from harness.results import ResultsError, ResultsWriter, command_line, merge_shards, select_shard, shard_of
from harness.runner import RunEvents, RunInterrupted, RunOptions, run_cases
from harness.verdicts import STATUSES

STYLE = {"pass": "green", "divergence": "yellow", "fixed": "cyan", "fail": "bold red",
         "error": "bold magenta", "n/a": "dim", "skipped": "dim"}


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    if getattr(args, "max_elements", None):  # the workers load the cases too: tell them
        os.environ[limits.ELEMENTS_ENV] = str(args.max_elements)
    try:
        return args.func(args)
    except (FileNotFoundError, CaseError, ResultsError, ReportError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False,
                                   soft_wrap=True)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="conformance", description="Run autodiff conformance "
                                "cases on the reference engine, PyTorch, TensorFlow and JAX.")
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run cases on every installed framework")
    run.add_argument("paths", nargs="*", help="case files or directories (default: cases/)")
    run.add_argument("--frameworks", "-f", type=_frameworks,
                     help="comma-separated: " + ",".join(FRAMEWORKS) + " (default: "
                     + ",".join(DEFAULT_FRAMEWORKS) + ")")
    run.add_argument("--json", dest="json_path", default="reports/results.json",
                     help="results file (default: reports/results.json)")
    run.add_argument("--html", help="also write the HTML report here")
    run.add_argument("--junit", help="also write JUnit XML here")
    run.add_argument("-k", dest="keyword", help="only cases whose id, title, topic or covered "
                     "IDs match this glob or substring")
    run.add_argument("--jobs", "-j", type=int, default=0, help="cases at a time (default: cores)")
    run.add_argument("--timeout", type=float, default=limits.DEFAULT_TIMEOUT_S,
                     help="seconds per case and framework worker (default: "
                     f"{limits.DEFAULT_TIMEOUT_S:g}; a case may raise its own)")
    run.add_argument("--memory-limit", type=float, default=limits.DEFAULT_MEMORY_MB,
                     metavar="MIB", help="resident memory per framework worker, MiB (default: "
                     f"{limits.DEFAULT_MEMORY_MB}; 0: none)")
    run.add_argument("--max-elements", type=int, metavar="N", help="elements of one input "
                     f"(default: {limits.DEFAULT_MAX_ELEMENTS:,})")
    run.add_argument("--shard", metavar="K/N", type=_shard, help="run shard K of N: a "
                     "deterministic share of the cases (merge the N files with "
                     "`conformance merge --shards`)")
    run.add_argument("--resume", metavar="FILE", help="continue the interrupted results file "
                     "FILE: run only the cases it lacks, write to it")
    run.add_argument("--label", help="a label for this run (the version matrix uses it)")
    run.add_argument("--log-dir", default="reports/logs", help="framework logs (default: "
                     "reports/logs)")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check case files without running them")
    val.add_argument("paths", nargs="*", default=["cases"])
    val.add_argument("--max-elements", type=int, metavar="N", help="elements of one input "
                     f"(default: {limits.DEFAULT_MAX_ELEMENTS:,})")
    val.set_defaults(func=cmd_validate)

    ls = sub.add_parser("list", help="list cases and their checks")
    ls.add_argument("paths", nargs="*", default=["cases"])
    ls.add_argument("-k", dest="keyword")
    ls.set_defaults(func=cmd_list)

    fw = sub.add_parser("frameworks", help="installed frameworks, versions and capabilities")
    fw.set_defaults(func=cmd_frameworks)

    rep = sub.add_parser("report", help="render reports from results files")
    rep.add_argument("results", nargs="+", help="results JSON files (or directories of them)")
    rep.add_argument("--html")
    rep.add_argument("--junit")
    rep.set_defaults(func=cmd_report)

    mer = sub.add_parser("merge", help="merge runs (framework versions, machines) into one "
                         "version-matrix report; with --shards, the shards of one run")
    mer.add_argument("results", nargs="+", help="results JSON files or directories of them")
    mer.add_argument("--shards", action="store_true", help="the files are the shards of one "
                     "run (--shard K/N): write the document and report one run would have")
    mer.add_argument("--html", help="the report (required without --shards)")
    mer.add_argument("--json", dest="json_path", help="also write the merged document")
    mer.add_argument("--junit", help="JUnit XML of the merged shards")
    mer.set_defaults(func=cmd_merge)

    fnd = sub.add_parser("findings", help="the table of declared divergences of a results file "
                         "(Markdown); --readme rewrites the README's findings section")
    fnd.add_argument("results", help="a results JSON file")
    fnd.add_argument("--readme", help="rewrite this file between <!-- findings:start --> and "
                     "<!-- findings:end -->")
    fnd.set_defaults(func=cmd_findings)

    exp = sub.add_parser("explore", help="generate programs, find where the frameworks part, "
                         "shrink each divergence and write it down as a case")
    exp.add_argument("paths", nargs="*", help="cases whose programs' ops seed the generator")
    exp.add_argument("--budget", type=float, default=120.0, help="seconds (default: 120)")
    exp.add_argument("--seed", type=int, default=0)
    exp.add_argument("--ops", help="comma-separated ops to explore (default: the elementwise, "
                     "binary, reduction and indexing ops every framework spells)")
    exp.add_argument("--frameworks", "-f", type=_frameworks,
                     help="comma-separated: " + ",".join(FRAMEWORKS) + " (default: "
                     + ",".join(DEFAULT_FRAMEWORKS) + ")")
    exp.add_argument("--out", default="reports/explore", help="cases and atlas.json "
                     "(default: reports/explore)")
    exp.add_argument("--html", help="the atlas page (default: OUT/atlas.html)")
    exp.add_argument("--batch", type=int, default=12, help="programs per worker batch")
    exp.set_defaults(func=cmd_explore)
    return p


def cmd_explore(args) -> int:
    from harness.explore import main as explore_main
    return explore_main(args)


def _frameworks(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown framework {unknown[0]!r}; choose from "
                                         + ", ".join(FRAMEWORKS))
    return names


def _shard(text: str) -> str:
    try:
        shard_of(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def select(cases, keyword: str | None):
    if not keyword:
        return cases
    pattern = keyword if any(ch in keyword for ch in "*?[") else f"*{keyword}*"

    def match(c):
        return any(fnmatch.fnmatch(x.lower(), pattern.lower())
                   for x in [c.id, c.title, c.topic] + c.covers)
    return [c for c in cases if match(c)]


def _report_errors(console: Console, errors) -> None:
    for err in errors:
        console.print(f"[red]invalid case[/red] {escape(str(err))}", highlight=False,
                      soft_wrap=True)


# ---- commands ----------------------------------------------------------------------------


def cmd_validate(args) -> int:
    console = Console(stderr=True)
    loaded = load_paths(args.paths)
    _report_errors(console, loaded.errors)
    checks = sum(len(c.checks) for c in loaded.cases)
    print(f"{len(loaded.cases)} cases, {checks} checks valid; {len(loaded.errors)} invalid")
    return 2 if loaded.errors else 0


def cmd_list(args) -> int:
    loaded = load_paths(args.paths)
    _report_errors(Console(stderr=True), loaded.errors)
    for case in select(loaded.cases, args.keyword):
        print(f"{case.id}  [{case.topic}]  {case.title}  ({', '.join(case.covers)})")
        for cid, check in zip(case.check_ids, case.checks):
            print(f"    {cid}: {check.kind}")
    return 2 if loaded.errors else 0


def cmd_frameworks(args) -> int:
    from harness.dialects import dialect

    table = Table(title="frameworks")
    for col in ("framework", "installed", "version", "columns", "capabilities"):
        table.add_column(col)
    for name, fw in FRAMEWORKS.items():
        ok, why = installed(name)
        version, caps = "", ""
        if ok:
            try:
                spelling = dialect(name)
                version, caps = spelling.version(), ", ".join(spelling.capabilities())
            except Exception as exc:  # a broken install is reported, not raised
                ok, why = False, f"{type(exc).__name__}: {exc}"
        table.add_row(name, "yes" if ok else f"no: {why}", version,
                      escape(", ".join(fw.columns())), caps)
    Console().print(table)
    return 0


def cmd_run(args) -> int:
    console = Console(stderr=True)
    writer = None
    if args.resume:  # the interrupted run's own selection, unless given again
        writer = ResultsWriter.resume(args.resume, command_line())
        before = writer.doc["run"]["options"]
        if args.frameworks and before.get("frameworks") and args.frameworks != before["frameworks"]:
            raise ResultsError(f"{args.resume} ran --frameworks {','.join(before['frameworks'])}; "
                               "resume it with the same frameworks")
        args.frameworks = args.frameworks or before.get("frameworks")
        args.paths = args.paths or writer.doc["run"].get("paths")
        args.keyword = args.keyword or before.get("keyword")
        args.shard = args.shard or before.get("shard")
        args.json_path = args.resume
    args.frameworks = args.frameworks or list(DEFAULT_FRAMEWORKS)
    args.paths = args.paths or ["cases"]
    loaded = load_paths(args.paths)
    _report_errors(console, loaded.errors)
    cases = select(loaded.cases, args.keyword)
    if args.shard:
        cases = select_shard(cases, *shard_of(args.shard))
    if not cases:
        console.print("no cases to run" + (f" matching {args.keyword!r}" if args.keyword
                                           else ""))
        return 2 if loaded.errors else 0
    options = {"frameworks": args.frameworks, "keyword": args.keyword, "shard": args.shard}
    if writer is None:
        writer = ResultsWriter(args.json_path, command_line(), args.paths, args.label, options)
        writer.add_cases(cases)
        writer.flush()  # from the start: a run interrupted before its first case resumes too
    columns = [c for name in args.frameworks for c in FRAMEWORKS[name].columns()]
    done = writer.done_cases(cases, columns) if writer.resumed else set()
    todo = [c for c in cases if c.id not in done]
    if writer.resumed:
        console.print(f"resuming {args.resume}: {len(done)} cases done, {len(todo)} to run",
                      highlight=False, soft_wrap=True)
    run_options = RunOptions(frameworks=args.frameworks, jobs=args.jobs, timeout=args.timeout,
                             memory_mb=args.memory_limit or None,
                             log_dir=Path(args.log_dir) if args.log_dir else None)
    tty = console.is_terminal
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=not tty)

    def started(versions, skipped):
        for name, why in skipped.items():
            console.print(f"[dim]skipped {name}: {escape(why)}[/dim]", highlight=False)
        progress.update(task, description="running")

    def case_done(case, rows):
        progress.update(task, advance=1, description=case.id[:40])
        for r in rows:
            if r["status"] in ("fail", "error"):
                where = escape(f"{r['case']}::{r['check']}[{r['backend']}]")
                console.print(f"[{STYLE[r['status']]}]{r['status']:>5}[/] {where} "
                              f"{escape(r['message'])}", highlight=False, soft_wrap=True)

    def terminate(signum, frame):
        raise RunInterrupted("SIGTERM")

    interrupted = None
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with progress:
            task = progress.add_task(f"starting {', '.join(args.frameworks)}", total=len(todo))
            if todo:
                run_cases(todo, run_options, writer, RunEvents(started=started,
                                                               case_done=case_done))
    except KeyboardInterrupt:
        interrupted = "SIGINT"
    except RunInterrupted as exc:
        interrupted = exc.signal
    finally:
        signal.signal(signal.SIGTERM, previous)
    if interrupted:
        writer.flush()
        judged = len({r["case"] for r in writer.doc["rows"]})
        console.print(f"interrupted by {interrupted}: {judged} of {len(cases)} cases are in "
                      f"{writer.path} (complete: false); continue with: conformance run "
                      f"--resume {writer.path}", highlight=False, soft_wrap=True)
        return 130 if interrupted == "SIGINT" else 143
    doc = writer.finish()
    rows = doc["rows"]
    _summary(console if tty else None, rows, doc, args)
    if args.html or args.junit:
        from harness import report
        if args.html:
            report.write_html([doc], args.html)
        if args.junit:
            report.write_junit([doc], args.junit)
    written = [p for p in (args.json_path, args.html, args.junit) if p]
    print("wrote " + ", ".join(written))
    if loaded.errors:
        return 2
    counts = Counter(r["status"] for r in rows)
    return 1 if counts["fail"] or counts["error"] else 0


def _summary(console, rows, doc, args) -> None:
    by_backend: dict[str, Counter] = {}
    for r in rows:
        by_backend.setdefault(r["backend"], Counter())[r["status"]] += 1
    total = Counter(r["status"] for r in rows)
    seconds = doc["run"]["duration_s"]
    line = ", ".join(f"{total[s]} {s}" for s in STATUSES if total[s])
    if console is None:
        for backend, c in by_backend.items():
            print(f"{backend}: " + ", ".join(f"{c[s]} {s}" for s in STATUSES if c[s]))
        print(f"{len(rows)} verdicts in {seconds:.1f} s: {line}")
        return
    table = Table(title=f"{len(doc['cases'])} cases, {len(rows)} verdicts in {seconds:.1f} s")
    table.add_column("backend")
    for s in STATUSES:
        table.add_column(s, justify="right", style=STYLE[s])
    for backend, c in by_backend.items():
        version = doc["environment"]["frameworks"].get(backend.split("[")[0], "")
        table.add_row(escape(f"{backend} {version}"),
                      *[str(c[s]) if c[s] else "" for s in STATUSES])
    table.add_row("total", *[str(total[s]) if total[s] else "" for s in STATUSES],
                  style="bold")
    console.print(table)


def _result_files(items) -> list[Path]:
    out = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(p.glob("*.json"))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such results file")
    if not out:
        raise FileNotFoundError(f"no results files in {', '.join(items)}")
    return out


def cmd_report(args) -> int:
    from harness import report
    docs = report.load_results(_result_files(args.results))
    if not (args.html or args.junit):
        print("nothing to write: give --html FILE and/or --junit FILE", file=sys.stderr)
        return 2
    if args.html:
        report.write_html(docs, args.html)
    if args.junit:
        report.write_junit(docs, args.junit)
    print("wrote " + ", ".join(p for p in (args.html, args.junit) if p))
    return 0


def cmd_merge(args) -> int:
    from harness import report
    if args.shards:
        return _merge_shards(args)
    if not args.html:
        print("conformance merge: --html FILE is required (or --shards)", file=sys.stderr)
        return 2
    atlases = [Path(p) / "atlas.json" if Path(p).is_dir() else Path(p) for p in args.results]
    if all(a.name == "atlas.json" and a.exists() for a in atlases):  # explore results
        from harness.explore.atlas import merge_atlases
        merged = merge_atlases(atlases, args.json_path, args.html)
        changed = sum(1 for e in merged["divergences"] if e["changed"])
        print(f"merged {len(atlases)} explore runs into {args.html}: {changed} of "
              f"{len(merged['divergences'])} signatures changed between them")
        return 0
    docs = report.load_results(_result_files(args.results))
    merged = report.merge(docs)
    report.write_html([merged], args.html)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(merged, indent=1))
    print(f"merged {len(docs)} runs into {args.html}")
    return 0


def _merge_shards(args) -> int:
    from harness import report
    if not (args.json_path or args.html or args.junit):
        print("nothing to write: give --json FILE, --html FILE and/or --junit FILE",
              file=sys.stderr)
        return 2
    files = _result_files(args.results)
    docs = report.load_results(files)
    merged = merge_shards(docs, [str(f) for f in files])
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(merged, indent=1, allow_nan=False))
    if args.html:
        report.write_html([merged], args.html)
    if args.junit:
        report.write_junit([merged], args.junit)
    written = ", ".join(p for p in (args.json_path, args.html, args.junit) if p)
    print(f"merged {len(docs)} shards ({len(merged['rows'])} rows) into {written}")
    if not merged["run"]["complete"]:
        print("warning: some shards are incomplete (interrupted); --resume them and merge "
              "again", file=sys.stderr)
        return 1
    counts = Counter(r["status"] for r in merged["rows"])
    return 1 if counts["fail"] or counts["error"] else 0


def cmd_findings(args) -> int:
    from harness import findings
    doc = json.loads(Path(args.results).read_text())
    markdown = findings.table(doc)
    print(markdown, end="")
    if args.readme:
        path = Path(args.readme)
        try:
            path.write_text(findings.rewrite_readme(path.read_text(), markdown))
        except ValueError as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 2
        print(f"rewrote the findings section of {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

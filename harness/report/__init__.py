"""Reports rendered from results documents alone (docs/results.md, docs/reports.md).

    docs = load_results(["reports/results.json"])
    write_html(docs, "reports/report.html")      # one doc: run report; several: version matrix
    write_junit(docs, "reports/junit.xml")
    matrix = merge(load_results(paths))           # rows of several runs, version columns
"""
from .documents import STATUSES, ResultsError, load_results, severity, worst
from .html import render_html, write_html
from .junit import render_junit, write_junit
from .merge import merge, verdict_changes

__all__ = ["load_results", "write_html", "render_html", "write_junit", "render_junit", "merge",
           "verdict_changes", "ResultsError", "STATUSES", "severity", "worst"]

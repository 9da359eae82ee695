"""The self-contained HTML report: Jinja2 template + inline CSS, JS and SVG plots.

One document renders as a run report; several (or one merged) as the version matrix.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

from . import model
from .documents import check_docs
from .merge import merge

HERE = Path(__file__).resolve().parent


def _wbr(text) -> Markup:
    """Let `tensorflow[function]` break before its mode in narrow column headers."""
    return Markup(str(escape(text)).replace("[", "<wbr>["))


@lru_cache(maxsize=1)
def _environment():
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["sc"] = model.status_class
    env.filters["wbr"] = _wbr
    env.globals["inline_css"] = (HERE / "static" / "report.css").read_text(encoding="utf-8")
    env.globals["inline_js"] = (HERE / "static" / "report.js").read_text(encoding="utf-8")
    return env


def render_html(docs, title: str | None = None, with_plots: bool = True) -> str:
    """The report as a string (see write_html)."""
    docs = check_docs(docs)
    doc = docs[0] if len(docs) == 1 else merge(docs)
    view = model.build(doc, title=title, with_plots=with_plots)
    return _compact(_environment().get_template("report.html.j2").render(r=view))


# Text whose whitespace shows: left as it is.
_PRESERVE = re.compile(r'(<pre\b.*?</pre>|<code class="v-data">.*?</code>|<span class="v-emsg">.*?</span>)', re.S)
_INDENT = re.compile(r"\n[ \t]+")


def _compact(text: str) -> str:
    """Drop the template's indentation (about a tenth of a large report) outside <pre> and
    the other elements that show their whitespace."""
    parts = _PRESERVE.split(text)
    return "".join(part if i % 2 else _INDENT.sub("\n", part) for i, part in enumerate(parts))


def write_html(docs, path, title: str | None = None) -> str:
    """Write the HTML report for one document (a run report) or several (the version
    matrix, as merge() gives). Returns the path written."""
    text = render_html(docs, title=title)
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


__all__ = ["render_html", "write_html"]

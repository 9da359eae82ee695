"""Encoded values (docs/results.md, "Values") as HTML and as plain text.

`render_html(value, mark=where)` and `render_text(value)` share one walk of the encoding:
`null` (no gradient), numbers, strings, `{"array", "dtype", "shape"}` with "nan"/"inf"/"-inf"
strings inside, `{"bytes"}`, `{"error", "type", "message"}`, lists and objects of those.
Large arrays are summarised like NumPy does (first and last items); the element at `mark`
(the index of the largest error) is highlighted.
"""
from __future__ import annotations

import math
import re

from markupsafe import Markup, escape

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Terminal colour codes and control characters out (they print as boxes)."""
    return _CONTROL.sub("", text)

SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
SUMMARY_THRESHOLD = 200   # arrays with more elements are summarised
EDGE_ITEMS = 3
LIST_LIMIT = 40           # long plain lists show their ends only
NESTED_LIST_LIMIT = 8     # ... and lists inside objects (trajectories) sooner
MESSAGE_LIMIT = 2000


# ---------------------------------------------------------------- classification

def is_array(value) -> bool:
    return isinstance(value, dict) and "array" in value


def is_bytes(value) -> bool:
    return isinstance(value, dict) and set(value) == {"bytes"}


def is_error(value) -> bool:
    return isinstance(value, dict) and "error" in value and "array" not in value


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def array_shape(value) -> list:
    shape = value.get("shape")
    if isinstance(shape, list):
        return shape
    shape, data = [], value.get("array")
    while isinstance(data, list):
        shape.append(len(data))
        data = data[0] if data else None
    return shape


def describe(value) -> str:
    """Shape and dtype, e.g. `float32 [2, 3]`; for lists, one entry per item; '' otherwise."""
    if is_array(value):
        return f"{value.get('dtype', '?')} {array_shape(value)}"
    if isinstance(value, list) and value and any(is_array(v) for v in value):
        return "; ".join(describe(v) or _kind(v) for v in value)
    return ""


def _kind(value) -> str:
    if value is None:
        return "none"
    if is_bytes(value):
        return "bytes"
    if is_error(value):
        return "error"
    return type(value).__name__


def to_float(x):
    """A JSON scalar as a Python float (None for things that are not numbers)."""
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in SPECIAL:
        return SPECIAL[x]
    return None


def decode(value):
    """Arrays to nested lists of floats (NaN/inf restored); other values unchanged."""
    if is_array(value):
        return _decode_data(value.get("array"))
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _decode_data(data):
    if isinstance(data, list):
        return [_decode_data(d) for d in data]
    f = to_float(data)
    return data if f is None else f


def where_path(where) -> list | None:
    """`where` as one path of object keys (str) and indices (int).

    `[0, 1]` stays as it is; `["final.x", [0]]` (the largest error inside an object) becomes
    `["final", "x", 0]`. Anything else gives None.
    """
    if where is None:
        return None
    items = where if isinstance(where, list) else [where]
    path = []
    for item in items:
        if isinstance(item, bool):
            return None
        if isinstance(item, int):
            path.append(item)
        elif isinstance(item, str):
            path += [p for p in item.split(".") if p]
        elif isinstance(item, list):
            sub = where_path(item)
            if sub is None:
                return None
            path += sub
        else:
            return None
    return path


def format_where(where) -> str:
    """`[0, 1]` -> "[0, 1]"; `["final.x", [0]]` -> "final.x[0]"."""
    if where is None or where == []:
        return ""
    if isinstance(where, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in where):
        return str(where)
    if isinstance(where, list):
        out = ""
        for item in where:
            if isinstance(item, str):
                out += ("." if out else "") + item
            elif isinstance(item, list):
                out += "[" + ", ".join(map(str, item)) + "]"
            else:
                out += f"[{item}]"
        return out
    return str(where)


def value_at(value, where):
    """The scalar of an encoded value at `where` (see where_path), or None."""
    path = where_path(where)
    if path is None:
        return None
    try:
        for i, key in enumerate(path):
            if is_array(value):
                data = value.get("array")
                for j in path[i:]:
                    if not isinstance(j, int):
                        return None
                    data = data[j]
                return None if isinstance(data, list) else data
            if isinstance(key, str) and isinstance(value, dict) and not is_error(value):
                value = value[key]
            elif isinstance(key, int) and isinstance(value, list):
                value = value[key]
            else:
                return None
        if is_array(value):
            data = value.get("array")
            return None if isinstance(data, list) else data
        return value if _is_scalar(value) else None
    except (IndexError, TypeError, KeyError):
        return None


# ---------------------------------------------------------------- numbers

def format_number(x, dtype: str | None = None) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x  # "nan", "inf", "-inf" (or a stray string)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if dtype in ("float16", "bfloat16"):
            text = f"{x:.4g}"
        elif dtype in ("float32", "complex64"):
            text = f"{x:.8g}"
        else:
            text = repr(x)
        if "." not in text and "e" not in text and "n" not in text:
            text += ".0"
        return text
    return str(x)


def format_error_figure(x) -> str:
    """max_abs_err / max_rel_err for display: 3 significant digits, '' when absent."""
    if x is None:
        return ""
    f = to_float(x)
    if f is None:
        return str(x)
    if f == 0:
        return "0"
    if math.isnan(f) or math.isinf(f):
        return format_number(f)
    return f"{f:.3g}"


def _special_class(text: str) -> str | None:
    return "v-special" if text in ("nan", "inf", "-inf") else None


# ---------------------------------------------------------------- arrays

def _array_text(data, ndim, dtype, mark, html: bool):
    """NumPy-style text of nested lists; elements right-aligned to a common width."""
    size = 1
    d = data
    for _ in range(ndim):
        if not isinstance(d, list):
            break
        size *= len(d)
        d = d[0] if d else None
    summarise = size > SUMMARY_THRESHOLD

    # Collect shown elements first (to compute one width).
    cells = {}

    mark = tuple(mark) if isinstance(mark, (list, tuple)) else None

    def shown(n, depth, idx):
        """Indices shown along one axis: all, or the edges plus the marked index."""
        if not summarise or n <= 2 * EDGE_ITEMS:
            return list(range(n))
        keep = set(range(EDGE_ITEMS)) | set(range(n - EDGE_ITEMS, n))
        if mark is not None and len(mark) > depth and mark[:depth] == idx and isinstance(mark[depth], int) \
                and 0 <= mark[depth] < n:
            keep.add(mark[depth])
        return sorted(keep)

    def collect(x, depth, idx):
        if depth >= ndim or not isinstance(x, list):
            cells[idx] = format_number(x, dtype)
            return
        for i in shown(len(x), depth, idx):
            collect(x[i], depth + 1, idx + (i,))

    collect(data, 0, ())
    width = max((len(t) for t in cells.values()), default=0)

    def cell(idx):
        text = cells[idx].rjust(width)
        if not html:
            return text
        cls = _special_class(cells[idx])
        out = escape(text)
        if cls:
            out = Markup(f'<span class="{cls}">{out}</span>')
        if mark is not None and idx == mark:
            out = Markup(f'<mark title="largest error">{out}</mark>')
        return str(out)

    def build(x, depth, idx):
        if depth >= ndim or not isinstance(x, list):
            return cell(idx)
        parts, previous = [], -1
        for i in shown(len(x), depth, idx):
            if i != previous + 1:
                parts.append("..." if depth == ndim - 1 else " ...")
            parts.append(build(x[i], depth + 1, idx + (i,)))
            previous = i
        if previous != len(x) - 1:
            parts.append("..." if depth == ndim - 1 else " ...")
        if depth == ndim - 1:
            sep = ", "
        else:
            sep = "," + "\n" * (ndim - depth - 1) + " " * (depth + 1)
        return "[" + sep.join(parts) + "]"

    return build(data, 0, ())


def _array(value, mark, html):
    data = value.get("array")
    dtype = value.get("dtype")
    shape = array_shape(value)
    ndim = len(shape)
    body = _array_text(data, ndim, dtype, mark, html)
    meta = f"{dtype or '?'} {shape}"
    note = ""
    if mark is not None and isinstance(mark, list) and len(mark) == ndim and array_size(shape) > SUMMARY_THRESHOLD:
        at = value_at(value, mark)
        if at is not None:
            note = f"at {mark}: {format_number(at, dtype)}"
    if not html:
        text = body + f"  ({meta})"
        return text + (f"  [{note}]" if note else "")
    note_html = f'<span class="v-note">{escape(note)}</span>' if note else ""
    cls = "v-array v-scalar" if ndim == 0 else "v-array"
    return (f'<span class="{cls}"><code class="v-data">{body}</code>'
            f'<span class="v-meta">{escape(meta)}</span>{note_html}</span>')


def array_size(shape) -> int:
    n = 1
    for s in shape:
        n *= s if isinstance(s, int) else 1
    return n


# ---------------------------------------------------------------- the walk

def _render(value, mark, html: bool, depth: int = 0) -> str:
    if value is None:
        return '<span class="v-null" title="no gradient (None), not zero">none</span>' if html else "none"
    if isinstance(value, bool):
        text = "true" if value else "false"
        return f'<span class="v-bool">{text}</span>' if html else text
    if isinstance(value, (int, float)):
        text = format_number(value)
        if html:
            return f'<span class="{_special_class(text) or "v-num"}">{text}</span>'
        return text
    if isinstance(value, str):
        text = repr(value) if len(value) < MESSAGE_LIMIT else repr(value[:MESSAGE_LIMIT]) + "..."
        text = clean(text)
        return f'<span class="v-str">{escape(text)}</span>' if html else text
    if is_array(value):
        return _array(value, mark, html)
    if is_bytes(value):
        b = value["bytes"]
        text = "b" + repr(str(b))
        return f'<span class="v-bytes" title="bytes (UTF-8)">{escape(text)}</span>' if html else text
    if is_error(value):
        category = str(value.get("error", ""))
        etype = str(value.get("type") or "")
        message = clean(str(value.get("message") or ""))
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + " ..."
        if not html:
            return f"error {category}" + (f" ({etype}: {message or '(no message)'})" if etype
                                          else f" ({message})" if message else "")
        parts = [f'<span class="v-error"><span class="v-ecat">error: {escape(category)}</span>']
        if etype or message:
            parts.append(f'<span class="v-emsg"><b>{escape(etype)}</b>{": " if etype and message else ""}'
                         f'{escape(message)}</span>')
        parts.append("</span>")
        return "".join(parts)
    if isinstance(value, list):
        return _list(value, mark, html, depth)
    if isinstance(value, dict):
        return _dict(value, html, depth, mark)
    text = repr(value)
    return str(escape(text)) if html else text


def _list(value, mark, html, depth):
    sub = mark[1:] if isinstance(mark, list) and mark else None
    head = mark[0] if isinstance(mark, list) and mark else None
    limit = LIST_LIMIT if depth == 0 else NESTED_LIST_LIMIT
    if len(value) > (limit if depth == 0 else 2) and all(_small_array(v) for v in value):
        return _series(value, html, limit)
    if len(value) > limit and all(isinstance(v, list) and all(_is_scalar(x) for x in v) for v in value):
        # a list of short vectors (a parameter trajectory): first and last few
        shown = [_list(v, None, html, depth + 1) for v in value[:EDGE_ITEMS]] + ["..."] + [
            _list(v, None, html, depth + 1) for v in value[-EDGE_ITEMS:]]
        out = "[" + ", ".join(shown) + f"] ({len(value)} items)"
        return f'<span class="v-list">{out}</span>' if html else out
    if all(_is_scalar(v) for v in value):
        items = list(enumerate(value))
        elided = len(items) > limit
        if elided:
            items = items[:EDGE_ITEMS] + [None] + items[-EDGE_ITEMS:]
        parts = []
        for item in items:
            if item is None:
                parts.append("...")
                continue
            i, v = item
            text = _render(v, None, html, depth + 1)
            if html and head == i and not sub:
                text = f'<mark title="largest error">{text}</mark>'
            parts.append(text)
        out = "[" + ", ".join(parts) + "]"
        if elided:
            out += f" ({len(value)} items)"
        return f'<span class="v-list">{out}</span>' if html else out
    if not html:
        pad = "  " * (depth + 1)
        return "[\n" + ",\n".join(
            pad + _render(v, sub if i == head else None, False, depth + 1).replace("\n", "\n" + pad)
            for i, v in enumerate(value)) + "\n" + "  " * depth + "]"
    parts = ['<ol class="v-items" start="0">']
    for i, v in enumerate(value):
        inner = _render(v, sub if i == head else None, True, depth + 1)
        parts.append(f'<li><span class="v-idx">[{i}]</span>{inner}</li>')
    parts.append("</ol>")
    return "".join(parts)


def _small_array(v) -> bool:
    if not is_array(v):
        return False
    shape = array_shape(v)
    return len(shape) <= 1 and array_size(shape) <= 8


def _series(value, html, limit):
    """A recorded series of scalars or small vectors (0-d / 1-d arrays), on one line."""
    items = list(range(len(value)))
    if len(items) > limit:
        items = items[:EDGE_ITEMS] + [None] + items[-EDGE_ITEMS:]
    parts = []
    for i in items:
        if i is None:
            parts.append("...")
            continue
        v = value[i]
        parts.append(_array_text(v.get("array"), len(array_shape(v)), v.get("dtype"), None, html))
    kinds = {(v.get("dtype"), tuple(array_shape(v))) for v in value}
    if len(kinds) == 1:
        dtype, shape = next(iter(kinds))
        meta = f"{len(value)} \u00d7 {dtype or '?'} {list(shape)}"
    else:
        meta = f"{len(value)} items"
    out = "[" + ", ".join(parts) + "]"
    if not html:
        return f"{out} ({meta})"
    return f'<span class="v-list">{out} <span class="v-meta">({escape(meta)})</span></span>'


def _dict(value, html, depth, mark=None):
    if not html:
        pad = "  " * (depth + 1)
        return "{\n" + ",\n".join(
            f"{pad}{k}: " + _render(v, None, False, depth + 1).replace("\n", "\n" + pad)
            for k, v in value.items()) + "\n" + "  " * depth + "}"
    head = mark[0] if isinstance(mark, list) and mark and isinstance(mark[0], str) else None
    parts = ['<dl class="v-dict">']
    for k, v in value.items():
        sub = mark[1:] if head == k else None
        parts.append(f"<dt>{escape(str(k))}</dt><dd>{_render(v, sub, True, depth + 1)}</dd>")
    parts.append("</dl>")
    return "".join(parts)


def render_html(value, mark=None) -> Markup:
    """HTML for an encoded value; `mark` is the index (`where`) to highlight."""
    return Markup(_render(value, where_path(mark), True))


def render_text(value) -> str:
    """Plain text for an encoded value (JUnit messages, terminal)."""
    return _render(value, None, False)

"""Rendering of encoded values (docs/results.md, "Values") as HTML and text."""
import math

from markupsafe import Markup

from harness.report.formatting import (
    decode,
    describe,
    format_error_figure,
    format_number,
    render_html,
    render_text,
    value_at,
)


def arr(data, dtype="float32", shape=None):
    if shape is None:
        shape, d = [], data
        while isinstance(d, list):
            shape.append(len(d))
            d = d[0]
    return {"array": data, "dtype": dtype, "shape": shape}


def test_null_is_none_not_zero():
    html = render_html(None)
    assert isinstance(html, Markup)
    assert 'class="v-null"' in html and ">none<" in html and "not zero" in html
    assert render_text(None) == "none"


def test_scalars():
    assert render_text(13.5) == "13.5"
    assert render_text(3) == "3"
    assert render_text(True) == "true"
    assert render_text("abc") == "'abc'"
    assert 'class="v-num"' in render_html(0.1)


def test_array_2d_aligned_with_dtype_and_shape():
    text = render_text(arr([[4.5, 4.5], [-1.0, 10.25]]))
    assert text.splitlines()[0] == "[[  4.5,   4.5],"
    assert text.splitlines()[1].startswith(" [ -1.0, 10.25]]")
    assert "float32 [2, 2]" in text
    html = render_html(arr([[4.5, 4.5]]))
    assert 'class="v-array"' in html and "float32 [1, 2]" in html


def test_array_0d_and_empty():
    assert render_text(arr(2.0, shape=[])).startswith("2.0")
    assert "float32 [0]" in render_text(arr([], shape=[0]))


def test_float32_shortened_float64_exact():
    assert format_number(0.10000000149011612, "float32") == "0.1"
    assert format_number(0.1 + 0.2, "float64") == "0.30000000000000004"
    assert format_number(1e-08, "float32") == "1e-08"
    assert format_number(4.0, "float16") == "4.0"


def test_nan_and_infinities_in_arrays():
    v = arr(["inf", 1.0, "nan", "-inf"], dtype="float64")
    text = render_text(v)
    assert "inf" in text and "nan" in text and "-inf" in text
    html = render_html(v)
    assert html.count('class="v-special"') == 3
    decoded = decode(v)
    assert decoded[0] == math.inf and math.isnan(decoded[2]) and decoded[3] == -math.inf


def test_bytes():
    assert render_text({"bytes": "hello world"}) == "b'hello world'"
    html = render_html({"bytes": "<b>"})
    assert "b&#39;&lt;b&gt;&#39;" in html and "<b>" not in html.replace("<b>", "", 0).split("v-bytes", 1)[1][:40]


def test_error_object_escaped():
    err = {"error": "graph_freed", "type": "RuntimeError", "message": "Trying to backward <twice> & more"}
    html = render_html(err)
    assert "error: graph_freed" in html and "RuntimeError" in html
    assert "&lt;twice&gt; &amp; more" in html and "<twice>" not in html
    assert render_text(err) == "error graph_freed (RuntimeError: Trying to backward <twice> & more)"
    assert render_text({"error": "graph_freed"}) == "error graph_freed"


def test_gradient_list_with_null():
    v = [arr([[4.5, 4.5]]), None]
    html = render_html(v)
    assert '<ol class="v-items" start="0">' in html and "[1]" in html and "v-null" in html
    assert describe(v) == "float32 [1, 2]; none"
    assert "none" in render_text(v)


def test_strings_escaped():
    html = render_html("<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_mark_highlights_largest_error():
    html = render_html(arr([[1.0, 2.0], [3.0, 4.0]]), [1, 0])
    assert '<mark title="largest error">3.0</mark>' in html
    html = render_html([arr([1.0]), arr([5.0, 6.0])], [1, 1])
    assert '<mark title="largest error">6.0</mark>' in html


def test_large_array_summarised_but_marked_element_shown():
    data = [[float(i * 16 + j) for j in range(16)] for i in range(20)]
    html = render_html(arr(data), [13, 7])
    assert "..." in html
    assert '<mark title="largest error">215.0</mark>' in html
    assert "at [13, 7]: 215.0" in html
    assert "100.0" not in html  # elided
    text = render_text(arr(data))
    assert len(text.splitlines()) == 7


def test_trajectory_summarised():
    traj = {"x": [[0.1 * i, 0.2 * i] for i in range(41)], "loss": [170.0 / (i + 1) for i in range(41)]}
    html = render_html(traj)
    assert "(41 items)" in html and '<dl class="v-dict">' in html
    assert len(html) < 2000


def test_value_at():
    assert value_at(arr([[1.0, 2.0], [3.0, 4.0]]), [1, 1]) == 4.0
    assert value_at([arr([1.0]), arr([5.0, 6.0])], [1, 0]) == 5.0
    assert value_at(arr([1.0]), [5]) is None
    assert value_at(arr([1.0]), None) is None


def test_error_figures():
    assert format_error_figure(None) == ""
    assert format_error_figure(0.0) == "0"
    assert format_error_figure(0.123456) == "0.123"
    assert format_error_figure(3.1e-06) == "3.1e-06"
    assert format_error_figure("nan") == "nan"


def test_where_inside_an_object():
    """The harness reports `where` as [key path, index] for values inside objects."""
    from harness.report.formatting import format_where, where_path
    observed = {"x": [arr([0.0, 0.0]), arr([1.0, 2.0])],
                "final": {"x": arr([3.0, 2.5]), "f": arr(0.25, shape=[])}}
    assert where_path(["final.x", [1]]) == ["final", "x", 1]
    assert where_path([0, 1]) == [0, 1]
    assert where_path([True]) is None
    assert format_where(["final.x", [1]]) == "final.x[1]"
    assert format_where([0, 1]) == "[0, 1]"
    assert value_at(observed, ["final.x", [1]]) == 2.5
    assert value_at(observed, ["final.f", []]) == 0.25
    html = render_html(observed, ["final.x", [1]])
    assert '<mark title="largest error">2.5</mark>' in html
    assert html.count("<mark") == 1


def test_recorded_series_on_one_line():
    traj = {"x": [arr([0.1 * i, 0.2 * i]) for i in range(61)], "f": [arr(170.0 - i, shape=[]) for i in range(61)]}
    html = render_html(traj)
    assert "61 \u00d7 float32 [2]" in html and "61 \u00d7 float32 []" in html
    assert "<ol" not in html
    assert "f: [170.0, 169.0, 168.0, ..., 112.0, 111.0, 110.0] (61 \u00d7 float32 [])" in render_text(traj)

"""The HTML report: content, counts, colours, plots, repro blocks, self-containedness."""
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.report import load_results, model, plots, render_html, write_html
from harness.report.documents import STATUSES

SAMPLE = Path(__file__).resolve().parent / "data" / "sample_results.json"


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    path = write_html(load_results([SAMPLE]), tmp_path_factory.mktemp("html") / "sub" / "report.html")
    return open(path, encoding="utf-8").read()


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def parse(text):
    p = Tags()
    p.feed(text)
    return p.tags


def test_writes_file_creating_directories(sample, tmp_path):
    path = write_html(sample, tmp_path / "a" / "b" / "r.html", title="My run")  # one doc, not a list
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<!doctype html>")
    assert "<title>My run</title>" in text


def test_self_contained(html):
    """No script, style, image or frame comes from elsewhere; evidence links are plain <a>."""
    for tag, attrs in parse(html):
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "input"):
            assert "src" not in attrs, (tag, attrs)
        if tag == "link":
            pytest.fail(f"external <link> {attrs}")
        if tag == "object":
            assert "data" not in attrs
        if tag in ("use", "image"):
            for key in ("href", "xlink:href"):
                assert not attrs.get(key, "#").startswith(("http:", "https:", "//")), attrs
        assert "url(http" not in attrs.get("style", "")
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert styles and all("@import" not in s and "url(http" not in s and "url(//" not in s for s in styles)
    # every http(s) URL in the page is an <a href> (evidence) or an SVG namespace declaration
    anchors = [attrs["href"] for tag, attrs in parse(html) if tag == "a" and "href" in attrs]
    for url in re.findall(r'(https?://[^"\'<> )]+)', html):
        assert url in anchors or url.startswith("http://www.w3.org/"), url
    assert any(h.startswith("https://jax.readthedocs.io") for h in anchors)


def test_ids_unique(html):
    ids = re.findall(r'\sid="([^"]+)"', html)
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert not dup


def test_summary_counts_match_rows(sample, html):
    counts = Counter(r["status"] for r in sample["rows"])
    view = model.build(sample, with_plots=False)
    assert {s["name"]: s["count"] for s in view["statuses"]} == {s: counts.get(s, 0) for s in STATUSES}
    assert view["total"] == len(sample["rows"]) == 102
    for s in STATUSES:
        assert f'<span class="n">{counts.get(s, 0)}</span><span class="l">{s}</span>' in html
    per_backend = Counter((r["backend"], r["status"]) for r in sample["rows"])
    for column in view["columns"]:
        assert dict((s, n) for s, _, n in column["counts"] if n) == {
            s: n for (b, s), n in per_backend.items() if b == column["key"]}
    assert all(counts[s] for s in STATUSES), "the sample holds every status"


def test_environment_and_run_shown(html):
    for text in ("3.11.7", "Intel(R) Xeon(R) Platinum 8375C", "2.13.0+cpu", "2.21.0", "0.10.2",
                 "2026-11-25 20:30:00 UTC", "48.7 s", "conformance run cases/"):
        assert text in html, text
    assert ">failed</span>" in html


def test_matrix_columns_and_worst_colour(sample):
    view = model.build(sample, with_plots=False)
    assert [c["key"] for c in view["columns"]] == [
        "reference", "torch", "tensorflow", "tensorflow[function]", "jax", "jax[jit]"]
    cases = {c["id"]: c for t in view["topics"] for c in t["cases"]}
    cell = cases["broadcast-grad-large"]["cells"][1]
    assert cell["worst"] == "fail" and cell["cls"] == "s-fail"
    assert cases["retrace-python-scalar"]["cells"][3]["worst"] == "error"
    assert cases["relu-at-zero"]["cells"][2]["worst"] == "fixed"
    assert cases["second-backward-freed"]["cells"][4]["worst"] == "n/a"
    assert cases["checkpoint-resume"]["cells"][2]["worst"] == "skipped"
    # a case with two checks: n_worst / n
    relu = cases["custom-relu-linear"]["cells"][0]
    assert (relu["worst"], relu["n_worst"], relu["n"]) == ("pass", 2, 2)
    # topics group the cases
    assert [t["name"] for t in view["topics"]][:3] == ["custom_functions", "unconnected_gradients", "graph_semantics"]


def test_worst_order(sample):
    from harness.report import worst
    assert worst(["pass", "fixed", "divergence"]) == "fixed"
    assert worst(["skipped", "n/a"]) == "n/a"
    assert worst(["fail", "error"]) == "error"
    assert worst(["pass", "divergence"]) == "divergence"


def test_cells_link_to_details(html):
    # a one-check case links straight to that backend's row; a two-check case to the case
    assert 'href="#row--broadcast-grad-large--grad-x--torch"' in html
    assert 'id="row--broadcast-grad-large--grad-x--torch"' in html
    assert 'href="#case--custom-relu-linear"' in html and 'id="case--custom-relu-linear"' in html


def test_case_section_content(html):
    section = html[html.index('id="case--unconnected-grad-none"'):html.index('id="case--second-backward-freed"')]
    for text in ("The gradient of an unused input is None, not zero", "001 §Unconnected gradients",
                 "S001-02", "S001-03", "cases/unconnected.yaml:1", "d (2 w) / d [w, u]"):
        assert text in section, text
    assert "declared divergence" in section and "jax.grad differentiates" in section
    assert 'href="https://jax.readthedocs.io/en/latest/faq.html"' in section
    assert "jax.grad(f, argnums=(0, 1))" in section                    # repro of jax
    assert "(<code>repro</code> is null)" in section                    # jax[jit] has none
    assert section.count('class="copy"') == 1


def test_failures_show_errors_where_and_repro(html):
    section = html[html.index('id="case--broadcast-grad-large"'):html.index('id="case--adam-himmelblau"')]
    assert "<code>[13, 7]</code>" in section
    assert '<mark title="largest error">' in section
    assert "print(x.grad[13, 7])" in section
    assert "float32 [20, 16]" in section


def test_error_row(html):
    section = html[html.index('id="case--retrace-python-scalar"'):html.index('id="case--string-tensor-bytes"')]
    assert "error: unexpected" in section and "TypeError" in section
    # a terminal colour escape in a framework's message is dropped; its words stay
    assert "\x1b" not in section and "[0m" not in section
    assert "Could not build a TypeSpec for 1.0 with type float</span>" in section
    assert "Reproduce on tensorflow[function]" in section


def test_claim_that_does_not_hold(html):
    assert "Claims that do not hold" in html
    section = html[html.index('id="case--clip-at-boundary"'):html.index('id="case--relu-at-zero"')]
    assert "the document claims" in section and "claim does not hold" in section
    assert "vanishes at both bounds" in section


def test_fixed_is_flagged(html):
    section = html[html.index('id="case--relu-at-zero"'):]
    assert "the declaration is stale" in section[:6000]


def test_bytes_and_specials_rendered(html):
    assert "b&#39;hello world&#39;" in html
    assert '<span class="v-special">' in html


def test_plots_inline_svg(html):
    assert html.count("<svg") == 3       # adam: loss + contour; nesterov: loss (log scale)
    assert 'aria-label="Path on himmelblau"' in html
    assert "(log scale)" in html
    assert "<img" not in html


def test_plot_downsampled_to_200_points():
    assert len(plots.downsample(1000)) <= 200 and plots.downsample(1000)[-1] == 999
    assert plots.downsample(50) == list(range(50))
    n = 1000
    traj = {"x": [[3 * i / n, 2 * i / n] for i in range(n)], "loss": [100.0 / (i + 1) for i in range(n)]}
    check = {"id": "c", "kind": "optimize", "plot": {"kind": "contour", "function": "himmelblau"}}
    svgs = plots.plots_for_check(check, "optimize", None, [({"key": "torch", "backend": "torch"},
                                                             {"observed": traj})])
    assert len(svgs) == 2
    for svg in svgs:
        paths = re.findall(r'<path d="([^"]*)"[^>]*stroke: #d55e00', str(svg), re.I)
        assert paths and all(p.count("L") < 200 for p in paths)
        assert len(str(svg)) < 60_000


def test_plot_failure_does_not_cost_the_report():
    check = {"id": "c", "kind": "optimize"}
    out = plots.plots_for_check(check, "optimize", None, [({"key": "t", "backend": "t"}, {"observed": {"loss": "x"}})])
    assert out == []


def test_incomplete_run_banner(sample):
    sample["run"]["complete"] = False
    assert "Incomplete run" in render_html([sample], with_plots=False)


def test_unknown_case_and_missing_meta(sample):
    sample["rows"].append({"case": "ghost", "check": "c", "backend": "torch", "status": "pass"})
    text = render_html([sample], with_plots=False)
    assert "ghost" in text


def test_escaping_in_messages(sample):
    sample["rows"][0]["message"] = "<script>alert('x')</script>"
    sample["rows"][0]["status"] = "fail"
    text = render_html([sample], with_plots=False)
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text


def test_trajectory_shapes_the_harness_writes():
    """Series of 0-d / 1-d arrays, the objective named in the summary, a `final` object."""
    n = 21
    observed = {"x": [{"array": [0.1 * i, 0.1 * i], "dtype": "float32", "shape": [2]} for i in range(n)],
                "f": [{"array": 170.0 - 7 * i, "dtype": "float32", "shape": []} for i in range(n)],
                "final": {"x": {"array": [2.0, 2.0], "dtype": "float32", "shape": [2]}}}
    check = {"id": "adam", "kind": "optimize", "summary": "adam lr=0.1 on f, 20 steps",
             "plot": {"kind": "contour", "function": "himmelblau"}}
    traj = plots.trajectory(observed, check)
    assert traj["loss_name"] == "f" and traj["loss"][:2] == [170.0, 163.0]
    assert traj["step"][:3] == [0.0, 1.0, 2.0] and list(traj["params"]) == ["x"]
    expected = {"final": {"x": [{"array": 3.0, "dtype": "float64", "shape": []},
                                {"array": 2.0, "dtype": "float64", "shape": []}]}}
    svgs = plots.plots_for_check(check, "optimize", expected, [({"key": "jax", "backend": "jax"},
                                                                 {"observed": observed})])
    assert len(svgs) == 2 and "expected end" in str(svgs[1])
    # two scalar series: the one after "on" is the objective, the other the parameter
    traj = plots.trajectory({"x": [1.0, 0.5, 0.25], "y": [1.0, 0.25, 0.0625]},
                            {"summary": "sgd lr=0.01 on y, 500 steps"})
    assert traj["loss_name"] == "y" and traj["step"] == [0.0, 250.0, 500.0]

"""The HTML report in a real browser: headless Chromium through the Python playwright package.

Uses the system Chromium (/usr/bin/chromium; `apt-get install -y chromium`), never a
browser playwright downloads. Screenshots go to reports/screenshots/ (test artifacts).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.report import load_results, write_html

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SHOTS = ROOT / "reports" / "screenshots"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is absent (install it with `apt-get install -y chromium`)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    run = write_html(load_results([DATA / "sample_results.json"]), out / "report.html")
    matrix = write_html(load_results([DATA / "sample_results.json", DATA / "sample_results_tf218.json",
                                      DATA / "sample_results_tf216.json"]), out / "matrix.html")
    return {"run": Path(run).as_uri(), "matrix": Path(matrix).as_uri()}


@pytest.fixture(scope="module")
def browser():
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("request", lambda r: r.url.startswith(("file:", "data:", "about:"))
            or page.problems.append(f"network request: {r.url}"))
    yield page
    problems = page.problems
    context.close()
    assert not problems


def in_viewport(locator) -> bool:
    sync_api.expect(locator).to_be_in_viewport(timeout=3000)
    return True


def visible_cases(page):
    return page.eval_on_selector_all("#matrix-table tr.case-row", "rows => rows.filter(r => r.offsetParent !== null)"
                                     ".map(r => r.dataset.id)")


def test_summary_and_screenshot(page, reports):
    page.goto(reports["run"])
    assert page.title() == "Conformance report: tf221"
    assert page.locator("#filters").is_visible()            # JS ran and showed the filters
    summary = page.locator("#summary")
    assert summary.locator(".card.s-fail .n").inner_text() == "4"
    assert summary.locator(".card.s-error .n").inner_text() == "1"
    assert "Intel(R) Xeon(R)" in summary.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "summary.png"))
    assert (SHOTS / "summary.png").stat().st_size > 10_000


def test_click_cell_reveals_the_check_detail(page, reports):
    page.goto(reports["run"])
    row = page.locator("tr.case-row[data-id='broadcast-grad-large']")
    cell = row.locator("td[data-col='1'] a.cell")            # torch
    assert cell.inner_text().strip() == "fail"
    cell.click()
    assert page.url.endswith("#row--broadcast-grad-large--grad-x--torch")
    target = page.locator("#row--broadcast-grad-large--grad-x--torch")
    assert target.is_visible() and in_viewport(target)
    assert "1.4" in target.inner_text()
    detail = page.locator("#row--broadcast-grad-large--grad-x--torch + tr.detail-row")
    assert "print(x.grad[13, 7])" in detail.inner_text()
    # a passing, closed case opens when its cell is followed
    assert page.locator("#case--adam-himmelblau").get_attribute("open") is None
    page.locator("tr.case-row[data-id='adam-himmelblau'] td[data-col='0'] a.cell").click()
    assert page.locator("#case--adam-himmelblau").get_attribute("open") is not None
    assert in_viewport(page.locator("#row--adam-himmelblau--adam-path--reference"))
    section = page.locator("#case--sgd-nesterov-quadratic")
    section.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    section.screenshot(path=str(SHOTS / "case-section.png"))
    plot = page.locator("#case--adam-himmelblau svg.plot").nth(1)
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    assert box["width"] > 200 and box["height"] > 200
    adam = page.locator("#case--adam-himmelblau")
    adam.scroll_into_view_if_needed()
    page.wait_for_timeout(300)   # let content-visibility lay the section out before measuring it
    adam.screenshot(path=str(SHOTS / "case-optimize-plots.png"))


def test_verdict_filter(page, reports):
    page.goto(reports["run"])
    assert len(visible_cases(page)) == 15
    for status in ("error", "fixed", "divergence", "pass", "n/a", "skipped"):
        page.locator(f"#filters input[name=status][value='{status}']").uncheck()
    assert sorted(visible_cases(page)) == ["broadcast-grad-large", "logsumexp-large", "sgd-nesterov-quadratic"]
    assert page.locator("#shown").inner_text() == "showing 3 of 15 cases"
    # the case sections follow the filter
    assert not page.locator("#case--adam-himmelblau").is_visible()
    assert page.locator("#case--logsumexp-large").is_visible()
    # the summary card filters too
    page.locator("#reset").click()
    page.locator("a.card.s-error").click()
    assert visible_cases(page) == ["retrace-python-scalar"]


def test_backend_filter_and_search(page, reports):
    page.goto(reports["run"])
    page.locator("#filters input[name=column][value='1']").uncheck()    # torch
    assert not page.locator("#matrix-table thead th[data-col='1']").is_visible()
    for status in ("error", "fixed", "divergence", "pass", "n/a", "skipped"):
        page.locator(f"#filters input[name=status][value='{status}']").uncheck()
    # the torch failure no longer counts once torch is hidden
    assert sorted(visible_cases(page)) == ["logsumexp-large", "sgd-nesterov-quadratic"]
    page.locator("#reset").click()
    page.locator("#q").fill("himmelblau")
    page.wait_for_timeout(300)
    assert visible_cases(page) == ["adam-himmelblau"]
    page.locator("#q").fill("S003")
    page.wait_for_timeout(300)
    assert sorted(visible_cases(page)) == ["abs-at-zero", "clip-at-boundary", "relu-at-zero"]


def test_expand_and_sort(page, reports):
    page.goto(reports["run"])
    checks = page.locator("tr.check-row[data-parent='case--custom-relu-linear']")
    assert checks.count() == 2 and not checks.first.is_visible()
    toggle = page.locator("tr.case-row[data-id='custom-relu-linear'] button.toggle")
    toggle.focus()
    page.keyboard.press("Enter")                                         # keyboard works
    assert toggle.get_attribute("aria-expanded") == "true" and checks.first.is_visible()
    page.locator("#expand-all").click()
    assert page.locator("tr.check-row:visible").count() == 17
    page.locator("#collapse-all").click()
    assert page.locator("tr.check-row:visible").count() == 0
    kinks = "tbody[data-topic='kinks'] tr.case-row"
    before = page.eval_on_selector_all(kinks, "rows => rows.map(r => r.dataset.id)")
    assert before == ["abs-at-zero", "clip-at-boundary", "relu-at-zero"]
    page.locator("#matrix-table thead button.sort[data-sort='2']").click()   # tensorflow, worst first
    assert page.eval_on_selector_all(kinks, "rows => rows.map(r => r.dataset.id)")[0] == "relu-at-zero"
    assert page.locator("#matrix-table thead th[data-col='2']").get_attribute("aria-sort") == "descending"
    page.locator("#matrix-table thead button.sort[data-sort='case']").click()
    assert page.eval_on_selector_all(kinks, "rows => rows.map(r => r.dataset.id)") == before


def test_copy_button(browser, reports):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(reports["run"])
    button = page.locator("#case--broadcast-grad-large button.copy")
    assert button.is_visible()
    button.click()
    sync_api.expect(button).to_have_text("Copied", timeout=3000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("import torch") and "print(x.grad[13, 7])" in copied
    context.close()


def test_readable_without_javascript(browser, reports):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(reports["run"])
    assert not page.locator("#filters").is_visible()
    assert page.locator("tr.check-row").first.is_visible()            # checks listed in the matrix
    assert page.locator("#case--broadcast-grad-large").get_attribute("open") is not None
    assert page.locator("#case--adam-himmelblau svg.plot").count() == 2
    page.locator("tr.case-row[data-id='logsumexp-large'] td[data-col='3'] a.cell").click()
    assert page.url.endswith("#row--logsumexp-large--grad-lse--tensorflow_function_")
    context.close()


def test_version_matrix(page, reports):
    page.goto(reports["matrix"])
    assert page.title() == "Version matrix"
    changes = page.locator("#changes li")
    assert changes.count() == 6
    assert page.locator("#matrix-table thead th[data-col]").count() == 14
    assert page.locator("tr.case-row.changed").count() == 5
    page.locator("#changes li a", has_text="relu-at-zero").click()
    assert in_viewport(page.locator("#check--relu-at-zero--grad-relu"))
    page.goto(reports["matrix"])
    page.screenshot(path=str(SHOTS / "version-matrix.png"))


@pytest.fixture(scope="module")
def real_report(tmp_path_factory):
    """A report of a real run: real cases on the reference engine and PyTorch."""
    from harness.cli import main
    from harness.dialects import installed

    if not installed("torch")[0]:
        pytest.skip("torch is not installed: the real run compares it with the reference")
    out = tmp_path_factory.mktemp("real")
    code = main(["run", str(ROOT / "cases" / "custom_functions.yaml"),
                 str(ROOT / "cases" / "tapes_and_watching.yaml"), "--frameworks", "reference,torch",
                 "--json", str(out / "results.json"), "--html", str(out / "report.html"),
                 "--log-dir", str(out / "logs")])
    assert code == 0  # divergences are declared, nothing fails
    return (out / "report.html").as_uri()


def test_a_real_run_shows_a_declared_divergence_with_its_repro(page, real_report):
    page.goto(real_report)
    row = page.locator("tr.case-row[data-id='what-a-tape-watches']")
    cell = row.locator("td[data-col='1'] a.cell")                     # torch
    assert "divergence" in cell.get_attribute("class")
    cell.click()
    section = page.locator("#case--what-a-tape-watches")
    assert section.get_attribute("open") is not None
    text = section.inner_text()
    assert "PyTorch has no tape" in text                              # the declared reason
    assert "pytorch.org/docs" in section.locator("a[href^='https://pytorch.org']").first.get_attribute("href")
    assert "import torch" in section.locator("pre").filter(has_text="import torch").first.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "real-run-divergence.png"))


def test_a_real_run_filters_by_verdict(page, real_report):
    page.goto(real_report)
    for status in ("pass", "n/a", "skipped", "fail", "error", "fixed"):
        box = page.locator(f"#filters input[name=status][value='{status}']")
        if box.count():
            box.uncheck()
    shown = set(visible_cases(page))
    assert shown == {"what-a-tape-watches", "watch-accessed-variables-off"}

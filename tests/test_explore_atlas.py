"""The conventions atlas: rendered from atlas.json, and opened in a real browser (headless
Chromium through playwright; skipped where either is absent, as tests/report/test_browser.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.explore.atlas import COLUMNS, grids, write_atlas_html

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def atlas(tmp_path):
    cells = {c: {"class": 0 if c != "tensorflow" else 1, "value": "0.0 (float32)"}
             for c in COLUMNS}
    cells["tensorflow"]["value"] = "nan (float32)"
    entry = {"id": "pow.grad3.zero.abc123", "ops": ["pow"], "kind": "grad", "order": 3,
             "special": "zero", "partition": "reference+torch+jax+jax[jit] | tensorflow",
             "known": True, "case": "pow.grad3.zero.abc123.yaml", "program": "v1 = pow(x, 2.0)",
             "cells": cells}
    other = dict(entry, id="relu.grad1.zero.def456", ops=["relu"], order=1, known=False,
                 case="relu.grad1.zero.def456.yaml", program="v1 = relu(x)")
    (tmp_path / "pow.grad3.zero.abc123.yaml").write_text("cases: []\n")
    path = tmp_path / "atlas.json"
    path.write_text(json.dumps({"meta": {"seed": 0, "columns": COLUMNS, "programs": 10,
                                         "versions": {"torch": "2.13"}, "date": "2026-12-01"},
                                "divergences": [entry, other]}))
    return path


def test_atlas_grids(tmp_path):
    data = json.loads(atlas(tmp_path).read_text())
    g = grids(data)
    assert [x["op"] for x in g] == ["pow", "relu"]
    assert [c["column"] for c in g[0]["rows"][0]["cells"]] == COLUMNS
    html = write_atlas_html(atlas(tmp_path), tmp_path / "atlas.html").read_text()
    assert 'href="pow.grad3.zero.abc123.yaml"' in html and "<style>" in html


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is absent")
def test_atlas_opens_in_a_browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    page_path = write_atlas_html(atlas(tmp_path), tmp_path / "atlas.html")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    problems = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: r.url.startswith(("file:", "data:", "about:"))
                or problems.append(f"network request: {r.url}"))
        page.goto(page_path.as_uri())
        assert page.locator("section.op").count() == 2
        row = page.locator("tr[data-signature='pow.grad3.zero.abc123']")
        assert row.locator("td.c1").count() == 1  # tensorflow, its own class
        assert row.locator("td.c0").count() == 5
        # the cell links to its case
        link = row.locator("td.c1 a")
        assert link.get_attribute("href") == "pow.grad3.zero.abc123.yaml"
        colour = row.locator("td.c1").evaluate("e => getComputedStyle(e).backgroundColor")
        other = row.locator("td.c0").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour != other
        # the link resolves, next to the page, to the case file (a .yaml is a download, so
        # the test resolves it instead of following it)
        target = link.evaluate("a => a.href")
        assert target == (tmp_path / "pow.grad3.zero.abc123.yaml").as_uri()
        assert (tmp_path / "pow.grad3.zero.abc123.yaml").exists()
        assert page.locator("nav a[href='#op-relu']").count() == 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "explore-atlas.png"), full_page=True)
        browser.close()
    assert not problems


def test_merge_shows_what_changed_between_releases(tmp_path):
    from harness.cli import main
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    atlas(a)
    data = json.loads((a / "atlas.json").read_text())
    data["meta"]["versions"] = {"tensorflow": "2.16.2"}
    data["divergences"] = data["divergences"][1:]  # the pow NaN not found on 2.16
    (b / "atlas.json").write_text(json.dumps(data))
    assert main(["merge", str(a), str(b), "--html", str(tmp_path / "m.html"),
                 "--json", str(tmp_path / "m.json")]) == 0
    merged = json.loads((tmp_path / "m.json").read_text())
    changed = {e["id"]: e["changed"] for e in merged["divergences"]}
    assert changed == {"pow.grad3.zero.abc123": True, "relu.grad1.zero.def456": False}
    assert "not found" in (tmp_path / "m.html").read_text()

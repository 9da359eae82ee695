/* Conformance report: filters, sorting, expansion, reveal-on-link and copy buttons.
   Everything here is an enhancement: the page reads the same without it. */
(function () {
  "use strict";
  var doc = document;
  function all(sel, el) { return Array.prototype.slice.call((el || doc).querySelectorAll(sel)); }

  var table = doc.getElementById("matrix-table");
  var form = doc.getElementById("filters");
  var shown = doc.getElementById("shown");
  var colStyle = doc.createElement("style");
  doc.head.appendChild(colStyle);

  /* ---- the matrix: one entry per case row, with its check rows and its section ---- */
  var entries = [];
  var sections = {};
  all("details.case").forEach(function (d) { sections[d.getAttribute("data-case")] = d; });
  var topicBlocks = {};
  all(".topic-block").forEach(function (b) { topicBlocks[b.getAttribute("data-topic")] = b; });

  if (table) {
    all("tbody.topic", table).forEach(function (tbody) {
      var current = null;
      Array.prototype.forEach.call(tbody.rows, function (tr) {
        if (tr.classList.contains("case-row")) {
          current = {
            row: tr, tbody: tbody, checks: [], id: tr.getAttribute("data-id"),
            text: tr.getAttribute("data-text") || "", open: false,
            cells: all("td[data-col]", tr), section: sections[tr.getAttribute("data-case")]
          };
          entries.push(current);
        } else if (tr.classList.contains("check-row") && current) {
          current.checks.push({ row: tr, cells: all("td[data-col]", tr) });
        }
      });
    });
  }

  function setOpen(entry, open) {
    entry.open = open;
    var btn = entry.row.querySelector("button.toggle");
    if (btn) btn.setAttribute("aria-expanded", open ? "true" : "false");
    entry.checks.forEach(function (c) { c.row.classList.toggle("open", open); });
  }

  entries.forEach(function (entry) {
    var btn = entry.row.querySelector("button.toggle");
    if (btn) btn.addEventListener("click", function () { setOpen(entry, !entry.open); });
  });

  /* ---- filters ---- */
  function checkedValues(name) {
    return all('input[name="' + name + '"]', form).filter(function (i) { return i.checked; })
      .map(function (i) { return i.value; });
  }

  function matches(cells, statuses, cols) {
    for (var i = 0; i < cols.length; i++) {
      var td = cells[cols[i]];
      if (!td) continue;
      var s = td.getAttribute("data-s");
      if (!s) continue;
      var list = s.split(" ");
      for (var j = 0; j < list.length; j++) if (statuses[list[j]]) return true;
    }
    return false;
  }

  function apply() {
    if (!form) return;
    var statuses = {};
    checkedValues("status").forEach(function (s) { statuses[s] = true; });
    var cols = checkedValues("column").map(Number);
    var hidden = all('input[name="column"]', form).filter(function (i) { return !i.checked; })
      .map(function (i) { return '#matrix-table [data-col="' + i.value + '"]{display:none}'; });
    colStyle.textContent = hidden.join("\n");
    var words = doc.getElementById("q").value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0, visibleTopics = {};
    entries.forEach(function (e) {
      var ok = matches(e.cells, statuses, cols);
      if (ok && words.length) {
        for (var w = 0; w < words.length; w++) if (e.text.indexOf(words[w]) < 0) { ok = false; break; }
      }
      e.row.classList.toggle("filtered", !ok);
      e.checks.forEach(function (c) {
        c.row.classList.toggle("filtered", !ok);
        c.row.classList.toggle("nomatch", !matches(c.cells, statuses, cols));
      });
      if (e.section) e.section.classList.toggle("filtered", !ok);
      if (ok) { count++; visibleTopics[e.tbody.getAttribute("data-topic")] = true; }
    });
    all("tbody.topic", table).forEach(function (tb) {
      var t = tb.getAttribute("data-topic");
      tb.classList.toggle("filtered", !visibleTopics[t]);
      if (topicBlocks[t]) topicBlocks[t].classList.toggle("filtered", !visibleTopics[t]);
    });
    if (shown) shown.textContent = "showing " + count + " of " + entries.length + " cases";
  }

  if (form) {
    form.hidden = false;
    form.addEventListener("change", apply);
    var timer = null;
    doc.getElementById("q").addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(apply, 120);
    });
    doc.getElementById("expand-all").addEventListener("click", function () {
      entries.forEach(function (e) { setOpen(e, true); });
    });
    doc.getElementById("collapse-all").addEventListener("click", function () {
      entries.forEach(function (e) { setOpen(e, false); });
    });
    doc.getElementById("reset").addEventListener("click", function () {
      all("input[type=checkbox]", form).forEach(function (i) { i.checked = true; });
      doc.getElementById("q").value = "";
      apply();
    });
    apply();
  }

  /* summary cards: show only that verdict */
  all("a.card[data-only]").forEach(function (a) {
    a.addEventListener("click", function () {
      if (!form) return;
      var only = a.getAttribute("data-only");
      all('input[name="status"]', form).forEach(function (i) { i.checked = i.value === only; });
      apply();
    });
  });

  /* ---- sorting (within each topic) ---- */
  var sortState = { key: null, dir: 1 };
  function rankOf(entry, col) {
    var td = entry.cells[col];
    var r = td ? Number(td.getAttribute("data-rank")) : -1;
    return isNaN(r) ? -1 : r;
  }
  all("button.sort", table).forEach(function (btn) {
    btn.addEventListener("click", function () {
      var key = btn.getAttribute("data-sort");
      // first click on a backend column puts the worst first; on "case", A to Z
      var dir = sortState.key === key ? -sortState.dir : (key === "case" ? 1 : -1);
      sortState = { key: key, dir: dir };
      all("thead th", table).forEach(function (th) { th.setAttribute("aria-sort", "none"); });
      btn.parentNode.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      var byBody = new Map();
      entries.forEach(function (e) {
        if (!byBody.has(e.tbody)) byBody.set(e.tbody, []);
        byBody.get(e.tbody).push(e);
      });
      byBody.forEach(function (list, tbody) {
        list.sort(function (a, b) {
          var c;
          if (key === "case") c = a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
          else c = rankOf(a, Number(key)) - rankOf(b, Number(key)) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
          return c * dir;
        });
        var frag = doc.createDocumentFragment();
        list.forEach(function (e) {
          frag.appendChild(e.row);
          e.checks.forEach(function (c) { frag.appendChild(c.row); });
        });
        tbody.appendChild(frag);
      });
    });
  });

  /* ---- links to a case, a check or a backend's row: open, unfilter, scroll, flash ---- */
  function reveal(id) {
    var el = id && doc.getElementById(id);
    if (!el) return false;
    for (var p = el; p && p !== doc.body; p = p.parentElement) {
      if (p.tagName === "DETAILS" && !p.open) p.open = true;
      if (p.classList && p.classList.contains("filtered")) p.classList.remove("filtered");
    }
    var targets = [el];
    if (el.tagName === "TR" && el.nextElementSibling && el.nextElementSibling.classList.contains("detail-row")) {
      targets.push(el.nextElementSibling);
    }
    targets.forEach(function (t) { t.classList.remove("flash"); void t.offsetWidth; t.classList.add("flash"); });
    el.scrollIntoView({ block: "start" });
    if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    return true;
  }
  doc.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest('a[href^="#"]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    var id = decodeURIComponent(a.getAttribute("href").slice(1));
    var el = doc.getElementById(id);
    if (!el || el.tagName === "SECTION" && el.classList.contains("panel")) return;
    ev.preventDefault();
    if (location.hash !== "#" + id) history.pushState(null, "", "#" + id);
    reveal(id);
  });
  window.addEventListener("hashchange", function () { reveal(decodeURIComponent(location.hash.slice(1))); });
  if (location.hash.length > 1) reveal(decodeURIComponent(location.hash.slice(1)));

  /* ---- copy buttons for repro scripts ---- */
  function fallbackCopy(text) {
    var ta = doc.createElement("textarea");
    ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
    doc.body.appendChild(ta); ta.select();
    var ok = false;
    try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
    doc.body.removeChild(ta);
    return ok;
  }
  all("button.copy").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var pre = doc.getElementById(btn.getAttribute("data-target"));
      if (!pre) return;
      var text = pre.textContent;
      var done = function (ok) {
        btn.textContent = ok ? "Copied" : "Select and copy";
        setTimeout(function () { btn.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        var settled = false;
        var settle = function (ok) { if (!settled) { settled = true; done(ok); } };
        // a permission prompt may leave the promise pending: fall back after a second
        var timer = setTimeout(function () { settle(fallbackCopy(text)); }, 1000);
        navigator.clipboard.writeText(text).then(function () { clearTimeout(timer); settle(true); },
          function () { clearTimeout(timer); settle(fallbackCopy(text)); });
      } else {
        done(fallbackCopy(text));
      }
    });
  });
})();

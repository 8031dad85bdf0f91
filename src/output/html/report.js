"use strict";
// The timeline's filter, offline. Every word typed must appear in a row (any column, any
// case); "evidence rows only" keeps the rows that are evidence of a finding; a finding's
// button shows just its rows. At most one page of matching rows is displayed (the table's
// data-page, 1,000), more on demand: a browser lays out a page of rows in no time, but
// 100,000 at once takes it many seconds. Rows are hidden with the `hidden` attribute,
// changed only where it differs, after a pause in typing. A #q=TEXT fragment in the
// address filters on load. When done, an empty #mbx-ready element records what the page
// did (for tests).
document.addEventListener("DOMContentLoaded", function () {
  var table = document.getElementById("tl");
  var rows = table ? table.tBodies[0].rows : [];
  var page = table ? Number(table.getAttribute("data-page")) || 1000 : 1000;
  var q = document.getElementById("q");
  var evOnly = document.getElementById("evonly");
  var shown = document.getElementById("shown");
  var clear = document.getElementById("clearsel");
  var more = document.getElementById("more");
  var all = document.getElementById("all");
  var texts = null;
  var only = null;
  var limit = page;
  var matches = rows.length;
  var visible = Math.min(rows.length, page);
  var lastMs = 0;

  function index() {
    if (texts) return;
    texts = new Array(rows.length);
    for (var i = 0; i < rows.length; i++) texts[i] = rows[i].textContent.toLowerCase();
  }

  function status() {
    if (shown) {
      var filtered = matches === rows.length ? "" : matches + " matching of ";
      shown.textContent = "showing " + visible + " of " + filtered + rows.length + " rows";
    }
    if (more) more.hidden = visible >= matches;
    if (all) all.hidden = visible >= matches;
    if (clear) clear.hidden = !only;
  }

  function apply() {
    var t0 = performance.now();
    var needle = q ? q.value.trim().toLowerCase() : "";
    var terms = needle ? needle.split(/\s+/) : [];
    if (terms.length) index();
    var wantEv = evOnly && evOnly.checked;
    var n = 0;
    var v = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var match = !(wantEv && !r.classList.contains("e")) && !(only && !only.has(r.id));
      for (var k = 0; match && k < terms.length; k++) match = texts[i].indexOf(terms[k]) >= 0;
      var show = match && n < limit;
      if (match) n++;
      if (show) v++;
      if (r.hidden === show) r.hidden = !show;
    }
    matches = n;
    visible = v;
    status();
    lastMs = Math.round(performance.now() - t0);
  }

  function refilter() {
    limit = page;
    apply();
  }

  var timer = 0;
  if (q) q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refilter, 250);
  });
  if (evOnly) evOnly.addEventListener("change", refilter);
  if (clear) clear.addEventListener("click", function () { only = null; refilter(); });
  if (more) more.addEventListener("click", function () { limit += page; apply(); });
  if (all) all.addEventListener("click", function () { limit = Infinity; apply(); });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.closest) return;
    var b = t.closest("button[data-rows]");
    if (b) {
      only = new Set(b.getAttribute("data-rows").split(" ").map(function (x) { return "r" + x; }));
      refilter();
      var tl = document.getElementById("timeline");
      if (tl) tl.scrollIntoView();
      return;
    }
    // A link to a row the page does not show: show it before the browser scrolls to it.
    var a = t.closest("a[href^='#r']");
    if (a) {
      var row = document.getElementById(a.getAttribute("href").slice(1));
      if (row && row.hidden) row.hidden = false;
    }
  });

  var m = /^#q=(.*)$/.exec(location.hash);
  if (m && q) {
    q.value = decodeURIComponent(m[1]);
    apply();
  } else {
    status();
  }

  var ready = document.createElement("div");
  ready.id = "mbx-ready";
  ready.hidden = true;
  ready.setAttribute("data-rows", String(rows.length));
  ready.setAttribute("data-matches", String(matches));
  ready.setAttribute("data-visible", String(visible));
  ready.setAttribute("data-filter-ms", String(lastMs));
  ready.setAttribute("data-resources", String(performance.getEntriesByType("resource").length));
  document.body.appendChild(ready);
});

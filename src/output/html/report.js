"use strict";
// The timeline's filter, offline. Every word typed must appear in a row (any column, any
// case); "evidence rows only" keeps the rows that are evidence of a finding; a finding's
// button shows just its rows. At most one page of matching rows is displayed (the table's
// data-page, 1,000), more on demand: a browser lays out a page of rows in no time, but
// 100,000 at once takes it many seconds. Rows are hidden with the `hidden` attribute,
// changed only where it differs, after a pause in typing. A #q=TEXT fragment in the
// address filters on load. When done, an empty #mbx-ready element records what the page
// did (for tests).
//
// A packed timeline (a whole export) holds its rows as gzip-compressed JSON columns in a
// data block (#tld, of type application/x-mbxaudit-timeline): they are unpacked with the
// browser's DecompressionStream, and the rows to show are drawn from them, a page at a
// time, with the same markup and the same filter.
//
// Findings past the first ones drawn are packed alike (#fnd, HTML rows) and drawn when
// the "Show the other findings" button is pressed, or on load with a #findings=all
// fragment.

// The text of a packed data block: base64 of gzip, unpacked by the browser.
function unpack(block) {
  if (typeof DecompressionStream === "undefined") {
    return Promise.reject(new Error("this browser cannot unpack it (it needs DecompressionStream: " +
      "Chrome 80, Firefox 113, Safari 16.4 or later)"));
  }
  var bin = atob(block.textContent.trim());
  var bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Response(new Response(bytes).body.pipeThrough(new DecompressionStream("gzip"))).text();
}

document.addEventListener("DOMContentLoaded", function () {
  var moreFindings = document.getElementById("morefindings");
  var packedFindings = document.getElementById("fnd");
  var findingRows = document.querySelector("table.findings tbody");
  if (moreFindings && packedFindings && findingRows) {
    moreFindings.hidden = false;
    moreFindings.addEventListener("click", function () {
      moreFindings.disabled = true;
      unpack(packedFindings).then(function (html) {
        findingRows.insertAdjacentHTML("beforeend", html);
        moreFindings.hidden = true;
      }).catch(function (e) {
        moreFindings.textContent = "the findings could not be unpacked (" + e.message + ")";
      });
    });
    // A #findings=all fragment in the address draws them all on load.
    if (location.hash === "#findings=all") moreFindings.click();
  }
});

document.addEventListener("DOMContentLoaded", function () {
  var table = document.getElementById("tl");
  var packedData = document.getElementById("tld");
  if (table && packedData && table.hasAttribute("data-packed")) {
    packed(table, packedData);
    return;
  }
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
  ready.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  document.body.appendChild(ready);
});

// The packed timeline (see the top of this file).
function packed(table, source) {
  var tbody = table.tBodies[0];
  var page = Number(table.getAttribute("data-page")) || 1000;
  var q = document.getElementById("q");
  var evOnly = document.getElementById("evonly");
  var shown = document.getElementById("shown");
  var clear = document.getElementById("clearsel");
  var more = document.getElementById("more");
  var all = document.getElementById("all");
  var total = Number(source.getAttribute("data-rows")) || 0;
  var d = null;
  var secs = null;
  var lines = null;
  var ev = null;
  var texts = null;
  var only = null;
  var limit = page;
  var matches = total;
  var visible = Math.min(total, page);
  var lastMs = 0;
  var unpackMs = 0;

  function pad(n, w) {
    var s = String(Math.abs(n));
    while (s.length < w) s = "0" + s;
    return (n < 0 ? "-" : "") + s;
  }

  // As the report writes times: ISO 8601 UTC, a fraction only when there is one.
  function iso(i) {
    var t = new Date(secs[i] * 1000);
    var s = pad(t.getUTCFullYear(), 4) + "-" + pad(t.getUTCMonth() + 1, 2) + "-" +
      pad(t.getUTCDate(), 2) + "T" + pad(t.getUTCHours(), 2) + ":" +
      pad(t.getUTCMinutes(), 2) + ":" + pad(t.getUTCSeconds(), 2);
    var n = d.n.length ? d.n[i] : 0;
    if (n) {
      if (n % 1000000 === 0) s += "." + pad(n / 1000000, 3);
      else if (n % 1000 === 0) s += "." + pad(n / 1000, 6);
      else s += "." + pad(n, 9);
    }
    return s + "Z";
  }

  function cells(i) {
    var out = [String(i), iso(i)];
    for (var k = 0; k < d.c.length; k++) out.push(d.d[k][d.c[k][i]]);
    out.push(d.s[d.f[i]] + ":" + lines[i]);
    return out;
  }

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }

  function row(i) {
    return "<tr id=\"r" + i + "\"" + (ev[i] ? " class=e" : "") + "><td>" +
      cells(i).map(esc).join("<td>") + "\n";
  }

  function index() {
    if (texts) return;
    texts = new Array(total);
    for (var i = 0; i < total; i++) texts[i] = cells(i).join("").toLowerCase();
  }

  function status() {
    if (shown) {
      var filtered = matches === total ? "" : matches + " matching of ";
      shown.textContent = "showing " + visible + " of " + filtered + total + " rows";
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
    var html = [];
    var n = 0;
    for (var i = 0; i < total; i++) {
      var match = !(wantEv && !ev[i]) && !(only && !only.has(i));
      for (var k = 0; match && k < terms.length; k++) match = texts[i].indexOf(terms[k]) >= 0;
      if (!match) continue;
      if (n < limit) html.push(row(i));
      n++;
    }
    tbody.innerHTML = html.join("");
    matches = n;
    visible = html.length;
    status();
    lastMs = Math.round(performance.now() - t0);
  }

  function refilter() {
    limit = page;
    apply();
  }

  function ready() {
    var marker = document.createElement("div");
    marker.id = "mbx-ready";
    marker.hidden = true;
    marker.setAttribute("data-rows", String(total));
    marker.setAttribute("data-matches", String(matches));
    marker.setAttribute("data-visible", String(visible));
    marker.setAttribute("data-filter-ms", String(lastMs));
    marker.setAttribute("data-unpack-ms", String(unpackMs));
    marker.setAttribute("data-packed", "1");
    marker.setAttribute("data-resources", String(performance.getEntriesByType("resource").length));
    marker.setAttribute("data-ready-ms", String(Math.round(performance.now())));
    document.body.appendChild(marker);
  }

  function start() {
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
        only = new Set(b.getAttribute("data-rows").split(" ").map(Number));
        refilter();
        var tl = document.getElementById("timeline");
        if (tl) tl.scrollIntoView();
        return;
      }
      // A link to a row not drawn: draw it (with the rows drawn) before the browser
      // scrolls to it.
      var a = t.closest("a[href^='#r']");
      if (a) {
        var id = a.getAttribute("href").slice(2);
        if (!document.getElementById("r" + id)) {
          only = new Set([Number(id)]);
          refilter();
        }
      }
    });
    var m = /^#q=(.*)$/.exec(location.hash);
    if (m && q) {
      q.value = decodeURIComponent(m[1]);
      apply();
    } else {
      status();
    }
    ready();
  }

  var t0 = performance.now();
  if (typeof DecompressionStream === "undefined") {
    if (shown) shown.textContent = "this browser cannot unpack the timeline (it needs DecompressionStream: " +
      "Chrome 80, Firefox 113, Safari 16.4 or later); the first " + Math.min(total, page) + " rows are shown";
    return;
  }
  unpack(source)
    .then(function (text) {
      d = JSON.parse(text);
      secs = new Array(total);
      lines = new Array(total);
      var s = 0;
      var l = 0;
      for (var i = 0; i < total; i++) {
        s += d.t[i];
        l += d.l[i];
        secs[i] = s;
        lines[i] = l;
      }
      ev = new Uint8Array(total);
      for (var k = 0; k < d.e.length; k++) ev[d.e[k]] = 1;
      unpackMs = Math.round(performance.now() - t0);
      start();
    })
    .catch(function (e) {
      if (shown) shown.textContent = "the timeline could not be unpacked (" + e + ")";
    });
}

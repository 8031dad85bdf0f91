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
  timeline(table, {
    total: rows.length,
    isEvidence: function (i) { return rows[i].classList.contains("e"); },
    text: function (i) { return rows[i].textContent; },
    // Rows are hidden with the `hidden` attribute, changed only where it differs.
    draw: function (shown) {
      var want = new Uint8Array(rows.length);
      for (var k = 0; k < shown.length; k++) want[shown[k]] = 1;
      for (var i = 0; i < rows.length; i++) {
        var show = want[i] === 1;
        if (rows[i].hidden === show) rows[i].hidden = !show;
      }
    },
    // A row the filter hides is shown before the browser scrolls to it.
    reveal: function (i) {
      if (rows[i]) rows[i].hidden = false;
      return true;
    },
    marker: {},
  });
});

// The filter, the buttons, the links and the #mbx-ready marker of a timeline, over
// `rows`: its row count (`total`), whether row i is evidence (`isEvidence`), its text
// (`text`, for the filter), how to display a list of row numbers (`draw`), how to bring
// row i forward for a link to it (`reveal`: false when it must be drawn alone first), and
// extra attributes of the marker (`marker`). Row i is the element #r<i>. A page without a
// timeline (`table` null) still gets its marker.
function timeline(table, rows) {
  var total = rows.total;
  var page = (table && Number(table.getAttribute("data-page"))) || 1000;
  var q = document.getElementById("q");
  var evOnly = document.getElementById("evonly");
  var shown = document.getElementById("shown");
  var clear = document.getElementById("clearsel");
  var more = document.getElementById("more");
  var all = document.getElementById("all");
  var texts = null;
  var only = null;
  var limit = page;
  var matches = total;
  var visible = Math.min(total, page);
  var lastMs = 0;

  function index() {
    if (texts) return;
    texts = new Array(total);
    for (var i = 0; i < total; i++) texts[i] = rows.text(i).toLowerCase();
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
    var list = [];
    var n = 0;
    for (var i = 0; i < total; i++) {
      var match = !(wantEv && !rows.isEvidence(i)) && !(only && !only.has(i));
      for (var k = 0; match && k < terms.length; k++) match = texts[i].indexOf(terms[k]) >= 0;
      if (!match) continue;
      if (n < limit) list.push(i);
      n++;
    }
    rows.draw(list);
    matches = n;
    visible = list.length;
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
      only = new Set(b.getAttribute("data-rows").split(" ").map(Number));
      refilter();
      var tl = document.getElementById("timeline");
      if (tl) tl.scrollIntoView();
      return;
    }
    // A link to a row the page does not show: show it before the browser scrolls to it.
    var a = t.closest("a[href^='#r']");
    if (a) {
      var id = Number(a.getAttribute("href").slice(2));
      if (!rows.reveal(id)) {
        only = new Set([id]);
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

  var marker = document.createElement("div");
  marker.id = "mbx-ready";
  marker.hidden = true;
  marker.setAttribute("data-rows", String(total));
  marker.setAttribute("data-matches", String(matches));
  marker.setAttribute("data-visible", String(visible));
  marker.setAttribute("data-filter-ms", String(lastMs));
  for (var name in rows.marker) marker.setAttribute(name, rows.marker[name]);
  marker.setAttribute("data-resources", String(performance.getEntriesByType("resource").length));
  marker.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  document.body.appendChild(marker);
}

// The packed timeline (see the top of this file): its columns unpacked, then the same
// filter over rows drawn from them, a page at a time.
function packed(table, source) {
  var tbody = table.tBodies[0];
  var shown = document.getElementById("shown");
  var total = Number(source.getAttribute("data-rows")) || 0;
  var page = Number(table.getAttribute("data-page")) || 1000;
  var d = null;
  var secs = null;
  var lines = null;
  var ev = null;

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
      timeline(table, {
        total: total,
        isEvidence: function (i) { return ev[i] === 1; },
        text: function (i) { return cells(i).join(""); },
        draw: function (list) { tbody.innerHTML = list.map(row).join(""); },
        // A row not drawn is drawn alone (the caller selects it).
        reveal: function (i) { return document.getElementById("r" + i) !== null; },
        marker: { "data-unpack-ms": String(Math.round(performance.now() - t0)), "data-packed": "1" },
      });
    })
    .catch(function (e) {
      if (shown) shown.textContent = "the timeline could not be unpacked (" + e + ")";
    });
}

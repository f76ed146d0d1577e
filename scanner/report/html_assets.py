"""The HTML report's own style sheet and script, inline in every report (no file, font or
script from another host). The Content-Security-Policy allows exactly these two by their
SHA-256 hashes, so no other inline script or style can run, whatever the metadata holds.

The script reads its data from the `report-data` JSON block and writes only with
textContent and setAttribute: no HTML is ever parsed from data."""

STYLE = """
:root{--fg:#1d2329;--muted:#5d6873;--line:#d8dee4;--bg:#fff;--panel:#f6f8fa;
--critical:#7a0019;--high:#d7301f;--medium:#f28e2b;--low:#d9b520;--info:#7fa7d1;
--none:#9aa5ad;--undetermined:#cbbfe0}
*{box-sizing:border-box}
body{
  margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
  background:var(--bg)}
header,main{max-width:1200px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
.muted,.sub{color:var(--muted)}
nav a{margin-right:14px}
a{color:#0b5cad}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{
  background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 12px;
  min-width:130px}
.card b{display:block;font-size:22px}
.sev{
  display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;
  color:#fff;background:var(--none)}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}
.sev-medium{background:var(--medium)}.sev-low{background:var(--low);color:#222}
.sev-info{background:var(--info);color:#222}.sev-undetermined{background:var(--undetermined);color:#222}
.warn{color:#8a5300}
.verdict{font-size:16px;padding:6px 10px;border-radius:6px;background:var(--panel)}
.verdict-fail{background:#fde2de}.verdict-incomplete{background:#fff1d6}.verdict-pass{background:#e3f4e4}
ul.tight{margin:4px 0;padding-left:20px}
#graph-box{
  position:relative;border:1px solid var(--line);border-radius:6px;height:70vh;min-height:420px;
  overflow:hidden;background:#fcfcfd}
#graph-svg{width:100%;height:100%;cursor:grab;display:block}
#graph-svg.dragging{cursor:grabbing}
#graph-edges path{fill:none;stroke:#aab4be;stroke-opacity:.55;stroke-width:1}
#graph-edges path.up{stroke:#0b5cad;stroke-opacity:1;stroke-width:2}
#graph-edges path.down{stroke:#d7301f;stroke-opacity:1;stroke-width:2}
#graph-svg.focused #graph-edges path:not(.up):not(.down){stroke-opacity:.12}
.node circle{stroke:#fff;stroke-width:1.2}
.node text{font-size:11px;fill:#28323c;cursor:pointer}
.node{cursor:pointer}
.node.sev-critical text,.node.sev-high text{font-weight:700}
.node.sev-critical circle,.node.sev-high circle{stroke:#3a0008;stroke-width:1.6}
.node.selected circle{stroke:#000;stroke-width:3}
#graph-tools{position:absolute;top:8px;right:8px;display:flex;gap:4px}
#graph-tools button{font-size:14px;min-width:30px}
#node-info{
  position:absolute;left:8px;bottom:8px;max-width:46%;background:rgba(255,255,255,.95);
  border:1px solid var(--line);border-radius:6px;padding:6px 10px;font-size:13px}
#node-info[hidden]{display:none}
#node-info .title{font-weight:700}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0;font-size:13px;color:var(--muted)}
.dot{
  display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;
  vertical-align:middle}
.dot-critical{

  background:var(--critical)}.dot-high{background:var(--high)}.dot-medium{background:var(--medium)}
.dot-low{

  background:var(--low)}.dot-info{background:var(--info)}.dot-undetermined{background:var(--undetermined)}.dot-none{background:var(--none)}
#accounts-chart text{font-size:12px;fill:#28323c}
#accounts-chart rect{fill:#5b8db8}
#accounts-chart rect.concentrated{fill:#d7301f}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-bottom:8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
#findings-table th{cursor:pointer;user-select:none;white-space:nowrap;background:var(--panel)}
#findings-table th[aria-sort=ascending]::after{content:" \\25B2"}
#findings-table th[aria-sort=descending]::after{content:" \\25BC"}
#findings-table td.num{text-align:right}
#findings-table tr[hidden]{display:none}
details.package{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}
details.package>summary{cursor:pointer;font-weight:600}
details.package[open]{background:#fdfdfe}
.factlines{white-space:pre-wrap;font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;
  word-break:break-word}
table.facts td:first-child{white-space:nowrap;color:var(--muted);width:1%}
.path span{white-space:nowrap}
.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
footer{max-width:1200px;margin:30px auto;padding:0 20px;color:var(--muted);font-size:12px}
"""

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);

  // --- the graph: pan, zoom, select ---
  var svg = document.getElementById("graph-svg");
  if (svg) {
    var full = [0, 0, +svg.getAttribute("data-width"), +svg.getAttribute("data-height")];
    // The box takes the drawing's proportions, within the window's height.
    var box = document.getElementById("graph-box");
    var fitted = box.clientWidth * full[3] / full[2];
    box.style.height = Math.round(Math.max(420, Math.min(fitted, window.innerHeight * 0.8))) + "px";
    var view = full.slice();
    var show = function () { svg.setAttribute("viewBox", view.join(" ")); };
    var toGraph = function (event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      return point.matrixTransform(svg.getScreenCTM().inverse());
    };
    var zoom = function (factor, cx, cy) {
      if (cx === undefined) { cx = view[0] + view[2] / 2; cy = view[1] + view[3] / 2; }
      var w = view[2] * factor, h = view[3] * factor;
      if (w < 60 || w > full[2] * 4) { return; }
      view = [cx - (cx - view[0]) * factor, cy - (cy - view[1]) * factor, w, h];
      show();
    };
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var p = toGraph(event);
      zoom(event.deltaY < 0 ? 0.8 : 1.25, p.x, p.y);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      drag = { x: event.clientX, y: event.clientY, view: view.slice(), moved: false,
               scale: 1 / svg.getScreenCTM().a };
      svg.classList.add("dragging");
    });
    window.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
      view = [drag.view[0] - dx * drag.scale, drag.view[1] - dy * drag.scale, view[2], view[3]];
      show();
    });
    window.addEventListener("pointerup", function () {
      svg.classList.remove("dragging");
      setTimeout(function () { drag = null; }, 0);
    });
    document.getElementById("zoom-in").addEventListener("click", function () { zoom(0.7); });
    document.getElementById("zoom-out").addEventListener("click", function () { zoom(1 / 0.7); });
    document.getElementById("zoom-fit").addEventListener("click", function () {
      view = full.slice(); show();
    });

    var info = document.getElementById("node-info");
    var line = function (text, className) {
      var p = document.createElement("div");
      p.textContent = text;
      if (className) { p.className = className; }
      info.appendChild(p);
    };
    var select = function (index) {
      svg.querySelectorAll(".selected").forEach(function (n) { n.classList.remove("selected"); });
      svg.querySelectorAll("#graph-edges path").forEach(function (e) {
        e.classList.remove("up"); e.classList.remove("down");
      });
      var node = svg.querySelector('.node[data-i="' + index + '"]');
      if (!node) { return; }
      node.classList.add("selected");
      svg.classList.add("focused");
      svg.querySelectorAll('#graph-edges path[data-to="' + index + '"]').forEach(function (e) {
        e.classList.add("up");
      });
      svg.querySelectorAll('#graph-edges path[data-from="' + index + '"]').forEach(function (e) {
        e.classList.add("down");
      });
      var pkg = data.packages[index];
      info.textContent = "";
      line(pkg.label, "title");
      if (pkg.summary) { line(pkg.summary, "muted"); }
      line(pkg.severity === "none" ? "no findings" : "most severe: " + pkg.severity
           + " (" + pkg.findings + " finding" + (pkg.findings === 1 ? "" : "s") + ")");
      line("depended on by " + pkg.dependents + "; publishers: " + pkg.publishers);
      var link = document.createElement("a");
      link.setAttribute("href", "#pkg-" + index);
      link.textContent = "details below";
      info.appendChild(link);
      info.hidden = false;
    };
    svg.addEventListener("click", function (event) {
      if (drag && drag.moved) { return; }
      var node = event.target.closest(".node");
      if (node) { select(node.getAttribute("data-i")); return; }
      svg.classList.remove("focused");
      svg.querySelectorAll(".selected").forEach(function (n) { n.classList.remove("selected"); });
      info.hidden = true;
    });
    svg.addEventListener("keydown", function (event) {
      var node = event.target.closest(".node");
      if (node && event.key === "Enter") { select(node.getAttribute("data-i")); }
    });
  }

  // Opening a package's panel from a link.
  var openTarget = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") { target.open = true; }
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // --- the findings table: sort and filter ---
  var table = document.getElementById("findings-table");
  if (table) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, column) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "number";
        rows.sort(function (a, b) {
          var x = a.cells[column].getAttribute("data-v");
          var y = b.cells[column].getAttribute("data-v");
          var order = numeric ? (+x) - (+y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    var text = document.getElementById("findings-filter");
    var severity = document.getElementById("findings-severity");
    var count = document.getElementById("findings-count");
    var filter = function () {
      var words = text.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var least = +severity.value;
      var shown = 0;
      rows.forEach(function (row) {
        var haystack = row.textContent.toLowerCase();
        var visible = +row.getAttribute("data-rank") >= least
          && words.every(function (w) { return haystack.indexOf(w) >= 0; });
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      count.textContent = shown + " of " + rows.length + " shown";
    };
    text.addEventListener("input", filter);
    severity.addEventListener("change", filter);
    filter();
  }
})();
"""

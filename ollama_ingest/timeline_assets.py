"""The inline CSS and JavaScript of the timeline page (tooltips, drag to zoom, double-click to reset)."""

_CSS = """
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 16px; color: #1f2328;
       background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
.meta { color: #57606a; margin-bottom: 8px; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; margin: 8px 0 12px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend svg { vertical-align: middle; }
svg.host { display: block; margin-bottom: 14px; user-select: none; }
.hosttitle { font-weight: 600; font-size: 14px; }
.range { fill: #57606a; font-size: 11px; }
.plot { fill: none; stroke: #d0d7de; }
.row.even { fill: #f6f8fa; } .row.odd { fill: #ffffff; }
.rowlabel { font-size: 12px; fill: #1f2328; }
.axis line { stroke: #d0d7de; stroke-width: 1; } .axis text { font-size: 11px; fill: #57606a; }
.session { fill: #9e9e9e; fill-opacity: 0.35; stroke: #8a8a8a; stroke-opacity: 0.6; }
.load { fill: #3d71d9; } .request { fill: #37a852; fill-opacity: 0.9; }
.warning { fill: #f2c94c; stroke: #8a6d00; stroke-width: 1; } .unload { fill: #e02f44; }
.item:hover { stroke: #000; stroke-width: 1.5; }
.zoombox { fill: #3d71d9; fill-opacity: 0.12; stroke: #3d71d9; }
#tip { position: fixed; pointer-events: none; background: #24292f; color: #fff; padding: 6px 8px; border-radius: 4px;
       font-size: 12px; white-space: pre; display: none; z-index: 10; max-width: 640px; overflow: hidden; }
.empty { padding: 24px; color: #57606a; border: 1px dashed #d0d7de; }
.hint { color: #57606a; font-size: 11px; }
"""

# Tooltips, and drag-to-zoom / double-click-to-reset per host: every element is re-placed from its
# data-start-ms/data-end-ms with the same formula the page was drawn with.
_JS = """
(function () {
  var tip = document.getElementById('tip');
  document.addEventListener('mousemove', function (e) {
    var t = e.target.closest ? e.target.closest('[data-tip]') : null;
    if (!t) { tip.style.display = 'none'; return; }
    tip.textContent = t.getAttribute('data-tip');
    tip.style.display = 'block';
    var x = e.clientX + 14, y = e.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = e.clientX - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > window.innerHeight) y = e.clientY - tip.offsetHeight - 14;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });
  var PX = %(plot_x)s, PW = %(plot_w)s, STEPS = %(steps)s;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function label(ms, step) {
    var d = new Date(ms);
    if (step >= 86400000) return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
    var hm = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
    return step < 60000 ? hm + ':' + pad(d.getUTCSeconds()) : hm;
  }
  function layout(svg, t0, t1) {
    var plot = svg.querySelector('rect.plot');
    plot.setAttribute('data-t0-ms', t0.toFixed(3)); plot.setAttribute('data-t1-ms', t1.toFixed(3));
    var X = function (ms) { return PX + (Math.min(Math.max(ms, t0), t1) - t0) / (t1 - t0) * PW; };
    svg.querySelectorAll('[data-kind]').forEach(function (el) {
      var s = +el.getAttribute('data-start-ms'), e = +el.getAttribute('data-end-ms'), k = el.getAttribute('data-kind');
      el.style.display = (e < t0 || s > t1) ? 'none' : '';
      var x0 = X(s), x1 = X(e);
      if (k === 'warning') {
        var cy = +el.getAttribute('data-cy');
        el.setAttribute('d', 'M' + (x0 - 6) + ',' + (cy - 5) + ' L' + (x0 + 6) + ',' + (cy - 5) + ' L' + x0 + ',' + (cy + 6) + ' Z');
      } else if (k === 'unload') { el.setAttribute('x', x0 - 1.5); }
      else { el.setAttribute('x', x0); el.setAttribute('width', Math.max(x1 - x0, k === 'request' ? 1.5 : 2)); }
    });
    var axis = svg.querySelector('g.axis'), top = +plot.getAttribute('y'), h = +plot.getAttribute('height');
    var span = Math.max(t1 - t0, 1), step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) { if (span / STEPS[i] <= 10) { step = STEPS[i]; break; } }
    var parts = [];
    for (var t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      var x = X(t).toFixed(2);
      parts.push('<line x1="' + x + '" x2="' + x + '" y1="' + top + '" y2="' + (top + h + 4) + '"/>' +
                 '<text x="' + x + '" y="' + (top + h + 18) + '" text-anchor="middle">' + label(t, step) + '</text>');
    }
    axis.innerHTML = parts.join('');
    svg.querySelector('.range').textContent = new Date(t0).toISOString().slice(0, 19).replace('T', ' ') + ' → ' +
      new Date(t1).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  }
  document.querySelectorAll('svg.host').forEach(function (svg) {
    var plot = svg.querySelector('rect.plot');
    var home = [+plot.getAttribute('data-t0-ms'), +plot.getAttribute('data-t1-ms')];
    var box = null, startX = 0;
    function svgX(e) { var r = svg.getBoundingClientRect(); return (e.clientX - r.left) * (svg.viewBox.baseVal.width / r.width); }
    svg.addEventListener('mousedown', function (e) {
      startX = Math.min(Math.max(svgX(e), PX), PX + PW);
      box = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      box.setAttribute('class', 'zoombox'); box.setAttribute('y', plot.getAttribute('y'));
      box.setAttribute('height', plot.getAttribute('height')); box.setAttribute('x', startX); box.setAttribute('width', 0);
      svg.appendChild(box);
    });
    svg.addEventListener('mousemove', function (e) {
      if (!box) return;
      var x = Math.min(Math.max(svgX(e), PX), PX + PW);
      box.setAttribute('x', Math.min(x, startX)); box.setAttribute('width', Math.abs(x - startX));
    });
    svg.addEventListener('mouseup', function () {
      if (!box) return;
      var x = +box.getAttribute('x'), w = +box.getAttribute('width');
      box.remove(); box = null;
      if (w < 4) return;
      var t0 = +plot.getAttribute('data-t0-ms'), t1 = +plot.getAttribute('data-t1-ms');
      var a = t0 + (x - PX) / PW * (t1 - t0), b = t0 + (x + w - PX) / PW * (t1 - t0);
      layout(svg, a, b);
    });
    svg.addEventListener('dblclick', function () { layout(svg, home[0], home[1]); });
  });
})();
"""

// The job page's live progress: poll the JSON endpoint and update the counters; reload once the job has
// ended so the page shows its report. Served as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var finalStates = { done: true, failed: true, cancelled: true };
  if (finalStates[box.getAttribute("data-state")]) { return; }

  function set(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(value); }
  }

  function show(job) {
    var p = job.progress || {};
    var bar = document.getElementById("job-bar");
    if (bar) {
      bar.max = Math.max(1, p.total || 0);
      bar.value = p.finished || 0;
    }
    set("job-finished", p.finished || 0);
    set("job-total", p.total || 0);
    var stages = p.stages || {};
    ["draft", "render", "submit"].forEach(function (name) {
      var c = stages[name] || {};
      set("st-" + name + "-start", c.start || 0);
      set("st-" + name + "-done", c.done || 0);
      set("st-" + name + "-fail", c.fail || 0);
    });
    var state = document.getElementById("job-state");
    if (state) {
      var label = state.getAttribute("data-label-" + job.state);
      if (label) { state.textContent = label; }
      state.className = "badge job-" + job.state;
    }
    box.setAttribute("data-state", job.state);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 3000); return; }
        show(job);
        if (job.final) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());

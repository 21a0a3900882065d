/* hocvu SCORM 1.2 bridge: reports the quiz score of this lesson page to the LMS when one is found.
   Without an LMS (opened from a plain file server) it does nothing. */
(function () {
  "use strict";
  var MASTERY = 80;

  function findAPI(win) {
    for (var tries = 0; win && tries < 12; tries++) {
      try {
        if (win.API) { return win.API; }
      } catch (e) { return null; } /* a frame from another origin */
      if (!win.parent || win.parent === win) { break; }
      win = win.parent;
    }
    return null;
  }

  var api = findAPI(window);
  if (!api && window.opener) { api = findAPI(window.opener); }
  var started = false;
  var finished = false;

  function call(name, a, b) {
    try { return String(api[name].apply(api, b === undefined ? [a] : [a, b])); } catch (e) { return "false"; }
  }

  function start() {
    if (!api || started) { return started; }
    started = call("LMSInitialize", "") === "true";
    if (started) {
      var status = call("LMSGetValue", "cmi.core.lesson_status");
      if (status === "not attempted" || status === "" || status === "false") {
        call("LMSSetValue", "cmi.core.lesson_status", "incomplete");
      }
    }
    return started;
  }

  /* score and max are counts of questions; the LMS gets a percentage. */
  function report(score, max, complete) {
    if (!start() || finished) { return false; }
    var raw = max > 0 ? Math.round((100 * score) / max) : 0;
    call("LMSSetValue", "cmi.core.score.min", "0");
    call("LMSSetValue", "cmi.core.score.max", "100");
    call("LMSSetValue", "cmi.core.score.raw", String(raw));
    if (complete) {
      call("LMSSetValue", "cmi.core.lesson_status", raw >= MASTERY ? "passed" : "failed");
    }
    call("LMSCommit", "");
    return true;
  }

  function finish() {
    if (started && !finished) {
      finished = true;
      call("LMSFinish", "");
    }
  }

  /* The lesson page's quiz: one form.quiz per question, data-answer is the correct option's index. */
  var forms = document.querySelectorAll("form.quiz");
  var results = {};
  Array.prototype.forEach.call(forms, function (form, i) {
    form.addEventListener("submit", function () {
      var picked = form.querySelector("input:checked");
      if (!picked) { return; }
      results[i] = picked.value === form.getAttribute("data-answer");
      var answered = 0, right = 0;
      for (var k in results) {
        if (Object.prototype.hasOwnProperty.call(results, k)) {
          answered++;
          if (results[k]) { right++; }
        }
      }
      report(right, forms.length, answered === forms.length);
    });
  });

  window.hocvuScorm = { api: api, report: report, finish: finish };
  start();
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);
})();

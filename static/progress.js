// Follows a queued or running run from its page: the server streams the
// run's progress (server-sent events) and this moves the bar in place. When
// the run ends the page reloads to show the memo. Without JavaScript the
// page refreshes itself instead.
(function () {
  "use strict";
  var bar = document.getElementById("progress");
  if (!bar || !window.EventSource) {
    return;
  }
  var line = document.getElementById("progress-line");
  var queue = document.getElementById("queue-line");
  var status = document.getElementById("run-status");
  var events = new EventSource(bar.getAttribute("data-events"));
  events.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    if (p.status !== "queued" && p.status !== "running") {
      events.close();
      window.location.reload();
      return;
    }
    bar.value = p.percent;
    bar.textContent = p.percent + " %";
    line.textContent = p.line;
    queue.textContent = p.queue;
    status.textContent = p.status;
    document.body.setAttribute("data-progress", String(p.done));
  });
})();

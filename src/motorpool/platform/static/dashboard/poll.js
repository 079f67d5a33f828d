// Keeps the vehicle page's signal table and state live: server-sent events from
// ".../events" first; where a stream cannot be held (no EventSource, or it keeps failing
// before a first event), polling the table's fragment URL every few seconds instead.
(function () {
  "use strict";
  var box = document.getElementById("signals-box");
  if (!box) return;
  var src = box.getAttribute("data-src");
  var events = box.getAttribute("data-events");
  var status = document.getElementById("status");

  function showTable(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var table = doc.getElementById("signals");
    if (table) box.replaceChildren(document.importNode(table, true));
  }

  function showStatus(text) {
    if (!status || !text) return;
    status.textContent = text;
    status.className = "status " + text;
  }

  var polling = null;
  function poll() {
    if (polling !== null) return;
    box.setAttribute("data-live", "polling");
    polling = setInterval(function () {
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) showTable(html); })
        .catch(function () { /* the next tick tries again */ });
    }, 3000);
  }

  if (!events || typeof window.EventSource !== "function") { poll(); return; }
  var stream = new EventSource(events);
  var received = false;
  var failures = 0;
  stream.addEventListener("vehicle", function (event) {
    received = true;
    failures = 0;
    box.setAttribute("data-live", "events");
    var update = JSON.parse(event.data);
    showTable(update.signals);
    showStatus(update.status);
  });
  stream.addEventListener("signed-out", function () { stream.close(); window.location.reload(); });
  stream.addEventListener("gone", function () { stream.close(); });
  stream.onerror = function () {
    // A stream that ends is reopened by the browser; one that never worked is given up.
    failures += 1;
    if (stream.readyState === EventSource.CLOSED || (!received && failures >= 3)) {
      stream.close();
      poll();
    }
  };
})();

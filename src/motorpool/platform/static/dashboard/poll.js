// Refreshes the vehicle page's signal table every few seconds from its fragment URL.
(function () {
  "use strict";
  var box = document.getElementById("signals-box");
  if (!box) return;
  var src = box.getAttribute("data-src");
  function refresh() {
    fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var table = doc.getElementById("signals");
        if (table) box.replaceChildren(document.importNode(table, true));
      })
      .catch(function () { /* the next tick tries again */ });
  }
  setInterval(refresh, 3000);
})();

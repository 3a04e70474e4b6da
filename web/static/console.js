// Keep 「同意取得済み患者一覧」 current: fetch the rows every few seconds and swap them in
// when they changed, so a patient who just finished reception appears without a reload.
(function () {
  "use strict";
  var table = document.getElementById("patient-list");
  if (!table || !window.fetch) { return; }
  var url = table.getAttribute("data-fragment-url");
  var last = null;

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) {
        if (resp.redirected || !resp.ok) { throw new Error("stopped"); }
        return resp.text();
      })
      .then(function (html) {
        if (html === last) { return; }
        last = html;
        var holder = document.createElement("table");
        holder.innerHTML = html;
        var fresh = holder.querySelector("tbody");
        var current = document.getElementById("patient-rows");
        if (fresh && current) { current.replaceWith(fresh); }
      })
      .catch(function () { /* keep the rows we have; try again next time */ });
  }
  setInterval(refresh, 4000);
})();

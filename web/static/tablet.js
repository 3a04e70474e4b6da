// The institution's tablet in 「受付モード」: ask the server every few seconds whether the tablet
// has been idle too long, and go back to the neutral start when it says so (the server forgets the
// patient; the clock it measures with is the service's, which the sandbox can move).
// One question at a time, and none once the page is leaving (a redirect under way, or the page
// being closed or navigated away): a poll must never start a second navigation over the first.
(function () {
  "use strict";
  var holder = document.getElementById("tablet");
  if (!holder || !window.fetch) { return; }
  var url = holder.getAttribute("data-idle-url");
  if (holder.getAttribute("data-at-start")) { url += (url.indexOf("?") < 0 ? "?" : "&") + "at=start"; }
  var every = parseInt(holder.getAttribute("data-poll-ms"), 10) || 3000;
  var timer = null;
  var asking = false;

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
  }

  function check() {
    if (asking || timer === null) { return; }
    asking = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (data && data.redirect && timer !== null) {
          stop();
          window.location.assign(data.redirect);
        }
      })
      .catch(function () { /* try again next time */ })
      .then(function () { asking = false; });
  }
  function begin() {
    if (timer === null) { timer = setInterval(check, every); }
  }
  begin();
  window.addEventListener("pagehide", stop);
  // Back from the browser's page cache: this page is shown again, so it asks again.
  window.addEventListener("pageshow", function (event) { if (event.persisted) { begin(); } });
})();

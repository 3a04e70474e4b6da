// The institution's tablet in 「受付モード」: ask the server every few seconds whether the tablet
// has been idle too long, and go back to the neutral start when it says so (the server forgets the
// patient; the clock it measures with is the service's, which the sandbox can move).
(function () {
  "use strict";
  var holder = document.getElementById("tablet");
  if (!holder || !window.fetch) { return; }
  var url = holder.getAttribute("data-idle-url");
  if (holder.getAttribute("data-at-start")) { url += (url.indexOf("?") < 0 ? "?" : "&") + "at=start"; }
  var every = parseInt(holder.getAttribute("data-poll-ms"), 10) || 3000;

  function check() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (data && data.redirect) { window.location.assign(data.redirect); }
      })
      .catch(function () { /* try again next time */ });
  }
  setInterval(check, every);
})();

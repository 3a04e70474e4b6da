// One WebAuthn step for every page that needs it: the patient's card read (WebAuthn over NFC,
// the PIN as user verification), staff passkey sign-in, and (data-mode="create") adding a passkey.
// Ask the server for options, let the browser talk to the authenticator, post the result,
// follow the server's redirect. Works where the newest JSON helpers are missing: base64url is
// done by hand as a fallback.
(function () {
  "use strict";

  function b64urlToBytes(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function bytesToB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function toPublicKeyOptions(json) {
    if (window.PublicKeyCredential && typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json, { challenge: b64urlToBytes(json.challenge) });
    options.allowCredentials = (json.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: b64urlToBytes(c.id) });
    });
    return options;
  }

  function toCreationOptions(json) {
    if (window.PublicKeyCredential && typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json, { challenge: b64urlToBytes(json.challenge) });
    options.user = Object.assign({}, json.user, { id: b64urlToBytes(json.user.id) });
    options.excludeCredentials = (json.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: b64urlToBytes(c.id) });
    });
    return options;
  }

  function credentialToJSON(credential) {
    if (typeof credential.toJSON === "function") {
      try { return credential.toJSON(); } catch (e) { /* fall through to the manual form */ }
    }
    var r = credential.response;
    if (r.attestationObject) {
      return {
        id: credential.id,
        rawId: bytesToB64url(credential.rawId),
        type: credential.type,
        clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
        response: {
          clientDataJSON: bytesToB64url(r.clientDataJSON),
          attestationObject: bytesToB64url(r.attestationObject),
          transports: r.getTransports ? r.getTransports() : []
        }
      };
    }
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: {
        clientDataJSON: bytesToB64url(r.clientDataJSON),
        authenticatorData: bytesToB64url(r.authenticatorData),
        signature: bytesToB64url(r.signature),
        userHandle: r.userHandle ? bytesToB64url(r.userHandle) : null
      }
    };
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(body)
    });
  }

  function setup(root) {
    var button = root.querySelector("[data-card-start]");
    var stopButton = root.querySelector("[data-card-stop]");
    var adviceBox = root.querySelector("[data-advice]");
    var alertBox = root.querySelector("[data-alert]");
    var statusBox = root.querySelector("[data-status]");
    var msg = root.dataset;
    // A card that never answers: 「読み取りをやめる」 ends the wait, and after data-advice-ms the
    // page says what to do next (the browser itself would wait for the whole timeout).
    var adviceMs = parseInt(msg.adviceMs || "0", 10);
    var controller = null;
    var adviceTimer = null;
    var stopped = false;

    function showAlert(text) {
      statusBox.hidden = true;
      alertBox.textContent = text;
      alertBox.hidden = false;
    }
    function showStatus(text) {
      alertBox.hidden = true;
      statusBox.textContent = text;
      statusBox.hidden = false;
    }
    function waiting(on) {
      if (adviceTimer) { clearTimeout(adviceTimer); adviceTimer = null; }
      if (adviceBox) { adviceBox.hidden = true; }
      if (stopButton) { stopButton.hidden = !on; }
      if (on && adviceBox && adviceMs > 0) {
        adviceTimer = setTimeout(function () { adviceBox.hidden = false; }, adviceMs);
      }
    }
    if (stopButton) {
      stopButton.addEventListener("click", function () {
        stopped = true;
        if (controller) { controller.abort(); }
      });
    }

    if (!window.PublicKeyCredential || !navigator.credentials || !navigator.credentials.get) {
      showAlert(msg.msgUnsupported);
      button.hidden = true;
      return;
    }

    var busy = false;
    button.disabled = false;  // ready: the page ships the button disabled until now
    button.addEventListener("click", function () {
      if (busy) { return; }  // a second tap must not start a second read
      busy = true;
      stopped = false;
      button.disabled = true;
      showStatus(msg.msgReading);
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var signal = controller ? { signal: controller.signal } : {};
      postJSON(msg.optionsUrl, {})
        .then(function (resp) {
          return resp.json().then(function (data) {
            if (!resp.ok) { throw { server: data }; }
            if (stopped) { throw { stopped: true }; }
            if (msg.mode === "create") {
              return navigator.credentials.create(Object.assign({ publicKey: toCreationOptions(data) }, signal));
            }
            waiting(true);
            return navigator.credentials.get(Object.assign({ publicKey: toPublicKeyOptions(data) }, signal));
          });
        })
        .then(function (credential) {
          waiting(false);
          if (!credential) { throw { cancelled: true }; }
          return postJSON(msg.verifyUrl, { credential: credentialToJSON(credential) });
        })
        .then(function (resp) {
          return resp.json().then(function (data) {
            if (!resp.ok) { throw { server: data }; }
            window.location.assign(data.redirect);
          });
        })
        .catch(function (err) {
          waiting(false);
          busy = false;
          button.disabled = false;
          if (stopped) {
            showStatus(msg.msgStopped || msg.msgCancelled);
          } else if (err && err.server) {
            showAlert(err.server.message || msg.msgNetwork);
          } else if (err && (err.cancelled || err.name === "NotAllowedError" || err.name === "AbortError")) {
            showAlert(msg.msgCancelled);
          } else if (err && err.name === "SecurityError") {
            showAlert(msg.msgUnsupported);
          } else if (err instanceof TypeError || err instanceof SyntaxError) {
            // No answer, or not ours (a proxy's or the server's own error page): the request
            // may have been done; the message says where to check.
            showAlert(msg.msgNetwork);
          } else {
            showAlert(msg.msgCancelled);
          }
        });
    });
  }

  var roots = document.querySelectorAll("[data-card-read]");
  for (var i = 0; i < roots.length; i++) { setup(roots[i]); }
})();

// Small enhancements only: every page works without this script.
// A live password-strength hint: asks the service (the same rules that decide at
// registration) while the member types, and says the answer in an aria-live region.
(function () {
  "use strict";
  var timer = null;
  function check(input, output) {
    var value = input.value;
    if (value.length === 0) { output.textContent = ""; return; }
    var email = document.getElementById("email");
    fetch("/api/v1/password-check", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: value, email: email ? email.value : null, language: document.documentElement.lang })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
      if (answer) { output.textContent = output.dataset.label + ": " + answer.message; }
    }).catch(function () { output.textContent = ""; });
  }
  document.querySelectorAll("input[data-strength]").forEach(function (input) {
    var output = document.getElementById(input.dataset.strength);
    if (!output) { return; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { check(input, output); }, 300);
    });
  });
})();

// Passkeys need the browser's WebAuthn API, so their buttons appear only where it exists.
// Options and answers travel in WebAuthn's JSON forms (parse…FromJSON, toJSON).
(function () {
  "use strict";
  var supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";
  document.querySelectorAll("[data-passkey-area]").forEach(function (area) {
    area.hidden = !supported;
  });
  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) {
    note.hidden = !!supported;
  });
  if (!supported) { return; }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) {
        return { status: r.status, json: json };
      });
    });
  }

  function failed(button) {
    var error = document.getElementById("passkey-error");
    if (error) { error.hidden = false; }
    button.disabled = false;
  }

  function register(button) {
    var back = button.dataset.back || "/me";
    post("/api/v1/me/passkeys/options").then(function (start) {
      if (start.status === 403 && start.json.code === "reauthentication_required") {
        window.location.assign("/me/reauthenticate?back=" + encodeURIComponent(back));
        return null;
      }
      if (start.status !== 200) { throw new Error(start.json.code || "options"); }
      var options = PublicKeyCredential.parseCreationOptionsFromJSON(start.json.publicKey);
      return navigator.credentials.create({ publicKey: options }).then(function (credential) {
        var name = document.getElementById("passkey-name");
        return post("/api/v1/me/passkeys", {
          ceremony: start.json.ceremony,
          name: (name && name.value.trim()) || "Passkey",
          credential: credential.toJSON()
        });
      });
    }).then(function (added) {
      if (!added) { return; }
      if (added.status !== 201) { throw new Error(added.json.code || "add"); }
      var codes = added.json.recovery_codes || [];
      if (codes.length === 0) {
        window.location.assign("/me?done=passkey_added#passkeys");
        return;
      }
      var list = document.getElementById("recovery-codes");
      codes.forEach(function (code) {
        var item = document.createElement("li");
        var text = document.createElement("code");
        text.textContent = code;
        item.appendChild(text);
        list.appendChild(item);
      });
      document.getElementById("passkey-codes").hidden = false;
      button.hidden = true;
    }).catch(function () { failed(button); });
  }

  function signIn(button) {
    var back = button.dataset.back || "/me";
    if (back.charAt(0) !== "/" || back.charAt(1) === "/") { back = "/me"; }
    post("/api/v1/sessions/passkey/options").then(function (start) {
      if (start.status !== 200) { throw new Error(start.json.code || "options"); }
      var options = PublicKeyCredential.parseRequestOptionsFromJSON(start.json.publicKey);
      return navigator.credentials.get({ publicKey: options }).then(function (credential) {
        return post("/api/v1/sessions/passkey", {
          ceremony: start.json.ceremony,
          credential: credential.toJSON()
        });
      });
    }).then(function (done) {
      if (done.status !== 201) { throw new Error(done.json.code || "sign-in"); }
      window.location.assign(back);
    }).catch(function () { failed(button); });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      var error = document.getElementById("passkey-error");
      if (error) { error.hidden = true; }
      if (button.dataset.passkey === "register") { register(button); } else { signIn(button); }
    });
  });
})();

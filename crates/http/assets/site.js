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

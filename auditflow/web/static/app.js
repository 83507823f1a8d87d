/* auditflow: small enhancements only; every page works without script.
   No inline script anywhere: the Content-Security-Policy forbids it. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Bring the first field with an error into view, so the message next to it is read first.
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) {
      invalid.focus();
    }
  });
})();

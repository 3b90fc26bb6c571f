// Failed htmx requests must never look saved. htmx leaves a 4xx answer unswapped, so
// a row would keep its old state (and its clicked button) with no message. A 4xx
// answer whose body is HTML meant for the target (the row re-rendered with its error)
// is swapped in like a success; any other failure (404, 500, no network) writes a
// message beside the element the user clicked. External file: the CSP forbids inline
// script.
(function () {
  "use strict";
  if (window.__iopHtmxErrors) { return; }
  window.__iopHtmxErrors = true;

  document.body.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status >= 400 && xhr.status < 500 && xhr.status !== 404 &&
        (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0 &&
        xhr.responseText.indexOf("<html") === -1) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });

  function showFailure(evt, text) {
    var elt = evt.detail.elt;
    var target = evt.detail.target || elt;
    var host = (target && target.closest && target.closest(".list-group-item, td, li, form")) || target;
    if (!host) { return; }
    var old = host.querySelector(":scope > .htmx-failure");
    if (old) { old.remove(); }
    var message = document.createElement("div");
    message.className = "htmx-failure w-100 text-danger small";
    message.setAttribute("role", "alert");
    message.textContent = text;
    host.appendChild(message);
    if (document.activeElement && host.contains(document.activeElement)) {
      document.activeElement.blur();  // a focused button must not look chosen
    }
  }

  document.body.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    var text = status === 404
      ? "Not saved: this page is out of date or no longer yours to change. Reload it."
      : "Not saved: the server answered " + status + ". Reload the page and try again.";
    showFailure(evt, text);
  });
  document.body.addEventListener("htmx:sendError", function (evt) {
    showFailure(evt, "Not saved: the clinic server cannot be reached. Check the connection.");
  });
})();

// Autosave of a note's draft. The form posts itself through htmx 2 s after typing
// stops (hx-trigger="input delay:2s"); this script keeps a "dirty" mark that app.js
// reads to save before an idle sign-out, shows refusals (htmx does not swap 4xx by
// default), and sends a last save as a beacon when the page goes away.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form) { return; }
  var status = document.getElementById("autosave-status");
  var sent = null;

  function markDirty() { form.dataset.dirty = String(Date.now()); }
  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  form.addEventListener("submit", function () { form.dataset.dirty = ""; });

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt === form) { sent = form.dataset.dirty; }
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.elt !== form) { return; }
    var xhr = event.detail.xhr;
    if (xhr.responseURL && xhr.responseURL.indexOf("/accounts/login") !== -1) {
      // The server signed the session out: nothing was saved; say so, keep the text.
      event.detail.shouldSwap = false;
      status.textContent = "Not saved: you were signed out. Copy your text, sign in again in another tab.";
      status.className = "text-danger";
      return;
    }
    if (xhr.status === 400) {  // a refusal with its message: show it
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === form && event.detail.successful && form.dataset.dirty === sent) {
      form.dataset.dirty = "";
    }
  });
  // The sticky save bar never hides the field being worked on: the page keeps room
  // for the bar when the browser scrolls a focused field into view, and a field still
  // under the bar (or above the window) is brought to the middle.
  var bar = form.querySelector(".sticky-bottom");
  if (bar) {
    var room = function () {
      document.documentElement.style.scrollPaddingBottom = (bar.offsetHeight + 16) + "px";
    };
    room();
    window.addEventListener("resize", room);
    form.addEventListener("focusin", function (event) {
      var field = event.target;
      if (bar.contains(field)) { return; }
      // A button-row choice is a visually hidden radio: its label is what shows.
      var shown = field.classList.contains("btn-check") && field.nextElementSibling
        ? field.nextElementSibling : field;
      var box = shown.getBoundingClientRect();
      if (box.bottom > bar.getBoundingClientRect().top - 8 || box.top < 0) {
        shown.scrollIntoView({ block: "center" });
      }
    });
  }
  // Closing the tab or navigating away: one last save of unsaved typing.
  window.addEventListener("pagehide", function () {
    if (form.dataset.dirty && navigator.sendBeacon) {
      navigator.sendBeacon(form.dataset.autosaveUrl, new FormData(form));
    }
  });
})();

// Idle logoff warning. The server is the authority (SessionLimitsMiddleware); this
// script only warns before it happens and asks the server how long is left, so a
// second tab's activity is respected and no typed text is lost to an early reload.
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.dataset.idleTimeout || "0", 10);
  if (!timeout) { return; }
  var warnAt = parseInt(body.dataset.idleWarning || "120", 10);
  var sessionUrl = body.dataset.sessionUrl;
  var keepaliveUrl = body.dataset.keepaliveUrl;
  var banner = document.getElementById("idle-warning");
  var countdown = document.getElementById("idle-countdown");
  var stay = document.getElementById("idle-stay");
  var remaining = timeout;
  var tick = null;

  function csrfToken() {
    var headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
    return headers["X-CSRFToken"] || "";
  }

  function show(seconds) {
    var m = Math.floor(seconds / 60);
    var s = String(seconds % 60).padStart(2, "0");
    countdown.textContent = m + ":" + s;
    banner.classList.remove("d-none");
  }

  function hide() { banner.classList.add("d-none"); }

  // A note being typed (static/js/notes.js marks it dirty) is saved before the
  // warning and before the sign-out, so an idle sign-out never loses a word.
  function saveDrafts() {
    var forms = document.querySelectorAll("form[data-autosave-url]");
    return Promise.all(Array.prototype.map.call(forms, function (form) {
      if (!form.dataset.dirty) { return null; }
      return fetch(form.dataset.autosaveUrl, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: { "HX-Request": "true" }
      }).then(function (r) { if (r.ok) { form.dataset.dirty = ""; } }).catch(function () {});
    }));
  }

  function check() {
    fetch(sessionUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        remaining = data.remaining;
        if (remaining <= 0) {
          // the server signs the session out and shows why
          saveDrafts().then(function () { window.location.reload(); });
        } else if (remaining <= warnAt) {
          if (banner.classList.contains("d-none")) { saveDrafts(); }
          show(remaining);
          schedule(1);
        } else {
          hide();
          schedule(remaining - warnAt);
        }
      })
      .catch(function () { schedule(15); });
  }

  function schedule(seconds) {
    window.clearTimeout(tick);
    if (!banner.classList.contains("d-none") && seconds === 1) {
      // While the banner shows, count down locally and re-check every 10 s.
      remaining -= 1;
      show(Math.max(remaining, 0));
      tick = window.setTimeout(remaining % 10 === 0 || remaining <= 0 ? check : function () { schedule(1); }, 1000);
      return;
    }
    tick = window.setTimeout(check, Math.max(seconds, 1) * 1000);
  }

  stay.addEventListener("click", function () {
    fetch(keepaliveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
    }).then(function () { hide(); schedule(timeout - warnAt); });
  });

  // Any htmx request counts as activity on the server; restart the local clock too.
  body.addEventListener("htmx:afterRequest", function () { hide(); schedule(timeout - warnAt); });
  schedule(timeout - warnAt);
})();

// A table wider than its box scrolls inside .table-responsive; a keyboard user scrolls
// it once it can take the focus (WCAG 2.1.1), so a box that scrolls gets a tab stop and
// a name, and one that fits (most, on a desktop) stays out of the tab order.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        var caption = box.querySelector("caption");
        box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table, scrolls sideways");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  mark();
  window.addEventListener("resize", mark);
  document.body.addEventListener("htmx:afterSettle", mark);
})();

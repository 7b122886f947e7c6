// Keyboard-first scoring (no dependencies; htmx does the round trip).
// Digits score the focused dimension and move on, ↑/↓ move between dimensions, Enter
// submits, s skips, ? shows the keys. Active time counts seconds the page is visible and
// was used within the last minute; it is posted with the form as active_seconds.
(function () {
  "use strict";

  var IDLE_AFTER_MS = 60000;
  var activeSeconds = 0;
  var lastInput = Date.now();

  function form() { return document.getElementById("item-form"); }
  function dimensions() {
    var f = form();
    return f ? Array.prototype.slice.call(f.querySelectorAll("fieldset.dim")) : [];
  }
  function currentDimension() {
    var el = document.activeElement;
    return el && el.closest ? el.closest("fieldset.dim") : null;
  }
  function focusDimension(fieldset) {
    if (!fieldset) {
      var submit = document.getElementById("submit-button");
      if (submit) submit.focus();
      return;
    }
    var radio = fieldset.querySelector("input:checked") || fieldset.querySelector("input");
    if (radio) {
      radio.focus();
      fieldset.scrollIntoView({ block: "nearest" });
    }
  }
  function focusFirstOpen() {
    var list = dimensions();
    var open = list.filter(function (f) { return !f.querySelector("input:checked"); });
    focusDimension(open[0] || list[0] || null);
  }
  function typing(target) {
    return target && target.matches && target.matches("textarea, input[type=text], select");
  }

  document.addEventListener("keydown", function (event) {
    lastInput = Date.now();
    var f = form();
    if (!f || event.ctrlKey || event.metaKey || event.altKey) return;
    var help = document.getElementById("keys-help");
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var list = dimensions();
    var here = currentDimension();
    if (/^[0-9]$/.test(event.key)) {
      var target = here || list.filter(function (d) { return !d.querySelector("input:checked"); })[0];
      var radio = target && target.querySelector('input[type=radio][value="' + event.key + '"]');
      if (radio && !radio.disabled) {
        radio.checked = true;
        radio.dispatchEvent(new Event("change", { bubbles: true }));
        focusDimension(list[list.indexOf(target) + 1] || null);
      }
      event.preventDefault();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && here) {
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = list[list.indexOf(here) + step];
      if (next || step > 0) focusDimension(next || null);
      event.preventDefault();
    } else if (event.key === "Enter") {
      var submit = document.getElementById("submit-button");
      // A click, not requestSubmit(): htmx learns the pressed button from the click.
      if (submit && event.target.tagName !== "BUTTON") {
        event.preventDefault();
        submit.click();
      }
    } else if (event.key === "s") {
      var skip = document.getElementById("skip-button");
      if (skip) {
        event.preventDefault();
        skip.click();
      }
    } else if (event.key === "?" && help) {
      event.preventDefault();
      if (help.open) help.close(); else help.showModal();
    }
  });

  ["mousemove", "mousedown", "scroll", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true });
  });
  setInterval(function () {
    if (document.visibilityState === "visible" && Date.now() - lastInput < IDLE_AFTER_MS) {
      activeSeconds += 1;
    }
  }, 1000);

  // Capture phase: the value is in the form before htmx (or the browser) reads it.
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector("input[name=active_seconds]");
    if (field) field.value = String(activeSeconds);
  }, true);

  document.addEventListener("htmx:afterSwap", function (event) {
    if (document.getElementById("item-form")) {
      activeSeconds = 0;
      focusFirstOpen();
    } else if (document.getElementById("compare-form")) {
      activeSeconds = 0;
    }
  });
  document.addEventListener("DOMContentLoaded", focusFirstOpen);
})();

// Keyboard choices on the comparison page: a / b (the better position), t tie, n both bad,
// s skip. Each key clicks its button, so htmx (or the plain form) posts the choice.
(function () {
  "use strict";

  var KEYS = { a: "choice-a", b: "choice-b", t: "choice-t", n: "choice-n", s: "skip-button" };

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById("compare-form")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && target.matches && target.matches("textarea, input[type=text], select")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    var button = KEYS[event.key] && document.getElementById(KEYS[event.key]);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
})();

// Draws the bar charts of the agreement pages from the numbers the page embeds with
// json_script (the same numbers as its tables and CSV downloads). Runs again after htmx
// swaps in a fresh report.
(function () {
  "use strict";

  function draw(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.source);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      if (!data) return;
      var scale = { beginAtZero: true };
      if (canvas.dataset.max) scale.max = Number(canvas.dataset.max);
      new Chart(canvas, {
        type: canvas.dataset.chart,
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s) { return { label: s.label, data: s.data }; }),
        },
        options: { animation: false, responsive: true, scales: { y: scale } },
      });
      canvas.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();

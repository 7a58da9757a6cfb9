/* Draw the page's charts with the one plotly.js embedded above (gzip, base64): it is
   decompressed once, by the browser's own DecompressionStream, then each figure is drawn.
   A figure that cannot be drawn says so in its box instead of staying blank. */
(function () {
  var ready = null;
  function loadPlotly() {
    if (ready) { return ready; }
    if (window.Plotly) { ready = Promise.resolve(window.Plotly); return ready; }
    var text = document.getElementById("spendkit-plotlyjs").textContent;
    var binary = atob(text.trim());
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    ready = new Response(stream).text().then(function (source) {
      var script = document.createElement("script");
      script.textContent = source;
      document.head.appendChild(script);
      return window.Plotly;
    });
    return ready;
  }
  window.spendkitPlot = function (id, figure) {
    var box = document.getElementById(id);
    if (!box) { return; }
    loadPlotly().then(function (Plotly) {
      return Plotly.newPlot(box, figure.data, figure.layout, figure.config);
    }).then(function () {
      box.setAttribute("data-drawn", "true");
    }).catch(function (error) {
      box.setAttribute("data-drawn", "failed");
      box.style.height = "auto";
      box.textContent = "This chart could not be drawn in this browser (" + error + ").";
    });
  };
})();

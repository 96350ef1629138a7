// Draws the page's figures (JSON in #figures, built by the server) with the local plotly.js.
"use strict";
(function () {
  const source = document.getElementById("figures");
  if (!source || typeof Plotly === "undefined") return;
  const figures = JSON.parse(source.textContent);
  const config = { displaylogo: false, responsive: true, showLink: false, showSendToCloud: false };
  const drawn = Object.entries(figures).map(([id, figure]) => {
    const element = document.getElementById(id);
    return element ? Plotly.newPlot(element, figure.data, figure.layout, config) : Promise.resolve();
  });
  Promise.all(drawn).then(() => { document.body.dataset.plotted = "true"; });
})();

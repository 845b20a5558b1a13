// Tap tempo on the result page: tap the button (or press T) along with the song; after at least
// four taps the median interval fills the tempo field. A pause longer than two seconds starts over.
// No inline script or style: the page's Content-Security-Policy allows only same-origin files.
(function () {
  "use strict";
  var MIN_TAPS = 4, MAX_TAPS = 16, RESET_AFTER_MS = 2000;
  var taps = [];

  function median(values) {
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  function form() { return document.querySelector("form[data-tap-tempo]"); }

  function tap(now) {
    var f = form();
    if (!f) { return; }
    if (taps.length && now - taps[taps.length - 1] > RESET_AFTER_MS) { taps = []; }
    taps.push(now);
    if (taps.length > MAX_TAPS) { taps.shift(); }
    var status = f.querySelector(".tap-status");
    status.hidden = false;
    if (taps.length < MIN_TAPS) {
      status.textContent = "Tap " + taps.length + " — keep going (at least " + MIN_TAPS + ").";
      return;
    }
    var intervals = [];
    for (var i = 1; i < taps.length; i++) { intervals.push(taps[i] - taps[i - 1]); }
    var bpm = Math.round(600000 / median(intervals)) / 10;
    bpm = Math.min(300, Math.max(30, bpm));
    f.querySelector("input[name=tempo]").value = bpm;
    status.textContent = "Tapped " + bpm + " BPM from " + taps.length + " taps. Press “Set tempo” to use it.";
  }

  function reveal() {
    var f = form();
    if (!f) { return; }
    var button = f.querySelector(".tap-button");
    if (button.hidden) {
      button.hidden = false;
      f.querySelector(".tap-status").hidden = false;
    }
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".tap-button")) { tap(performance.now()); }
  });
  document.addEventListener("keydown", function (event) {
    var typing = event.target.closest && event.target.closest("input, select, textarea");
    if ((event.key === "t" || event.key === "T") && !typing && !event.repeat && form()) {
      event.preventDefault();
      tap(performance.now());
    }
  });
  // The result may arrive later, swapped in by htmx when the analysis finishes.
  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSwap", reveal);
}());

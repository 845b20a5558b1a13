// "Copy" buttons: <button data-copy-target="ID"> copies the text of the element with that id.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(message) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = message;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    var text = source.textContent.trim();
    selectText(source);
    var copied = navigator.clipboard
      ? navigator.clipboard.writeText(text)
      : Promise.reject(new Error("no clipboard"));
    copied.then(
      function () {
        button.textContent = "Copied ✓";
        say("Copied to the clipboard.");
      },
      function () {
        // The text is selected: the keyboard shortcut still works.
        say("Press Ctrl+C (⌘C on a Mac) to copy the selected secret.");
      }
    );
  });
})();

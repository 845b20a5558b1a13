// Refuses a file over the upload limit before it is sent: a 40 MB WAV would otherwise upload for
// minutes only to be refused. The server checks again; this only saves the wait.
(function () {
  "use strict";

  function sizeLabel(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit ? value.toFixed(1) : String(value)) + "\u00a0" + units[unit];
  }

  function errorFor(input) {
    var field = input.closest(".field") || input.parentNode;
    var error = field.querySelector(".error[data-size-error]");
    if (!error) {
      error = document.createElement("small");
      error.className = "error";
      error.setAttribute("role", "alert");
      error.setAttribute("data-size-error", "");
      field.appendChild(error);
    }
    return error;
  }

  function check(input) {
    var limit = Number(input.dataset.maxBytes);
    var file = input.files && input.files[0];
    var tooLarge = Boolean(limit && file && file.size > limit);
    var field = input.closest(".field");
    var existing = field && field.querySelector(".error[data-size-error]");
    if (!tooLarge) {
      if (existing) existing.remove();
      if (field) field.classList.remove("field-error");
      return true;
    }
    errorFor(input).textContent = "This file is " + sizeLabel(file.size) + "; " + input.dataset.tooLarge;
    if (field) field.classList.add("field-error");
    return false;
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("form[data-upload-size-check] input[type=file][data-max-bytes]")) {
      check(event.target);
    }
  });
  document.addEventListener("submit", function (event) {
    if (!event.target.matches("form[data-upload-size-check]")) return;
    var inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i += 1) {
      if (!check(inputs[i])) {
        event.preventDefault();
        inputs[i].focus();
      }
    }
  });
})();

// Small behaviours that would otherwise be inline handlers, which the site's
// Content-Security-Policy does not run. Delegated, so content swapped in by htmx works too.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.requestSubmit();
});

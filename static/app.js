// Progressive enhancement only: every journey works without this file.
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// Content that htmx swaps in gets the same GOV.UK behaviour (error summary focus, checkboxes...).
document.body.addEventListener("htmx:afterSettle", (event) => {
  initAll({ scope: event.detail.elt });
  const summary = event.detail.elt.querySelector(".govuk-error-summary");
  if (summary) summary.focus();
});

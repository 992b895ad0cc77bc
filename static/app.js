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

// htmx does not swap an error answer (4xx other than 422, or 5xx), which would leave the page silently unchanged:
// show the service's own error page instead, as the browser would without JavaScript (e.g. 429 "Too many requests").
document.addEventListener("htmx:responseError", (event) => {
  const answer = event.detail.xhr.responseText || "";
  if (!/<html[\s>]/i.test(answer)) return;
  const page = new DOMParser().parseFromString(answer, "text/html");
  document.title = page.title;
  document.body.replaceWith(document.adoptNode(page.body));
  document.body.classList.add("js-enabled", "govuk-frontend-supported");
  initAll();
  const heading = document.querySelector("main h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
});

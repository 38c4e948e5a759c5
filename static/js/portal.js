// After a form error, move focus to the error summary so screen-reader and keyboard users hear
// what went wrong first (its links take them to each field).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});

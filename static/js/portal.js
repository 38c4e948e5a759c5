// After a form error, move focus to the error summary so screen-reader and keyboard users hear
// what went wrong first (its links take them to each field).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});

// The browser's time zone, for the server to show dates and times in (README "Languages and
// time zones"): kept in the `tz` cookie, which accounts.middleware checks against the IANA list
// and stores for a signed-in person who has not chosen one. Without JavaScript, times are in UTC
// (or the zone chosen on the preferences page).
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var current = document.cookie.split("; ").filter(function (c) { return c.indexOf("tz=") === 0; })[0];
  if (current === "tz=" + zone) { return; }
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
}());

// Small progressive enhancements; every page works without them.

// After a form error, move focus to the error summary so screen-reader and keyboard users hear
// what went wrong first (its links take them to each field).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});

// The registration status page: while the verification email is queued, ask the server for its
// delivery every few seconds and show it in the polite live region, until it is sent or failed
// (the fragment says data-final) or a few minutes have passed. Without JavaScript the fragment
// has a "Check again" link.
document.addEventListener("DOMContentLoaded", function () {
  var region = document.querySelector("[data-poll-url]");
  if (!region || !window.fetch) { return; }
  var url = region.getAttribute("data-poll-url");
  var every = 4000;
  var until = Date.now() + 3 * 60 * 1000;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("stop"); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var fresh = holder.content.firstElementChild;
        if (!fresh) { return; }
        var current = region.firstElementChild;
        if (!current || current.textContent.trim() !== fresh.textContent.trim()) {
          region.replaceChildren(fresh);
        }
        if (fresh.hasAttribute("data-final")) { return; }
        if (Date.now() < until) { window.setTimeout(poll, every); }
      })
      .catch(function () { /* signed out or offline: the "Check again" link stays */ });
  }
  window.setTimeout(poll, every);
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

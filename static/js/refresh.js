// Keeps a page that others show (the /embed iframe, the /screen venue display) up to date:
// every data-refresh-seconds it asks for its own URL again and swaps in the new #live content
// when that changed. The page is publicly cacheable with an ETag, so the browser revalidates
// its copy and an unchanged list costs a 304. Errors are quiet: the last content stays.
// After a swap, #live gets a "signaal:refreshed" event (static/js/screen.js listens).
(function () {
  "use strict";

  var live = document.getElementById("live");
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  var seconds = Math.max(15, Number(live.getAttribute("data-refresh-seconds")) || 60);
  var updated = document.querySelector("[data-updated]");
  // Compared with what the server sent, not with the live DOM, which other scripts change.
  var source = live.innerHTML;

  function stamp() {
    if (!updated) {
      return;
    }
    var time = new Date().toLocaleTimeString(document.documentElement.lang, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    updated.textContent = (updated.getAttribute("data-template") || "{time}").replace("{time}", time);
    updated.hidden = false;
  }

  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-cache" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("refresh answered " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (fresh && fresh.innerHTML !== source) {
          source = fresh.innerHTML;
          live.innerHTML = source;
          live.dispatchEvent(new CustomEvent("signaal:refreshed"));
        }
        stamp();
      })
      .catch(function () {});
  }

  function next() {
    setTimeout(function () {
      refresh().then(next);
    }, seconds * 1000);
  }

  stamp();
  next();
})();

// Offline reading of the public pages (the worker's side is in static/sw.js).
// - Registers the service worker and tells it about each visit, so it refreshes its copy of
//   the front page, the active alerts' pages and their photos.
// - On a page the worker served from that copy (it adds <meta name="signaal-offline-copy">
//   with the time the copy was saved), says so at the top: "Offline copy from 21:04".
(function () {
  "use strict";

  var script = document.currentScript;
  var template = (script && script.getAttribute("data-msg-offline")) || "{time}";
  var lang = document.documentElement.lang || undefined;

  function moment(date) {
    var sameDay = date.toDateString() === new Date().toDateString();
    // 24-hour times, as on the rest of the site ("21:04", not "9:04 PM").
    var options = sameDay
      ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
      : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    return date.toLocaleString(lang, options);
  }

  function markCopy() {
    var meta = document.querySelector('meta[name="signaal-offline-copy"]');
    var main = document.getElementById("main");
    if (!meta || !main) {
      return;
    }
    var saved = new Date(meta.getAttribute("content"));
    var note = document.createElement("p");
    note.className = "offline-copy";
    note.setAttribute("role", "status");
    note.textContent = template.replace("{time}", isNaN(saved.getTime()) ? "?" : moment(saved));
    main.insertBefore(note, main.firstChild);
  }

  markCopy();
  var worker = script && script.getAttribute("data-service-worker");
  if (!worker || !("serviceWorker" in navigator) || !window.isSecureContext) {
    return;
  }
  navigator.serviceWorker.register(worker, { scope: "/" }).catch(function () {});
  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data && event.data.type === "signaal-offline-saved") {
      document.documentElement.setAttribute("data-offline-saved", event.data.at);
    }
  });
  navigator.serviceWorker.ready.then(function (registration) {
    if (registration.active && navigator.onLine !== false) {
      registration.active.postMessage({ type: "signaal-visit" });
    }
  });
})();

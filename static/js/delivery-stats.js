// The alert page's "Delivery" section: refresh the numbers in place while messages wait.
// Progressive enhancement only: without this script the numbers are those at page load,
// and the reload link next to them fetches new ones.
//
// Polls every 2 seconds while messages are queued, once a minute while only messages held
// back by quiet hours or digests wait, and stops when nothing waits. The live region speaks
// only when delivery finishes or updating fails, never on every tick.
(function () {
  "use strict";

  var section = document.getElementById("delivery");
  if (!section || !window.fetch) {
    return;
  }
  var FAST = 2000;
  var SLOW = 60000;
  var url = section.getAttribute("data-stats-url");
  var live = document.getElementById("delivery-live");
  var language = document.documentElement.lang || undefined;

  function say(key) {
    if (live) {
      live.textContent = section.getAttribute("data-msg-" + key) || "";
    }
  }

  // "sent" → stats.sent; "push.targeted" → stats.channels.push.targeted.
  function lookup(version, key) {
    if (key === "to_last_send") {
      return version.to_last_send;
    }
    var parts = key.split(".");
    return parts.length === 2 ? (version.stats.channels[parts[0]] || {})[parts[1]] : version.stats[key];
  }

  function show(report) {
    report.versions.forEach(function (version) {
      var row = section.querySelector('tr[data-version="' + version.number + '"]');
      if (!row) {
        return; // published after the page loaded: the reload link shows it
      }
      row.querySelectorAll("[data-stat]").forEach(function (cell) {
        var value = lookup(version, cell.getAttribute("data-stat"));
        var text = typeof value === "number" ? value.toLocaleString(language) : String(value || "–");
        if (cell.textContent !== text) {
          cell.textContent = text;
        }
      });
    });
  }

  function later(delay) {
    window.setTimeout(function () {
      if (document.hidden) {
        // Nobody is looking: ask again once the tab is visible.
        document.addEventListener("visibilitychange", poll, { once: true });
      } else {
        poll();
      }
    }, delay);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json(); // a login page (session ended) is not JSON: that fails too
      })
      .then(function (report) {
        show(report);
        if (report.queued > 0) {
          later(FAST);
        } else if (report.pending > 0) {
          later(SLOW);
        } else {
          say("done");
        }
      })
      .catch(function () {
        say("failed");
      });
  }

  if (Number(section.getAttribute("data-queued")) > 0) {
    later(FAST);
  } else if (Number(section.getAttribute("data-pending")) > 0) {
    later(SLOW);
  }
})();

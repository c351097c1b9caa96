// The venue screen: one alert at a time, each for data-rotate-seconds, and a clock. Without
// this script every alert stays listed. Rotation pauses while the pointer or focus is on an
// alert, so someone at an info stand can read it to the end.
(function () {
  "use strict";

  var live = document.getElementById("live");
  if (!live) {
    return;
  }
  var seconds = Math.max(5, Number(live.getAttribute("data-rotate-seconds")) || 12);
  var clock = document.querySelector("[data-clock]");
  var lang = document.documentElement.lang;
  var current = 0;
  var shownId = null;
  var paused = false;

  function slides() {
    return Array.prototype.slice.call(live.querySelectorAll(".slide"));
  }

  function show(index) {
    var all = slides();
    if (!all.length) {
      return;
    }
    current = ((index % all.length) + all.length) % all.length;
    all.forEach(function (slide, i) {
      slide.hidden = i !== current;
    });
    shownId = all[current].getAttribute("data-alert");
  }

  // After a refresh, stay on the alert that was showing if it is still there.
  live.addEventListener("signaal:refreshed", function () {
    var ids = slides().map(function (slide) { return slide.getAttribute("data-alert"); });
    var kept = ids.indexOf(shownId);
    show(kept >= 0 ? kept : current);
  });
  live.addEventListener("mouseenter", function () { paused = true; });
  live.addEventListener("mouseleave", function () { paused = false; });
  live.addEventListener("focusin", function () { paused = true; });
  live.addEventListener("focusout", function () { paused = false; });

  function tick() {
    if (clock) {
      var moment = new Date();
      var text = moment.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      if (clock.textContent !== text) {
        clock.textContent = text;
        clock.setAttribute("datetime", moment.toISOString());
      }
      clock.hidden = false;
    }
  }

  document.documentElement.classList.add("rotating");
  show(0);
  tick();
  setInterval(tick, 1000);
  setInterval(function () {
    if (!paused) {
      show(current + 1);
    }
  }, seconds * 1000);
})();

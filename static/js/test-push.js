// "Send a test to me" → "This browser": subscribe this browser for web push (or reuse its
// subscription) and post it with the form, so the server sends the test straight to it.
// Nothing is stored: the server builds the push from the posted subscription and forgets it.
// Without this script, or without web push in the browser, only the email choice shows.
(function () {
  "use strict";

  var form = document.getElementById("test-send-form");
  var choice = document.getElementById("test-push-choice");
  if (!form || !choice) {
    return;
  }
  var vapidKey = form.getAttribute("data-vapid-key");
  var supported = Boolean(
    vapidKey && window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window && window.fetch
  );
  if (!supported) {
    return;
  }
  var radio = document.getElementById("test-channel-push");
  var button = document.getElementById("test-send-button");
  var statusBox = document.getElementById("test-send-status");
  choice.hidden = false;
  radio.disabled = false;

  function message(key) {
    return form.getAttribute("data-msg-" + key) || key;
  }

  function say(text) {
    statusBox.textContent = text;
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  async function subscription() {
    // The same worker and scope as the subscribe page, so a browser that subscribed there
    // gets the test on its existing subscription.
    var registration = await navigator.serviceWorker.register(form.getAttribute("data-service-worker"), { scope: "/" });
    await navigator.serviceWorker.ready;
    var existing = await registration.pushManager.getSubscription();
    if (existing) {
      return existing;
    }
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidKey) });
  }

  async function sendToBrowser() {
    button.disabled = true;
    say(message("working"));
    try {
      var permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say(message("denied"));
        return;
      }
      var sub = await subscription();
      var data = new FormData(form);
      data.set("subscription", JSON.stringify(sub.toJSON()));
      var response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        body: data,
      });
      var body = await response.json();
      say(body.message || body.error || message("failed"));
    } catch (error) {
      say(message("failed"));
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener("submit", function (event) {
    if (!radio.checked) {
      return; // email: the ordinary form post, answered with the alert page
    }
    event.preventDefault();
    sendToBrowser();
  });
})();

// Signaal's service worker, served as /sw.js so its scope is the whole site.
// Payload format: docs/push-payload.md. Browsers revoke the subscription of a worker that
// receives a push without showing a notification, so every push shows one, whatever it holds.
"use strict";

var ICON = "/static/icon-192.png";
var CHANGE_API = "/api/v1/subscriptions/push/change";
var KEY_API = "/api/v1/subscriptions/push/vapid-key";
// Shown when a payload cannot be read; the worker has no translations, so it picks by the
// browser's language between the two the site speaks.
var FALLBACK = {
  nl: { title: "Signaal", body: "Nieuwe waarschuwing. Open Signaal voor de details." },
  en: { title: "Signaal", body: "New alert. Open Signaal for the details." },
};

function fallback() {
  var lang = (self.navigator && self.navigator.language || "nl").slice(0, 2).toLowerCase();
  var text = FALLBACK[lang] || FALLBACK.nl;
  return { title: text.title, body: text.body, url: "/", tag: "", kind: "alert", level: "", lang: lang };
}

// Only our own pages open from a notification: a payload can never send a visitor elsewhere.
function sameOrigin(url) {
  try {
    var parsed = new URL(url || "/", self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}

function read(data) {
  var payload = null;
  try {
    payload = data ? data.json() : null;
  } catch (error) {
    payload = null;
  }
  if (!payload || typeof payload !== "object" || typeof payload.title !== "string" || !payload.title) {
    return fallback();
  }
  return payload;
}

self.addEventListener("push", function (event) {
  var payload = read(event.data);
  var options = {
    body: typeof payload.body === "string" ? payload.body : "",
    icon: ICON,
    lang: typeof payload.lang === "string" ? payload.lang : "",
    data: { url: sameOrigin(payload.url), kind: payload.kind || "alert" },
    // A red alert stays on screen until the visitor reacts to it.
    requireInteraction: payload.level === "red_alert",
  };
  if (typeof payload.tag === "string" && payload.tag) {
    // One notification per alert: an update or withdrawal replaces the earlier one, and
    // renotify makes the replacement sound and vibrate again instead of changing silently.
    options.tag = payload.tag;
    options.renotify = payload.kind === "update" || payload.kind === "cancel";
  }
  event.waitUntil(self.registration.showNotification(payload.title, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = sameOrigin(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === target && "focus" in windows[i]) {
          return windows[i].focus();
        }
      }
      return self.clients.openWindow(target);
    })
  );
});

function keyBytes(base64url) {
  var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  var raw = atob(padded);
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) {
    bytes[i] = raw.charCodeAt(i);
  }
  return bytes;
}

function applicationServerKey(old) {
  if (old && old.options && old.options.applicationServerKey) {
    return Promise.resolve(old.options.applicationServerKey);
  }
  return fetch(KEY_API, { credentials: "omit" })
    .then(function (response) { return response.json(); })
    .then(function (body) { return keyBytes(body.public_key); });
}

// The browser replaced (or dropped) our subscription: subscribe again with the same key and
// tell the server, which moves the stored preferences over to the new endpoint.
self.addEventListener("pushsubscriptionchange", function (event) {
  var old = event.oldSubscription;
  var renewed = event.newSubscription
    ? Promise.resolve(event.newSubscription)
    : applicationServerKey(old).then(function (key) {
        return self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      });
  event.waitUntil(
    renewed.then(function (subscription) {
      if (!old) {
        return undefined; // nothing tells us which row was ours; the page re-subscribes on its next visit
      }
      return fetch(CHANGE_API, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ old_endpoint: old.endpoint, subscription: subscription.toJSON() }),
      });
    })
  );
});

// Offline reading of the public pages lives in its own file. A failure to load it must not
// cost the push handling above, so it is caught: the site then simply has no offline copy.
try {
  importScripts("/static/sw-offline.js");
} catch (error) {
  // the next update check tries again
}

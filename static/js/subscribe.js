// The subscribe page: region suggestions, and web push from the same form fields.
// Progressive enhancement only: without this script the form still posts to the email
// sign-up. Preferences are built here exactly as subscribers/preferences.from_form does.
(function () {
  "use strict";

  var form = document.getElementById("subscribe-form");
  if (!form) {
    return;
  }
  var STORAGE_KEY = "signaal.push";

  // --- region suggestions ---------------------------------------------------------------

  var areasInput = document.getElementById("areas-other");
  var suggestions = document.getElementById("area-suggestions");
  var suggestionList = document.getElementById("area-suggestions-list");
  var suggestionStatus = document.getElementById("area-suggestions-status");
  var pending = null;
  var timer = null;

  function currentFragment() {
    var parts = areasInput.value.split(",");
    return parts[parts.length - 1].trim();
  }

  function choose(code) {
    var parts = areasInput.value.split(",");
    parts[parts.length - 1] = " " + code;
    areasInput.value = parts.map(function (p) { return p.trim(); }).filter(Boolean).join(", ") + ", ";
    suggestions.hidden = true;
    areasInput.focus();
  }

  function showSuggestions(results) {
    suggestionList.textContent = "";
    results.slice(0, 8).forEach(function (region) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      var where = region.path && region.path.length ? " (" + region.path[0] + ")" : "";
      button.textContent = region.name + where + " · " + region.code;
      button.addEventListener("click", function () { choose(region.code); });
      item.appendChild(button);
      suggestionList.appendChild(item);
    });
    var template = form.getAttribute("data-msg-suggestions") || "{count}";
    suggestionStatus.textContent = template.replace("{count}", String(Math.min(results.length, 8)));
    suggestions.hidden = results.length === 0;
  }

  function suggest() {
    var text = currentFragment();
    // Codes need no suggestions; names of two letters or more do.
    if (text.length < 2 || /^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$|^GM\d{4}$/i.test(text)) {
      suggestions.hidden = true;
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    var url = form.getAttribute("data-regions-api") + "?q=" + encodeURIComponent(text);
    fetch(url, { signal: pending.signal, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) { showSuggestions(body.results || []); })
      .catch(function () { /* aborted by newer typing, or offline: no suggestions */ });
  }

  if (areasInput && suggestions) {
    areasInput.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 200);
    });
  }

  // --- preferences, as from_form reads the same fields ------------------------------------

  function values(name) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name === name && ((el.type !== "checkbox" && el.type !== "radio") || el.checked);
    }).map(function (el) { return el.value; });
  }

  function value(name) {
    var found = values(name);
    return found.length ? found[0] : "";
  }

  function preferences() {
    var areas = [];
    values("areas").forEach(function (v) {
      v.split(/[\s,]+/).forEach(function (code) { if (code) { areas.push(code); } });
    });
    var prefs = {
      areas: areas,
      min_level: value("min_level") || null,
      forms: values("forms"),
      substances: values("substances"),
      language: value("language") || null,
      accept_fallback: values("accept_fallback").length > 0,
      digest: value("digest") || "off",
      digest_hour: Number(value("digest_hour") || 9),
      digest_weekday: Number(value("digest_weekday") || 0),
    };
    if (value("circle_lat") || value("circle_lon")) {
      prefs.circle = { lat: value("circle_lat"), lon: value("circle_lon"), radius_km: value("circle_radius_km") };
    }
    if (value("quiet_start") || value("quiet_end")) {
      prefs.quiet_hours = {
        start: value("quiet_start"),
        end: value("quiet_end"),
        timezone: value("timezone") || "Europe/Amsterdam",
      };
    }
    return prefs;
  }

  // --- web push ----------------------------------------------------------------------------

  var push = document.getElementById("push");
  var onButton = document.getElementById("push-on");
  var offButton = document.getElementById("push-off");
  var statusBox = document.getElementById("push-status");
  var vapidKey = form.getAttribute("data-vapid-key");
  var supported = Boolean(
    vapidKey && window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window
  );
  if (!supported || !push) {
    return;
  }
  push.hidden = false;
  var registration = navigator.serviceWorker.register(form.getAttribute("data-service-worker"), { scope: "/" });

  function message(key) {
    return push.getAttribute("data-msg-" + key) || key;
  }

  function say(text, details) {
    statusBox.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    statusBox.appendChild(p);
    if (details) {
      statusBox.appendChild(details);
    }
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

  function stored() {
    try {
      return JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    } catch (error) {
      return null;
    }
  }

  function errorList(fields) {
    var list = document.createElement("ul");
    Object.keys(fields || {}).forEach(function (key) {
      var item = document.createElement("li");
      item.textContent = key.replace(/^preferences\./, "") + ": " + fields[key];
      list.appendChild(item);
    });
    return list;
  }

  function showDone(body) {
    var link = document.createElement("a");
    link.href = body.manage_url;
    link.id = "manage-link";
    link.textContent = message("manage");
    say(message("done"), link);
    offButton.hidden = false;
  }

  async function subscription(reg) {
    var existing = await reg.pushManager.getSubscription();
    if (existing) {
      return existing;
    }
    return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidKey) });
  }

  async function turnOn() {
    onButton.disabled = true;
    say(message("working"));
    try {
      var permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say(message("denied"));
        return;
      }
      var reg = await registration;
      await navigator.serviceWorker.ready;
      var sub = await subscription(reg);
      var response = await fetch(form.getAttribute("data-push-api"), {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ subscription: sub.toJSON(), preferences: preferences() }),
      });
      var body = await response.json();
      if (!response.ok) {
        say(body.fields ? message("invalid") : body.error || message("failed"), errorList(body.fields));
        return;
      }
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ token: body.manage_token, endpoint: sub.endpoint }));
      showDone(body);
    } catch (error) {
      say(message("failed"));
    } finally {
      onButton.disabled = false;
    }
  }

  async function turnOff() {
    var saved = stored();
    offButton.disabled = true;
    try {
      if (saved) {
        var response = await fetch(form.getAttribute("data-push-api"), {
          method: "DELETE",
          credentials: "omit",
          headers: { "Content-Type": "application/json", "X-Manage-Token": saved.token },
          body: JSON.stringify({ endpoint: saved.endpoint }),
        });
        if (!response.ok && response.status !== 404) {
          say(message("failed"));
          return;
        }
      }
      var reg = await registration;
      var sub = await reg.pushManager.getSubscription();
      if (sub) {
        await sub.unsubscribe();
      }
      localStorage.removeItem(STORAGE_KEY);
      offButton.hidden = true;
      say(message("off"));
    } catch (error) {
      say(message("failed"));
    } finally {
      offButton.disabled = false;
    }
  }

  onButton.addEventListener("click", turnOn);
  offButton.addEventListener("click", turnOff);
  offButton.hidden = !stored();
  registration.catch(function () {
    say(message("failed"));
  });
})();

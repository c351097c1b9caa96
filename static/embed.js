// Signaal's alert widget. Organisers paste (the /organisers page writes it for them):
//
//   <a href="https://signaal.example/embed?region=NL-NH&amp;lang=nl">Drugswaarschuwingen voor Noord-Holland</a>
//   <script src="https://signaal.example/embed.js" data-region="NL-NH" data-lang="nl" async></script>
//
// The script replaces the link with a box listing the active alerts for the region, built in a
// Shadow DOM so the host page's styles cannot reach in and ours cannot leak out. Without script,
// or until the alerts have loaded once, the link stays: it opens the same list as a page.
//
// - Nothing is loaded from anywhere but the origin this script came from, and every request
//   omits credentials, so no cookie is sent or set.
// - Styles are a constructed stylesheet (adoptedStyleSheets). A host page whose CSP forbids
//   inline styles blocks a <style> element even inside a shadow root, but not a constructed
//   sheet; browsers without constructed sheets get the <style> element instead.
// - The list refreshes every minute. The request revalidates the browser's cached copy by its
//   ETag, so an unchanged list costs a 304 and is not rendered (or announced) again.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src || !window.fetch || !Element.prototype.attachShadow) {
    return; // the fallback link stays
  }
  var ORIGIN = new URL(script.src, document.baseURI).origin;
  var REFRESH_MS = 60 * 1000;
  var region = (script.getAttribute("data-region") || "").trim();
  var lang = (script.getAttribute("data-lang") || "").trim().toLowerCase();
  var level = (script.getAttribute("data-level") || "").trim().toLowerCase();
  // Used only when the texts cannot be loaded; the server sends them in the widget's language.
  var FALLBACK = {
    lang: lang || "en", title: "Drug alerts", levels: {}, updated: "Updated {time}",
    empty: "There are no active alerts right now.", unwell: "", site: ORIGIN + "/", site_name: "Signaal",
  };
  var CSS = [
    ":host { all: initial !important; display: block !important; }",
    ".box { box-sizing: border-box; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;",
    "  color: #1a1a1a; background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 12px 14px;",
    "  text-align: left; letter-spacing: normal; text-transform: none; }",
    ".title { font-size: 1.15em; line-height: 1.3; font-weight: 700; margin: 0 0 8px; color: #1a1a1a; }",
    ".alerts { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }",
    ".alert { display: flex; gap: 10px; align-items: flex-start; padding: 0 0 0 8px; border-left: 5px solid #1f5fa8; }",
    ".alert.level-caution { border-left-color: #8a5a00; } .alert.level-warning { border-left-color: #b34700; }",
    ".alert.level-red_alert { border-left-color: #b00020; }",
    ".thumb { display: block; flex: none; width: 64px; height: auto; border-radius: 3px; background: #eee; }",
    ".body { min-width: 0; flex: 1; }",
    ".level { display: inline-block; padding: 1px 7px; border-radius: 3px; color: #fff; background: #1f5fa8;",
    "  font-size: 0.8em; font-weight: 700; }",
    ".level-caution .level { background: #8a5a00; } .level-warning .level { background: #b34700; }",
    ".level-red_alert .level { background: #b00020; }",
    ".headline { display: block; margin: 2px 0; color: #0b4f9c; font-weight: 700; text-decoration: underline; }",
    ".headline:focus-visible, .site:focus-visible { outline: 3px solid #0b4f9c; outline-offset: 2px; }",
    ".push, .empty, .unwell, .foot { margin: 0; }",
    ".empty { padding: 6px 0; }",
    ".unwell { margin-top: 10px; font-weight: 600; }",
    ".foot { margin-top: 6px; font-size: 0.85em; color: #555; }",
    ".site { color: #0b4f9c; }",
  ].join("\n");

  var strings = FALLBACK;
  var host = null;
  var live = null;
  var updated = null;
  var lastTag = null;
  var timer = null;
  var waiting = false;

  function query(values) {
    var parts = [];
    Object.keys(values).forEach(function (key) {
      if (values[key]) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(values[key]));
      }
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  function get(path, cacheMode) {
    return fetch(ORIGIN + path, { credentials: "omit", mode: "cors", cache: cacheMode }).then(function (response) {
      if (!response.ok) {
        throw new Error("Signaal widget: " + path + " answered " + response.status);
      }
      return response;
    });
  }

  // Only our own origin, whatever host the API's absolute links name.
  function ours(url) {
    try {
      var parsed = new URL(url, ORIGIN);
      return ORIGIN + parsed.pathname;
    } catch (error) {
      return "";
    }
  }

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  // A text field in the widget's language, or else in any language the alert has it in.
  function pick(texts, field) {
    var order = [strings.lang].concat(Object.keys(texts || {}));
    for (var i = 0; i < order.length; i++) {
      var entry = (texts || {})[order[i]];
      if (entry && typeof entry[field] === "string" && entry[field].trim()) {
        return { text: entry[field].trim(), lang: order[i] };
      }
    }
    return { text: "", lang: strings.lang };
  }

  function item(alert) {
    var li = el("li", { class: "alert level-" + alert.level });
    var photo = (alert.photos || [])[0];
    var src = photo ? ours(photo.thumbnail_url) : "";
    if (src) {
      var alt = photo.alt || {};
      var altText = alt[strings.lang] || alt[Object.keys(alt)[0]] || "";
      var image = el("img", { class: "thumb", src: src, alt: altText, loading: "lazy" });
      if (photo.width && photo.height) {
        image.setAttribute("width", "64");
        image.setAttribute("height", String(Math.round((64 * photo.height) / photo.width)));
      }
      li.appendChild(image);
    }
    var body = el("div", { class: "body" });
    body.appendChild(el("span", { class: "level" }, strings.levels[alert.level] || alert.level));
    var headline = pick(alert.texts, "headline");
    var link = el("a", { class: "headline", href: ORIGIN + "/alerts/" + alert.id + query({ lang: lang }) }, headline.text);
    if (headline.lang !== strings.lang) {
      link.setAttribute("lang", headline.lang);
    }
    body.appendChild(link);
    var push = pick(alert.texts, "push_text");
    if (push.text) {
      var p = el("p", { class: "push" }, push.text);
      if (push.lang !== strings.lang) {
        p.setAttribute("lang", push.lang);
      }
      body.appendChild(p);
    }
    li.appendChild(body);
    return li;
  }

  function render(alerts) {
    while (live.firstChild) {
      live.removeChild(live.firstChild);
    }
    if (!alerts.length) {
      live.appendChild(el("p", { class: "empty" }, strings.empty));
      return;
    }
    var list = el("ul", { class: "alerts" });
    alerts.forEach(function (alert) {
      list.appendChild(item(alert));
    });
    live.appendChild(list);
  }

  function stamp() {
    var time = new Date().toLocaleTimeString(strings.lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    updated.textContent = strings.updated.replace("{time}", time);
  }

  function styles(root) {
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("style", {}, CSS));
    }
  }

  function build() {
    var element = document.createElement("signaal-alerts");
    var shadow = element.attachShadow({ mode: "open" });
    styles(shadow);
    var box = el("section", { class: "box", "aria-labelledby": "title", lang: strings.lang });
    box.appendChild(el("h2", { class: "title", id: "title" }, strings.title));
    live = el("div", { "aria-live": "polite" });
    box.appendChild(live);
    if (strings.unwell) {
      box.appendChild(el("p", { class: "unwell" }, strings.unwell));
    }
    var foot = el("p", { class: "foot" });
    updated = el("span", { class: "updated" });
    foot.appendChild(updated);
    foot.appendChild(document.createTextNode(" · "));
    foot.appendChild(el("a", { class: "site", href: ours(strings.site) + query({ lang: lang }) }, strings.site_name));
    box.appendChild(foot);
    shadow.appendChild(box);

    // The fallback link the snippet puts right before this script, if it is there.
    var fallback = script.previousElementSibling;
    if (fallback && fallback.tagName === "A" && (fallback.href || "").indexOf(ORIGIN + "/embed") === 0) {
      fallback.parentNode.replaceChild(element, fallback);
    } else {
      script.parentNode.insertBefore(element, script);
    }
    return element;
  }

  var alertsPath = "/api/v1/alerts" + query({ area: region, lang: lang, level_min: level });
  var stringsPath = "/embed/strings.json" + query({ region: region, lang: lang });

  function alerts() {
    return get(alertsPath, "no-cache").then(function (response) {
      var tag = response.headers.get("ETag");
      if (tag && tag === lastTag) {
        return null; // unchanged: nothing to render or announce
      }
      return response.json().then(function (body) {
        lastTag = tag;
        return body.alerts || [];
      });
    });
  }

  function load() {
    if (host) {
      return alerts().then(function (list) {
        if (list) {
          render(list);
        }
        stamp();
      });
    }
    var texts = get(stringsPath, "default")
      .then(function (response) { return response.json(); })
      .catch(function () { return FALLBACK; });
    return Promise.all([texts, alerts()]).then(function (results) {
      strings = results[0];
      host = build();
      render(results[1] || []);
      stamp();
    });
  }

  function tick() {
    if (host && !host.isConnected) {
      return; // the page removed the widget: stop polling
    }
    if (document.hidden) {
      waiting = true; // resumed by visibilitychange
      return;
    }
    // Errors are quiet: the last list (or the fallback link) stays, and the next tick tries again.
    load().catch(function () {}).then(function () {
      clearTimeout(timer);
      timer = setTimeout(tick, REFRESH_MS);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && waiting) {
      waiting = false;
      tick();
    }
  });
  tick();
})();

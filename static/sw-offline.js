// Offline reading, imported by the service worker (static/sw.js), so a visitor can read the
// alerts at a festival with no signal.
//
// - One versioned cache holds the front page, the page of every active alert, their photos and
//   what the pages need (stylesheet, script, icon, manifest). Each saved copy carries the
//   moment it was saved (X-Signaal-Saved-At).
// - The worker refreshes the copy when a page reports a visit (static/js/offline.js), at most
//   once a minute: the list of active alerts is revalidated by its ETag; while it is unchanged
//   the saved pages are only stamped as checked, otherwise they are fetched again, and alerts
//   that are no longer active leave the cache, so a withdrawn warning does not linger.
// - Public pages are fetched network-first and saved as they pass. Without a network the saved
//   copy is served with <meta name="signaal-offline-copy" content="(when it was saved)"> put
//   into its head, which offline.js shows as "Offline copy from 21:04".
"use strict";

var OFFLINE_CACHE = "signaal-offline-v1";
var OFFLINE_PREFIX = "signaal-offline-";
var SAVED_AT = "X-Signaal-Saved-At";
var ALERTS_API = "/api/v1/alerts";
var FRONT_PAGE = "/";
var STATIC = ["/static/css/site.css", "/static/js/offline.js", "/static/icon-192.png", "/static/manifest.webmanifest"];
var REFRESH_AT_MOST_EVERY_MS = 60 * 1000;

function offlinePage(path) {
  return path === FRONT_PAGE || /^\/alerts\/\d+$/.test(path);
}

function ownPath(url) {
  try {
    var parsed = new URL(url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.pathname : null;
  } catch (error) {
    return null;
  }
}

// A copy that says when it was saved. Vary goes: pages are kept by path, in the language the
// visitor last read them in.
function stamped(response) {
  return response.blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set(SAVED_AT, new Date().toISOString());
    headers.delete("Vary");
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

function keep(cache, path, response) {
  if (!response || !response.ok || response.type !== "basic" || response.redirected) {
    return Promise.resolve();
  }
  return stamped(response).then(function (copy) { return cache.put(path, copy); });
}

// Each piece on its own: one missing photo must not cost the rest of the copy.
function fetchInto(cache, path) {
  return fetch(path, { credentials: "same-origin" })
    .then(function (response) { return keep(cache, path, response); })
    .catch(function () {});
}

function keepIfMissing(cache, path) {
  return cache.match(path).then(function (found) { return found ? undefined : fetchInto(cache, path); });
}

// The alerts did not change: the saved page is still what the site shows, as of now.
function restampOrFetch(cache, path) {
  return cache.match(path).then(function (found) {
    if (!found) {
      return fetchInto(cache, path);
    }
    return stamped(found).then(function (copy) { return cache.put(path, copy); });
  });
}

function wantedBy(list) {
  var pages = [FRONT_PAGE];
  var photos = [];
  (list.alerts || []).forEach(function (alert) {
    pages.push("/alerts/" + alert.id);
    (alert.photos || []).forEach(function (photo) {
      [photo.url, photo.thumbnail_url].forEach(function (url) {
        var path = ownPath(url);
        if (path) {
          photos.push(path);
        }
      });
    });
  });
  return { pages: pages, photos: photos };
}

// Alert pages and photos that are no longer wanted leave the cache.
function prune(cache, wanted) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.map(function (request) {
      var path = new URL(request.url).pathname;
      var stale = (/^\/alerts\/\d+$/.test(path) && wanted.pages.indexOf(path) < 0) ||
        (path.indexOf("/photos/") === 0 && wanted.photos.indexOf(path) < 0);
      return stale ? cache.delete(request) : undefined;
    }));
  });
}

function announce() {
  var at = new Date().toISOString();
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    windows.forEach(function (client) { client.postMessage({ type: "signaal-offline-saved", at: at }); });
  });
}

function refreshFrom(cache, previous, response) {
  var unchanged = Boolean(previous) && Boolean(response.headers.get("ETag")) &&
    response.headers.get("ETag") === previous.headers.get("ETag");
  return response.clone().json().then(function (list) {
    var wanted = wantedBy(list);
    var work = wanted.pages.map(function (path) {
      return unchanged ? restampOrFetch(cache, path) : fetchInto(cache, path);
    })
      .concat(wanted.photos.map(function (path) { return keepIfMissing(cache, path); }))  // names are never reused
      .concat(STATIC.map(function (path) { return keepIfMissing(cache, path); }));  // kept fresh as pages load them
    return Promise.all(work)
      .then(function () { return keep(cache, ALERTS_API, response); })
      .then(function () { return prune(cache, wanted); });
  });
}

function refreshOffline() {
  return caches.open(OFFLINE_CACHE).then(function (cache) {
    return cache.match(ALERTS_API).then(function (previous) {
      var checked = previous ? Date.parse(previous.headers.get(SAVED_AT) || "") : NaN;
      if (Date.now() - checked < REFRESH_AT_MOST_EVERY_MS) {
        return false;
      }
      return fetch(ALERTS_API, { credentials: "omit", cache: "no-cache" }).then(function (response) {
        if (!response.ok) {
          throw new Error("alerts: " + response.status);
        }
        return refreshFrom(cache, previous, response).then(function () { return true; });
      });
    });
  }).then(function (refreshed) {
    return refreshed ? announce() : undefined;
  }).catch(function () {
    // offline or failing: the saved copy stays as it is, and the next visit tries again
  });
}

// The saved page, marked as a copy and when it was saved; for an alert page that was never
// saved, the front page (the list of alerts) is better than the browser's offline error.
function savedPage(path) {
  return caches.open(OFFLINE_CACHE).then(function (cache) {
    return cache.match(path).then(function (found) { return found || cache.match(FRONT_PAGE); });
  }).then(function (found) {
    if (!found) {
      return null;
    }
    var savedAt = (found.headers.get(SAVED_AT) || "").replace(/[^0-9A-Za-z:.+-]/g, "");
    return found.text().then(function (html) {
      var headers = new Headers(found.headers);
      headers.delete("Content-Length");
      var marked = html.replace(/<head>/i, '<head><meta name="signaal-offline-copy" content="' + savedAt + '">');
      return new Response(marked, { status: 200, headers: headers });
    });
  });
}

function pageNetworkFirst(event, path) {
  return fetch(event.request).then(function (response) {
    if (response.status >= 500) {
      return savedPage(path).then(function (saved) { return saved || response; });
    }
    var copy = response.clone();
    event.waitUntil(caches.open(OFFLINE_CACHE).then(function (cache) { return keep(cache, path, copy); }));
    return response;
  }, function (error) {
    return savedPage(path).then(function (saved) {
      if (!saved) {
        throw error;
      }
      return saved;
    });
  });
}

function staticNetworkFirst(event, path) {
  return fetch(event.request).then(function (response) {
    var copy = response.clone();
    event.waitUntil(caches.open(OFFLINE_CACHE).then(function (cache) { return keep(cache, path, copy); }));
    return response;
  }, function (error) {
    return caches.match(path, { cacheName: OFFLINE_CACHE }).then(function (found) {
      if (!found) {
        throw error;
      }
      return found;
    });
  });
}

function photoCacheFirst(request, path) {
  return caches.match(path, { cacheName: OFFLINE_CACHE }).then(function (found) {
    return found || fetch(request);
  });
}

self.addEventListener("install", function (event) {
  self.skipWaiting();
  // The front page and what it needs, right away; the alerts follow when the page reports its
  // visit. A failure here must not stop the worker from installing: push matters more.
  event.waitUntil(caches.open(OFFLINE_CACHE).then(function (cache) {
    return Promise.all([FRONT_PAGE].concat(STATIC).map(function (path) { return fetchInto(cache, path); }));
  }).catch(function () {}));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(OFFLINE_PREFIX) === 0 && name !== OFFLINE_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }));
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "signaal-visit") {
    event.waitUntil(refreshOffline());
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    if (offlinePage(url.pathname)) {
      event.respondWith(pageNetworkFirst(event, url.pathname));
    }
  } else if (url.pathname.indexOf("/photos/") === 0) {
    event.respondWith(photoCacheFirst(request, url.pathname));
  } else if (STATIC.indexOf(url.pathname) >= 0) {
    event.respondWith(staticNetworkFirst(event, url.pathname));
  }
});

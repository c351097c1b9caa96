// The organisers' page: region suggestions from /api/v1/regions?q=, and the result (snippets,
// screen link, preview) swapped in as the fields change, from the same page the form would
// load without script. The preview's widget script is re-created so that it runs again.
(function () {
  "use strict";

  var form = document.getElementById("embed-form");
  if (!form || !window.fetch || !window.DOMParser) {
    return;
  }
  var region = document.getElementById("region");
  var datalist = document.getElementById("region-suggestions");
  var pending = null;
  var timer = null;

  function suggest() {
    var text = region.value.trim();
    if (text.length < 2) {
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    fetch(form.getAttribute("data-regions-api") + "?q=" + encodeURIComponent(text), { signal: pending.signal })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) {
        datalist.textContent = "";
        (body.results || []).slice(0, 10).forEach(function (found) {
          var option = document.createElement("option");
          option.value = found.code;
          var where = found.path && found.path.length ? " (" + found.path.join(", ") + ")" : "";
          option.label = found.name + where;
          option.textContent = found.name + where;
          datalist.appendChild(option);
        });
      })
      .catch(function () { /* aborted by newer typing, or offline: no suggestions */ });
  }

  // A parsed page's scripts never run; a new element with the same attributes does.
  function revive(container) {
    Array.prototype.forEach.call(container.querySelectorAll("script"), function (old) {
      var fresh = document.createElement("script");
      Array.prototype.forEach.call(old.attributes, function (attribute) {
        fresh.setAttribute(attribute.name, attribute.value);
      });
      old.parentNode.replaceChild(fresh, old);
    });
  }

  function update() {
    var url = form.action + "?" + new URLSearchParams(new FormData(form)).toString();
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("result");
        var result = document.getElementById("result");
        if (!fresh || !result) {
          return;
        }
        Array.prototype.forEach.call(form.querySelectorAll(".error"), function (old) { old.remove(); });
        Array.prototype.forEach.call(page.querySelectorAll("#embed-form .error"), function (error) {
          var field = error.previousElementSibling;
          var here = field && field.id ? document.getElementById(field.id) : null;
          if (here) {
            here.insertAdjacentElement("afterend", document.importNode(error, true));
          }
        });
        result.replaceWith(document.importNode(fresh, true));
        revive(document.getElementById("result"));
        window.history.replaceState(null, "", url);
      })
      .catch(function () { /* the button still submits the form */ });
  }

  region.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 200);
  });
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    update();
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("snippet")) {
      event.target.select();
    }
  });
})();

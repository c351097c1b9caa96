// Editor pages: a live character count for fields marked data-counter (the push text).
// Progressive enhancement only: maxlength and the server's validation hold without it.
(function () {
  "use strict";

  function show(field, output) {
    var max = Number(field.getAttribute("maxlength"));
    // Count code points, as the server does, not UTF-16 units (an emoji is one character).
    var used = Array.from(field.value).length;
    var template = output.getAttribute("data-template") || "{used} / {max}";
    output.textContent = template.replace("{used}", String(used)).replace("{max}", String(max));
    output.classList.toggle("near-limit", used >= max - 10);
  }

  document.querySelectorAll("[data-counter]").forEach(function (field) {
    var output = document.getElementById(field.getAttribute("data-counter"));
    if (!output) {
      return;
    }
    show(field, output);
    field.addEventListener("input", function () {
      show(field, output);
    });
  });
})();

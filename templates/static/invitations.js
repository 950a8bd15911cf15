// Refresh each conference's invitations every few seconds, so replies show as they arrive.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-invitations]");
  if (!boxes.length) { return; }
  function refresh() {
    boxes.forEach(function (box) {
      fetch(box.getAttribute("data-invitations"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null && html !== box.innerHTML) { box.innerHTML = html; } })
        .catch(function () { /* try again next time */ });
    });
  }
  setInterval(refresh, 3000);
}());

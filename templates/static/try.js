// The /try/ simulator: sends each message to the real flow and shows the replies.
(function () {
  "use strict";
  var exitUrl = document.body.getAttribute("data-exit");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  function quickExit() { window.location.replace(exitUrl); }
  document.getElementById("quick-exit").addEventListener("click", quickExit);
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { quickExit(); } });

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2, 12);
  }

  function bubble(log, who, text) {
    var item = document.createElement("li");
    item.className = who;
    var body = document.createElement("div");
    body.className = "bubble";
    body.textContent = text;
    item.appendChild(body);
    log.appendChild(item);
    log.parentNode.scrollTop = log.parentNode.scrollHeight;
    return item;
  }

  function post(path, payload) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json();
    });
  }

  function setUp(phone) {
    var view = phone.getAttribute("data-view");
    var log = phone.querySelector(".log ol");
    var form = phone.querySelector("form");
    var input = form.querySelector("input");

    function show(replies) {
      replies.forEach(function (reply) {
        var item = bubble(log, "them", reply.text);
        if (reply.buttons && reply.buttons.length) {
          var row = document.createElement("div");
          row.className = "buttons";
          reply.buttons.forEach(function (pair) {
            var button = document.createElement("button");
            button.type = "button";
            button.textContent = pair[0];
            button.addEventListener("click", function () { send(pair[1], pair[0], reply.step); });
            row.appendChild(button);
          });
          item.appendChild(row);
        }
      });
    }

    function send(text, shown, step) {
      bubble(log, "me", shown || text);
      var payload = { view: view, text: text, id: newId() };
      if (step) { payload.step = step; }
      return post("send", payload).then(function (data) { show(data.replies); })
        .catch(function () { bubble(log, "them", "Sorry, that did not go through. Please try again."); });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { return; }
      input.value = "";
      send(text);
    });
    phone.start = function () { log.innerHTML = ""; return send("Hello"); };
  }

  var phones = Array.prototype.slice.call(document.querySelectorAll(".phone"));
  phones.forEach(setUp);
  phones.forEach(function (phone) { phone.start(); });
  document.getElementById("reset").addEventListener("click", function () {
    post("reset", {}).then(function () { phones.forEach(function (phone) { phone.start(); }); });
  });
}());

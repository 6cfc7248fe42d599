// Usher's web interface: small enhancements over pages that work without it.
// - form[data-confirm]: asks before a destructive action is sent.
// - form[data-live]: its search field updates the results (#results) as you type, by loading
//   the same page the form would submit to and taking its results from it.
// - button[data-copy]: copies the text of the element whose id it names.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);

  function liveSearch(form) {
    var timer = null;
    var pending = null;
    var input = form.querySelector("input[type=search]");
    if (!input) { return; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var params = new URLSearchParams(new FormData(form));
        params.delete("page");
        var url = form.action.split("?")[0] + "?" + params.toString();
        if (pending) { pending.abort(); }
        pending = new AbortController();
        fetch(url, { credentials: "same-origin", signal: pending.signal })
          .then(function (res) { return res.text(); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.getElementById("results");
            var current = document.getElementById("results");
            if (fresh && current) {
              current.replaceWith(document.importNode(fresh, true));
              history.replaceState(null, "", url);
            }
          })
          .catch(function () { /* aborted or offline: the form still submits */ });
      }, 200);
    });
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source || !navigator.clipboard) { return; }
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-live]").forEach(liveSearch);
    copyButtons();
  });
})();

/* Countermand storefront: the cancel confirmation dialog and the cancellation progress feed.
   Without JavaScript the Cancel button opens a confirmation page and the order page shows the state
   at load time; with it, the page follows the cancellation until the ERP answers. */
(function () {
  "use strict";

  function setUpDialog(root) {
    var opener = root.querySelector("[data-opens-dialog]");
    if (!opener) return;
    var dialog = document.getElementById(opener.getAttribute("data-opens-dialog"));
    if (!dialog || typeof dialog.showModal !== "function") return; // fall back to the confirmation page
    opener.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.showModal();
      var first = dialog.querySelector("select, input, textarea");
      if (first) first.focus();
    });
    dialog.addEventListener("close", function () {
      var again = document.querySelector("[data-opens-dialog]");
      if (again) again.focus(); // give focus back to the button that opened the dialog
    });
  }

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  function follow(panel) {
    var url = panel.getAttribute("data-progress-url");
    var delay = Number(panel.getAttribute("data-poll-seconds")) * 1000;
    var maxDelay = Number(panel.getAttribute("data-poll-max-seconds")) * 1000;
    var lastState = null;

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("progress " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (data.state !== lastState) {
            // Replacing the live region's content makes screen readers announce the new state.
            panel.innerHTML = data.html;
            var status = document.querySelector("[data-order-status]");
            if (status) status.textContent = data.statusDisplay;
            setUpDialog(panel);
            lastState = data.state;
            // Once the order system has answered, "…has been requested" is no longer true: the panel says it all.
            if (!data.waiting) {
              document.querySelectorAll('[data-message~="cancellation"]').forEach(function (flash) {
                var box = flash.parentNode;
                flash.remove();
                if (box && !box.children.length) box.remove();
              });
            }
            delay = Number(panel.getAttribute("data-poll-seconds")) * 1000;
          } else {
            delay = Math.min(delay * 1.5, maxDelay);
          }
          if (data.waiting) window.setTimeout(poll, delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, maxDelay);
          window.setTimeout(poll, delay);
        });
    }

    var current = panel.querySelector("[data-cancellation-state]");
    lastState = current ? current.getAttribute("data-cancellation-state") : null;
    window.setTimeout(poll, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Wide screens have room for the filters; a phone keeps them folded so the orders come first.
    if (window.matchMedia && window.matchMedia("(min-width: 40.01rem)").matches) {
      document.querySelectorAll("details.filters-toggle").forEach(function (d) { d.open = true; });
    }
    var panel = document.getElementById("cancellation-panel");
    if (!panel) return;
    setUpDialog(panel);
    if (panel.getAttribute("data-waiting") === "true") follow(panel);
  });
})();

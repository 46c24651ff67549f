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
      // The reason comes first: cancelling the whole order (the default choice) stays one step.
      var first = dialog.querySelector("select[name=reason]") || dialog.querySelector("select, input, textarea");
      if (first) first.focus();
    });
    dialog.addEventListener("close", function () {
      var again = document.querySelector("[data-opens-dialog]");
      if (again) again.focus(); // give focus back to the button that opened the dialog
    });
  }

  // Partial cancellation: show the line inputs for "Some lines only", and say what will remain and the
  // new total (lines at their unit price, tax in proportion, as the order system will count it).
  function setUpPartial(scope) {
    var lines = scope.querySelector("[data-cancel-lines]");
    var summary = scope.querySelector("[data-cancel-summary]");
    var submit = scope.closest("form").querySelector("button[type=submit]");
    var wholeLabel = submit ? submit.textContent : "";
    var inputs = Array.prototype.slice.call(scope.querySelectorAll("input[data-line-number]"));
    var subtotal = Number(scope.getAttribute("data-subtotal"));
    var tax = Number(scope.getAttribute("data-tax"));
    var total = Number(scope.getAttribute("data-total"));
    var currency = scope.getAttribute("data-currency");

    function chosen() {
      var radio = scope.querySelector("input[type=radio]:checked");
      return radio ? radio.value : "order";
    }

    function update() {
      var partial = chosen() === "lines";
      lines.hidden = !partial;
      inputs.forEach(function (input) { input.disabled = !partial; });
      if (submit) submit.textContent = partial ? "Cancel these lines" : wholeLabel;
      if (!partial) { summary.textContent = ""; return; }
      var off = 0, remain = [];
      inputs.forEach(function (input) {
        var quantity = Math.max(0, Number(input.value) || 0);
        var left = Number(input.getAttribute("data-ordered")) - quantity;
        off += quantity * Number(input.getAttribute("data-unit-price"));
        if (quantity > 0) remain.push("line " + input.getAttribute("data-line-number") + ": " + left + " left");
      });
      var newSubtotal = Math.max(0, subtotal - off);
      var newTax = subtotal > 0 ? tax * newSubtotal / subtotal : tax;
      var newTotal = Math.max(0, total - off - (tax - newTax));
      summary.textContent = remain.length
        ? "What will remain: " + remain.join(", ") + ". New total: " + newTotal.toFixed(2) + " " + currency + "."
        : "Choose how many to cancel of at least one line.";
    }

    scope.addEventListener("input", update);
    scope.addEventListener("change", update);
    update();
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
    Array.prototype.forEach.call(document.querySelectorAll("[data-cancel-scope]"), setUpPartial);
    var panel = document.getElementById("cancellation-panel");
    if (!panel) return;
    setUpDialog(panel);
    if (panel.getAttribute("data-waiting") === "true") follow(panel);
  });
})();

/* Countermand Admin Console behaviour: finger tabs, the + button of list settings, auto-submit selects. */
(function () {
  "use strict";

  function setupTabs() {
    var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-finger-tabs] [data-tab]"));
    if (!tabs.length) return;
    var panels = Array.prototype.slice.call(document.querySelectorAll("[data-tab-panel]"));
    document.body.classList.add("js-tabs");

    function show(key, updateHash) {
      tabs.forEach(function (tab) {
        var on = tab.getAttribute("data-tab") === key;
        tab.classList.toggle("active", on);
        tab.setAttribute("aria-selected", on ? "true" : "false");
      });
      panels.forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-tab-panel") !== key;
      });
      if (updateHash && window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "#" + key);
      }
    }

    tabs.forEach(function (tab) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        show(tab.getAttribute("data-tab"), true);
      });
    });

    var keys = tabs.map(function (t) { return t.getAttribute("data-tab"); });
    var wanted = window.location.hash.replace("#", "");
    // A panel with errors wins: the person must see what to correct.
    var withErrors = panels.filter(function (p) { return p.querySelector(".errorlist, .errors"); })[0];
    if (withErrors) {
      show(withErrors.getAttribute("data-tab-panel"), false);
    } else {
      show(keys.indexOf(wanted) >= 0 ? wanted : keys[0], false);
    }
  }

  function setupListValues() {
    document.querySelectorAll("[data-list-value]").forEach(function (box) {
      var add = box.querySelector(".list-value-add");
      if (!add) return;
      add.addEventListener("click", function () {
        var list = box.querySelector(".list-value-items");
        var inputs = list.querySelectorAll("input");
        var template = inputs[inputs.length - 1];
        var input = template.cloneNode(false);
        input.value = "";
        input.setAttribute("aria-label", "New value");
        var li = document.createElement("li");
        li.appendChild(input);
        list.appendChild(li);
        input.focus();
      });
    });
  }

  function setupInheritToggles() {
    // Typing a website value means the website gets its own value: untick "Use the application value".
    document.querySelectorAll(".setting-row").forEach(function (row) {
      var inherit = row.querySelector("input[type=checkbox][name^=inherit_]");
      if (!inherit) return;
      row.addEventListener("input", function (event) {
        if (event.target !== inherit) inherit.checked = false;
      });
    });
  }

  function setupRowFilters() {
    document.querySelectorAll("[data-filter-rows]").forEach(function (input) {
      var table = document.querySelector(input.getAttribute("data-filter-rows"));
      if (!table) return;
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();  // it sits inside the page's main form
      });
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        table.querySelectorAll("tbody tr").forEach(function (tr) {
          tr.hidden = q && tr.textContent.toLowerCase().indexOf(q) < 0;
        });
      });
    });
  }

  function setupAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function setupConnectionForm() {
    // A new connection: changing the type puts that type's suggested URL in an empty (or still suggested) URL.
    var type = document.querySelector("select[data-suggested-urls]");
    var url = document.getElementById("id_url");
    if (type && url) {
      var suggested = JSON.parse(type.getAttribute("data-suggested-urls"));
      var absolute = function (u) { return u && u.charAt(0) === "/" ? window.location.origin + u : (u || ""); };
      type.addEventListener("change", function () {
        var offered = Object.keys(suggested).map(function (k) { return absolute(suggested[k]); });
        if (!url.value || offered.indexOf(url.value) >= 0) url.value = absolute(suggested[type.value]);
      });
    }
    // Test connection before saving: the form's values go to the test endpoint; its answer shows here.
    var button = document.querySelector("[data-connection-test]");
    if (!button) return;
    var result = document.getElementById("connection-test-result");
    button.addEventListener("click", function () {
      result.textContent = "Testing…";
      result.className = "connection-test-result";
      fetch(button.getAttribute("data-connection-test"), {
        method: "POST", body: new FormData(button.form), credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          result.textContent = data.message;
          result.className = "connection-test-result " + (data.ok ? "connection-test-ok" : "connection-test-failed");
        })
        .catch(function (error) {
          result.textContent = "The test could not run: " + error;
          result.className = "connection-test-result connection-test-failed";
        });
    });
  }

  function setupProcessorPairing() {
    // Choosing a connection picks the integration processor that fits it, while none is chosen.
    var connection = document.querySelector("select[data-fitting-processors]");
    var processor = document.getElementById("id_integration_processor");
    if (!connection || !processor) return;
    var fitting = JSON.parse(connection.getAttribute("data-fitting-processors"));
    connection.addEventListener("change", function () {
      var names = fitting[connection.value] || [];
      if (names.length && (processor.value === "None" || !processor.value)) processor.value = names[0];
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupConnectionForm();
    setupProcessorPairing();
    setupTabs();
    setupListValues();
    setupInheritToggles();
    setupRowFilters();
    setupAutosubmit();
  });
})();

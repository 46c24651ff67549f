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

  document.addEventListener("DOMContentLoaded", function () {
    setupTabs();
    setupListValues();
    setupInheritToggles();
    setupRowFilters();
    setupAutosubmit();
  });
})();

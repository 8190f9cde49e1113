// Small enhancements of the portal. Every page works without this file.
(function () {
  "use strict";

  // Switch merchant as soon as another one is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });

  // Custom field rows: add and remove in place instead of a round trip.
  document.querySelectorAll("[data-custom-fields]").forEach(function (fieldset) {
    var rows = fieldset.querySelector("[data-cf-rows]");
    var template = fieldset.querySelector("template[data-cf-template]");
    var total = fieldset.querySelector("input[name$='-TOTAL_FORMS']");
    var add = fieldset.querySelector("[data-cf-add]");
    if (!rows || !template || !total || !add) { return; }

    function enhance(row) {
      var box = row.querySelector("input[type=checkbox][name$='-DELETE']");
      if (!box) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button small secondary";
      button.textContent = "Remove";
      button.addEventListener("click", function () {
        box.checked = true;
        row.classList.add("removed");
        add.focus();
      });
      box.closest("label").hidden = true;
      box.closest(".cf-remove").appendChild(button);
    }

    rows.querySelectorAll("[data-cf-row]").forEach(enhance);
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var row = rows.lastElementChild;
      enhance(row);
      var name = row.querySelector("input[name$='-name']");
      if (name) { name.focus(); }
    });
  });

  // The customer list: one box in the header ticks every row of the page (without this file, tick each row).
  document.querySelectorAll("form[data-bulk]").forEach(function (form) {
    var all = form.querySelector("input[data-select-all]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=customer_ids]"));
    if (!all || !boxes.length) { return; }
    all.closest("label").hidden = false;
    function sync() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  });

  // Copy buttons next to secrets and links.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) { return; }
      input.select();
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // Import and export pages: poll the job's JSON status while it runs (no <meta refresh>: CSP and
  // screen readers). Figures update in place; when the job changes state the page is loaded
  // again, and the server renders the report.
  document.querySelectorAll("[data-poll]").forEach(function (section) {
    var url = section.getAttribute("data-poll");
    var shown = section.getAttribute("data-status");
    function update(state) {
      if (state.status !== shown) { window.location.reload(); return; }
      section.querySelectorAll("[data-field]").forEach(function (el) {
        var value = state[el.getAttribute("data-field")];
        if (el.tagName === "PROGRESS") {
          if (value !== null && value !== undefined) { el.value = value; }
        } else {
          el.textContent = value === null || value === undefined ? "\u2014" : String(value);
        }
      });
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) { if (state) { update(state); } })
        .catch(function () { /* the server is restarting: try again at the next tick */ })
        .then(function () { window.setTimeout(poll, 1000); });
    }
    window.setTimeout(poll, 1000);
  });
})();

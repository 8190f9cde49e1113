// Small enhancements of the portal. Every page works without this file.
(function () {
  "use strict";

  // Switch merchant as soon as another one is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });

  // Date inputs are typed as YYYY-MM-DD, the one date format of the portal (Chromium's own date input
  // would show the browser's locale format, mm/dd/yyyy under en-US). A button opens the browser's
  // calendar on a hidden native input, and the chosen day (and time) is written back in that format.
  function addPicker(input) {
    if (input.parentNode.classList.contains("date-input")) { return; }
    var kind = input.getAttribute("data-picker");
    var wrapper = document.createElement("span");
    wrapper.className = "date-input";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var proxy = document.createElement("input");
    proxy.type = kind === "datetime" ? "datetime-local" : "date";
    proxy.className = "picker-proxy";
    proxy.tabIndex = -1;
    proxy.setAttribute("aria-hidden", "true");
    proxy.setAttribute("data-picker-proxy", "");
    if (kind === "datetime") { proxy.step = "1"; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button small secondary picker-button";
    button.title = kind === "datetime" ? "Choose date and time" : "Choose date";
    // A calendar icon; its name is read from the hidden text.
    button.innerHTML = '<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24" ' +
      'fill="none" stroke="currentColor" stroke-width="2"><rect x="3" y="5" width="18" height="16" rx="2"/>' +
      '<path d="M3 10h18M8 3v4M16 3v4"/></svg><span class="visually-hidden"></span>';
    button.querySelector("span").textContent = button.title;
    wrapper.appendChild(button);
    wrapper.appendChild(proxy);
    button.addEventListener("click", function () {
      proxy.value = kind === "datetime" ? input.value.trim().replace(" ", "T") : input.value.trim();
      try { proxy.showPicker(); } catch (error) { proxy.focus(); }
    });
    proxy.addEventListener("change", function () {
      if (!proxy.value) { return; }
      input.value = kind === "datetime" ? proxy.value.replace("T", " ") : proxy.value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus();
    });
  }

  function removePicker(input) {
    var wrapper = input.parentNode;
    if (!wrapper.classList.contains("date-input")) { return; }
    wrapper.parentNode.insertBefore(input, wrapper);
    wrapper.parentNode.removeChild(wrapper);
  }

  document.querySelectorAll("input[data-picker]").forEach(addPicker);

  // A custom field's value input follows its type: number inputs for numbers, a checkbox for
  // booleans, email and URL inputs, date pickers. The server renders the same on a reload.
  var VALUE_INPUTS = {
    integer: { type: "number", step: "1" },
    number: { type: "number", step: "any" },
    "boolean": { type: "checkbox" },
    date: { type: "text", placeholder: "YYYY-MM-DD", picker: "date" },
    datetime: { type: "text", placeholder: "YYYY-MM-DD HH:MM", picker: "datetime" },
    email: { type: "email" },
    url: { type: "url", placeholder: "https://" },
    string: { type: "text" }
  };

  function applyType(row) {
    var select = row.querySelector("select[name$='-type']");
    var input = row.querySelector("[data-cf-value]");
    if (!select || !input) { return; }
    var spec = VALUE_INPUTS[select.value] || VALUE_INPUTS.string;
    var wasCheckbox = input.type === "checkbox";
    var checked = wasCheckbox ? input.checked : input.value === "true";
    if (spec.type === "number" && input.value && isNaN(Number(input.value))) {
      spec = VALUE_INPUTS.string; // keep what was typed rather than have the number input drop it
    }
    if (input.type !== spec.type) { input.type = spec.type; }
    if (spec.type === "checkbox") {
      input.value = "true";
      input.checked = checked;
    } else if (wasCheckbox) {
      input.value = "";
    }
    ["step", "placeholder"].forEach(function (name) {
      if (spec[name]) { input.setAttribute(name, spec[name]); } else { input.removeAttribute(name); }
    });
    if (spec.picker) {
      input.setAttribute("data-picker", spec.picker);
      if (input.parentNode.classList.contains("date-input") &&
          input.parentNode.querySelector("[data-picker-proxy]").type !== (spec.picker === "datetime" ? "datetime-local" : "date")) {
        removePicker(input);
      }
      addPicker(input);
    } else {
      input.removeAttribute("data-picker");
      removePicker(input);
    }
  }

  document.querySelectorAll("[data-cf-rows]").forEach(function (rows) {
    rows.addEventListener("change", function (event) {
      if (event.target.matches("select[name$='-type']")) { applyType(event.target.closest("[data-cf-row]")); }
    });
  });

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
      row.querySelectorAll("input[data-picker]").forEach(addPicker);
      var name = row.querySelector("input[name$='-name']");
      if (name) { name.focus(); }
    });
  });

  // The address: name its parts as the chosen country does (Postcode, ZIP code, State, County...), and
  // hide a region or postal code input the country has none of (unless it holds a value to correct).
  document.querySelectorAll("[data-address]").forEach(function (fieldset) {
    var country = fieldset.querySelector("[data-address-country]");
    var data = document.getElementById("address-labels");
    if (!country || !data) { return; }
    var labels = JSON.parse(data.textContent);
    function relabel() {
      var own = labels[country.value] || labels[""];
      fieldset.querySelectorAll("[data-address-part]").forEach(function (input) {
        var part = input.getAttribute("data-address-part");
        var label = fieldset.querySelector("label[for='" + input.id + "']");
        if (label && own[part]) { label.textContent = own[part]; }
        var absent = (part === "region" && !own.has_region) || (part === "postal_code" && !own.has_postal_code);
        input.closest(".field").hidden = absent && !input.value;
      });
    }
    country.addEventListener("change", relabel);
    relabel();
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

// Contest plan editor: add, remove and reorder rounds, and show only the fields of each round's kind.
// The kinds (their fields and defaults, the source fields they do not take) come from the server's
// registry, embedded in the page as JSON (#round-kinds); nothing here knows a kind by name. Hidden fields
// are disabled, so they are not submitted (the server drops them by kind as well, so the form also works
// without this script).
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) { return; }
  var registry = JSON.parse(document.getElementById("round-kinds").textContent);
  var list = document.getElementById("plan-rounds");
  var template = document.getElementById("round-template");

  function show(element, on) {
    element.hidden = !on;
    element.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !on; });
  }

  function fieldInput(row, name) { return row.querySelector("[data-field='" + name + "'] [name]"); }

  // A field that counts only while another field has one of some values (from the registry).
  function counts(row, kind, name) {
    var rule = kind.only_when[name];
    if (!rule) { return true; }
    var other = fieldInput(row, rule[0]);
    return !other || rule[1].indexOf(other.value) >= 0;
  }

  // Show the kind's own fields; a field that appears by a change of kind starts at that kind's default.
  function applyKind(row, changed) {
    var kind = registry.kinds[row.querySelector("[data-kind]").value] || { fields: {}, only_when: {}, source_excludes: [] };
    row.querySelectorAll("[data-field]").forEach(function (element) {
      var name = element.dataset.field;
      var own = Object.prototype.hasOwnProperty.call(kind.fields, name);
      var input = element.querySelector("[name]");
      if (changed && own && element.hidden && input) { input.value = kind.fields[name]; }
      show(element, own && counts(row, kind, name));
    });
    row.querySelectorAll("[data-source-field]").forEach(function (element) {
      show(element, kind.source_excludes.indexOf(element.dataset.sourceField) < 0);
    });
  }

  function rows() { return Array.prototype.slice.call(list.querySelectorAll("[data-round]")); }

  function renumber() {
    var all = rows();
    all.forEach(function (row, index) {
      row.querySelectorAll("[name^='rounds-']").forEach(function (input) {
        input.name = input.name.replace(/^rounds-[^-]+-/, "rounds-" + index + "-");
      });
      row.querySelector(".plan-round-no").textContent = "第" + (index + 1) + "轮";
      row.querySelector("[data-move='up']").disabled = index === 0;
      row.querySelector("[data-move='down']").disabled = index === all.length - 1;
      row.querySelector("[data-move='remove']").disabled = all.length === 1;
    });
  }

  function setUp(row) {
    row.querySelector(".plan-round-tools").hidden = false;
    applyKind(row, false);
  }

  list.addEventListener("change", function (event) {
    var row = event.target.closest("[data-round]");
    if (!row) { return; }
    if (event.target.matches("[data-kind]")) {
      applyKind(row, true);
    } else if (event.target.closest("[data-field]")) {
      applyKind(row, false);
    }
  });

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) { return; }
    var row = button.closest("[data-round]");
    var move = button.dataset.move;
    if (move === "up" && row.previousElementSibling && row.previousElementSibling.matches("[data-round]")) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (move === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else if (move === "remove" && rows().length > 1) {
      row.remove();
    }
    renumber();
    if (move !== "remove") { button.focus(); }
  });

  var add = document.getElementById("add-round");
  add.hidden = false;
  add.addEventListener("click", function () {
    var row = template.content.firstElementChild.cloneNode(true);
    list.appendChild(row);
    setUp(row);
    renumber();
    row.querySelector("[data-kind]").focus();
  });

  var tieBreak = form.querySelector("[data-tie-break]");
  var tieSource = form.querySelector("[data-tie-source]");
  function applyTieBreak() { show(tieSource, tieBreak.value === "buzzer"); }
  tieBreak.addEventListener("change", applyTieBreak);
  applyTieBreak();

  rows().forEach(setUp);
  renumber();
})();

// Contest plan editor: add, remove and reorder rounds, and show only the fields of each round's kind.
// Hidden fields are disabled, so they are not submitted (the server drops them by kind as well, so the
// form also works without this script).
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) { return; }
  var list = document.getElementById("plan-rounds");
  var template = document.getElementById("round-template");

  function show(element, on) {
    element.hidden = !on;
    element.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !on; });
  }

  function applyKind(row) {
    var kind = row.querySelector("[data-kind]").value;
    row.querySelectorAll("[data-kinds]").forEach(function (element) {
      show(element, element.dataset.kinds.split(" ").indexOf(kind) >= 0);
    });
    var foul = row.querySelector("select[name$='-foul']");
    var penalty = row.querySelector("[data-foul-penalty]");
    if (kind === "buzzer" && foul && penalty) { show(penalty, foul.value !== "ignore"); }
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
    applyKind(row);
  }

  list.addEventListener("change", function (event) {
    var row = event.target.closest("[data-round]");
    if (row && (event.target.matches("[data-kind]") || event.target.name.slice(-5) === "-foul")) { applyKind(row); }
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

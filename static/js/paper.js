// Printed papers (templates/papers/paper.html): the 打印 button opens the browser's print dialog (A4 from the CSS).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();

// Self-test page helpers: confirm before ending, and the mock exam countdown.
// The server's deadline is the authority; the page only displays it, corrected for this device's clock offset.
(function () {
  "use strict";
  var finish = document.querySelector(".finish-form");
  if (finish) {
    finish.addEventListener("submit", function (event) {
      if (finish.dataset.auto !== "1" && !window.confirm(finish.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  var countdown = document.querySelector(".countdown[data-deadline]");
  if (!countdown) {
    return;
  }
  var deadline = Date.parse(countdown.dataset.deadline);
  var offset = Date.parse(countdown.dataset.serverNow) - Date.now();
  function tick() {
    var left = Math.max(0, Math.round((deadline - (Date.now() + offset)) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    countdown.textContent = (minutes < 10 ? "0" : "") + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    countdown.classList.toggle("is-urgent", left <= 60);
    if (left === 0 && finish) {
      countdown.textContent = "答题时间已到";
      finish.dataset.auto = "1";
      finish.submit();
      return;
    }
    window.setTimeout(tick, 500);
  }
  tick();
})();

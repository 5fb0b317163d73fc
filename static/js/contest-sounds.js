// The projector's sounds: short cues we synthesise ourselves (scripts/make_sounds.py -> static/sounds/),
// played through Web Audio. Browsers keep audio suspended until someone clicks the page, so a visible
// "点击启用声音" prompt stays up until then; the host's mute (kept in the contest state) silences them.
(function () {
  "use strict";
  var NAMES = ["tick", "buzz", "right", "wrong", "podium"];
  var Ctx = window.AudioContext || window.webkitAudioContext;
  var S = {};
  var ctx = null;
  var buffers = {};
  var muted = false;
  var prompt = null;
  var log = null; // the element whose data-sounds lists the cues played (the latest last)

  function update() {
    if (prompt) { prompt.hidden = !ctx || muted || ctx.state === "running"; }
  }

  S.init = function (base, promptNode, logNode) {
    prompt = promptNode;
    log = logNode;
    if (!Ctx) { return; }
    ctx = new Ctx();
    ctx.onstatechange = update;
    NAMES.forEach(function (name) {
      fetch(base + name + ".wav").then(function (response) { return response.arrayBuffer(); })
        .then(function (data) { return ctx.decodeAudioData(data); })
        .then(function (buffer) { buffers[name] = buffer; })
        .catch(function () { /* a missing cue only means silence */ });
    });
    prompt.addEventListener("click", function () { ctx.resume().then(update); });
    update();
  };

  S.setMuted = function (value) { muted = !!value; update(); };

  S.play = function (name) {
    if (muted || !ctx || ctx.state !== "running" || !buffers[name]) { return false; }
    var source = ctx.createBufferSource();
    source.buffer = buffers[name];
    source.connect(ctx.destination);
    source.start();
    if (log) { log.dataset.sounds = ((log.dataset.sounds || "") + " " + name).trim().split(" ").slice(-12).join(" "); }
    return true;
  };

  window.QuizSounds = S;
})();

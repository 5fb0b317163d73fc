// The exam page. The server owns the clock and the answers: every answer is sent as it is given
// (choices at once, typing after a short pause), kept in localStorage until the server acknowledges it,
// and retried when the network comes back. A reload or another device shows what the server stored.
(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("exam-state").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var storeKey = "quizengine-exam-" + state.attemptId;
  var pending = JSON.parse(window.localStorage.getItem(storeKey) || "{}"); // position -> response not yet acknowledged
  var flags = JSON.parse(window.localStorage.getItem(storeKey + "-flags") || "{}");
  var answers = {};
  // The question the member was on comes back after a reload (kept in this browser, like the flags: no
  // server write on the exam's hot path; on another device the paper opens at question 1 with every answer).
  var current = Math.min(Math.max(parseInt(window.localStorage.getItem(storeKey + "-at"), 10) || 0, 0), state.questions.length - 1);
  var sending = false;
  var closed = false;
  var offset = Date.parse(state.serverNow) - Date.now();
  var deadline = Date.parse(state.deadline);
  var saveState = document.getElementById("save-state");
  var timers = {};

  state.questions.forEach(function (q) {
    answers[q.position] = q.position in pending ? pending[q.position] : q.saved;
  });

  function isAnswered(value) {
    if (value === null || value === undefined || value === "") { return false; }
    if (Array.isArray(value)) { return value.some(function (v) { return String(v).trim() !== ""; }); }
    return true;
  }

  function showSaveState(text, kind) {
    saveState.textContent = text;
    saveState.className = "save-state" + (kind ? " is-" + kind : "");
  }

  function persist() {
    window.localStorage.setItem(storeKey, JSON.stringify(pending));
    window.localStorage.setItem(storeKey + "-flags", JSON.stringify(flags));
  }

  var OFFLINE_TEXT = "网络中断，答案已保存在本机，恢复后将自动提交";
  var retryTimer = null;

  function retryLater() { // one retry loop at a time, however many answers wait
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(flush, 3000);
  }

  function flush() {
    var positions = Object.keys(pending);
    if (sending || closed || positions.length === 0) {
      if (!positions.length && !closed) { showSaveState("已保存", "saved"); }
      return;
    }
    if (navigator.onLine === false) { // no request can succeed: say so at once, send when the network is back
      showSaveState(OFFLINE_TEXT, "offline");
      retryLater();
      return;
    }
    sending = true;
    showSaveState("正在保存…", "saving");
    var position = Number(positions[0]);
    var response = pending[position];
    fetch(state.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ position: position, response: response })
    }).then(function (reply) {
      return reply.json().then(function (body) { return { status: reply.status, body: body }; });
    }).then(function (result) {
      sending = false;
      if (result.body.serverNow) { offset = Date.parse(result.body.serverNow) - Date.now(); }
      if (result.body.ok) {
        if (JSON.stringify(pending[position]) === JSON.stringify(response)) { delete pending[position]; }
        persist();
        flush();
      } else if (result.status === 409) {
        closed = true;
        showSaveState(result.body.message, "error");
        window.setTimeout(function () { window.location.reload(); }, 2500);
      } else {
        delete pending[position]; // refused for its shape: keep the page usable, tell the member
        persist();
        showSaveState(result.body.message || "答案格式不正确", "error");
      }
    }).catch(function () {
      sending = false;
      showSaveState(OFFLINE_TEXT, "offline");
      retryLater();
    });
  }

  function record(position, value, wait) {
    answers[position] = value;
    pending[position] = value;
    persist();
    renderNavigator();
    if (!closed) { // never claim "已保存" while an answer is only in this browser
      if (navigator.onLine === false) { showSaveState(OFFLINE_TEXT, "offline"); } else { showSaveState("未保存", "saving"); }
    }
    window.clearTimeout(timers[position]);
    timers[position] = window.setTimeout(flush, wait || 0);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderQuestion() {
    var q = state.questions[current];
    var box = document.getElementById("questions");
    box.innerHTML = "";
    var card = el("article", { "class": "question-card", "data-position": q.position });
    card.appendChild(el("p", { "class": "question-type" }, "第 " + (q.position + 1) + " / " + state.questions.length + " 题 · " +
      { single: "单选题", multiple: "多选题", judge: "判断题", fill: "填空题", short: "简答题" }[q.type] + " · " + q.points + " 分"));
    card.appendChild(el("h1", { "class": "stem" }, q.stem));
    var value = answers[q.position];
    if (q.type === "single" || q.type === "multiple" || q.type === "judge") {
      var choices = q.type === "judge" ? [["true", "对"], ["false", "错"]] : q.options;
      choices.forEach(function (pair) {
        var key = pair[0];
        var chosen = q.type === "multiple" ? (value || []).indexOf(key) >= 0 :
          (q.type === "judge" ? value !== null && value !== undefined && String(value) === key : value === key);
        var button = el("button", { type: "button", "class": "option" + (chosen ? " is-chosen" : ""), "aria-pressed": chosen ? "true" : "false" });
        button.appendChild(el("span", { "class": "key" }, q.type === "judge" ? (key === "true" ? "✓" : "✗") : key));
        button.appendChild(document.createTextNode(pair[1]));
        button.addEventListener("click", function () {
          if (q.type === "multiple") {
            var set = (answers[q.position] || []).slice();
            var at = set.indexOf(key);
            if (at >= 0) { set.splice(at, 1); } else { set.push(key); set.sort(); }
            record(q.position, set, 0);
          } else {
            record(q.position, q.type === "judge" ? key === "true" : key, 0);
          }
          renderQuestion();
        });
        card.appendChild(button);
      });
    } else if (q.type === "fill") {
      for (var i = 0; i < q.blanks; i += 1) {
        var label = el("label", {}, "第 " + (i + 1) + " 空");
        var input = el("input", { type: "text", autocomplete: "off", "data-blank": i });
        input.value = (value || [])[i] || "";
        input.addEventListener("input", function () {
          var all = Array.prototype.map.call(card.querySelectorAll("input[data-blank]"), function (n) { return n.value; });
          record(q.position, all, 800);
        });
        label.appendChild(input);
        card.appendChild(label);
      }
    } else {
      var area = el("textarea", { rows: "8" });
      area.value = value || "";
      area.addEventListener("input", function () { record(q.position, area.value, 800); });
      card.appendChild(area);
    }
    box.appendChild(card);
    document.getElementById("flag").textContent = flags[q.position] ? "取消标记" : "标记本题";
    window.localStorage.setItem(storeKey + "-at", String(current));
    renderNavigator();
  }

  function renderNavigator() {
    var nav = document.getElementById("navigator");
    nav.innerHTML = "";
    state.questions.forEach(function (q, index) {
      var cls = "nav-cell" + (isAnswered(answers[q.position]) ? " is-answered" : "") + (flags[q.position] ? " is-flagged" : "") + (index === current ? " is-current" : "");
      var button = el("button", { type: "button", "class": cls, "aria-label": "第" + (index + 1) + "题" }, String(index + 1));
      button.addEventListener("click", function () { current = index; renderQuestion(); });
      nav.appendChild(button);
    });
    var done = state.questions.filter(function (q) { return isAnswered(answers[q.position]); }).length;
    document.getElementById("progress").textContent = "已答 " + done + "/" + state.questions.length;
  }

  document.getElementById("prev").addEventListener("click", function () { if (current > 0) { current -= 1; renderQuestion(); } });
  document.getElementById("next").addEventListener("click", function () { if (current < state.questions.length - 1) { current += 1; renderQuestion(); } });
  document.getElementById("flag").addEventListener("click", function () {
    var position = state.questions[current].position;
    if (flags[position]) { delete flags[position]; } else { flags[position] = true; }
    persist();
    renderQuestion();
  });

  var form = document.getElementById("submit-form");
  var dialog = document.getElementById("confirm-dialog");
  form.addEventListener("submit", function (event) {
    if (form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    var missing = state.questions.filter(function (q) { return !isAnswered(answers[q.position]); })
      .map(function (q) { return q.position + 1; });
    document.getElementById("confirm-text").textContent = missing.length ?
      "还有 " + missing.length + " 题未作答（第 " + missing.join("、") + " 题）。" : "所有题目均已作答。";
    var flagged = state.questions.filter(function (q) { return flags[q.position]; })
      .map(function (q) { return q.position + 1; });
    var flaggedLine = document.getElementById("confirm-flagged");
    flaggedLine.textContent = flagged.length ? "标记待查：第 " + flagged.join("、") + " 题。" : "";
    flaggedLine.hidden = !flagged.length;
    dialog.showModal();
  });
  document.getElementById("confirm-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("confirm-ok").addEventListener("click", function () { submitNow(); });

  function submitNow() {
    form.dataset.confirmed = "1";
    var tries = 0;
    (function waitForSaves() { // hand in only after the last answers reached the server (or 5 s passed)
      if (Object.keys(pending).length && tries < 50 && !closed) { tries += 1; flush(); window.setTimeout(waitForSaves, 100); return; }
      window.localStorage.removeItem(storeKey);
      window.localStorage.removeItem(storeKey + "-flags");
      window.localStorage.removeItem(storeKey + "-at");
      form.submit();
    })();
  }

  var countdown = document.getElementById("countdown");
  (function tick() {
    var left = Math.max(0, Math.round((deadline - (Date.now() + offset)) / 1000));
    var h = Math.floor(left / 3600);
    var m = Math.floor((left % 3600) / 60);
    var s = left % 60;
    countdown.textContent = (h ? h + ":" : "") + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    countdown.classList.toggle("is-urgent", left <= 300);
    if (left === 0) {
      countdown.textContent = "答题时间已到";
      submitNow();
      return;
    }
    window.setTimeout(tick, 500);
  })();

  var leaving = false; // a reload, a link or handing in hides the page too: that is not a tab switch
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !closed && !leaving && form.dataset.confirmed !== "1") {
      fetch(state.tabUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf }, keepalive: true });
    }
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () {
    if (!closed) { showSaveState(Object.keys(pending).length ? OFFLINE_TEXT : "网络中断，作答将先保存在本机", "offline"); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (Object.keys(pending).length && form.dataset.confirmed !== "1") { event.preventDefault(); event.returnValue = ""; }
  });

  renderQuestion();
  flush(); // answers left in this browser by a previous visit go to the server first
})();

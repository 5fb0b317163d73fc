// Shared pieces of the live-contest screens (host console, projector, team device, player phone).
// The server owns the state and the clock: every screen only renders the latest per-role view it got
// (the join ack's snapshot or a `state` push) and counts down to `deadline_ms` on the server's clock.
// The correct answer arrives only inside a revealed view; nothing here works it out.
(function () {
  "use strict";
  var C = {};
  var offset = 0; // server clock - this device's clock, in ms

  C.TYPE_LABELS = { single: "单选题", multiple: "多选题", judge: "判断题", fill: "填空题", short: "简答题" };
  C.EVENT_LABELS = {
    round_started: "进入新环节", question_shown: "出题", answering_opened: "开始作答", buzzing_opened: "开始抢答",
    foul: "抢答犯规", buzz_won: "抢答成功", buzz_recorded: "记录抢答", buzzing_reopened: "重新开放抢答",
    locked: "锁定作答", answer_revealed: "公布答案", scores: "比分更新", risk_choosing: "选择分值",
    risk_chosen: "已选分值", paused: "暂停", resumed: "继续", kicked: "移出",
    readmitted: "恢复参赛", tiebreak_started: "加赛", finished: "比赛结束", answer_received: "收到答案",
    podium: "公布名次", muted: "声音设置", quote_shown: "原文显示设置"
  };

  C.boot = function (id) {
    return JSON.parse(document.getElementById(id || "contest-boot").textContent);
  };

  // ---- clock ----------------------------------------------------------------------------------------
  C.sync = function (serverNow) {
    if (typeof serverNow === "number") { offset = serverNow - Date.now(); }
  };
  C.now = function () { return Date.now() + offset; };
  C.secondsLeft = function (deadlineMs) {
    return deadlineMs ? Math.max(0, (deadlineMs - C.now()) / 1000) : null;
  };

  // ---- DOM helpers ----------------------------------------------------------------------------------
  C.el = function (tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "class") { node.className = value; } else { node.setAttribute(key, value === true ? "" : value); }
    });
    C.append(node, content);
    return node;
  };
  C.append = function (node, content) {
    if (content === null || content === undefined) { return node; }
    if (Array.isArray(content)) { content.forEach(function (child) { C.append(node, child); }); return node; }
    node.appendChild(typeof content === "object" ? content : document.createTextNode(String(content)));
    return node;
  };
  C.fill = function (node, content) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
    return C.append(node, content);
  };
  C.$ = function (id) { return document.getElementById(id); };
  // Team colours come from the server; set through the CSSOM (allowed by the CSP, unlike style="").
  C.teamColor = function (node, color) {
    if (color) { node.style.setProperty("--team", color); }
    return node;
  };

  // ---- view helpers ---------------------------------------------------------------------------------
  C.team = function (view, id) {
    return (view.teams || []).filter(function (t) { return t.id === id; })[0] || { id: id, name: id || "", color: "" };
  };
  C.teamName = function (view, id) { return C.team(view, id).name; };
  C.isRevealed = function (view) {
    return view.phase === "revealed" || view.phase === "scoreboard" || view.phase === "finished" ||
      (view.phase === "paused" && view.paused_phase === "revealed");
  };
  C.shownPhase = function (view) { return view.phase === "paused" ? (view.paused_phase || "lobby") : view.phase; };
  // The buttons a question offers: its options, or 对/错 for a judge question.
  C.choices = function (question) {
    if (!question) { return []; }
    if (question.type === "judge") { return [["true", "对"], ["false", "错"]]; }
    return question.options || [];
  };
  C.canTap = function (question) {
    return !!question && (question.type === "single" || question.type === "multiple" || question.type === "judge");
  };
  // The response to send for the chosen key(s).
  C.response = function (question, chosen) {
    if (question.type === "judge") { return chosen[0] === "true"; }
    if (question.type === "multiple") { return chosen.slice().sort(); }
    return chosen[0];
  };
  // The keys of the revealed answer (only present in a revealed view, or the host's).
  C.answerKeys = function (question) {
    if (!question || question.answer === undefined || question.answer === null) { return []; }
    var answer = question.answer;
    if (question.type === "judge") { return [answer ? "true" : "false"]; }
    if (question.type === "fill") {
      return [(answer || []).map(function (blank) { return Array.isArray(blank) ? blank.join(" / ") : blank; }).join("；")];
    }
    return Array.isArray(answer) ? answer.map(String) : [String(answer)];
  };
  C.answerText = function (question) {
    if (!question || question.answer === undefined) { return ""; }
    if (question.type === "judge") { return question.answer ? "对" : "错"; }
    if (question.type === "short") { return String(question.answer || ""); }
    return C.answerKeys(question).join("、");
  };
  // After the reveal, on a phone or team device: the right answer, 解析 and 出处.
  C.answerFacts = function (q) {
    return C.el("dl", { "class": "answer-facts" }, [
      C.el("dt", {}, "正确答案"), C.el("dd", { "class": "right-answer" }, C.answerText(q)),
      q.explanation ? [C.el("dt", {}, "解析"), C.el("dd", {}, q.explanation)] : null,
      q.reference ? [C.el("dt", {}, "出处"), C.el("dd", {}, q.reference)] : null
    ]);
  };
  C.responseKeys = function (question, response) {
    if (response === null || response === undefined) { return []; }
    if (question && question.type === "judge") { return [response === true || response === "true" ? "true" : "false"]; }
    return Array.isArray(response) ? response.map(String) : [String(response)];
  };
  C.responseText = function (question, response) {
    if (question && question.type === "judge") { return response === true || response === "true" ? "对" : "错"; }
    return C.responseKeys(question, response).join("、");
  };
  // 全员答题 distribution {"A": 3, "AB": 1, "True": 2} -> count per option key.
  C.optionCounts = function (question, distribution) {
    var counts = {};
    C.choices(question).forEach(function (pair) { counts[pair[0]] = 0; });
    Object.keys(distribution || {}).forEach(function (raw) {
      var n = distribution[raw];
      if (question.type === "judge") {
        var key = raw.toLowerCase() === "true" ? "true" : "false";
        counts[key] = (counts[key] || 0) + n;
      } else {
        raw.split("").forEach(function (key) { if (key in counts) { counts[key] += n; } });
      }
    });
    return counts;
  };
  C.points = function (value) { return String(Number(Number(value).toFixed(2))); }; // 110, 121.5, 121.87
  C.signed = function (value) { return (value > 0 ? "+" : value < 0 ? "−" : "") + C.points(Math.abs(value)); };
  // A round where contestants drop out sends `standing` ({title, left, entries: [{id, name, team, out,
  // won, turn}]}: who is still in, who is out, who won, who answers now) and `turn` ({id, name, team}: who answers now,
  // when it is not a team); every screen shows them the same way. `mine` marks this device's entry.
  C.standingPanel = function (view, mine, extraClass) {
    var standing = view.standing;
    if (!standing) { return null; }
    return C.el("section", { "class": "standing" + (extraClass ? " " + extraClass : ""), id: "standing" }, [
      C.el("p", { "class": "standing-title" }, [standing.title + " ", C.el("strong", { "class": "num", id: "standing-left" }, standing.left + " / " + standing.entries.length)]),
      C.el("ol", { "class": "standing-list" }, standing.entries.map(function (entry) {
        var team = C.team(view, entry.team);
        var cls = "standing-entry" + (entry.out ? " is-out" : " is-in") + (entry.won ? " is-won" : "") + (entry.turn ? " is-turn" : "") + (mine && entry.id === mine ? " is-mine" : "");
        return C.teamColor(C.el("li", { "class": cls, "data-id": entry.id }, [
          C.el("span", { "class": "standing-name" }, entry.name),
          entry.name !== team.name ? C.el("small", { "class": "standing-team" }, team.name) : null,
          C.el("small", { "class": "standing-status" }, entry.out ? "出局" : entry.won ? "胜出" : entry.turn ? "作答" : "在场")
        ]), team.color);
      }))
    ]);
  };
  C.standingEntry = function (view, id) {
    return view.standing ? view.standing.entries.filter(function (entry) { return entry.id === id; })[0] || null : null;
  };
  C.turnText = function (view) {
    var turn = view.turn;
    if (!turn) { return ""; }
    var team = C.teamName(view, turn.team);
    return turn.name + (team && team !== turn.name ? "（" + team + "）" : "");
  };
  C.gapText = function (buzz, index) {
    if (buzz.foul) { return "犯规"; }
    return index === 0 || !buzz.gap_ms ? "最先" : "+" + buzz.gap_ms + " 毫秒";
  };
  // A time of day as every page shows it: in Asia/Shanghai (whatever the device's time zone), on the
  // server's clock (the device's may be off).
  var SHANGHAI = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  C.clockText = function (ms) { return SHANGHAI.format(new Date(ms || C.now())); };

  // ---- countdown ------------------------------------------------------------------------------------
  // A number (and optionally an SVG ring) counting down to the server's deadline; red in the last 5 s.
  var SVG = "http://www.w3.org/2000/svg";
  C.countdown = function (node, options) {
    options = options || {};
    var deadline = null;
    var total = null;
    var ring = null;
    var number = C.el("span", { "class": "cd-number num" }, "");
    var CIRC = 2 * Math.PI * 54;
    if (options.ring) {
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 120 120");
      svg.setAttribute("class", "cd-ring");
      svg.setAttribute("aria-hidden", "true");
      var track = document.createElementNS(SVG, "circle");
      ring = document.createElementNS(SVG, "circle");
      [track, ring].forEach(function (circle, i) {
        circle.setAttribute("cx", "60");
        circle.setAttribute("cy", "60");
        circle.setAttribute("r", "54");
        circle.setAttribute("class", i ? "cd-progress" : "cd-track");
        svg.appendChild(circle);
      });
      ring.setAttribute("stroke-dasharray", String(CIRC));
      node.appendChild(svg);
    }
    node.appendChild(number);
    node.classList.add("countdown");
    function render() {
      var left = C.secondsLeft(deadline);
      node.classList.toggle("is-idle", left === null);
      node.classList.toggle("is-urgent", left !== null && left <= 5);
      number.textContent = left === null ? (options.idle || "") : String(Math.ceil(left));
      if (ring) {
        var share = left === null || !total ? 0 : Math.min(1, (left * 1000) / total);
        ring.setAttribute("stroke-dashoffset", String(CIRC * (1 - share)));
      }
    }
    window.setInterval(render, 100);
    return {
      set: function (deadlineMs) {
        if (deadlineMs !== deadline) {
          deadline = deadlineMs || null;
          total = deadline ? Math.max(1000, deadline - C.now()) : null;
        }
        render();
      },
      left: function () { return C.secondsLeft(deadline); }
    };
  };

  // ---- messages and confirmation --------------------------------------------------------------------
  C.notice = function (node, text, kind) {
    if (!node) { return; }
    node.textContent = text || "";
    node.className = "contest-notice" + (text ? " is-" + (kind || "info") : "");
    window.clearTimeout(node._timer);
    if (text && kind !== "error-sticky") {
      node._timer = window.setTimeout(function () { node.textContent = ""; node.className = "contest-notice"; }, kind === "ok" ? 2500 : 6000);
    }
  };
  // Ask once (destructive actions): a <dialog>, resolved true on 确定.
  C.confirm = function (text, okLabel) {
    return new Promise(function (resolve) {
      var dialog = C.el("dialog", { "class": "contest-dialog" });
      var ok = C.el("button", { type: "button", "class": "btn btn-primary", "data-confirm": "ok" }, okLabel || "确定");
      var cancel = C.el("button", { type: "button", "class": "btn" }, "取消");
      C.append(dialog, [C.el("p", {}, text), C.el("div", { "class": "button-row" }, [cancel, ok])]);
      document.body.appendChild(dialog);
      function done(value) { dialog.close(); dialog.remove(); resolve(value); }
      ok.addEventListener("click", function () { done(true); });
      cancel.addEventListener("click", function () { done(false); });
      dialog.addEventListener("cancel", function (event) { event.preventDefault(); done(false); });
      dialog.showModal();
      ok.focus();
    });
  };

  // ---- connection -----------------------------------------------------------------------------------
  // opts: dot (element), join() -> payload or null, onJoined(ack), onRefused(ack), onState(msg), onCount(msg),
  // onPlayers(msg) (host, projector: who has joined, coalesced), onDevice(msg) (host: a team device on/offline);
  // a team device answers the server's device_check by itself.
  C.connect = function (opts) {
    var socket = window.io("/contest", { transports: ["websocket"] });
    var lostTimer = null;
    var dot = opts.dot;
    function setDot(kind, text) {
      if (!dot) { return; }
      dot.className = "conn-dot is-" + kind;
      dot.setAttribute("title", text);
      dot.setAttribute("aria-label", text);
      var label = dot.querySelector(".conn-text");
      if (label) { label.textContent = text; }
    }
    function lost() {
      window.clearTimeout(lostTimer);
      setDot("amber", "正在重新连接");
      lostTimer = window.setTimeout(function () { setDot("red", "网络中断"); }, 8000);
    }
    var api = {
      socket: socket,
      // Emit with an ack; resolves with the ack, or a refusal when the network is down.
      emit: function (name, data) {
        return new Promise(function (resolve) {
          if (!socket.connected) {
            resolve({ ok: false, code: "offline", message: "网络中断，操作未送达；恢复连接后请重试" });
            return;
          }
          socket.timeout(10000).emit(name, data, function (err, ack) {
            if (err) { resolve({ ok: false, code: "timeout", message: "服务器没有响应，请检查网络后重试" }); return; }
            C.sync(ack && ack.server_now);
            resolve(ack || { ok: false, message: "服务器没有响应" });
          });
        });
      },
      rejoin: function () { join(); }
    };
    function join() {
      var payload = opts.join();
      if (!payload) { setDot("green", "已连接"); return; }
      api.emit("join", payload).then(function (ack) {
        if (ack.ok) {
          setDot("green", "已连接");
          opts.onJoined(ack);
        } else if (ack.code !== "offline" && ack.code !== "timeout") {
          setDot("green", "已连接");
          if (opts.onRefused) { opts.onRefused(ack); }
        }
      });
    }
    socket.on("connect", function () {
      window.clearTimeout(lostTimer);
      setDot("amber", "正在加入");
      join();
    });
    socket.on("disconnect", lost);
    socket.on("connect_error", function () { if (!socket.connected) { lost(); } });
    socket.on("state", function (message) {
      C.sync(message.server_now);
      if (opts.onState) { opts.onState(message); }
    });
    socket.on("answer_count", function (message) {
      C.sync(message.server_now);
      if (opts.onCount) { opts.onCount(message); }
    });
    socket.on("players", function (message) {
      if (opts.onPlayers) { opts.onPlayers(message); }
    });
    socket.on("device", function (message) {
      if (opts.onDevice) { opts.onDevice(message); }
    });
    // A host joined on another worker and asks the team devices to say they are here (team devices only).
    socket.on("device_check", function () { api.emit("device_here", {}); });
    window.addEventListener("offline", function () { setDot("red", "网络中断"); });
    window.addEventListener("online", function () { if (!socket.connected) { lost(); } });
    setDot("amber", "正在连接");
    return api;
  };

  // Keeps the newest view: a push or ack with an older version never overwrites a newer one.
  C.viewStore = function () {
    var current = null;
    return {
      offer: function (view) {
        if (!view) { return false; }
        if (current && view.version < current.version) { return false; }
        current = view;
        return true;
      },
      get: function () { return current; }
    };
  };

  window.QuizContest = C;
})();

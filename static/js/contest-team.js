// A team device (答题器): joins once with the team's code, then re-attaches with the device token it was
// given (kept in localStorage), on every reconnect and reload. It shows the team's view: the state in one
// line, the huge 抢答 button, the answer buttons on the team's turn and the risk values to choose from.
(function () {
  "use strict";
  var C = window.QuizContest;
  var boot = C.boot();
  var store = C.viewStore();
  var tokenKey = "quizengine-contest-" + boot.contest + "-team-token";
  var answersKey = "quizengine-contest-" + boot.contest + "-team-answers";
  var mine = JSON.parse(window.localStorage.getItem(answersKey) || "{}"); // question seq -> response we sent
  // The choice made but not yet submitted survives a reload of this tab (cleared on submit and reveal).
  var choiceKey = "quizengine-contest-" + boot.contest + "-team-choice";
  var notice = C.$("notice");
  var selected = [];
  var selectedFor = null;
  var sending = false;
  var timeUp = false;
  var lastDeadline = null;
  var lastPhase = null;
  var countdown = C.countdown(C.$("dev-countdown"), { idle: "" });
  var manualCode = null;

  var conn = C.connect({
    dot: C.$("conn"),
    join: function () {
      var token = window.localStorage.getItem(tokenKey);
      if (token) { return { contest: boot.contest, role: "team", token: token }; }
      var code = manualCode || boot.code;
      if (code) { return { contest: boot.contest, role: "team", code: code }; }
      showJoin("");
      return null;
    },
    onJoined: function (ack) {
      if (ack.device_token) { window.localStorage.setItem(tokenKey, ack.device_token); }
      manualCode = null;
      C.$("join").hidden = true;
      if (window.location.search.indexOf("code=") >= 0) { // the code is spent: reloads re-attach with the token
        window.history.replaceState(null, "", window.location.pathname);
      }
      store.offer(ack.view);
      render();
    },
    onRefused: function (ack) {
      if (window.localStorage.getItem(tokenKey)) {
        window.localStorage.removeItem(tokenKey);
        showJoin("本设备的登录已失效（可能已在另一台设备上用口令加入）。请重新输入队伍口令。");
      } else {
        boot.code = "";
        manualCode = null;
        showJoin(ack.message || "队伍口令无效，请向主持人确认");
      }
    },
    onState: function (message) { if (store.offer(message.view)) { render(); } }
  });

  function showJoin(message) {
    C.$("join").hidden = false;
    C.$("state-line").textContent = "请输入队伍口令";
    C.fill(C.$("main"), []);
    C.notice(notice, message, message ? "error-sticky" : "");
  }

  C.$("join-form").addEventListener("submit", function (event) {
    event.preventDefault();
    manualCode = C.$("code").value.trim();
    if (manualCode) { C.notice(notice, ""); conn.rejoin(); }
  });

  function keepChoice(q) {
    window.sessionStorage.setItem(choiceKey, JSON.stringify({ seq: q.seq, question: q.id, keys: selected }));
  }

  function keptChoice(q) {
    var kept = JSON.parse(window.sessionStorage.getItem(choiceKey) || "null");
    return kept && kept.seq === q.seq && kept.question === q.id ? kept.keys : [];
  }

  function forgetChoice() { window.sessionStorage.removeItem(choiceKey); }

  function remember(seq, response) {
    mine[seq] = response;
    window.localStorage.setItem(answersKey, JSON.stringify(mine));
  }

  // ---- actions --------------------------------------------------------------------------------------
  function buzz() {
    var view = store.get();
    if (!view || !view.question || sending) { return; }
    sending = true;
    conn.emit("buzz", { question: view.question.id }).then(function (ack) {
      sending = false;
      if (!ack.ok) { C.notice(notice, ack.message, "error"); }
      render();
    });
    render();
  }

  function submit() {
    var view = store.get();
    if (!view || !view.question || !selected.length || sending) { return; }
    var q = view.question;
    var response = C.response(q, selected);
    sending = true;
    render();
    conn.emit("submit_answer", { question: q.id, response: response }).then(function (ack) {
      sending = false;
      if (ack.ok || ack.code === "duplicate") {
        remember(q.seq, response); // the state line and "本队作答" say it; no toast over the question
        forgetChoice();
      } else {
        C.notice(notice, ack.message, "error");
      }
      render();
    });
  }

  function chooseRisk(value) {
    if (sending) { return; }
    sending = true;
    conn.emit("choose_risk", { value: value }).then(function (ack) {
      sending = false;
      if (!ack.ok) { C.notice(notice, ack.message, "error"); }
      render();
    });
    render();
  }

  // ---- rendering ------------------------------------------------------------------------------------
  function stateLine(view, phase, me) {
    var other = view.team_on_turn && !me.my_turn ? C.teamName(view, view.team_on_turn) : "";
    if (me.kicked) { return ["已被移出", "本队已被主持人移出比赛，如有疑问请联系主持人"]; }
    var entry = C.standingEntry(view, me.team);
    if (entry && entry.out && phase !== "finished") { return ["本队已出局", view.standing.title + "还剩 " + view.standing.left + " 个"]; }
    switch (phase) {
      case "lobby": return ["等待主持人", "比赛尚未开始"];
      case "round_intro": return ["等待主持人", (view.round || {}).title || ""];
      case "risk_choosing": return me.my_turn ? ["请选择分值", "本队选择本题分值"] : ["等待主持人", other + "正在选择分值"];
      case "reading": return ["等待主持人", me.my_turn ? "请读题，稍后开始作答" : other ? "本题由" + other + "作答" : "请读题"];
      case "answering":
        if ((view.round || {}).kind === "everyone") { return ["等待主持人", "全员答题：请各位队员用个人手机作答"]; }
        if (me.my_turn) { return me.answered ? ["已锁定", "本队已提交答案"] : ["请作答", "本队作答"]; }
        return ["等待主持人", other ? other + "作答中" : ""];
      case "buzz_armed": return ["等待主持人", "等待主持人宣布开始抢答"];
      case "buzz_open": return me.can_buzz ? ["请抢答", "抢答已开始"] : ["等待主持人", "本队本题已不能抢答"];
      case "buzz_won":
        if (me.my_turn) { return me.answered ? ["已锁定", "本队已提交答案"] : ["请作答", "本队抢答成功"]; }
        return ["等待主持人", other + "抢答成功，正在作答"];
      case "locked": return timeUp ? ["答题时间已到", "本题未提交答案"] : ["已锁定", me.answered ? "本队已提交答案" : "作答已锁定，等待公布答案"];
      case "revealed": return ["已公布答案", view.voided ? "本题作废" : ""];
      case "scoreboard": return ["等待主持人", "本环节结束"];
      case "finished": return ["比赛结束", ""];
      default: return [view.phase_label, ""];
    }
  }

  function questionCard(view, phase, me) {
    var q = view.question;
    var revealed = C.isRevealed(view);
    var right = revealed ? C.answerKeys(q) : [];
    var sent = mine[q.seq];
    var sentKeys = sent === undefined ? [] : C.responseKeys(q, sent);
    var kind = (view.round || {}).kind;
    var canAnswer = !me.kicked && me.my_turn && !me.answered && sent === undefined && C.canTap(q) && kind !== "everyone" &&
      (phase === "buzz_won" || (phase === "answering" && kind !== "buzzer"));
    if (revealed) { forgetChoice(); }
    if (selectedFor !== q.seq) { selected = canAnswer ? keptChoice(q) : []; selectedFor = q.seq; }
    var parts = [
      C.el("p", { "class": "question-type" }, (C.TYPE_LABELS[q.type] || "") + " · " + C.points(q.points) + " 分" +
        (view.risk_value ? " · 风险 " + view.risk_value + " 分" : "")),
      C.el("h1", { "class": "stem dev-stem" }, q.stem)
    ];
    var choices = C.choices(q);
    if (canAnswer) {
      parts.push(C.el("div", { "class": "answer-form", id: "answers" }, choices.map(function (pair) {
        var chosen = selected.indexOf(pair[0]) >= 0;
        var b = C.el("button", { type: "button", "class": "option answer-btn" + (chosen ? " is-chosen" : ""), "aria-pressed": chosen ? "true" : "false", "data-key": pair[0], disabled: sending }, [
          C.el("span", { "class": "key" }, q.type === "judge" ? (pair[0] === "true" ? "✓" : "✗") : pair[0]), pair[1]
        ]);
        b.addEventListener("click", function () {
          if (q.type === "multiple") {
            var at = selected.indexOf(pair[0]);
            if (at >= 0) { selected.splice(at, 1); } else { selected.push(pair[0]); }
          } else { selected = [pair[0]]; }
          keepChoice(q);
          render();
        });
        return b;
      })));
      parts.push(C.el("button", { type: "button", "class": "btn btn-primary btn-block submit-btn", id: "submit", disabled: !selected.length || sending },
        selected.length ? "提交答案（" + selected.slice().sort().join("、").replace("true", "对").replace("false", "错") + "）" : (q.type === "multiple" ? "请选择（可多选）后提交" : "请选择后提交")));
    } else if (choices.length) {
      parts.push(C.el("ul", { "class": "option-list dev-options" }, choices.map(function (pair) {
        var cls = revealed && right.indexOf(pair[0]) >= 0 ? "is-right" : revealed && sentKeys.indexOf(pair[0]) >= 0 ? "is-wrong" : sentKeys.indexOf(pair[0]) >= 0 ? "is-sent" : "";
        return C.el("li", { "class": cls }, [C.el("span", { "class": "key" }, q.type === "judge" ? (pair[0] === "true" ? "✓" : "✗") : pair[0]), pair[1]]);
      })));
    }
    if (!C.canTap(q) && me.my_turn && !revealed) { parts.push(C.el("p", { "class": "notice" }, "本题请口头作答，由主持人评判。")); }
    if (sent !== undefined) { parts.push(C.el("p", { "class": "dev-sent", id: "sent" }, "本队作答：" + C.responseText(q, sent))); }
    if (revealed && sent !== undefined && (q.type === "single" || q.type === "judge")) {
      var right1 = sentKeys[0] === right[0]; // after the reveal only: the team's own choice against the revealed key
      parts.unshift(C.el("p", { "class": "verdict dev-verdict " + (right1 ? "verdict-right" : "verdict-wrong"), id: "result" }, right1 ? "本队回答正确" : "本队回答错误"));
    }
    if (revealed) {
      parts.push(C.answerFacts(q));
    }
    return C.el("article", { "class": "question-card dev-card" }, parts);
  }

  function buzzPanel(view, phase, me) {
    var reason = null;
    var armed = phase === "buzz_armed";
    if (me.kicked) { reason = "本队已被移出比赛"; } else if (phase === "buzz_won") { reason = me.my_turn ? "本队抢答成功，请作答" : C.teamName(view, view.team_on_turn) + "已抢到"; } else if ((phase === "buzz_armed" || phase === "buzz_open") && !me.can_buzz) { reason = "本队本题已不能抢答"; } else if (phase !== "buzz_armed" && phase !== "buzz_open") { reason = C.isRevealed(view) ? "本题已结束" : "现在不能抢答"; }
    var button = C.el("button", { type: "button", id: "buzz", "class": "buzz-btn" + (armed && !reason ? " is-armed" : "") + (reason ? "" : " is-live"), disabled: !!reason || sending }, "抢答");
    button.addEventListener("click", buzz);
    return C.el("section", { "class": "buzz-panel" }, [
      button,
      reason ? C.el("p", { "class": "buzz-reason", id: "buzz-reason" }, reason) : null,
      armed && !reason ? C.el("p", { "class": "buzz-warning", id: "buzz-warning" }, "未宣布开始前抢答将被判犯规") : null
    ]);
  }

  function riskPanel(view) {
    return C.el("section", { "class": "risk-panel", id: "risk" }, [
      C.el("p", { "class": "risk-title" }, "请选择本题分值"),
      C.el("p", { "class": "muted" }, "答对加上所选分值，答错扣除所选分值；分值越高题目越难。"),
      C.el("div", { "class": "risk-buttons" }, ((view.round || {}).risk_values || []).map(function (value) {
        var b = C.el("button", { type: "button", "class": "btn btn-block risk-btn", "data-risk": value, disabled: sending }, value + " 分");
        b.addEventListener("click", function () { chooseRisk(value); });
        return b;
      }))
    ]);
  }

  function finalCard(view, me) {
    var row = (view.ranking || []).filter(function (r) { return r.team === me.team; })[0];
    var waiting = !row && view.podium && !view.podium.done; // the podium on the projector tells it first
    return C.el("section", { "class": "card dev-final" }, [
      C.el("p", { "class": "dev-place", id: "final-place" }, row ? "第 " + row.place + " 名" : waiting ? "请看大屏揭晓名次" : ""),
      C.el("p", {}, row ? "最终得分 " + C.points(row.score) + " 分" : ""),
      C.el("p", { "class": "muted" }, "感谢参赛")
    ]);
  }

  function render() {
    var view = store.get();
    if (!view || !view.me) { return; }
    var me = view.me;
    var phase = C.shownPhase(view);
    if (lastPhase !== phase && lastPhase !== null) { window.scrollTo(0, 0); } // a new screen starts at its top
    if (lastPhase !== phase) {
      timeUp = phase === "locked" && (lastPhase === "answering" || lastPhase === "buzz_won") && me.my_turn && !me.answered &&
        lastDeadline !== null && C.now() >= lastDeadline - 500;
      if (phase !== "locked") { timeUp = false; }
    }
    lastPhase = phase;
    lastDeadline = view.deadline_ms || lastDeadline;
    var line = stateLine(view, phase, me);
    if (view.phase === "paused") { line = ["比赛暂停", "请等待主持人继续"]; }
    C.$("state-line").textContent = line[0];
    C.$("state-line").className = "state-line is-" + phase + (line[0] === "请作答" || line[0] === "请抢答" || line[0] === "请选择分值" ? " is-action" : "");
    C.$("sub-line").textContent = line[1];
    C.$("dev").dataset.phase = view.phase;
    C.$("paused").hidden = view.phase !== "paused";
    var team = C.team(view, me.team);
    C.fill(C.$("team-line"), [
      C.teamColor(C.el("span", { "class": "team-chip", id: "my-team" }, team.name), team.color),
      C.el("span", { "class": "dev-score" }, ["得分 ", C.el("strong", { "class": "num score", id: "my-score" }, C.points(team.score))])
    ]);
    countdown.set(view.deadline_ms);

    var parts = [];
    var kind = (view.round || {}).kind;
    if (phase === "risk_choosing" && me.my_turn && !me.kicked) { parts.push(riskPanel(view)); }
    if (phase === "round_intro" && view.round) {
      parts.push(C.el("section", { "class": "card dev-intro" }, [C.el("h1", {}, view.round.label), C.el("p", {}, view.round.title), C.el("p", { "class": "muted" }, view.round.rules)]));
    }
    if (kind === "buzzer" && view.question && ["buzz_armed", "buzz_open", "buzz_won"].indexOf(phase) >= 0) { parts.push(buzzPanel(view, phase, me)); }
    if (view.question && phase !== "scoreboard" && phase !== "finished") { parts.push(questionCard(view, phase, me)); }
    if (phase !== "finished") { parts.push(C.standingPanel(view, me.team)); }
    if (phase === "finished") { parts.push(finalCard(view, me)); }
    if (phase === "lobby") { parts.push(C.el("p", { "class": "dev-wait" }, "已加入比赛。请保持本页面打开，比赛开始后这里会显示题目。")); }
    C.fill(C.$("main"), parts);
    var submitButton = C.$("submit");
    if (submitButton) { submitButton.addEventListener("click", submit); }
  }
})();

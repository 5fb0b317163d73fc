// The host console: the current question with its answer (host only), the next step as one big button,
// keyboard shortcuts, judging, scores, devices (online/offline, pushed by the server) and the log. Every command carries the version of the view
// the host is looking at, so a double press or a second console never advances the contest twice.
(function () {
  "use strict";
  var C = window.QuizContest;
  var boot = C.boot();
  var store = C.viewStore();
  var notice = C.$("notice");
  var countdown = C.countdown(C.$("countdown"), { ring: true, idle: "—" });
  var busy = false; // a command is on its way: its ack, or any newer view, ends the wait
  var busySince = -1;
  var sent = 0;
  var count = null;
  var events = [];
  var activity = {}; // team -> [time, what] of the last sign of its device
  var seen = {};
  var choseForTeam = false; // the host's own choose_risk is not a sign of the team's device
  var devices = {}; // team -> [online, time]: from the join snapshot, then every `device` push
  var roster = { count: 0, players: [] }; // who has joined 全员答题 (the join snapshot, then coalesced pushes)
  var RUNNING = ["round_intro", "risk_choosing", "reading", "answering", "buzz_armed", "buzz_open", "buzz_won",
    "locked", "revealed", "scoreboard"];
  var QUESTION_OPEN = ["reading", "answering", "buzz_armed", "buzz_open", "buzz_won", "locked"];

  var conn = C.connect({
    dot: C.$("conn"),
    join: function () { return { contest: boot.contest, role: "host" }; },
    onJoined: function (ack) {
      store.offer(ack.view);
      Object.keys(ack.devices || {}).forEach(function (team) { devices[team] = [ack.devices[team], null]; });
      if (ack.roster) { roster = ack.roster; }
      logLine("主持台已连接，已载入当前状态");
      render();
    },
    onRefused: function (ack) { C.notice(notice, ack.message, "error-sticky"); },
    onState: function (message) {
      if (!store.offer(message.view)) { return; }
      if (busy && message.view.version > busySince) { busy = false; }
      noteActivity(message.view, message.events);
      choseForTeam = false;
      logLine((message.events || []).map(function (name) { return C.EVENT_LABELS[name] || name; }).join("、"));
      render();
    },
    onCount: function (message) { count = message; renderCount(); },
    onPlayers: function (message) {
      roster = message.roster;
      var view = store.get();
      if (view) { renderTeams(view); renderCount(); }
    },
    onDevice: function (message) {
      devices[message.team] = [message.online, C.clockText()];
      var view = store.get();
      if (view) {
        logLine(C.teamName(view, message.team) + (message.online ? "答题器已连接" : "答题器已断开"));
        renderTeams(view);
      }
    }
  });

  // ---- commands -------------------------------------------------------------------------------------
  function send(name, args) {
    var view = store.get();
    if (!view || busy) { return Promise.resolve(null); }
    busy = true;
    busySince = view.version;
    var mine = ++sent;
    renderButtons();
    return conn.emit("command", { name: name, version: view.version, args: args || {} }).then(function (ack) {
      if (mine === sent) { busy = false; }
      if (!ack.ok) {
        C.notice(notice, ack.message || "操作未完成", "error");
        logLine("未执行：" + (ack.message || ack.code));
      }
      renderButtons();
      return ack;
    });
  }

  function nextAction(view) {
    var round = view.round || {};
    switch (view.phase) {
      case "lobby": return { name: "start", label: "开始比赛" };
      case "round_intro": return { name: "next", label: round.kind === "risk" ? "开始选题" : "出第 1 题" };
      case "reading": return { name: "open", label: "开始作答" };
      case "buzz_armed": return { name: "open", label: "宣布开始抢答" };
      case "answering": return { name: "lock", label: "锁定作答" };
      case "locked": return { name: "reveal", label: "公布答案" };
      case "revealed": return { name: "next", label: "下一题 / 本轮小结" };
      case "scoreboard":
        return { name: "next", label: round.index + 1 >= round.count ? (view.individual ? "结束比赛" : "结束比赛（并列时加赛）") : "进入下一环节" };
      case "paused": return { name: "resume", label: "继续比赛" };
      case "buzz_open": return { label: "等待各队抢答…" };
      case "buzz_won": return { label: "等待作答，或口头作答后评判（J / K）" };
      case "risk_choosing": return { label: "等待" + C.teamName(view, view.team_on_turn) + "选择分值" };
      case "finished": return podiumAction(view);
      default: return { label: view.phase_label };
    }
  }

  // After the last round the big button reveals the podium: third, second, first, then the full table.
  function podiumAction(view) {
    var podium = view.podium;
    if (!podium || podium.done) { return { label: "比赛已结束" }; }
    if (podium.next_place) { return { name: "podium", label: "揭晓第" + "一二三"[podium.next_place - 1] + "名" }; }
    return { name: "podium", label: "显示完整名次" };
  }

  function canJudge(view) {
    return !!view.team_on_turn && ["buzz_won", "answering", "locked"].indexOf(view.phase) >= 0 &&
      (view.round || {}).kind !== "everyone";
  }

  function enabled(view, name) {
    switch (name) {
      case "open": return view.phase === "reading" || view.phase === "buzz_armed";
      case "lock": return view.phase === "answering";
      case "reveal": return view.phase === "answering" || view.phase === "locked";
      case "judge": return canJudge(view);
      case "void": return QUESTION_OPEN.indexOf(view.phase) >= 0;
      case "pause": return RUNNING.indexOf(view.phase) >= 0 || view.phase === "paused";
      case "undo": return view.phase !== "lobby" && (view.awards || []).length > 0;
      case "mute": return true;
      case "show_quote": return true;
      case "end": return view.phase !== "finished";
      default: return false;
    }
  }

  function run(name, extra) {
    var view = store.get();
    if (!view) { return; }
    if (name === "pause" && view.phase === "paused") { name = "resume"; }
    if (name !== "resume" && !enabled(view, name)) { return; }
    if (name === "judge") { send("judge", { correct: extra === true }); return; }
    if (name === "mute") { send("mute", { muted: !view.muted }); return; }
    if (name === "show_quote") { send("show_quote", { shown: !view.quote_shown }); return; }
    if (name === "end") {
      C.confirm("确定现在结束比赛吗？各队按当前比分排名，结束后不能继续。", "结束比赛").then(function (ok) { if (ok) { send("end"); } });
      return;
    }
    if (name === "void") {
      C.confirm("确定将本题作废吗？作废后本题不计分，并向大家公布答案。", "作废本题").then(function (ok) { if (ok) { send("void"); } });
      return;
    }
    if (name === "undo") {
      var last = (view.awards || []).slice(-1)[0];
      var text = last ? "撤销最近一次计分：" + C.teamName(view, last.team) + " " + C.signed(last.delta) + "（" + last.reason + "）？" : "撤销最近一次计分？";
      C.confirm(text, "撤销").then(function (ok) { if (ok) { send("undo"); } });
      return;
    }
    send(name);
  }

  C.$("next-btn").addEventListener("click", function () {
    var action = nextAction(store.get() || {});
    if (action.name) { send(action.name); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("#actions [data-cmd]"), function (button) {
    button.addEventListener("click", function () { run(button.dataset.cmd, button.dataset.correct === "1"); });
  });

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || document.querySelector("dialog[open]")) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key.toLowerCase();
    if (key === " " || key === "spacebar") {
      event.preventDefault(); // and never also "click" a focused button
      if (tag === "button" || tag === "a") { event.target.blur(); }
      var action = nextAction(store.get() || {});
      if (action.name) { send(action.name); }
    } else if (key === "o") { run("open"); } else if (key === "j") { run("judge", true); } else if (key === "k") { run("judge", false); } else if (key === "p") { run("pause"); } else if (key === "u") { run("undo"); }
  });

  // ---- forms ----------------------------------------------------------------------------------------
  C.$("adjust-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var view = store.get();
    if (!view) { return; }
    var team = C.$("adjust-team").value;
    var delta = Number(C.$("adjust-delta").value);
    var reason = C.$("adjust-reason").value.trim();
    if (!delta || !reason) { C.notice(notice, "请填写分数（不为 0）和原因", "error"); return; }
    C.confirm("确认为" + C.teamName(view, team) + C.signed(delta) + " 分？原因：" + reason, "确认调整").then(function (ok) {
      if (!ok) { return; }
      send("adjust", { team: team, delta: delta, reason: reason }).then(function (ack) {
        if (ack && ack.ok) {
          C.$("adjust-delta").value = "";
          C.$("adjust-reason").value = "";
          C.notice(notice, "已调整：" + C.teamName(view, team) + " " + C.signed(delta), "ok");
        }
      });
    });
  });

  function kickButton(view, participant, label, kicked) {
    var button = C.el("button", { type: "button", "class": "link", "data-kick": participant }, kicked ? "恢复" : "移出");
    button.addEventListener("click", function () {
      if (kicked) { send("readmit", { participant: participant }); return; }
      C.confirm("确定将" + label + "移出比赛吗？移出后其操作不再有效，可以随时恢复。", "移出").then(function (ok) {
        if (ok) { send("kick", { participant: participant }); }
      });
    });
    return button;
  }

  // ---- rendering ------------------------------------------------------------------------------------
  function logLine(text) {
    if (!text) { return; }
    events.unshift({ at: C.clockText(), text: text });
    events = events.slice(0, 40);
    C.fill(C.$("events"), events.map(function (e) {
      return C.el("li", {}, [C.el("time", {}, e.at), " ", e.text]);
    }));
  }

  function teamChip(view, id, suffix) {
    var team = C.team(view, id);
    return C.teamColor(C.el("span", { "class": "team-chip" }, team.name + (suffix || "")), team.color);
  }

  function renderQuestion(view) {
    var round = view.round;
    var phaseText = view.phase === "paused" ? "比赛暂停（" + (view.paused_phase ? labelOf(view.paused_phase) : "") + "）" + (view.pause_reason ? " " + view.pause_reason : "") : view.phase_label;
    C.$("phase").textContent = phaseText;
    C.$("phase").className = "phase-chip is-" + view.phase;
    C.fill(C.$("round-line"), round ? [
      C.el("strong", {}, round.label), " · ", round.title,
      view.question ? " · 第 " + round.question_number + " 题" : "",
      round.index !== undefined ? C.el("span", { "class": "muted" }, "（第 " + (round.index + 1) + " / " + round.count + " 环节）") : ""
    ] : view.title);
    var turn = [];
    var over = view.phase === "scoreboard" || view.phase === "finished";
    if (view.team_on_turn && !over) { turn.push(teamChip(view, view.team_on_turn, view.phase === "risk_choosing" ? " 选择分值" : " 作答")); }
    if (view.turn && !view.team_on_turn && !over) { turn.push(C.teamColor(C.el("span", { "class": "team-chip", id: "host-turn" }, C.turnText(view) + " 作答"), C.team(view, view.turn.team).color)); }
    if (view.risk_value && !over) { turn.push(C.el("span", { "class": "risk-chip" }, "风险 " + view.risk_value + " 分")); }
    C.fill(C.$("turn-line"), turn);

    var q = view.question;
    var box = C.$("question");
    if (!q) {
      var idle = view.phase === "lobby" ? (view.individual ? "个人赛尚未开始。打开大屏，大家用手机扫大屏二维码或输入竞赛码 " + boot.pin + " 加入；人到齐后按“开始比赛”。" :
        "比赛尚未开始。打开大屏，各队答题器用右侧口令加入，队员扫大屏二维码或输入竞赛码 " + boot.pin + " 加入全员答题；准备好后按“开始比赛”。") :
        view.phase === "round_intro" ? (round ? round.rules : "") :
        view.phase === "risk_choosing" ? "等待选择分值；也可以替该队选择（下方按钮）。" :
        view.phase === "scoreboard" ? "本环节结束，大屏显示比分。" :
        view.phase === "finished" ? podiumText(view) : "";
      C.fill(box, [C.el("p", { "class": "muted host-idle" }, idle), over ? rankingTable(view) : null, C.standingPanel(view)]);
      return;
    }
    var right = C.answerKeys(q);
    var chosenBy = {};
    Object.keys(view.answers || {}).forEach(function (key) {
      var a = view.answers[key];
      if (key.indexOf("team:") === 0) {
        C.responseKeys(q, a.response).forEach(function (k) { (chosenBy[k] = chosenBy[k] || []).push(a.team); });
      }
    });
    var options = C.choices(q).map(function (pair) {
      var tags = (chosenBy[pair[0]] || []).map(function (team) { return teamChip(view, team); });
      return C.el("li", { "class": right.indexOf(pair[0]) >= 0 ? "is-right" : "" }, [
        C.el("span", { "class": "key" }, q.type === "judge" ? (pair[0] === "true" ? "✓" : "✗") : pair[0]),
        C.el("span", { "class": "opt-text" }, pair[1]), tags
      ]);
    });
    C.fill(box, [
      C.el("p", { "class": "question-type" }, (C.TYPE_LABELS[q.type] || q.type) + " · " + C.points(q.points) + " 分" +
        (view.voided ? " · 已作废" : "")),
      C.el("p", { "class": "host-stem" }, q.stem),
      options.length ? C.el("ul", { "class": "option-list host-options" }, options) : null,
      C.el("dl", { "class": "answer-facts host-facts" }, [
        C.el("dt", {}, "答案"), C.el("dd", { "class": "right-answer", id: "host-answer" }, C.answerText(q) || "—"),
        q.explanation ? [C.el("dt", {}, "解析"), C.el("dd", {}, q.explanation)] : null,
        q.reference ? [C.el("dt", {}, "出处"), C.el("dd", {}, q.reference)] : null,
        q.quote ? [C.el("dt", {}, "原文"), C.el("dd", { "class": "quote-text", id: "host-quote" }, q.quote)] : null
      ]),
      C.standingPanel(view)
    ]);
  }

  function podiumText(view) {
    var podium = view.podium || {};
    var lead = view.ended_early ? "比赛已提前结束。" : "比赛已结束。";
    if (podium.done) { return lead + "大屏显示完整名次。"; }
    if (!podium.stage) { return lead + "按上方按钮在大屏上依次揭晓第三名、第二名、第一名。"; }
    return lead + "大屏已揭晓 " + podium.stage + " / " + podium.steps + " 个名次。";
  }

  function rankingTable(view) {
    return C.el("table", { "class": "table host-ranking", id: "host-ranking" }, [
      C.el("thead", {}, C.el("tr", {}, [C.el("th", {}, "名次"), C.el("th", {}, view.individual ? "姓名" : "队伍"), C.el("th", { "class": "num" }, "得分")])),
      C.el("tbody", {}, (view.ranking || []).map(function (r) {
        return C.el("tr", {}, [C.el("td", { "class": "nowrap" }, "第 " + r.place + " 名"), C.el("td", {}, r.player ? r.name : teamChip(view, r.team)),
          C.el("td", { "class": "num score" }, C.points(r.score))]);
      }))
    ]);
  }

  function labelOf(phase) {
    return { reading: "读题", answering: "作答中", buzz_armed: "等待抢答", buzz_open: "抢答中", buzz_won: "抢答作答",
      locked: "已锁定", revealed: "已公布答案", scoreboard: "比分", round_intro: "环节介绍", risk_choosing: "选择分值" }[phase] || phase;
  }

  function renderLive(view) {
    var parts = [];
    if ((view.buzzes || []).length) {
      parts.push(C.el("h3", {}, "抢答顺序"));
      parts.push(C.el("ol", { "class": "buzz-order", id: "host-buzzes" }, view.buzzes.map(function (b, i) {
        return C.el("li", { "class": b.foul ? "is-foul" : "" }, [teamChip(view, b.team), " ", C.el("span", { "class": "num" }, C.gapText(b, i))]);
      })));
    }
    var teamAnswers = Object.keys(view.answers || {}).filter(function (k) { return k.indexOf("team:") === 0; });
    if (teamAnswers.length && view.question) {
      parts.push(C.el("h3", {}, "各队作答"));
      parts.push(C.el("ul", { "class": "plain-list" }, teamAnswers.map(function (k) {
        var a = view.answers[k];
        return C.el("li", {}, [teamChip(view, a.team), " ",
          a.response === null ? "口头作答" : C.responseText(view.question, a.response), " ",
          C.el("strong", { "class": a.verdict === "correct" ? "is-right-text" : "wrong-text" }, a.verdict === "correct" ? "正确" : "错误")]);
      })));
    }
    var board = view.leaderboard;
    if (view.individual && board && board.top.length && view.phase !== "finished") { // 个人赛: the players' standing after the latest reveal
      parts.push(C.el("h3", {}, "个人排名（前十名，共 " + board.count + " 人）"));
      parts.push(C.el("ol", { "class": "plain-list", id: "host-leaders" }, board.top.map(function (row) {
        return C.el("li", { "data-player": row.player }, ["第 " + row.place + " 名 ", C.el("strong", {}, row.name), " ",
          C.el("span", { "class": "num" }, C.points(row.points) + " 分")]);
      })));
    }
    C.fill(C.$("live"), parts);
  }

  function eligiblePlayers(view) {
    if (count && view.question && count.question_seq === view.question.seq) { return count.eligible; }
    var seq = view.question ? view.question.seq : 0;
    var kicked = view.kicked || [];
    return (roster.players || []).filter(function (p) { return kicked.indexOf(p.id) < 0 && p.joined_seq < seq; }).length;
  }

  function renderCount() {
    var view = store.get();
    var node = C.$("answer-count");
    var show = view && view.round && view.round.kind === "everyone" && view.question;
    node.hidden = !show;
    if (!show) { return; }
    var n = count && view.question && count.question_seq === view.question.seq ? count.count : 0;
    C.fill(node, [C.el("strong", { "class": "num", id: "count-number" }, String(n)), " / " + eligiblePlayers(view) + " 人已作答"]);
  }

  function renderButtons() {
    var view = store.get();
    var next = C.$("next-btn");
    if (!view) { return; }
    var action = nextAction(view);
    C.$("next-label").textContent = action.label;
    next.disabled = busy || !action.name;
    next.dataset.cmd = action.name || "";
    Array.prototype.forEach.call(document.querySelectorAll("#actions [data-cmd]"), function (button) {
      button.disabled = busy || !enabled(view, button.dataset.cmd);
    });
    C.fill(C.$("pause-btn"), [view.phase === "paused" ? "继续 " : "暂停 ", C.el("kbd", {}, "P")]);
    C.fill(C.$("open-btn"), [view.phase === "buzz_armed" ? "开始抢答 " : "开始作答 ", C.el("kbd", {}, "O")]);
    var mute = C.$("mute-btn");
    mute.textContent = view.muted ? "大屏已静音（点击恢复声音）" : "大屏声音：开（点击静音）";
    mute.setAttribute("aria-pressed", view.muted ? "true" : "false");
    var quote = C.$("quote-btn");
    quote.textContent = view.quote_shown ? "大屏公布答案后显示原文：开（点击关闭）" : "大屏公布答案后显示原文：关（点击打开）";
    quote.setAttribute("aria-pressed", view.quote_shown ? "true" : "false");
    var risk = C.$("risk-choice");
    risk.hidden = view.phase !== "risk_choosing";
    if (view.phase === "risk_choosing") {
      C.fill(risk, [C.el("span", {}, "代" + C.teamName(view, view.team_on_turn) + "选择：")].concat(
        ((view.round || {}).risk_values || []).map(function (value) {
          var b = C.el("button", { type: "button", "class": "btn", "data-risk": value, disabled: busy }, value + " 分");
          b.addEventListener("click", function () { choseForTeam = true; send("choose_risk", { value: value }); });
          return b;
        })));
    }
  }

  // Device status: online/offline as the server pushes it (a team device joined, or its last connection
  // dropped), plus its last sign of life (a buzz, an answer, a value it chose).
  function noteActivity(view, events) {
    var now = C.clockText();
    (view.buzzes || []).forEach(function (b) { if (!seen[b.team + ":buzz:" + (view.question || {}).seq]) { seen[b.team + ":buzz:" + (view.question || {}).seq] = true; activity[b.team] = [now, "抢答"]; } });
    Object.keys(view.answers || {}).forEach(function (k) {
      var a = view.answers[k];
      if (k.indexOf("team:") === 0 && a.response !== null && !seen[k + ":" + (view.question || {}).seq]) {
        seen[k + ":" + (view.question || {}).seq] = true;
        activity[a.team] = [now, "作答"];
      }
    });
    if ((events || []).indexOf("risk_chosen") >= 0 && !choseForTeam && view.team_on_turn) { activity[view.team_on_turn] = [now, "选分"]; }
  }

  function renderTeams(view) {
    C.fill(C.$("teams"), view.teams.map(function (team) {
      var info = (boot.teams || []).filter(function (t) { return t.key === team.id; })[0] || {};
      var act = activity[team.id];
      var device = devices[team.id];
      var status;
      if (device && device[0]) {
        status = C.el("span", { "class": "dev-online", "data-device": "online" }, "在线" + (act ? " · " + act[0] + " " + act[1] : ""));
      } else if (device && (device[1] || info.lastSeen)) {
        status = C.el("span", { "class": "dev-offline", "data-device": "offline" }, "离线 · " + (device[1] ? device[1] + " 断开" : "最近连接 " + info.lastSeen));
      } else {
        status = C.el("span", { "class": "muted", "data-device": "offline" }, "尚未连接");
      }
      var link = info.link || boot.teamUrl; // the team's QR link (its secret), not the short code
      return C.el("tr", { "class": team.kicked ? "is-inactive" : "", "data-team": team.id }, [
        C.el("td", {}, [C.teamColor(C.el("span", { "class": "swatch" }), team.color), team.name, team.kicked ? C.el("span", { "class": "badge" }, "已移出") : ""]),
        C.el("td", { "class": "num score" }, C.points(team.score)),
        C.el("td", {}, status),
        C.el("td", {}, C.el("a", { href: link, target: "_blank", rel: "noopener", "class": "otp-cell", title: "答题器链接" }, info.code || "")),
        C.el("td", {}, kickButton(view, team.id, team.name, team.kicked))
      ]);
    }));
    var select = C.$("adjust-team");
    if (!select.options.length) {
      view.teams.forEach(function (team) { select.appendChild(C.el("option", { value: team.id }, team.name)); });
    }
    var kicked = view.kicked || [];
    C.$("players-count").textContent = String(roster.count || 0);
    C.fill(C.$("players"), (roster.players || []).map(function (p) {
      var out = kicked.indexOf(p.id) >= 0;
      return C.el("li", { "class": out ? "is-kicked" : "", "data-player": p.id }, [
        view.individual ? null : teamChip(view, p.team), " ", p.name || "队员 " + p.id, " ", kickButton(view, p.id, p.name || "该队员", out)
      ]);
    }));
  }

  function renderAwards(view) {
    C.fill(C.$("awards"), (view.awards || []).slice().reverse().map(function (a) {
      return C.el("li", {}, [teamChip(view, a.team), " ",
        C.el("strong", { "class": "num " + (a.delta >= 0 ? "is-right-text" : "wrong-text") }, C.signed(a.delta)), " ", a.reason]);
    }));
  }

  function render() {
    var view = store.get();
    if (!view) { return; }
    renderQuestion(view);
    renderLive(view);
    countdown.set(view.deadline_ms);
    renderCount();
    renderButtons();
    renderTeams(view);
    renderAwards(view);
    document.body.dataset.phase = view.phase;
    document.body.dataset.version = String(view.version);
  }
})();

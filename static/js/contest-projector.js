// The projector (大屏): read from the back row, nothing scrolls. It only shows the projector view the
// server sends; the answer, 解析 and 出处 are in that view only once the question is revealed.
(function () {
  "use strict";
  var C = window.QuizContest;
  var boot = C.boot();
  var store = C.viewStore();
  var proj = C.$("proj");
  var stage = C.$("stage");
  var countdown = C.countdown(C.$("countdown"), { ring: true, idle: "" });
  var roster = null; // who has joined 全员答题: counts and the latest few names per team (coalesced pushes)
  var count = null;
  var LOBBY_NAMES = 6; // names shown per team; the count covers everyone
  var QUESTION_PHASES = ["reading", "answering", "buzz_armed", "buzz_open", "buzz_won", "locked", "revealed"];

  C.connect({
    dot: C.$("conn"),
    join: function () { return { contest: boot.contest, role: "projector", token: boot.token }; },
    onJoined: function (ack) { roster = ack.roster || roster; store.offer(ack.view); render(); },
    onRefused: function (ack) { C.fill(stage, C.el("p", { "class": "proj-error" }, ack.message)); },
    onState: function (message) {
      if (store.offer(message.view)) { render(); }
    },
    onCount: function (message) { count = message; renderSide(store.get()); },
    onPlayers: function (message) {
      roster = message.roster;
      var view = store.get();
      if (view && C.shownPhase(view) === "lobby") { render(); }
    }
  });

  function teamChip(view, id, suffix, extra) {
    var team = C.team(view, id);
    return C.teamColor(C.el("span", { "class": "team-chip " + (extra || "") }, team.name + (suffix || "")), team.color);
  }

  // ---- screens --------------------------------------------------------------------------------------
  function lobbyTeams(view) {
    return C.el("div", { "class": "lobby-teams", id: "lobby-teams" }, view.teams.map(function (t) {
      var n = roster ? roster.by_team[t.id] || 0 : 0;
      var names = roster ? (roster.names[t.id] || []).slice(0, LOBBY_NAMES) : [];
      var more = n - names.length;
      return C.teamColor(C.el("div", { "class": "lobby-team", "data-team": t.id }, [
        C.el("p", { "class": "lobby-team-head" }, [C.el("span", { "class": "swatch" }), C.el("span", { "class": "lobby-team-name" }, t.name),
          C.el("span", { "class": "lobby-team-n num" }, n + " 人")]),
        C.el("p", { "class": "lobby-names" }, names.length ? names.join("、") + (more > 0 ? " 等" : "") : "等待队员加入")
      ]), t.color);
    }));
  }

  function lobby(view) {
    var players = roster ? roster.count : 0;
    return C.el("div", { "class": "proj-lobby" }, [
      C.el("div", { "class": "lobby-qr" }, [
        C.el("img", { src: boot.qr, alt: "扫码加入全员答题", width: "440", height: "440" }),
        C.el("p", {}, "手机扫码加入全员答题")
      ]),
      C.el("div", { "class": "lobby-info" }, [
        C.el("p", { "class": "lobby-label" }, "竞赛码"),
        C.el("p", { "class": "lobby-pin num", id: "lobby-pin" }, boot.pin),
        C.el("p", { "class": "lobby-url" }, "或打开 " + boot.playUrl + " 输入竞赛码"),
        C.el("p", { "class": "lobby-label" }, "参赛队伍"),
        lobbyTeams(view),
        C.el("p", { "class": "lobby-players", id: "lobby-players" }, players ? "已有 " + players + " 名队员加入全员答题" : "等待队员加入…")
      ])
    ]);
  }

  function titleCard(view) {
    var round = view.round || {};
    return C.el("div", { "class": "proj-card" }, [
      C.el("p", { "class": "card-step" }, "第 " + (round.index + 1) + " 环节 / 共 " + round.count + " 环节"),
      C.el("h1", { "class": "card-label" }, round.label),
      C.el("p", { "class": "card-title" }, round.title),
      C.el("p", { "class": "card-rules" }, round.rules)
    ]);
  }

  function riskChoosing(view) {
    var values = (view.round || {}).risk_values || [];
    return C.el("div", { "class": "proj-card" }, [
      C.el("p", { "class": "card-step" }, (view.round || {}).title),
      C.el("h1", { "class": "card-label card-team" }, teamChip(view, view.team_on_turn, "", "is-huge")),
      C.el("p", { "class": "card-title" }, "请选择本题分值"),
      C.el("div", { "class": "risk-values" }, values.map(function (v) { return C.el("span", { "class": "risk-value num" }, v + " 分"); })),
      C.el("p", { "class": "card-rules" }, "答对加上所选分值，答错扣除所选分值")
    ]);
  }

  function questionScreen(view, phase) {
    var q = view.question;
    var revealed = C.isRevealed(view);
    var right = revealed ? C.answerKeys(q) : [];
    var everyone = (view.round || {}).kind === "everyone";
    var counts = revealed && everyone ? C.optionCounts(q, view.distribution) : null;
    var total = counts ? Object.keys(counts).reduce(function (s, k) { return s + counts[k]; }, 0) : 0;
    var choices = C.choices(q);
    var long = choices.some(function (pair) { return pair[1].length > 14; });
    var parts = [];
    if (phase === "buzz_won" && view.team_on_turn) {
      parts.push(C.teamColor(C.el("div", { "class": "buzz-banner", id: "buzz-banner" }, [
        C.el("span", { "class": "swatch" }), C.teamName(view, view.team_on_turn), C.el("small", {}, "抢答成功，请作答")
      ]), C.team(view, view.team_on_turn).color));
    }
    parts.push(C.el("p", { "class": "proj-qmeta" }, [
      C.el("span", {}, (C.TYPE_LABELS[q.type] || "") + " · " + C.points(q.points) + " 分"),
      view.team_on_turn && phase !== "buzz_won" ? teamChip(view, view.team_on_turn, " 作答") : null,
      view.risk_value ? C.el("span", { "class": "risk-chip" }, "风险 " + view.risk_value + " 分") : null
    ]));
    parts.push(C.el("h1", { "class": "proj-stem" }, q.stem));
    if (choices.length) {
      parts.push(C.el("ol", { "class": "proj-options" + (long ? " is-single-col" : "") + (q.type === "judge" ? " is-judge" : "") },
        choices.map(function (pair) {
          var isRight = right.indexOf(pair[0]) >= 0;
          var li = C.el("li", { "class": "proj-option" + (revealed ? (isRight ? " is-right" : " is-dim") : ""), "data-key": pair[0] }, [
            C.el("span", { "class": "key" }, q.type === "judge" ? (pair[0] === "true" ? "✓" : "✗") : pair[0]),
            C.el("span", { "class": "opt-text" }, pair[1])
          ]);
          if (counts) {
            var n = counts[pair[0]] || 0;
            var bar = C.el("span", { "class": "dist-bar" }, C.el("span", { "class": "dist-fill" }));
            bar.firstChild.style.setProperty("--share", total ? String(n / total) : "0");
            li.appendChild(C.el("span", { "class": "dist" }, [bar, C.el("span", { "class": "dist-n num" }, n + " 人")]));
            li.classList.add("has-dist");
          }
          return li;
        })));
    }
    if (revealed) {
      parts.push(C.el("div", { "class": "proj-explain", id: "explain" }, [
        view.voided ? C.el("p", { "class": "void-line" }, "本题作废，不计分") : null,
        C.el("p", { "class": "answer-line" }, ["正确答案：", C.el("strong", {}, C.answerText(q))]),
        q.explanation ? C.el("p", { "class": "explain-text" }, [C.el("b", {}, "解析 "), q.explanation]) : null,
        q.reference ? C.el("p", { "class": "explain-ref" }, [C.el("b", {}, "出处 "), q.reference]) : null
      ]));
    }
    return C.el("div", { "class": "proj-question" }, parts);
  }

  function rankingRows(view) {
    return (view.ranking || []).map(function (r) {
      var team = C.team(view, r.team);
      return C.teamColor(C.el("li", { "class": "rank-row" }, [
        C.el("span", { "class": "rank-place num" }, String(r.place)),
        C.el("span", { "class": "swatch" }),
        C.el("span", { "class": "rank-name" }, team.name),
        C.el("span", { "class": "rank-score num" }, C.points(r.score))
      ]), team.color);
    });
  }

  function scoreboard(view) {
    return C.el("div", { "class": "proj-scoreboard" }, [
      C.el("h1", { "class": "board-title" }, ((view.round || {}).title || "") + " · 当前比分"),
      C.el("ol", { "class": "rank-list" }, rankingRows(view))
    ]);
  }

  function podium(view) {
    var ranking = view.ranking || [];
    var top = ranking.slice(0, 3);
    var order = [1, 0, 2].filter(function (i) { return i < top.length; });
    return C.el("div", { "class": "proj-final" }, [
      C.el("h1", { "class": "board-title" }, view.title + " · 最终名次"),
      C.el("div", { "class": "podium", id: "podium" }, order.map(function (i) {
        var r = top[i];
        var team = C.team(view, r.team);
        return C.teamColor(C.el("div", { "class": "podium-step place-" + r.place }, [
          C.el("span", { "class": "podium-name" }, team.name),
          C.el("span", { "class": "podium-score num" }, C.points(r.score) + " 分"),
          C.el("span", { "class": "podium-block" }, C.el("span", { "class": "podium-place" }, "第" + "一二三四五六七八九十"[r.place - 1] + "名"))
        ]), team.color);
      })),
      C.el("ol", { "class": "rank-list is-compact" }, rankingRows(view))
    ]);
  }

  // ---- side and band --------------------------------------------------------------------------------
  function renderSide(view) {
    if (!view) { return; }
    var phase = C.shownPhase(view);
    var info = [];
    var status = {
      reading: "请读题", answering: "请作答", buzz_armed: "等待主持人宣布开始", buzz_open: "开始抢答",
      buzz_won: "作答中", locked: "已锁定", revealed: view.voided ? "本题作废" : "公布答案"
    }[phase];
    if (status) { info.push(C.el("p", { "class": "side-status is-" + phase, id: "side-status" }, status)); }
    if ((view.buzzes || []).length) {
      info.push(C.el("ol", { "class": "buzz-order", id: "buzz-order" }, view.buzzes.map(function (b, i) {
        return C.teamColor(C.el("li", { "class": b.foul ? "is-foul" : "" }, [
          C.el("span", { "class": "swatch" }), C.el("span", { "class": "buzz-team" }, C.teamName(view, b.team)),
          C.el("span", { "class": "buzz-gap num" }, C.gapText(b, i))
        ]), C.team(view, b.team).color);
      })));
    }
    if ((view.round || {}).kind === "everyone" && view.question && phase === "answering") {
      var n = count && count.question_seq === view.question.seq ? count.count : 0;
      info.push(C.el("p", { "class": "side-count", id: "side-count" }, [C.el("strong", { "class": "num" }, String(n)), "人已作答"]));
    }
    C.fill(C.$("side-info"), info);
  }

  function renderBand(view) {
    var phase = C.shownPhase(view);
    var won = phase === "buzz_won" ? view.team_on_turn : null;
    var onTurn = QUESTION_PHASES.indexOf(phase) >= 0 || phase === "risk_choosing" ? view.team_on_turn : null;
    C.fill(C.$("band"), view.teams.map(function (team) {
      var cls = "band-team" + (team.id === onTurn ? " is-on-turn" : "") + (team.id === won ? " is-winner" : "") + (team.kicked ? " is-kicked" : "");
      return C.teamColor(C.el("div", { "class": cls, "data-team": team.id }, [
        C.el("span", { "class": "band-name" }, team.name),
        C.el("span", { "class": "band-score num score" }, C.points(team.score))
      ]), team.color);
    }));
  }

  // Nothing scrolls: when a long stem and 解析 do not fit, step the secondary text down (never the stem
  // below 56 px or the options below 44 px).
  function fit() {
    var steps = [];
    stage.dataset.fit = "";
    for (var step = 1; step <= 6 && stage.scrollHeight > stage.clientHeight + 1; step += 1) {
      steps.push(step);
      stage.dataset.fit = steps.join(" ");
    }
  }

  function render() {
    var view = store.get();
    if (!view) { return; }
    var phase = C.shownPhase(view);
    var round = view.round;
    proj.dataset.phase = phase;
    proj.classList.toggle("is-buzz-won", phase === "buzz_won");
    proj.classList.toggle("is-wide", QUESTION_PHASES.indexOf(phase) < 0 || !view.question ||
      (phase === "revealed" && !(view.buzzes || []).length)); // a reveal needs no clock: the options get the width
    C.$("paused").hidden = view.phase !== "paused";
    C.fill(C.$("round"), round && phase !== "finished" ? [C.el("strong", {}, round.label), view.question ? "  第 " + round.question_number + " 题" : ""] : "");
    C.$("phase").textContent = view.phase_label;
    var screen;
    if (phase === "lobby") { screen = lobby(view); } else if (phase === "round_intro") { screen = titleCard(view); } else if (phase === "risk_choosing") { screen = riskChoosing(view); } else if (phase === "scoreboard") { screen = scoreboard(view); } else if (phase === "finished") { screen = podium(view); } else if (view.question) { screen = questionScreen(view, phase); } else { screen = C.el("p", { "class": "proj-wait" }, view.phase_label); }
    C.fill(stage, screen);
    countdown.set(view.deadline_ms);
    C.$("countdown").hidden = !view.deadline_ms;
    renderSide(view);
    renderBand(view);
    fit();
  }

  window.addEventListener("resize", fit);
})();

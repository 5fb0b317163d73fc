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
  var TICKING = ["answering", "buzz_open", "buzz_won"]; // the countdown ticks in its last seconds
  var PLACE_NAMES = "一二三四五六七八九十";
  var sounds = window.QuizSounds;
  sounds.init(boot.sounds, C.$("sound-prompt"), proj);

  C.connect({
    dot: C.$("conn"),
    join: function () { return { contest: boot.contest, role: "projector", token: boot.token }; },
    onJoined: function (ack) { roster = ack.roster || roster; store.offer(ack.view); render(); },
    onRefused: function (ack) { C.fill(stage, C.el("p", { "class": "proj-error" }, ack.message)); },
    onState: function (message) {
      var before = store.get();
      if (store.offer(message.view)) {
        cue(before, message.view, message.events || []);
        render();
      }
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

  // A 个人赛 has no teams: the lobby names the latest who joined (their one hidden team holds everyone).
  function lobbyNames(view) {
    var names = [];
    Object.keys(roster ? roster.names : {}).forEach(function (key) { names = names.concat(roster.names[key]); });
    return C.el("p", { "class": "lobby-names lobby-individual", id: "lobby-names" }, names.length ? names.join("、") + (roster.count > names.length ? " 等" : "") : "");
  }

  function lobby(view) {
    var players = roster ? roster.count : 0;
    return C.el("div", { "class": "proj-lobby" }, [
      C.el("div", { "class": "lobby-qr" }, [
        C.el("img", { src: boot.qr, alt: view.individual ? "扫码加入" : "扫码加入全员答题", width: "440", height: "440" }),
        C.el("p", {}, view.individual ? "手机扫码加入" : "手机扫码加入全员答题")
      ]),
      C.el("div", { "class": "lobby-info" }, [
        C.el("p", { "class": "lobby-label" }, "竞赛码"),
        C.el("p", { "class": "lobby-pin num", id: "lobby-pin" }, boot.pin),
        C.el("p", { "class": "lobby-url" }, "或打开 " + boot.playUrl + " 输入竞赛码"),
        view.individual ? null : C.el("p", { "class": "lobby-label" }, "参赛队伍"),
        view.individual ? lobbyNames(view) : lobbyTeams(view),
        C.el("p", { "class": "lobby-players", id: "lobby-players" }, players ? (view.individual ? "已有 " + players + " 人加入" : "已有 " + players + " 名队员加入全员答题") : (view.individual ? "等待大家扫码加入…" : "等待队员加入…"))
      ])
    ]);
  }

  function titleCard(view) {
    var round = view.round || {};
    return C.el("div", { "class": "proj-card" }, [
      C.el("p", { "class": "card-step" }, "第 " + (round.index + 1) + " 环节 / 共 " + round.count + " 环节"),
      C.el("h1", { "class": "card-label" }, round.label),
      C.el("p", { "class": "card-title" }, round.title),
      C.el("p", { "class": "card-rules" }, round.rules),
      C.standingPanel(view, null, "is-card")
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
      view.turn && !view.team_on_turn ? C.teamColor(C.el("span", { "class": "team-chip", id: "turn" }, C.turnText(view) + " 作答"), C.team(view, view.turn.team).color) : null,
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
        q.reference ? C.el("p", { "class": "explain-ref" }, [C.el("b", {}, "出处 "), q.reference]) : null,
        q.quote ? C.el("p", { "class": "explain-quote", id: "quote" }, [C.el("b", {}, "原文 "), q.quote]) : null
      ]));
    }
    parts.push(C.standingPanel(view, null, "is-row"));
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
    var players = (view.round || {}).kind === "everyone" || view.individual ? leaderboard(view) : null;
    return C.el("div", { "class": "proj-scoreboard" + (players ? " has-leaders" : "") }, [
      C.el("h1", { "class": "board-title" }, ((view.round || {}).title || "") + (view.individual ? " · 个人排名" : " · 当前比分")),
      C.el("div", { "class": "board-columns" }, [view.individual ? null : C.el("ol", { "class": "rank-list" }, rankingRows(view)), players]),
      C.standingPanel(view, null, "is-row")
    ]);
  }

  // ---- players' leaderboard (全员答题) and the staged podium -------------------------------------------
  function leaderboard(view) {
    var board = view.leaderboard;
    if (!board || !board.top.length) { return null; }
    return C.el("section", { "class": "proj-leaders", id: "leaderboard" }, [
      C.el("h2", { "class": "leaders-title" }, view.individual ? "个人前十名" : "全员答题 个人前十名"),
      C.el("ol", { "class": "leaders-list" }, board.top.map(function (row) {
        return C.teamColor(C.el("li", { "class": "leader-row", "data-player": row.player }, [
          C.el("span", { "class": "leader-place num" }, String(row.place)),
          C.el("span", { "class": "leader-name" }, row.name),
          view.individual ? null : C.el("span", { "class": "leader-team" }, C.teamName(view, row.team)),
          C.el("span", { "class": "leader-points num" }, C.points(row.points))
        ]), view.individual ? "" : C.team(view, row.team).color);
      })),
      C.el("p", { "class": "leaders-count" }, "共 " + board.count + (view.individual ? " 人参加" : " 名队员参加"))
    ]);
  }

  function placeKey(r) { return r.player ? "p:" + r.player : r.team; }

  function podiumSteps(ranking) {
    return [3, 2, 1].filter(function (place) { return ranking.some(function (r) { return r.place === place; }); });
  }

  function podium(view) {
    var ranking = view.ranking || [];
    var state = view.podium || { stage: 0, places: [], done: true };
    var steps = podiumSteps(ranking);
    var latest = state.stage > 0 && !state.done ? steps[state.stage - 1] : null;
    var shown = {};
    state.places.forEach(function (r) { shown[placeKey(r)] = true; });
    var heading = state.done ? view.title + " · 最终名次" : latest ? "揭晓第" + PLACE_NAMES[latest - 1] + "名" : view.title + " · 即将揭晓名次";
    var blocks = [2, 1, 3].filter(function (place) { return steps.indexOf(place) >= 0; }).map(function (place) {
      var teams = ranking.filter(function (r) { return r.place === place; });
      var open = teams.every(function (r) { return shown[placeKey(r)]; });
      var cls = "podium-step place-" + place + (open ? " is-revealed" : " is-hidden") + (place === latest ? " is-latest" : "");
      return C.el("div", { "class": cls, "data-place": String(place) }, [
        open ? C.el("span", { "class": "podium-names" }, teams.map(function (r) {
          if (r.player) { return C.el("span", { "class": "podium-name" }, r.name); } // 个人赛: a player's place
          return C.teamColor(C.el("span", { "class": "podium-name" }, C.teamName(view, r.team)), C.team(view, r.team).color);
        })) : C.el("span", { "class": "podium-name is-mystery" }, "？"),
        C.el("span", { "class": "podium-score num" }, open ? C.points(teams[0].score) + " 分" : ""),
        C.el("span", { "class": "podium-block" }, C.el("span", { "class": "podium-place" }, "第" + PLACE_NAMES[place - 1] + "名"))
      ]);
    });
    var parts = [
      C.el("h1", { "class": "board-title", id: "podium-title" }, heading),
      view.ended_early ? C.el("p", { "class": "podium-note" }, "主持人已提前结束比赛，按当前比分排名") : null,
      C.el("div", { "class": "podium" + (state.done ? " is-done" : ""), id: "podium", "data-stage": String(state.stage) }, blocks)
    ];
    if (state.done) {
      parts.push(C.el("div", { "class": "final-tables" }, [
        view.individual ? null : C.el("ol", { "class": "rank-list is-compact", id: "final-table" }, rankingRows(view)),
        leaderboard(view)
      ]));
    }
    return C.el("div", { "class": "proj-final" + (state.done ? " is-done" : "") }, parts);
  }

  // ---- sounds ---------------------------------------------------------------------------------------
  // Which cue a transition calls for: buzz won, right or wrong at the reveal (a team on turn gained or
  // not; in 全员答题 whether any team scored), the podium; the countdown ticks on its own below.
  function cue(before, view, events) {
    if (events.indexOf("podium") >= 0) { sounds.play("podium"); return; }
    if (events.indexOf("buzz_won") >= 0) { sounds.play("buzz"); return; }
    if (events.indexOf("answer_revealed") < 0 || view.voided || !before) { return; }
    var old = {};
    (before.teams || []).forEach(function (t) { old[t.id] = t.score; });
    var gained = view.teams.filter(function (t) { return t.score > (old[t.id] || 0); }).map(function (t) { return t.id; });
    var right = view.team_on_turn ? gained.indexOf(view.team_on_turn) >= 0 : gained.length > 0;
    sounds.play(right ? "right" : "wrong");
  }

  var lastTick = null;
  window.setInterval(function () {
    var view = store.get();
    if (!view || !view.deadline_ms || TICKING.indexOf(view.phase) < 0) { return; }
    var left = Math.ceil(C.secondsLeft(view.deadline_ms));
    var key = view.deadline_ms + ":" + left;
    if (left >= 1 && left <= 5 && key !== lastTick) {
      lastTick = key;
      sounds.play("tick");
    }
  }, 200);

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
    var secret = phase === "finished" && view.podium && !view.podium.done; // the podium tells the scores
    C.$("band").hidden = !!view.individual; // no teams: the leaderboard is the score
    if (view.individual) { return; }
    C.fill(C.$("band"), view.teams.map(function (team) {
      var cls = "band-team" + (team.id === onTurn ? " is-on-turn" : "") + (team.id === won ? " is-winner" : "") + (team.kicked ? " is-kicked" : "");
      return C.teamColor(C.el("div", { "class": cls, "data-team": team.id }, [
        C.el("span", { "class": "band-name" }, team.name),
        C.el("span", { "class": "band-score num score" }, secret ? "" : C.points(team.score))
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
    proj.classList.toggle("is-individual", !!view.individual);
    proj.classList.toggle("is-wide", QUESTION_PHASES.indexOf(phase) < 0 || !view.question ||
      (phase === "revealed" && !(view.buzzes || []).length)); // a reveal needs no clock: the options get the width
    C.$("paused").hidden = view.phase !== "paused";
    C.fill(C.$("round"), round && phase !== "finished" ? [C.el("strong", {}, round.label), view.question ? "  第 " + round.question_number + " 题" : ""] : "");
    C.$("phase").textContent = view.phase_label;
    sounds.setMuted(view.muted);
    C.$("muted").hidden = !view.muted;
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

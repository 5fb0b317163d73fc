// A member's phone for 全员答题: join with the PIN and a team (the login is the identity, so a reload or a
// second phone re-attaches to the same player), answer while answering is open, see the result after the
// reveal. Pushes to the players' room are the same for every player; what concerns this player alone (its
// answer, its result) comes in acks and in the snapshot a (re)join returns. The result after a reveal is
// worked out here: the revealed view carries the key and the scoring rules, the ack carried the server's
// receive time of this phone's answer, so no per-player message and no re-join is needed.
(function () {
  "use strict";
  var C = window.QuizContest;
  var boot = C.boot();
  var store = C.viewStore();
  var teamKey = "quizengine-contest-" + boot.pin + "-team";
  var notice = C.$("notice");
  var me = null; // from the last snapshot: {player, team, can_answer, answered, result, kicked}
  var meSeq = null; // the question seq that snapshot described
  var answered = {}; // question seq -> response acknowledged by the server
  var late = {}; // question seqs this player may not answer (joined after they opened)
  var results = {}; // question seq -> {verdict, points} (from a snapshot after the reveal)
  var sentAt = {}; // question seq -> the server's receive time of this phone's answer (from its ack)
  var asked = {}; // question seqs whose result this phone asked for with a re-join (answered on another phone)
  var total = 0; // this player's 全员答题 points so far (the snapshot's, plus each later reveal's)
  var totalSeq = 0; // the last question seq counted in `total`
  var selected = [];
  var selectedFor = null;
  var sending = false;
  var chosenTeam = window.localStorage.getItem(teamKey);
  // A guest of an open event (no account): joins by name once, then comes back with the credential the
  // server gave this phone (kept like a team device's token).
  var guestKey = "quizengine-contest-" + boot.pin + "-guest";
  var guestCredential = boot.guest ? window.localStorage.getItem(guestKey) : null;
  var guestName = C.$("guest-name");
  var probing = true;
  var lastPhase = null;
  var timeUp = false;
  var lastDeadline = null;
  var countdown = C.countdown(C.$("dev-countdown"), { idle: "" });

  var conn = C.connect({
    dot: C.$("conn"),
    join: function () {
      var payload = { pin: boot.pin, role: "player" };
      if (chosenTeam) { payload.team = chosenTeam; }
      if (guestCredential) {
        payload.token = guestCredential;
      } else if (guestName && guestName.value.trim()) {
        payload.name = guestName.value.trim();
      }
      return payload;
    },
    onJoined: function (ack) {
      probing = false;
      C.$("join").hidden = true;
      if (boot.guest && ack.device_token) {
        guestCredential = ack.device_token;
        window.localStorage.setItem(guestKey, guestCredential);
      }
      var view = ack.view;
      if (view.me) {
        me = view.me;
        meSeq = view.question ? view.question.seq : null;
        window.localStorage.setItem(teamKey, me.team);
        if (meSeq !== null) {
          if (me.answered && !(meSeq in answered)) { answered[meSeq] = null; }
          if (view.phase === "answering" && !me.can_answer && !me.answered) { late[meSeq] = true; }
          if (me.result) { results[meSeq] = { verdict: me.result, points: me.points }; }
        }
        total = me.total || 0; // the row is updated in the reveal's transaction: it includes a shown reveal
        totalSeq = meSeq !== null && C.isRevealed(view) && isEveryone(view) ? meSeq : (meSeq || 0) - 1;
      }
      store.offer(view);
      render();
    },
    onRefused: function (ack) {
      if (boot.guest && (ack.code === "name_required" || ack.code === "bad_token")) {
        guestCredential = null;
        window.localStorage.removeItem(guestKey);
        C.$("join").hidden = false;
        C.$("state-line").textContent = "请填写姓名并选择队伍";
        if (!probing && ack.code === "bad_token") { C.notice(notice, ack.message, "error"); }
        probing = false;
        return;
      }
      if (ack.code === "bad_team") {
        chosenTeam = null;
        window.localStorage.removeItem(teamKey);
        C.$("join").hidden = false;
        C.$("state-line").textContent = "请选择队伍";
        if (!probing) { C.notice(notice, ack.message, "error"); }
        probing = false;
        return;
      }
      C.$("state-line").textContent = "未能加入";
      C.notice(notice, ack.message + (ack.code === "login_required" ? "（请重新登录后再打开本页）" : ""), "error-sticky");
    },
    onState: function (message) {
      var events = message.events || [];
      if (!store.offer(message.view)) { return; }
      countReveal(message.view);
      render();
      var q = message.view.question;
      if (events.indexOf("kicked") >= 0 || events.indexOf("readmitted") >= 0) {
        window.setTimeout(conn.rejoin, Math.random() * 1500); // was it this player? the snapshot says
      } else if (events.indexOf("player_points_undone") >= 0) {
        window.setTimeout(conn.rejoin, Math.random() * 1500); // the host undid a reveal: the row has the total
      } else if (C.isRevealed(message.view) && q && answered[q.seq] === null && !results[q.seq] && !asked[q.seq]) {
        asked[q.seq] = true; // answered on another phone: only the snapshot knows this player's result
        window.setTimeout(conn.rejoin, Math.random() * 1500);
      }
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-team]"), function (button) {
    button.addEventListener("click", function () {
      if (boot.guest && !guestCredential && !guestName.value.trim()) {
        C.notice(notice, "请先填写姓名", "error");
        guestName.focus();
        return;
      }
      chosenTeam = button.dataset.team;
      window.localStorage.setItem(teamKey, chosenTeam);
      conn.rejoin();
    });
  });

  function isEveryone(view) { return (view.round || {}).kind === "everyone"; }
  // A round where contestants answer in turn and drop out (`standing`): this player is one of them, and
  // answers only when `turn` names it.
  function inTurns(view) { return !!(me && C.standingEntry(view, me.player)); }
  function myTurn(view) { return !!(me && view.turn && view.turn.id === me.player); }
  function answersHere(view) { return isEveryone(view) || inTurns(view); }

  // This phone's result once revealed: its acknowledged answer against the revealed key, scored by the
  // revealed rules exactly as the server scores it (points, plus the speed bonus share of the time left).
  function ownResult(view) {
    var q = view.question;
    if (results[q.seq]) { return results[q.seq]; }
    var sc = view.scoring;
    var mine = answered[q.seq];
    if (mine === undefined || mine === null) { return null; }
    var right = C.answerKeys(q).slice().sort().join(",") === C.responseKeys(q, mine).slice().sort().join(",");
    if (!sc) { return { verdict: right ? "correct" : "wrong", points: null }; } // answered in turn: no points per answer
    if (sentAt[q.seq] === undefined) { return null; }
    var points = 0;
    if (right && !sc.voided) {
      var left = sc.answer_ms ? 1 - (sentAt[q.seq] - (sc.opened_ms || sentAt[q.seq])) / sc.answer_ms : 0;
      var exact = sc.points + sc.speed_bonus * Math.min(Math.max(left, 0), 1);
      // whole points rounded half up unless the plan keeps decimals (docs/contest-plan.md)
      points = sc.decimals ? Math.round(exact * 100) / 100 : Math.round(exact);
    }
    return { verdict: right ? "correct" : "wrong", points: points };
  }

  // A reveal adds this phone's points to its total, once per question; an answer sent from another phone
  // is not known here: the re-join's snapshot brings the total instead.
  function countReveal(view) {
    var q = view.question;
    if (!q || !isEveryone(view) || !C.isRevealed(view) || !view.scoring || q.seq <= totalSeq) { return; }
    if (answered[q.seq] === null && !results[q.seq]) { return; }
    var result = ownResult(view);
    total = Math.round((total + (result ? result.points || 0 : 0)) * 100) / 100;
    totalSeq = q.seq;
  }

  // This player's place among all players, from the score table the players' room gets after each reveal.
  function rankLine(view) {
    var board = view.leaderboard;
    if (!board || !me || me.kicked) { return null; }
    var above = board.totals.reduce(function (n, row) { return n + (row[0] > total ? row[1] : 0); }, 0);
    return C.el("p", { "class": "dev-rank", id: "my-rank" }, [
      "个人累计 ", C.el("strong", { "class": "num" }, C.points(total)), " 分 · 第 ",
      C.el("strong", { "class": "num" }, String(above + 1)), " 名 / 共 " + board.count + " 人"
    ]);
  }

  function submit(response) {
    var view = store.get();
    if (!view || !view.question || sending) { return; }
    var q = view.question;
    sending = true;
    render();
    conn.emit("submit_answer", { question: q.id, response: response }).then(function (ack) {
      sending = false;
      if (ack.ok) {
        answered[q.seq] = response;
        sentAt[q.seq] = ack.at_ms;
      } else if (ack.code === "duplicate") {
        answered[q.seq] = q.seq in answered ? answered[q.seq] : null;
        C.notice(notice, ack.message, "info");
      } else {
        if (ack.code === "late_joiner") { late[q.seq] = true; }
        C.notice(notice, ack.message, "error");
      }
      render();
    });
  }

  function choiceButtons(q) {
    var multiple = q.type === "multiple";
    var nodes = C.choices(q).map(function (pair) {
      var chosen = selected.indexOf(pair[0]) >= 0;
      var b = C.el("button", { type: "button", "class": "option answer-btn" + (chosen ? " is-chosen" : ""), "data-key": pair[0], "aria-pressed": chosen ? "true" : "false", disabled: sending }, [
        C.el("span", { "class": "key" }, q.type === "judge" ? (pair[0] === "true" ? "✓" : "✗") : pair[0]), pair[1]
      ]);
      b.addEventListener("click", function () {
        if (!multiple) { selected = [pair[0]]; submit(C.response(q, selected)); return; }
        var at = selected.indexOf(pair[0]);
        if (at >= 0) { selected.splice(at, 1); } else { selected.push(pair[0]); }
        render();
      });
      return b;
    });
    if (multiple) {
      var send = C.el("button", { type: "button", "class": "btn btn-primary btn-block submit-btn", id: "submit", disabled: !selected.length || sending },
        selected.length ? "提交答案（" + selected.slice().sort().join("、") + "）" : "请选择（可多选）后提交");
      send.addEventListener("click", function () { submit(C.response(q, selected)); });
      nodes.push(send);
    }
    return C.el("div", { "class": "answer-form", id: "answers" }, nodes);
  }

  function questionCard(view, phase) {
    var q = view.question;
    var revealed = C.isRevealed(view);
    var right = revealed ? C.answerKeys(q) : [];
    var mineResponse = answered[q.seq];
    var hasAnswered = q.seq in answered;
    var canAnswer = phase === "answering" && !hasAnswered && !late[q.seq] && !(me && me.kicked) && C.canTap(q) &&
      (isEveryone(view) || myTurn(view));
    if (selectedFor !== q.seq) { selected = []; selectedFor = q.seq; }
    var parts = [];
    if (revealed) {
      var result = ownResult(view);
      var gained = result && result.points !== null && !view.voided ? "，得 " + C.points(result.points || 0) + " 分" : "";
      var verdict = view.voided ? ["verdict verdict-pending", "本题作废，不计分"] :
        result && result.verdict === "correct" ? ["verdict verdict-right", "回答正确" + gained] :
          result ? ["verdict verdict-wrong", "回答错误" + gained] :
            hasAnswered ? ["verdict verdict-pending", "正在获取结果…"] : ["verdict verdict-pending", late[q.seq] ? "本题开始后加入，从下一题起作答" : "本题未作答"];
      parts.push(C.el("p", { "class": verdict[0] + " dev-verdict", id: "result" }, verdict[1]));
    }
    parts.push(C.el("p", { "class": "question-type" }, (C.TYPE_LABELS[q.type] || "") + " · " + C.points(q.points) + " 分"));
    parts.push(C.el("h1", { "class": "stem dev-stem" }, q.stem));
    if (canAnswer) {
      parts.push(choiceButtons(q));
    } else {
      var sentKeys = mineResponse === undefined || mineResponse === null ? [] : C.responseKeys(q, mineResponse);
      parts.push(C.el("ul", { "class": "option-list dev-options" }, C.choices(q).map(function (pair) {
        var cls = revealed && right.indexOf(pair[0]) >= 0 ? "is-right" : revealed && sentKeys.indexOf(pair[0]) >= 0 ? "is-wrong" : sentKeys.indexOf(pair[0]) >= 0 ? "is-sent" : "";
        return C.el("li", { "class": cls }, [C.el("span", { "class": "key" }, q.type === "judge" ? (pair[0] === "true" ? "✓" : "✗") : pair[0]), pair[1]]);
      })));
    }
    if (hasAnswered && !revealed) {
      parts.push(C.el("p", { "class": "dev-sent", id: "sent" }, "已提交" + (mineResponse !== null ? "：" + C.responseText(q, mineResponse) : "") + "。公布答案后显示结果。"));
    }
    if (revealed) {
      parts.push(C.answerFacts(q));
    }
    return C.el("article", { "class": "question-card dev-card" }, parts);
  }

  function stateLine(view, phase) {
    var q = view.question;
    if (me && me.kicked) { return ["已被移出", "你已被主持人移出比赛，如有疑问请联系主持人"]; }
    if (phase === "finished") { return ["比赛结束", "感谢参与"]; }
    if (inTurns(view)) {
      if (C.standingEntry(view, me.player).out) { return ["已出局", view.standing.title + "还剩 " + view.standing.left + " 人"]; }
      if (!myTurn(view)) { return ["等待主持人", view.turn && q ? "本题由" + C.turnText(view) + "作答" : view.round ? view.round.title : ""]; }
      if (phase === "reading") { return ["等待主持人", "轮到你作答，请读题"]; }
    }
    if (!answersHere(view) || !q) {
      return ["等待主持人", view.round ? "当前：" + view.round.title + "。全员答题环节开始后在这里作答" : "比赛开始后请保持本页打开"];
    }
    switch (phase) {
      case "reading": return ["等待主持人", "请读题，稍后开始作答"];
      case "answering":
        if (q.seq in answered) { return ["已提交", "等待公布答案"]; }
        if (late[q.seq]) { return ["等待主持人", "你是在本题开始后加入的，请从下一题开始作答"]; }
        return ["请作答", ""];
      case "locked": return q.seq in answered ? ["已提交", "作答已锁定，等待公布答案"] : [timeUp ? "答题时间已到" : "已锁定", "本题未提交答案"];
      case "revealed": return ["已公布答案", ""];
      default: return ["等待主持人", view.phase_label];
    }
  }

  function render() {
    var view = store.get();
    if (!view) { return; }
    var phase = C.shownPhase(view);
    if (phase !== lastPhase && lastPhase !== null) { window.scrollTo(0, 0); }
    if (phase !== lastPhase) {
      timeUp = phase === "locked" && lastPhase === "answering" && lastDeadline !== null && C.now() >= lastDeadline - 500;
    }
    lastPhase = phase;
    lastDeadline = view.deadline_ms || lastDeadline;
    var line = view.phase === "paused" ? ["比赛暂停", "请等待主持人继续"] : stateLine(view, phase);
    C.$("state-line").textContent = line[0];
    C.$("state-line").className = "state-line is-" + phase + (line[0] === "请作答" ? " is-action" : "");
    C.$("sub-line").textContent = line[1];
    C.$("dev").dataset.phase = view.phase;
    C.$("paused").hidden = view.phase !== "paused";
    countdown.set(isEveryone(view) || myTurn(view) ? view.deadline_ms : null);
    var team = me && !view.individual ? C.team(view, me.team) : null;
    if (me && view.individual) {
      C.fill(C.$("team-line"), [
        C.el("span", { "class": "muted" }, "个人赛"),
        C.el("span", { "class": "dev-score" }, ["我的得分 ", C.el("strong", { "class": "num score", id: "my-points" }, C.points(total))])
      ]);
    }
    if (team) {
      C.fill(C.$("team-line"), [
        C.teamColor(C.el("span", { "class": "team-chip", id: "my-team" }, team.name), team.color),
        C.el("span", { "class": "dev-score" }, ["本队得分 ", C.el("strong", { "class": "num score" }, C.points(team.score))])
      ]);
    }
    var parts = [];
    var answering = view.question && answersHere(view) && !C.isRevealed(view);
    if (!answering) { parts.push(rankLine(view)); }
    if (view.question && answersHere(view)) {
      parts.push(questionCard(view, phase));
      parts.push(C.standingPanel(view, me.player));
    } else if (inTurns(view) && phase !== "finished") {
      parts.push(C.standingPanel(view, me.player));
    } else if (phase === "finished") {
      var row = (view.ranking || []).filter(function (r) {
        return view.individual ? me && r.player === me.player : team && r.team === team.id;
      })[0];
      var waiting = view.podium && !view.podium.done && !row;
      var place = row ? (view.individual ? "第 " : team.name + " 第 ") + row.place + " 名" : waiting ? "请看大屏揭晓名次" : "比赛结束";
      parts.push(C.el("section", { "class": "card dev-final" }, [
        C.el("p", { "class": "dev-place", id: "final-place" }, place),
        C.el("p", { "class": "muted" }, "本场成绩已记入学习档案")
      ]));
    } else {
      parts.push(C.el("p", { "class": "dev-wait" }, "已加入。请关注大屏，全员答题环节开始后在这里作答。"));
    }
    C.fill(C.$("main"), parts);
  }
})();

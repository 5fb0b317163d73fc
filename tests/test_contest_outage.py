"""A deadline that passed while the server was down is never judged by the outage: the contest resumes paused,
with a message for the host, and the clock gives back a short grace when the host continues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from quizengine.engine.timing import FakeClock
from quizengine.models import Contest
from quizengine.modes.contest import OUTAGE_GRACE_MS, OUTAGE_REASON, Phase, Role
from quizengine.realtime import protocol, timers

from .test_contest_socket import NS, _command, _seat, _views, live  # noqa: F401  (fixtures)
from .test_live_contest_engine import BUZZER, Driver, _contest, _plan


def _buzz_won() -> Driver:
    d = Driver(_contest(_plan(BUZZER)))
    d.host("start")
    d.host("next")
    d.host("open")
    d.team("t1", "buzz")
    assert d.phase is Phase.BUZZ_WON
    return d


def test_a_tick_on_time_still_judges_the_buzz_winner() -> None:
    d = _buzz_won()
    d.clock.advance(BUZZER.answer_seconds + 0.2)  # the 0.1 s timer, a little late
    d.system("tick")
    assert d.phase is not Phase.PAUSED and d.scores()["t1"] == 90


def test_a_deadline_missed_by_an_outage_pauses_instead_of_judging() -> None:
    d = _buzz_won()
    scores = d.scores()
    d.clock.advance(BUZZER.answer_seconds + 60)  # the server was down for a minute
    d.system("tick")
    state = d.contest.state
    assert d.phase is Phase.PAUSED and state.paused_phase is Phase.BUZZ_WON and d.scores() == scores
    view = d.contest.view_for(Role.HOST)
    assert view["pause_reason"] == OUTAGE_REASON
    d.clock.advance(300)  # the host takes their time
    d.host("resume")
    assert d.phase is Phase.BUZZ_WON and state.pause_reason == ""
    assert state.deadline_ms == int(d.clock.now().timestamp() * 1000) + OUTAGE_GRACE_MS
    d.team("t1", "answer", response="A")  # the team still answers, within the grace
    assert d.scores()["t1"] == scores["t1"] + BUZZER.points


def test_after_a_restart_the_timer_loop_pauses_the_contest_and_tells_the_host(
    app: Flask,
    live: Contest,  # noqa: F811
    session: Session,
) -> None:
    host, projector, teams = _seat(app, live, session)
    version = _command(host, "start", 0)["version"]
    version = _command(host, "next", version)["version"]
    version = _command(host, "open", version)["version"]
    question = _views(host)[-1]["view"]["question"]["id"]
    assert teams["t1"][0].emit(protocol.BUZZ, {"question": question}, namespace=NS, callback=True)["ok"]
    deadline = _views(host)[-1]["view"]["deadline_ms"]  # the buzz winner's 20 s
    restarted = datetime.fromtimestamp(deadline / 1000, UTC) + timedelta(minutes=5)  # the server came back
    with app.app_context():
        assert timers.tick_due(FakeClock(restarted)) == 1
    paused = _views(host)[-1]["view"]
    assert paused["phase"] == "paused" and paused["paused_phase"] == "buzz_won"
    assert paused["pause_reason"] == OUTAGE_REASON
    assert {t["id"]: t["score"] for t in paused["teams"]}["t1"] == 100  # not judged wrong
    assert _views(projector)[-1]["view"]["phase"] == "paused"
    with app.app_context():
        assert timers.tick_due(FakeClock(restarted + timedelta(seconds=1))) == 0  # nothing due while paused
    assert _command(host, "resume", paused["version"])["ok"]
    assert _views(teams["t1"][0])[-1]["view"]["me"]["my_turn"]

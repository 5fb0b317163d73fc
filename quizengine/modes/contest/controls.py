"""The host's controls that work the same in every round: adjust, undo, pause, resume, kick, podium, sounds, end.

Each is a command handler `(machine, command, now_ms) -> events`, registered in machine.HANDLERS.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from .podium import can_advance
from .state import EVERYONE_ROLES, STAFF_ROLES, Command, ContestError, Event, Phase

if TYPE_CHECKING:
    from .machine import LiveContest


def adjust(m: LiveContest, command: Command, now: int) -> list[Event]:
    """The host gives or takes points, with a reason (an award group of its own, so it can be undone)."""
    team, reason = command.args.get("team"), str(command.args.get("reason", "")).strip()
    try:
        delta = float(command.args.get("delta"))
    except (TypeError, ValueError):
        raise ContestError("请填写调整的分数", "bad_value") from None
    if m.plan.individual:
        raise ContestError("个人赛按每人的得分排名，没有队伍分数可以调整；判错的题可以撤销计分或作废", "individual")
    if team not in m.team_ids():
        raise ContestError("没有这支队伍", "bad_team")
    if not reason:
        raise ContestError("调整分数必须填写原因", "no_reason")
    if delta == 0 or abs(delta) > 1000:
        raise ContestError("调整的分数应在 -1000 到 1000 之间且不为 0", "bad_value")
    m.award([(team, delta, f"主持人调整：{reason}")])
    return [Event("scores", EVERYONE_ROLES, {"team": team, "delta": delta, "reason": reason})]


def undo(m: LiveContest, command: Command, now: int) -> list[Event]:
    """Take back the last award group as a whole (and the players' points scored with it)."""
    awards = m.state.awards
    if not awards:
        raise ContestError("没有可以撤销的计分", "nothing_to_undo")
    last = awards[-1].group
    undone = [a for a in awards if a.group == last]
    m.state.awards = [a for a in awards if a.group != last]
    events = [Event("scores", EVERYONE_ROLES, {"undone": [asdict(a) for a in undone]})]
    if m.undo_player_points:  # a 全员答题 reveal: its players' points go too
        m.player_deltas = {p: -points for p, points in m.undo_player_points.items()}
        m.update_leaderboard()
        events.append(Event("player_points_undone", EVERYONE_ROLES, {"players": len(m.player_deltas)}))
    return events


def pause(m: LiveContest, command: Command, now: int) -> list[Event]:
    """Stop the clock where it is (the time left is kept for the resume)."""
    state = m.state
    state.paused_phase = state.phase
    state.paused_left_ms = max(0, state.deadline_ms - now) if state.deadline_ms else None
    state.phase, state.deadline_ms = Phase.PAUSED, None
    state.pause_reason = str(command.args.get("reason", ""))
    return [Event("paused", EVERYONE_ROLES, {"reason": state.pause_reason})]


def resume(m: LiveContest, command: Command, now: int) -> list[Event]:
    """Back to the paused phase with the time that was left."""
    state = m.state
    assert state.paused_phase is not None
    state.phase = state.paused_phase
    state.deadline_ms = now + state.paused_left_ms if state.paused_left_ms is not None else None
    state.paused_phase, state.paused_left_ms, state.pause_reason = None, None, ""
    return [Event("resumed", EVERYONE_ROLES)]


def kick(m: LiveContest, command: Command, now: int) -> list[Event]:
    """Remove a team or a player from the contest (their commands are refused until readmitted)."""
    who = command.args.get("participant")
    if (who not in m.team_ids() or m.plan.individual) and who not in m.players:
        raise ContestError("没有这个参赛者", "bad_participant")
    if who in m.state.kicked:
        raise ContestError("已经移出", "duplicate")
    m.state.kicked.append(who)
    _standings_changed(m, who)
    return [Event("kicked", EVERYONE_ROLES, {"participant": who})]


def readmit(m: LiveContest, command: Command, now: int) -> list[Event]:
    """Let a removed team or player back in."""
    who = command.args.get("participant")
    if who not in m.state.kicked:
        raise ContestError("该参赛者没有被移出", "bad_participant")
    m.state.kicked.remove(who)
    _standings_changed(m, who)
    return [Event("readmitted", EVERYONE_ROLES, {"participant": who})]


def _standings_changed(m: LiveContest, who: str) -> None:
    """A player left or came back: the top ten can no longer be moved on from the next reveal's scorers
    alone (a removed leader's place goes to someone outside it), so that reveal recounts (standings.py)."""
    if who in m.players:
        m.state.player_table = None


def podium(m: LiveContest, command: Command, now: int) -> list[Event]:
    """The host reveals the next podium place (third, second, first), then the full table."""
    if not can_advance(m.ranking(), m.state.podium):
        raise ContestError("名次已全部公布", "podium_done")
    m.state.podium += 1
    return [Event("podium", EVERYONE_ROLES, {"stage": m.state.podium})]


def mute(m: LiveContest, command: Command, now: int) -> list[Event]:
    """The host mutes or unmutes the projector's sounds (kept in the state: a projector reload keeps it)."""
    muted = command.args.get("muted")
    if not isinstance(muted, bool):
        raise ContestError("请指定是否静音", "bad_value")
    if muted == m.state.muted:
        return []
    m.state.muted = muted
    return [Event("muted", STAFF_ROLES, {"muted": muted})]


def show_quote(m: LiveContest, command: Command, now: int) -> list[Event]:
    """The host lets the projector show (or hide) the 原文 after each reveal, to settle a dispute on the spot."""
    shown = command.args.get("shown")
    if not isinstance(shown, bool):
        raise ContestError("请指定是否在大屏显示原文", "bad_value")
    if shown == m.state.quote_shown:
        return []
    m.state.quote_shown = shown
    return [Event("quote_shown", STAFF_ROLES, {"shown": shown})]


def end(m: LiveContest, command: Command, now: int) -> list[Event]:
    """The host ends the contest now (abandoned or out of time): scores stand as they are."""
    state = m.state
    state.ended_early = True
    state.phase, state.paused_phase, state.paused_left_ms, state.deadline_ms = Phase.FINISHED, None, None, None
    state.question, state.team_on_turn = None, None
    return [Event("finished", EVERYONE_ROLES, {"ended_early": True})]

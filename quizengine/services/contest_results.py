"""A finished (or abandoned) contest's results: team ranking, per-round scores, player ranking, adjustments;
the players' running points; archiving. The results page, its print view and the Excel export read this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from quizengine.models import Contest, ContestAnswer, ContestEvent, ContestPlayer, User
from quizengine.modes.contest import ContestError, ContestState, LiveContest, plan_from_dict, round_type
from quizengine.modes.contest.points import rank_of

from .spreadsheet import safe_file_name, workbook_bytes

#: The reason prefix of a host's manual adjustment (the machine writes it; the results page sums them apart).
ADJUST_PREFIX = "主持人调整："


def add_player_points(session: Session, contest_id: int, deltas: dict[str, float]) -> None:
    """Add a reveal's points to each scored player's row, in the reveal's transaction (one executemany)."""
    table = ContestPlayer.__table__
    statement = (
        update(table)
        .where(table.c.contest_id == bindparam("cid"), table.c.player == bindparam("pid"))
        .values(points=table.c.points + bindparam("delta"))
    )
    session.connection().execute(
        statement, [{"cid": contest_id, "pid": player, "delta": delta} for player, delta in deltas.items()]
    )


def own_points(session: Session, contest_id: int, player: str) -> float:
    """A player's 全员答题 points so far (for that player's snapshot: total and rank)."""
    points = session.scalar(
        select(ContestPlayer.points).where(ContestPlayer.contest_id == contest_id, ContestPlayer.player == player)
    )
    return float(points or 0.0)


@dataclass(frozen=True)
class TeamResult:
    """A team's line: place, name, points per round (plan order, then 加赛), host adjustments, final score."""

    place: int
    name: str
    color: str
    rounds: list[float]
    adjustments: float
    score: float


@dataclass(frozen=True)
class PlayerResult:
    """A player's line in the 全员答题 ranking."""

    place: int
    name: str
    team: str
    points: float
    answered: int
    correct: int


@dataclass(frozen=True)
class Adjustment:
    """A host's score change from the event log: an adjustment with its reason, or an undo."""

    at: datetime
    team: str
    delta: float | None
    reason: str
    actor: str


@dataclass(frozen=True)
class ContestResults:
    """Everything the results page, the print view and the export show."""

    contest: Contest
    finished: bool
    ended_early: bool
    round_titles: list[str]
    teams: list[TeamResult]
    players: list[PlayerResult]
    adjustments: list[Adjustment]


def contest_results(session: Session, contest: Contest) -> ContestResults:
    """Build the results from the stored state (team scores), the players' rows and the event log."""
    machine = LiveContest(plan_from_dict(contest.plan), ContestState.from_dict(contest.state), {})
    state, plan = machine.state, machine.plan
    titles = [spec.title or round_type(spec.kind).label for spec in plan.rounds]
    if any(award.round == len(plan.rounds) for award in state.awards) or state.tiebreak_winners:
        titles.append("加赛")
    per_round = {team: [0.0] * len(titles) for team in machine.team_ids()}
    adjusted = dict.fromkeys(machine.team_ids(), 0.0)
    for award in state.awards:
        if award.reason.startswith(ADJUST_PREFIX) or award.round is None or not 0 <= award.round < len(titles):
            adjusted[award.team] += award.delta
        else:
            per_round[award.team][award.round] += award.delta
    teams_info = {team["id"]: team for team in state.teams}
    teams = [
        TeamResult(
            place=entry.place,
            name=teams_info[entry.entry.key]["name"],
            color=teams_info[entry.entry.key].get("color", ""),
            rounds=[_clean(points) for points in per_round[entry.entry.key]],
            adjustments=_clean(adjusted[entry.entry.key]),
            score=entry.entry.score,
        )
        for entry in ([] if plan.individual else machine.ranking())  # a 个人赛 ranks its players only
    ]
    return ContestResults(
        contest=contest,
        finished=contest.finished_at is not None,
        ended_early=state.ended_early,
        round_titles=titles,
        teams=teams,
        players=_players(session, contest, {key: info["name"] for key, info in teams_info.items()}),
        adjustments=_adjustments(session, contest, {key: info["name"] for key, info in teams_info.items()}),
    )


def _clean(value: float) -> float:
    return round(value, 2) + 0.0  # no -0.0 and no float noise from adding awards


def _players(session: Session, contest: Contest, team_names: dict[str, str]) -> list[PlayerResult]:
    tallies: dict[str, tuple[int, int]] = {}
    for participant, answered, correct in session.execute(
        select(
            ContestAnswer.participant,
            func.count(ContestAnswer.id),
            func.sum(case((ContestAnswer.verdict == "correct", 1), else_=0)),
        )
        .where(ContestAnswer.contest_id == contest.id, ContestAnswer.participant.like("player:%"))
        .group_by(ContestAnswer.participant)
    ):
        tallies[participant.removeprefix("player:")] = (answered, int(correct or 0))
    rows = session.execute(
        select(ContestPlayer.player, ContestPlayer.name, ContestPlayer.team, ContestPlayer.points)
        .where(ContestPlayer.contest_id == contest.id)
        .order_by(ContestPlayer.points.desc(), ContestPlayer.id)
    ).all()
    kicked = set(contest.state.get("kicked", []))
    rows = [row for row in rows if row.player not in kicked]
    counts: dict[float, int] = {}
    for row in rows:
        counts[row.points] = counts.get(row.points, 0) + 1
    return [
        PlayerResult(
            place=rank_of(row.points, counts),
            name=row.name,
            team=team_names.get(row.team, row.team),
            points=row.points,
            answered=tallies.get(row.player, (0, 0))[0],
            correct=tallies.get(row.player, (0, 0))[1],
        )
        for row in rows
    ]


def _adjustments(session: Session, contest: Contest, team_names: dict[str, str]) -> list[Adjustment]:
    events = session.scalars(
        select(ContestEvent)
        .where(ContestEvent.contest_id == contest.id, ContestEvent.command.in_(("adjust", "undo")))
        .order_by(ContestEvent.version)
    ).all()
    user_ids = {int(e.actor.split(":")[1]) for e in events if re.fullmatch(r"host:\d+", e.actor)}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    result = []
    for event in events:
        args = event.detail.get("args", {})
        match = re.fullmatch(r"host:(\d+)", event.actor)
        actor = names.get(int(match.group(1)), event.actor) if match else event.actor
        if event.command == "adjust":
            team = team_names.get(str(args.get("team")), str(args.get("team")))
            result.append(Adjustment(event.at, team, float(args.get("delta", 0)), str(args.get("reason", "")), actor))
        else:
            result.append(Adjustment(event.at, "", None, "撤销最近一次计分", actor))
    return result


def archive(session: Session, contest: Contest, archived: bool, now: datetime | None = None) -> None:
    """Archive a finished contest (the list hides it) or bring it back; an unfinished one must be ended first."""
    if archived and contest.finished_at is None:
        raise ContestError("比赛尚未结束，请先结束比赛再归档", "wrong_phase")
    contest.archived_at = (now or datetime.now(UTC)) if archived else None
    session.commit()


def export_name(contest: Contest, zone: ZoneInfo) -> str:
    """The Excel file's Chinese name: the contest title and its date, e.g. 支部知识竞赛-成绩-2026-12-06.xlsx."""
    title = safe_file_name(contest.title, "知识竞赛")
    day = contest.created_at.replace(tzinfo=contest.created_at.tzinfo or UTC).astimezone(zone)
    return f"{title}-成绩-{day:%Y-%m-%d}.xlsx"


def export_workbook(results: ContestResults, zone: ZoneInfo) -> bytes:
    """The results as an .xlsx: team ranking with per-round scores, player ranking, adjustments."""

    def local(moment: datetime) -> str:
        return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    if results.contest.plan.get("individual"):  # a 个人赛: the players' ranking is the result
        return workbook_bytes(
            [
                (
                    "个人排名",
                    ["名次", "姓名", "得分", "作答题数", "答对题数"],
                    [[p.place, p.name, p.points, p.answered, p.correct] for p in results.players],
                )
            ]
        )
    return workbook_bytes(
        [
            (
                "队伍排名",
                ["名次", "队伍", *results.round_titles, "主持人调整", "总分"],
                [[t.place, t.name, *t.rounds, t.adjustments, t.score] for t in results.teams],
            ),
            (
                "个人排名",
                ["名次", "姓名", "队伍", "全员答题得分", "作答题数", "答对题数"],
                [[p.place, p.name, p.team, p.points, p.answered, p.correct] for p in results.players],
            ),
            (
                "分数调整",
                ["时间", "队伍", "分数", "原因", "操作人"],
                [[local(a.at), a.team, a.delta, a.reason, a.actor] for a in results.adjustments],
            ),
        ]
    )

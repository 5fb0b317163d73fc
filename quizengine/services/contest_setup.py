"""Creating a live contest from a plan: every round's questions are drawn now and their revisions pinned.

Audited; the lobby opens at once. Commands are in contest_commands, players' answers in contest_answers.
"""

from __future__ import annotations

import random
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.contest_plan import plan_fixed_ids
from quizengine.engine.selection import Blueprint, PoolEntry, Section, select_paper
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import AuditEntry, Bank, Contest, ContestTeam, Question, QuestionRevision, User
from quizengine.modes.contest import ContestError, ContestPlan, ContestState, QuestionSource, plan_to_dict, round_type

from .access import is_organizer, require
from .bank_admin import drawable_bank_ids, visible_bank_ids
from .questions import live_questions_query, load_live

DEFAULT_TEAMS = ("第一队", "第二队", "第三队", "第四队")

#: A 个人赛's one team, which every player joins without choosing: no screen shows it; its score is what the
#: players scored together (it carries the award groups an undo takes back).
INDIVIDUAL_TEAM = "全体"


TEAM_COLORS = ("#C8161D", "#1E63B5", "#137333", "#8B6508", "#6A3FA0", "#A84300", "#00737D", "#5D4037")  # AA on white


def _pool(session: Session, host: User, plan: ContestPlan) -> list[PoolEntry]:
    """The questions a host's contest draws from: the banks the host sees (shared, and their branch's own); a
    plan naming another branch's own bank is refused (`bank_admin.drawable_bank_ids`)."""
    slugs = dict(session.execute(select(Bank.id, Bank.slug)).all())
    named = [spec.source.banks for spec in plan.rounds]
    if plan.tie_break_questions is not None:
        named.append(plan.tie_break_questions.banks)
    query = live_questions_query(drawable_bank_ids(session, named, visible_bank_ids(session, host)) or (0,))
    return [PoolEntry(live.question, slugs[live.row.bank_id]) for live in load_live(session, query)]


def _section(source: QuestionSource, count: int | None = None, difficulties: tuple[int, ...] | None = None) -> Section:
    return Section(
        count=count if count is not None else source.count,
        banks=source.banks,
        categories=source.categories,
        types=source.types,
        difficulties=difficulties if difficulties is not None else source.difficulties,
        tags=source.tags,
    )


def _draw(
    pool: list[PoolEntry],
    taken: set[str],
    source: QuestionSource,
    rng: random.Random,
    reserved: frozenset[str] = frozenset(),
    **kw: object,
) -> list[str]:
    """Questions for one source, none asked before in this contest; ids another round names are not drawn,
    nor a question whose `group` was already drawn."""
    blocked = taken if source.ids else taken | reserved
    groups = {entry.question.group for entry in pool if entry.question.id in taken and entry.question.group}
    available = [
        entry
        for entry in pool
        if entry.question.id not in blocked and (source.ids or entry.question.group not in groups)
    ]
    if source.ids:
        missing = [qid for qid in source.ids if qid not in {e.question.id for e in available}]
        if missing:
            raise ContestError("以下题目不存在、已停用或已被其他环节使用：" + "、".join(missing))
        chosen = list(source.ids)
    else:
        paper = select_paper(available, Blueprint((_section(source, **kw),), shuffle_options=False), rng)  # type: ignore[arg-type]
        chosen = list(paper.question_ids)
    taken.update(chosen)
    return chosen


def draw_plan(
    plan: ContestPlan, pool: list[PoolEntry], rng: random.Random, taken: set[str], *, teams: int
) -> tuple[list[list[str]], dict[str, dict[str, list[str]]], list[str]]:
    """Every round's questions (a 风险题 round: each value's pool), then the 加赛's, drawn in plan order from
    `pool` without repeats: none in `taken`, which collects what is drawn (pass one set to several draws to
    keep contests apart). Raises ContestError when a round cannot be supplied."""
    reserved = plan_fixed_ids(plan)
    rounds: list[list[str]] = []
    risk_pools: dict[str, dict[str, list[str]]] = {}
    for index, spec in enumerate(plan.rounds):
        pools = round_type(spec.kind).question_pools(spec, teams)
        if pools is not None:
            risk_pools[str(index)] = {
                name: _draw(pool, taken, spec.source, rng, reserved, count=count, difficulties=levels)
                for name, (count, levels) in pools.items()
            }
            rounds.append([])
        else:
            rounds.append(_draw(pool, taken, spec.source, rng, reserved))
    tie_source = plan.tie_break_questions
    tie_pool = _draw(pool, taken, tie_source, rng, reserved) if tie_source and tie_source.count else []
    return rounds, risk_pools, tie_pool


def _current_revisions(session: Session, external_ids: set[str]) -> dict[str, int]:
    rows = session.execute(
        select(Question.external_id, QuestionRevision.id)
        .join(QuestionRevision, QuestionRevision.question_id == Question.id)
        .where(Question.external_id.in_(external_ids), QuestionRevision.number == Question.current_revision)
    ).all()
    return dict(rows)


def _unique_pin(session: Session) -> str:
    while True:
        pin = f"{secrets.randbelow(900_000) + 100_000}"
        if session.scalar(select(Contest.id).where(Contest.pin == pin)) is None:
            return pin


def create_contest(
    session: Session,
    host: User,
    plan: ContestPlan,
    *,
    allow_guests: bool = False,
    rng: random.Random | None = None,
    clock: Clock | None = None,
    branch_id: int | None = None,
) -> Contest:
    """Draw every round's questions now (pinning their revisions) and open the lobby. Audited.

    `allow_guests`: an open event, where people without an account may play 全员答题 by name. `branch_id`: the
    branch the contest belongs to (its organizers may host it), by default the host's.
    """
    require(is_organizer(host), "只有组织员可以主持知识竞赛")
    rng, clock = rng or random.Random(), clock or SystemClock()
    taken: set[str] = set()
    names = [INDIVIDUAL_TEAM] if plan.individual else [team.name for team in plan.teams] or list(DEFAULT_TEAMS)
    colors = [team.color for team in plan.teams] or [""] * len(names)
    rounds, risk_pools, tie_pool = draw_plan(plan, _pool(session, host, plan), rng, taken, teams=len(names))
    state = ContestState(
        teams=[
            {"id": f"t{n}", "name": name, "color": colors[n - 1] or TEAM_COLORS[(n - 1) % len(TEAM_COLORS)]}
            for n, name in enumerate(names, start=1)
        ],
        rounds=rounds,
        risk_pools=risk_pools,
        tie_pool=tie_pool,
    )
    contest = Contest(
        title=plan.title,
        host_id=host.id,
        branch_id=host.branch_id if branch_id is None else branch_id,
        pin=_unique_pin(session),
        projector_token=secrets.token_urlsafe(24),
        plan=plan_to_dict(plan),
        revisions=_current_revisions(session, taken),
        state=state.to_dict(),
        version=0,
        created_at=clock.now(),
        allow_guests=allow_guests,
    )
    contest.teams = (
        []
        if plan.individual
        else [  # no team devices in a 个人赛
            ContestTeam(
                key=team["id"],
                name=team["name"],
                join_code=f"{rng.randrange(100_000, 1_000_000)}",
                join_secret=secrets.token_urlsafe(16),
            )
            for team in state.teams
        ]
    )
    session.add(contest)
    session.flush()
    session.add(
        AuditEntry(
            actor_id=host.id,
            action="contests.create",
            subject=plan.title,
            detail={"contest_id": contest.id, "allow_guests": allow_guests},
        )
    )
    session.commit()
    return contest

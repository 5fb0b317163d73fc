"""学习日: each branch's study day per plan topic — held or not, who attended, the topic practice done.

Attendance is the organizer's record (members ticked present, e.g. those without a phone) together with the
members who joined the study day's 小问答 contest: a member counted by either is present. Every write checks
that the actor manages the branch, names only active members of the branch and a topic that has started, and
is audited; a bad form changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from quizengine.engine.errors import QuizError
from quizengine.engine.member_facts import StudyDayFacts
from quizengine.engine.study_plan import StudyPlan, Topic
from quizengine.models import (
    Attempt,
    AttemptStatus,
    AuditEntry,
    Branch,
    ContestPlayer,
    Role,
    StudyAttendance,
    StudyDay,
    User,
)

from .access import can_manage_branch, can_read_branch, require
from .study_plans import topic_practice


class StudyDayError(QuizError):
    """A study day that cannot be recorded as asked (the message says why, in Chinese)."""

    code = "study_day_error"


@dataclass(frozen=True)
class BranchTopic:
    """One topic of a plan for one branch: its study day (if recorded) and who attended."""

    plan: StudyPlan
    topic: Topic
    day: StudyDay | None
    members: list[User]
    present_ids: frozenset[int]

    @property
    def held(self) -> bool:
        """A study day counts as held once attendance was recorded or its 小问答 had players."""
        return bool(self.present_ids) or (self.day is not None and self.day.contest_id is not None)

    @property
    def present(self) -> list[User]:
        return [member for member in self.members if member.id in self.present_ids]

    @property
    def absent(self) -> list[User]:
        return [member for member in self.members if member.id not in self.present_ids]

    @property
    def attendance_rate(self) -> float | None:
        return len(self.present) / len(self.members) if self.members else None


def branch_members(session: Session, branch_ids: Iterable[int]) -> dict[int, list[User]]:
    """Active members and organizers of each branch, by name (who is expected at a study day)."""
    ids = list(branch_ids)
    found: dict[int, list[User]] = {branch_id: [] for branch_id in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(User)
        .where(User.branch_id.in_(ids), User.active.is_(True), User.role.in_([Role.MEMBER, Role.ORGANIZER]))
        .order_by(User.name, User.id)
    )
    for user in rows:
        found[user.branch_id].append(user)  # type: ignore[index]
    return found


def attendance(session: Session, days: Sequence[StudyDay]) -> dict[int, set[int]]:
    """Who attended each study day: recorded present, or a player of its 小问答."""
    players = _players(session, [day.contest_id for day in days if day.contest_id is not None])
    return {day.id: {row.user_id for row in day.attendance} | players.get(day.contest_id or 0, set()) for day in days}


def study_days(session: Session, branch_ids: Iterable[int], plan: StudyPlan) -> dict[tuple[int, str], StudyDay]:
    """The recorded study days of `plan` for the branches, by (branch, topic key)."""
    rows = session.scalars(
        select(StudyDay)
        .where(StudyDay.branch_id.in_(list(branch_ids)), StudyDay.plan_slug == plan.slug)
        .options(selectinload(StudyDay.attendance))
    )
    return {(day.branch_id, day.topic_key): day for day in rows}


def branch_topics(
    session: Session, viewer: User, branch_id: int, plans: Sequence[StudyPlan], today: date
) -> list[BranchTopic]:
    """The branch's topics that have started (this week's first, then the past), with study day and attendance."""
    require(can_read_branch(viewer, branch_id), "没有权限查看该支部的学习日")
    members = branch_members(session, [branch_id])[branch_id]
    found = []
    for plan in plans:
        days = study_days(session, [branch_id], plan)
        present = attendance(session, list(days.values()))
        for topic in plan.topics:
            if topic.start <= today:
                day = days.get((branch_id, topic.key))
                ids = frozenset(present.get(day.id, set())) if day else frozenset()
                member_ids = {member.id for member in members}
                found.append(BranchTopic(plan, topic, day, members, ids & member_ids))
    return sorted(found, key=lambda row: row.topic.start, reverse=True)


def _find(plans: Sequence[StudyPlan], slug: str, key: str) -> tuple[StudyPlan, Topic]:
    plan = next((plan for plan in plans if plan.slug == slug), None)
    topic = plan.topic(key) if plan else None
    if plan is None or topic is None:
        raise StudyDayError("没有找到该专题")
    return plan, topic


def branch_topic(
    session: Session, viewer: User, branch_id: int, plans: Sequence[StudyPlan], slug: str, key: str, today: date
) -> BranchTopic:
    """One topic of the branch (for the attendance form)."""
    plan, topic = _find(plans, slug, key)
    if topic.start > today:
        raise StudyDayError(f"专题“{topic.title}”从 {topic.start} 开始，还不能记录学习日")
    rows = branch_topics(session, viewer, branch_id, [plan], today)
    return next(row for row in rows if row.topic.key == topic.key)


def _held_on(value: str | date | None, topic: Topic, today: date) -> date:
    if isinstance(value, date):
        held = value
    else:
        try:
            held = date.fromisoformat((value or "").strip())
        except ValueError:
            raise StudyDayError("学习日日期格式不正确，应为 年-月-日") from None
    if not topic.start <= held < topic.end:
        raise StudyDayError(f"学习日应在专题的学习周内（{topic.start} 至 {topic.last_day}）")
    if held > today:
        raise StudyDayError("学习日还没有到，不能提前记录出勤")
    return held


def record_attendance(
    session: Session,
    actor: User,
    branch_id: int,
    plans: Sequence[StudyPlan],
    slug: str,
    key: str,
    member_ids: Sequence[str | int],
    held_on: str | date | None,
    today: date,
) -> StudyDay:
    """Record the study day of a topic: its date and the members present (replacing the earlier record;
    players of its 小问答 stay present). Organizer of the branch or admin; audited."""
    require(can_manage_branch(actor, branch_id), "只有本支部的组织员可以记录学习日")
    plan, topic = _find(plans, slug, key)
    if topic.start > today:
        raise StudyDayError(f"专题“{topic.title}”从 {topic.start} 开始，还不能记录学习日")
    held = _held_on(held_on, topic, today)
    members = {member.id: member for member in branch_members(session, [branch_id])[branch_id]}
    chosen: list[int] = []
    for value in member_ids:
        text = str(value).strip()
        if not text.isdigit() or int(text) not in members:
            raise StudyDayError("所选党员不属于本支部或已停用")
        chosen.append(int(text))
    day = study_days(session, [branch_id], plan).get((branch_id, topic.key))
    if day is None:
        day = StudyDay(branch_id=branch_id, plan_slug=plan.slug, topic_key=topic.key, held_on=held)
        session.add(day)
    day.held_on, day.recorded_by = held, actor.id
    kept = {row.user_id: row for row in day.attendance if row.user_id in chosen}
    day.attendance = [
        kept.get(user_id) or StudyAttendance(user_id=user_id, added_by=actor.id) for user_id in dict.fromkeys(chosen)
    ]
    branch = session.get(Branch, branch_id)
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="study.attendance",
            subject=f"{branch.name if branch else branch_id} · {topic.title}",
            detail={"plan": plan.slug, "topic": topic.key, "held_on": held.isoformat(), "present": chosen},
        )
    )
    session.commit()
    return day


def practice_completion(session: Session, rows: Sequence[BranchTopic]) -> dict[tuple[str, str], int]:
    """How many of each topic's expected members finished at least one topic practice, by (plan, topic)."""
    done: dict[tuple[str, str], int] = {}
    by_plan: dict[str, list[BranchTopic]] = {}
    for row in rows:
        by_plan.setdefault(row.plan.slug, []).append(row)
    for plan_rows in by_plan.values():
        plan, members = plan_rows[0].plan, plan_rows[0].members
        found = topic_practice(session, [member.id for member in members], plan, [row.topic for row in plan_rows])
        for row in plan_rows:
            done[(plan.slug, row.topic.key)] = sum(1 for member in members if (member.id, row.topic.key) in found)
    return done


def quiz_players(session: Session, row: BranchTopic) -> set[int]:
    """Members who joined the study day's 小问答 (present whatever the organizer ticks)."""
    if row.day is None or row.day.contest_id is None:
        return set()
    return _players(session, [row.day.contest_id])[row.day.contest_id]


def default_day(row: BranchTopic, today: date) -> date:
    """The date the form proposes: the recorded one, else the plan's study day in the topic's first week (or
    today, if that is still to come)."""
    if row.day is not None:
        return row.day.held_on
    return min(row.plan.study_day.in_week(row.topic.start), today)


def member_study_facts(session: Session, members: Sequence[User], start: date, end: date) -> dict[int, list]:
    """For the 验收标准's study rules: each member's branch's study days held in [start, end), with whether the
    member attended, finished a topic practice of its topic and joined its 小问答 — in four queries whatever the
    member count."""
    by_branch: dict[int, list[User]] = {}
    for member in members:
        if member.branch_id is not None:
            by_branch.setdefault(member.branch_id, []).append(member)
    found: dict[int, list[StudyDayFacts]] = {member.id: [] for member in members}
    if not by_branch:
        return found
    days = list(
        session.scalars(
            select(StudyDay)
            .where(StudyDay.branch_id.in_(list(by_branch)), StudyDay.held_on >= start, StudyDay.held_on < end)
            .options(selectinload(StudyDay.attendance))
        )
    )
    players = _players(session, [day.contest_id for day in days if day.contest_id is not None])
    tags = {f"{day.plan_slug}#{day.topic_key}" for day in days}
    practised = _finished_topics(session, [member.id for member in members], tags)
    for day in days:
        tag = f"{day.plan_slug}#{day.topic_key}"
        quiz = players.get(day.contest_id) if day.contest_id is not None else None
        recorded = {row.user_id for row in day.attendance}
        for member in by_branch.get(day.branch_id, []):
            found[member.id].append(
                StudyDayFacts(
                    day.held_on,
                    attended=member.id in recorded or (quiz is not None and member.id in quiz),
                    practised=(member.id, tag) in practised,
                    quiz=None if quiz is None else member.id in quiz,
                )
            )
    return found


def _finished_topics(session: Session, user_ids: list[int], tags: set[str]) -> set[tuple[int, str]]:
    """(member, `plan#topic`) pairs with a finished topic practice."""
    if not tags:
        return set()
    rows = session.execute(
        select(Attempt.user_id, Attempt.study_topic).where(
            Attempt.user_id.in_(user_ids),
            Attempt.study_topic.in_(sorted(tags)),
            Attempt.status == AttemptStatus.FINISHED,
        )
    )
    return {(user_id, tag) for user_id, tag in rows}


def _players(session: Session, contest_ids: Sequence[int]) -> dict[int, set[int]]:
    """Each 小问答's members who joined."""
    found: dict[int, set[int]] = {contest_id: set() for contest_id in contest_ids}
    if contest_ids:
        for contest_id, user_id in session.execute(
            select(ContestPlayer.contest_id, ContestPlayer.user_id).where(
                ContestPlayer.contest_id.in_(list(contest_ids)), ContestPlayer.user_id.is_not(None)
            )
        ):
            found[contest_id].add(user_id)
    return found

"""学习日小问答: in one click from the week's topic, the organizer starts a short individual live quiz.

The quiz is a live contest (个人赛) built from the template plan `contests/xiaowenda.yaml` — checked like every
plan, and by the rules below (individual, one round every player answers, 5–10 questions) — with its questions
drawn now from the topic's chapters. It is the branch's study day for that topic: the StudyDay row links the
contest, so everyone who joins it is present (study_days.attendance), its points are the topic quiz average
of 检查督导 (study_checks) and joining it is what the `topic_quiz` rule counts. One study day has one 小问答: a
second click while it runs reopens it; once it is over, another is refused.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from quizengine.banks.contest_plan import PlanLoadError, load_plan
from quizengine.banks.contest_plan_schema import CHOICE_TYPES
from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import StudyPlan, Topic
from quizengine.engine.timing import Clock
from quizengine.models import AuditEntry, Branch, Contest, StudyDay, User
from quizengine.modes.contest import ContestPlan, QuestionSource, round_type

from .access import can_manage_branch, require
from .bank_admin import bank_ids_for_branches
from .contest_setup import create_contest
from .questions import live_questions_query, load_live
from .study_days import study_days
from .study_plans import topic_questions

#: The template's file in the banks folder's contests/.
TEMPLATE = "xiaowenda.yaml"
MIN_QUESTIONS, MAX_QUESTIONS = 5, 10


class StudyQuizError(QuizError):
    """A 小问答 that cannot be started as asked (the message says why, in Chinese)."""

    code = "study_quiz_error"


@dataclass(frozen=True)
class StartedQuiz:
    """The study day's 小问答, and whether it was already running (a second click reopens it)."""

    contest: Contest
    reopened: bool


def load_template(banks_path: Path) -> ContestPlan:
    """The 小问答 template plan, checked like every plan file and by the quiz's own rules."""
    path = Path(banks_path) / "contests" / TEMPLATE
    if not path.is_file():
        raise StudyQuizError(f"找不到小问答方案 contests/{TEMPLATE}，请联系管理员")
    try:
        plan = load_plan(path).plan
    except PlanLoadError as error:
        raise StudyQuizError(f"小问答方案有误：{error.problems[0]}") from None
    spec = plan.rounds[0]
    if not plan.individual or len(plan.rounds) != 1 or not round_type(spec.kind).players_answer:
        raise StudyQuizError(f"小问答方案 {TEMPLATE} 应为个人赛（individual: true），只有一轮每人作答的全员答题")
    if spec.source.ids or not MIN_QUESTIONS <= spec.source.count <= MAX_QUESTIONS:
        raise StudyQuizError(f"小问答方案 {TEMPLATE} 的题数应为 {MIN_QUESTIONS} 到 {MAX_QUESTIONS}（source.count）")
    return plan


def start_study_quiz(
    session: Session,
    actor: User,
    branch_id: int,
    plans: Sequence[StudyPlan],
    slug: str,
    key: str,
    banks_path: Path,
    *,
    today: date,
    rng: random.Random | None = None,
    clock: Clock | None = None,
) -> StartedQuiz:
    """Start the branch's 小问答 on a topic of this week (or reopen the one running). Organizer of the branch
    or admin; audited; a refusal changes nothing."""
    require(can_manage_branch(actor, branch_id), NOT_ORGANIZER)
    template = load_template(banks_path)
    plan, topic = _find(plans, slug, key)
    if not topic.covers(today):
        raise StudyQuizError(
            f"小问答在专题的学习周内开展（{topic.start} 至 {topic.last_day}），“{topic.title}”不是本周专题"
        )
    day = study_days(session, [branch_id], plan).get((branch_id, topic.key))
    running = _running(session, day)
    if running is not None:
        return StartedQuiz(running, True)
    rng = rng or random.Random()
    ids = draw_questions(session, topic, template, rng, bank_ids_for_branches(session, [branch_id]))
    quiz = replace(
        template,
        title=f"小问答 · {topic.title}",
        rounds=(replace(template.rounds[0], source=QuestionSource(ids=tuple(ids), count=len(ids))),),
    )
    contest = create_contest(session, actor, quiz, rng=rng, clock=clock, branch_id=branch_id)
    winner = _link(session, day, contest, branch_id, plan, topic, actor, today)
    if winner is not contest:  # another click started it a moment before: that one is the study day's
        session.delete(contest)
        session.commit()
        return StartedQuiz(winner, True)
    branch = session.get(Branch, branch_id)
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="study.quiz",
            subject=f"{branch.name if branch else branch_id} · {topic.title}",
            detail={"plan": plan.slug, "topic": topic.key, "contest_id": contest.id, "questions": len(ids)},
        )
    )
    session.commit()
    return StartedQuiz(contest, False)


NOT_ORGANIZER = "只有本支部的组织员可以开展学习日小问答"


def quiz_contests(session: Session, days: Sequence[StudyDay | None]) -> dict[int, Contest]:
    """The 小问答 of these study days, by contest id (whether each is running or over), in one query."""
    ids = [day.contest_id for day in days if day is not None and day.contest_id is not None]
    if not ids:
        return {}
    query = select(Contest).where(Contest.id.in_(ids)).options(load_only(Contest.id, Contest.finished_at))
    return {contest.id: contest for contest in session.scalars(query)}


def _find(plans: Sequence[StudyPlan], slug: str, key: str) -> tuple[StudyPlan, Topic]:
    plan = next((plan for plan in plans if plan.slug == slug), None)
    topic = plan.topic(key) if plan else None
    if plan is None or topic is None:
        raise StudyQuizError("没有找到该专题")
    return plan, topic


def _running(session: Session, day: StudyDay | None) -> Contest | None:
    """The study day's 小问答 while it runs; one that is over means this study day had its quiz."""
    if day is None or day.contest_id is None:
        return None
    contest = session.get(Contest, day.contest_id)
    if contest is not None and contest.finished_at is None:
        return contest
    raise StudyQuizError("本专题学习日的小问答已经结束，成绩已计入学习档案；每个专题只开展一次小问答")


def draw_questions(
    session: Session, topic: Topic, template: ContestPlan, rng: random.Random, usable: Collection[int]
) -> list[str]:
    """The template's number of questions (at least MIN_QUESTIONS) drawn at random from the topic's chapters,
    of the types a phone answers, never two of one group (they give each other away). `usable`: the branch's
    banks (the shared ones and its own); a topic on another branch's own bank is refused."""
    types = [name for name in CHOICE_TYPES if name in (template.rounds[0].source.types or CHOICE_TYPES)]
    bank_ids, chapters = topic_questions(session, topic, usable)
    query = live_questions_query(bank_ids, chapters, types)
    pool = [live.question for live in load_live(session, query)] if bank_ids else []
    rng.shuffle(pool)
    chosen: list[str] = []
    groups: set[str] = set()
    for question in pool:
        if question.group and question.group in groups:
            continue
        groups.add(question.group or "")
        chosen.append(question.id)
    wanted = template.rounds[0].source.count
    if len(chosen) < MIN_QUESTIONS:
        raise StudyQuizError(
            f"专题“{topic.title}”的章节里只有 {len(chosen)} 道可用手机作答的题目（单选、多选、判断），"
            f"小问答至少需要 {MIN_QUESTIONS} 道；请先导入该专题的题库"
        )
    return chosen[:wanted]


def _link(
    session: Session,
    day: StudyDay | None,
    contest: Contest,
    branch_id: int,
    plan: StudyPlan,
    topic: Topic,
    actor: User,
    today: date,
) -> Contest:
    """Make `contest` the study day's 小问答 (held today) unless another click did first; return the day's."""
    if day is None:
        day = StudyDay(branch_id=branch_id, plan_slug=plan.slug, topic_key=topic.key, held_on=today)
        day.recorded_by, day.contest_id = actor.id, contest.id
        session.add(day)
        try:
            session.commit()
            return contest
        except IntegrityError:  # the row appeared since we read: claim it below like an existing one
            session.rollback()
            day = study_days(session, [branch_id], plan)[(branch_id, topic.key)]
    claimed = session.execute(
        update(StudyDay)
        .where(StudyDay.id == day.id, StudyDay.contest_id.is_(None))
        .values(contest_id=contest.id, held_on=today)
    )
    session.commit()
    if claimed.rowcount == 1:
        return contest
    session.refresh(day)
    winner = session.get(Contest, day.contest_id)
    assert winner is not None
    return winner

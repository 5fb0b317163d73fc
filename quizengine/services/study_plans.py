"""学习计划 for members: this week's 专题 (what to read, with 原文 excerpts), its topic practice and the member's
progress on it; past topics stay available.

Plans are files (question_banks/plans/*.yaml, validated by banks.study_plan), re-read when a file changes; a plan
that does not load is left out and logged, so a typo in a plan never takes the home page down (`quizengine
plans check` reports it with file:line). A topic practice is an ordinary self-test session (it counts in the
learning record and the 验收标准 like any other) that remembers its plan and topic (`attempts.study_topic`), so
progress is counted from the member's sessions.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from quizengine.banks.study_plan import PLANS_DIR, StudyPlanLoadError, load_study_plans
from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import StudyPlan, Topic
from quizengine.engine.timing import Clock, SystemClock
from quizengine.models import Attempt, AttemptStatus, Bank, Question, QuestionRevision, User
from quizengine.modes.self_test import PracticeKind

from . import practice
from .bank_admin import BankNotUsable, bank_visible_clause, drawable_bank_ids, visible_bank_ids
from .summaries import local_day

log = logging.getLogger(__name__)

#: 原文 excerpts shown per chapter to read (the rest are one practice away).
QUOTES_PER_CHAPTER = 3

_cache: dict[Path, tuple[tuple[tuple[str, float], ...], list[StudyPlan]]] = {}


class StudyPlanError(QuizError):
    """A topic practice that cannot be started (unknown plan or topic, a topic not open yet)."""

    code = "study_plan_error"


def load_plans(banks_path: Path) -> list[StudyPlan]:
    """The valid plans under `banks_path`/plans, by start date; re-read only when a file changed."""
    folder = Path(banks_path) / PLANS_DIR
    files = sorted(folder.glob("*.y*ml")) if folder.is_dir() else []
    stamp = tuple((str(path), path.stat().st_mtime) for path in files)
    cached = _cache.get(folder)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        plans = [loaded.plan for loaded in load_study_plans(files)] if files else []
    except StudyPlanLoadError as error:
        log.warning("学习计划有错误，未加载（运行 quizengine plans check 查看）：\n%s", error)
        plans = []
    plans.sort(key=lambda plan: (plan.start, plan.slug))
    _cache[folder] = (stamp, plans)
    return plans


@dataclass(frozen=True)
class Excerpt:
    """One 原文 sentence and where it is from."""

    text: str
    source: str


@dataclass(frozen=True)
class ChapterToRead:
    """A chapter (or a whole document) of a topic, with a few 原文 excerpts from its questions."""

    bank_title: str
    chapter_title: str
    excerpts: list[Excerpt]


@dataclass(frozen=True)
class TopicProgress:
    """The member's topic practice so far: finished sessions, answered and correct questions."""

    sessions: int = 0
    answered: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True)
class TopicView:
    """What a member sees of one topic."""

    plan: StudyPlan
    topic: Topic
    progress: TopicProgress
    reading: list[ChapterToRead]

    @property
    def study_day(self) -> date:
        return self.plan.study_day.in_week(self.topic.start)


def today(clock: Clock | None = None) -> date:
    """The committee's local day (weeks turn at Monday 00:00 Beijing time)."""
    return local_day((clock or SystemClock()).now())


def current_topics(session: Session, member: User, plans: Sequence[StudyPlan], day: date) -> list[TopicView]:
    """This week's topic of every plan running on `day`, with what to read and the member's progress."""
    views = []
    for plan in plans:
        topic = plan.topic_on(day)
        if topic is not None:
            progress = _progress(session, member, plan, [topic])[topic.key]
            views.append(TopicView(plan, topic, progress, _reading(session, member, topic)))
    return views


def past_topics(session: Session, member: User, plans: Sequence[StudyPlan], day: date) -> list[TopicView]:
    """Topics whose weeks are over, most recent first, with the member's progress (reading loads on their page)."""
    views = []
    for plan in plans:
        topics = plan.past(day)
        progress = _progress(session, member, plan, topics)
        views.extend(TopicView(plan, topic, progress[topic.key], []) for topic in topics)
    return sorted(views, key=lambda view: view.topic.start, reverse=True)


def topic_view(session: Session, member: User, plans: Sequence[StudyPlan], slug: str, key: str, day: date) -> TopicView:
    """One topic's page (current or past); a topic that has not started yet is not shown."""
    plan, topic = _find(plans, slug, key)
    if topic.start > day:
        raise StudyPlanError(f"专题“{topic.title}”从 {topic.start} 开始，还不能学习")
    return TopicView(
        plan, topic, _progress(session, member, plan, [topic])[topic.key], _reading(session, member, topic)
    )


def start_topic_practice(
    session: Session,
    member: User,
    plans: Sequence[StudyPlan],
    slug: str,
    key: str,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """A self-test session of the plan's practice size drawn from the topic's question chapters."""
    clock = clock or SystemClock()
    plan, topic = _find(plans, slug, key)
    if topic.start > today(clock):
        raise StudyPlanError(f"专题“{topic.title}”从 {topic.start} 开始，还不能练习")
    bank_ids, chapters = topic_questions(session, topic, visible_bank_ids(session, member))
    if not bank_ids:
        raise StudyPlanError("该专题的题库还没有导入，请联系管理员")
    request = practice.PracticeRequest(
        PracticeKind.RANDOM,
        bank_ids,
        chapters,
        count=plan.practice_count,
        title=f"专题练习 · {topic.title}",
        topic=f"{plan.slug}#{topic.key}",
    )
    return practice.start_practice(session, member, request, clock=clock, rng=rng)


def topic_questions(
    session: Session, topic: Topic, usable: Collection[int]
) -> tuple[tuple[int, ...], tuple[tuple[int, str], ...]]:
    """Where a topic's questions are, as question filters: the imported banks of its `questions` readings and,
    when any reading names chapters, the (bank, chapter) pairs (a whole-bank reading then stands for all its
    chapters); no banks when none is imported.

    `usable`: the banks the member (or, for a 小问答, the branch) may draw from. A topic on another branch's own
    bank is refused, saying so (`bank_admin.drawable_bank_ids`, the rule every draw keeps)."""
    try:
        drawable_bank_ids(session, [(reading.bank,) for reading in topic.questions], usable, ())
    except BankNotUsable:
        raise StudyPlanError(
            f"专题“{topic.title}”的题目在其他支部自己的题库里，本支部不能用它练习或开展小问答；请联系管理员"
        ) from None
    banks = {bank.slug: bank for bank in session.scalars(select(Bank).options(selectinload(Bank.categories)))}
    readings = [(banks[reading.bank], reading.chapters) for reading in topic.questions if reading.bank in banks]
    chapters: tuple[tuple[int, str], ...] = ()
    if any(keys for _, keys in readings):
        chapters = tuple(
            (bank.id, key) for bank, keys in readings for key in (keys or [c.key for c in bank.categories])
        )
    return tuple(dict.fromkeys(bank.id for bank, _ in readings)), chapters


def _find(plans: Sequence[StudyPlan], slug: str, key: str) -> tuple[StudyPlan, Topic]:
    plan = next((plan for plan in plans if plan.slug == slug), None)
    topic = plan.topic(key) if plan else None
    if plan is None or topic is None:
        raise StudyPlanError("没有找到该专题")
    return plan, topic


def topic_practice(
    session: Session, user_ids: Sequence[int], plan: StudyPlan, topics: Sequence[Topic]
) -> dict[tuple[int, str], TopicProgress]:
    """Finished topic practice of each member and topic, by (user id, topic key) — one grouped query (a session
    counts whenever it was done: a past topic can still be practised)."""
    tags = {f"{plan.slug}#{topic.key}": topic.key for topic in topics}
    if not user_ids or not tags:
        return {}
    rows = session.execute(
        select(
            Attempt.user_id,
            Attempt.study_topic,
            func.count(),
            func.sum(Attempt.answered_count),
            func.sum(Attempt.correct_count),
        )
        .where(
            Attempt.user_id.in_(list(user_ids)),
            Attempt.study_topic.in_(list(tags)),
            Attempt.status == AttemptStatus.FINISHED,
        )
        .group_by(Attempt.user_id, Attempt.study_topic)
    )
    return {
        (user_id, tags[tag]): TopicProgress(sessions, int(answered or 0), int(correct or 0))
        for user_id, tag, sessions, answered, correct in rows
    }


def _progress(session: Session, member: User, plan: StudyPlan, topics: Sequence[Topic]) -> dict[str, TopicProgress]:
    """The member's progress on each of `topics`."""
    found = topic_practice(session, [member.id], plan, topics)
    return {topic.key: found.get((member.id, topic.key), TopicProgress()) for topic in topics}


def _reading(session: Session, member: User, topic: Topic) -> list[ChapterToRead]:
    """The chapters to read, in the plan's order, each with a few 原文 excerpts from its questions (none from
    another branch's own bank: its questions are not the member's to see)."""
    banks = {
        bank.slug: bank
        for bank in session.scalars(
            select(Bank)
            .where(Bank.slug.in_({r.bank for r in topic.read}), bank_visible_clause(member))
            .options(selectinload(Bank.categories))
        )
    }
    reading = []
    for entry in topic.read:
        bank = banks.get(entry.bank)
        if bank is None:
            continue
        titles = {category.key: category.title for category in bank.categories}
        for key in entry.chapters or [None]:
            chapter_title = titles.get(key, key) if key else "全文"
            reading.append(ChapterToRead(bank.title, chapter_title, _excerpts(session, bank.id, key)))
    return reading


def _excerpts(session: Session, bank_id: int, chapter: str | None) -> list[Excerpt]:
    query = (
        select(QuestionRevision.content)
        .join(Question, Question.id == QuestionRevision.question_id)
        .where(
            Question.bank_id == bank_id,
            Question.retired.is_(False),
            QuestionRevision.number == Question.current_revision,
        )
        .order_by(Question.position)
    )
    if chapter is not None:
        query = query.where(Question.category == chapter)
    excerpts: dict[str, Excerpt] = {}
    for content in session.scalars(query):
        quote = (content or {}).get("quote")
        if quote and quote not in excerpts:
            excerpts[quote] = Excerpt(quote, (content or {}).get("reference", ""))
            if len(excerpts) == QUOTES_PER_CHAPTER:
                break
    return list(excerpts.values())


def week_label(topic: Topic) -> str:
    """`12月7日—12月13日` for the topic's weeks."""
    last = topic.end - timedelta(days=1)
    return f"{topic.start.month}月{topic.start.day}日—{last.month}月{last.day}日"

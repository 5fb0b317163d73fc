"""Live contests: teams and their devices, players, events, answers, results, plan files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Contest(Base):
    """A live contest: its plan, the pinned question revisions and the state machine's latest snapshot.

    Every transition rewrites `state` and appends a ContestEvent in the same transaction, so a server
    restart resumes exactly where the contest was (timers are re-armed from the stored deadlines).
    """

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    #: Short code members type to join (全员答题) and the projector's secret link token.
    pin: Mapped[str] = mapped_column(String(12), unique=True)
    projector_token: Mapped[str] = mapped_column(String(64), unique=True)
    plan: Mapped[dict[str, Any]]
    #: question external id -> revision id, fixed when the contest is created.
    revisions: Mapped[dict[str, Any]]
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: The state's current deadline, as a column so the timer loop finds due contests with one query.
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: Set when the host archives the contest: the contest list hides it (unless asked to show archived ones).
    archived_at: Mapped[datetime | None]
    #: Open events: people without an account may play 全员答题 by name (never in any learning record).
    allow_guests: Mapped[bool] = mapped_column(default=False, server_default=false())
    teams: Mapped[list[ContestTeam]] = relationship(back_populates="contest", order_by="ContestTeam.key")


class ContestTeam(Base):
    """A team of a contest. Its devices join with the secret of the team's QR link (unguessable) or the short
    code typed by hand (throttled); each device then gets its own token (identity ≠ socket id)."""

    __tablename__ = "contest_teams"
    __table_args__ = (UniqueConstraint("contest_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"))
    key: Mapped[str] = mapped_column(String(16))  # t1, t2, … as in the state
    name: Mapped[str] = mapped_column(String(100))
    join_code: Mapped[str] = mapped_column(String(12))
    #: ≥ 128 random bits, carried in the team's QR link (never typed).
    join_secret: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime | None]
    contest: Mapped[Contest] = relationship(back_populates="teams")


class ContestDevice(Base):
    """One device of a team (a team may have several): its token is its identity across reconnects."""

    __tablename__ = "contest_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("contest_teams.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    team: Mapped[ContestTeam] = relationship()


class ContestPlanFile(Base):
    """Who saved a contest plan file (BANKS_PATH/contests/<name>): saved plans belong to their author's branch.

    A file without a row is a shipped template: every organizer may read and use it, only an admin replace it.
    """

    __tablename__ = "contest_plan_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContestPlayer(Base):
    """A member who joined a contest by PIN for 全员答题: one row per join, so a join never rewrites the
    contest's state (the connect storm of a whole branch costs O(1) per member)."""

    __tablename__ = "contest_players"
    __table_args__ = (UniqueConstraint("contest_id", "player"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    player: Mapped[str] = mapped_column(String(32))  # the member's user id, as in "player:<id>" answers
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    #: The question seq shown when the player joined: they answer from the next question on.
    joined_seq: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: 全员答题 points so far (added at each reveal, in the reveal's transaction): the players' leaderboard.
    points: Mapped[float] = mapped_column(default=0.0, server_default="0")


class ContestEvent(Base):
    """The contest's event log: every accepted command, in order, with what it produced."""

    __tablename__ = "contest_events"
    __table_args__ = (UniqueConstraint("contest_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    command: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContestAnswer(Base):
    """One answer in a contest; the unique key makes a double tap impossible to count twice."""

    __tablename__ = "contest_answers"
    __table_args__ = (UniqueConstraint("contest_id", "question_seq", "participant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    question_seq: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(100))
    participant: Mapped[str] = mapped_column(String(100))  # "team:t1" or "player:<user id>"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    response: Mapped[Any | None] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class ContestResult(Base):
    """A member's (or team's) final result in a finished contest, for the learning record."""

    __tablename__ = "contest_results"
    __table_args__ = (UniqueConstraint("contest_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_name: Mapped[str] = mapped_column(String(100))
    team_place: Mapped[int] = mapped_column(Integer)
    team_score: Mapped[float] = mapped_column()
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    contest: Mapped[Contest] = relationship()

"""The study plan's study days and who attended them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class StudyDay(Base):
    """A branch's 学习日 for one topic of a study plan: held on a day, with its attendance and, when the
    organizer ran one, the 小问答 contest (whose players attended too).

    Plans are files, so the topic is named by the plan's slug and the topic's key; one row per branch and topic.
    """

    __tablename__ = "study_days"
    __table_args__ = (UniqueConstraint("branch_id", "plan_slug", "topic_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    plan_slug: Mapped[str] = mapped_column(String(100))
    topic_key: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contests.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attendance: Mapped[list[StudyAttendance]] = relationship(back_populates="day", cascade="all, delete-orphan")


class StudyAttendance(Base):
    """A member the organizer recorded as present at a 学习日 (members who joined its 小问答 count without a row)."""

    __tablename__ = "study_attendance"

    day_id: Mapped[int] = mapped_column(ForeignKey("study_days.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    day: Mapped[StudyDay] = relationship(back_populates="attendance")

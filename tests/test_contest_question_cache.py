"""The contest's parsed questions are cached per database: a revision id names one revision only within its
own database, so a process that has seen another database (the test suite, a tool) never shows that
database's question for this one's revision id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from quizengine.models import Question, QuestionRevision
from quizengine.services import contest_commands
from quizengine.services.banks import check_banks, sync_banks
from quizengine.services.schema import upgrade_database


def _bank(folder: Path, slug: str, stem: str) -> Path:
    path = folder / f"{slug}.yaml"
    path.write_text(
        f"bank: {slug}\ntitle: 题库\nquestions:\n  - {{id: {slug}-1, type: judge, stem: {stem}, answer: true}}\n",
        encoding="utf-8",
    )
    return path


def _revisions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Question.external_id, QuestionRevision.id).join(
            QuestionRevision, QuestionRevision.question_id == Question.id
        )
    )
    return dict(rows.all())


def test_a_revision_id_of_another_database_never_shows_its_question(
    app: Flask, runner: FlaskCliRunner, session: Session, tmp_path: Path, fresh_database_url: Callable[[], str]
) -> None:
    assert runner.invoke(args=["banks", "load", str(_bank(tmp_path, "alpha", "甲题"))]).exit_code == 0
    mine = _revisions(session)
    assert contest_commands._questions(session, mine)["alpha-1"].stem == "甲题"

    url = fresh_database_url()  # another database, whose first revision has the same id
    upgrade_database(url)
    engine = create_engine(url)
    try:
        with Session(engine) as other:
            sync_banks(other, check_banks([_bank(tmp_path, "beta", "乙题")]))
            theirs = _revisions(other)
            assert theirs["beta-1"] == mine["alpha-1"] or engine.dialect.name != "sqlite"
            assert contest_commands._questions(other, theirs)["beta-1"].stem == "乙题"
    finally:
        engine.dispose()
    assert contest_commands._questions(session, mine)["alpha-1"].stem == "甲题"

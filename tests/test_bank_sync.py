"""Syncing banks to the database: created, new revision, unchanged, retired, restored — history kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.loader import BankLoadError, load_banks
from quizengine.models import AUDIT_SUBJECT_MAX, AuditEntry, Bank, Question, QuestionRevision
from quizengine.services.banks import list_banks_with_counts, sync_banks

from .conftest import DATA

SAMPLE = (DATA / "sample_bank.yaml").read_text(encoding="utf-8")


def _bank(tmp_path: Path, text: str, name: str = "sample.yaml") -> list:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_banks([path])


def test_first_load_creates_everything(session: Session, tmp_path: Path, fake_clock) -> None:
    report = sync_banks(session, _bank(tmp_path, SAMPLE), clock=fake_clock)
    assert (report.created, report.updated, report.retired, report.unchanged) == (5, 0, 0, 0)
    bank = session.scalar(select(Bank).where(Bank.slug == "sample"))
    assert [c.key for c in bank.categories] == ["ch1", "ch2"]
    question = session.scalar(select(Question).where(Question.external_id == "s-fill-1"))
    assert question.revision.number == 1 and question.revision.content["answer"] == [["一年", "1年"], ["上级党组织"]]
    assert question.created_at == fake_clock.now()
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "banks.load")).detail["created"] == 5


def test_reload_unchanged_then_change_adds_revision_and_keeps_the_old(session: Session, tmp_path: Path) -> None:
    sync_banks(session, _bank(tmp_path, SAMPLE))
    assert sync_banks(session, _bank(tmp_path, SAMPLE)).unchanged == 5
    edited = SAMPLE.replace(
        "options: {A: 半年, B: 一年, C: 两年, D: 三年}", "options: {A: 半年, B: 一年, C: 两年, D: 五年}"
    )
    report = sync_banks(session, _bank(tmp_path, edited))
    assert (report.updated, report.unchanged) == (1, 4)
    question = session.scalar(select(Question).where(Question.external_id == "s-single-1"))
    assert [r.number for r in question.revisions] == [1, 2]
    assert question.revisions[0].content["options"]["D"] == "三年"
    assert question.revision.content["options"]["D"] == "五年"


def test_layout_only_changes_do_not_make_revisions(session: Session, tmp_path: Path) -> None:
    sync_banks(session, _bank(tmp_path, SAMPLE))
    reformatted = SAMPLE.replace("answer: [A, C]", "answer:\n      - C\n      - A")
    assert sync_banks(session, _bank(tmp_path, reformatted)).unchanged == 5


def test_removed_question_is_retired_then_restored(session: Session, tmp_path: Path) -> None:
    sync_banks(session, _bank(tmp_path, SAMPLE))
    without_short = SAMPLE[: SAMPLE.index("  - id: s-short-1")]
    report = sync_banks(session, _bank(tmp_path, without_short))
    assert report.retired == 1
    row = session.scalar(select(Question).where(Question.external_id == "s-short-1"))
    assert row.retired and row.retired_at is not None and row.revisions  # never deleted
    assert list_banks_with_counts(session)[0][1] == 4
    assert sync_banks(session, _bank(tmp_path, SAMPLE)).restored == 1
    assert not row.retired


def test_loading_one_bank_never_retires_another(session: Session, tmp_path: Path) -> None:
    sync_banks(session, _bank(tmp_path, SAMPLE))
    other = SAMPLE.replace("bank: sample", "bank: other").replace("id: s-", "id: o-")
    sync_banks(session, _bank(tmp_path, other, "other.yaml"))
    assert session.scalars(select(Question).where(Question.retired.is_(True))).all() == []


def test_id_owned_by_a_bank_outside_the_load_is_refused(session: Session, tmp_path: Path) -> None:
    sync_banks(session, _bank(tmp_path, SAMPLE))
    thief = SAMPLE.replace("bank: sample", "bank: thief")
    with pytest.raises(BankLoadError, match="题目 id 已被题库“sample”使用"):
        sync_banks(session, _bank(tmp_path, thief, "thief.yaml"))
    assert session.scalar(select(Bank).where(Bank.slug == "thief")) is None
    assert len(session.scalars(select(QuestionRevision)).all()) == 5


def test_cli_check_and_load_report_counts(runner: FlaskCliRunner) -> None:
    checked = runner.invoke(args=["banks", "check", "--strict", str(DATA / "sample_bank.yaml")])
    assert checked.exit_code == 0, checked.output
    assert "sample 共5题（单选题1，多选题1，判断题1，填空题1，简答题1）" in checked.output
    stats = runner.invoke(args=["banks", "check", "--stats", str(DATA)])
    assert "sample | 1 | 1 | 1 | 1 | 1 | 5 | 1/1/3/0/0" in stats.output
    loaded = runner.invoke(args=["banks", "load", str(DATA / "sample_bank.yaml")])
    assert loaded.exit_code == 0 and "新增 5，更新 0，停用 0，恢复 0，未变 0" in loaded.output


def test_a_load_of_many_banks_is_audited_within_the_subject_column(session: Session, tmp_path: Path) -> None:
    """The audit subject lists the loaded banks; 16 long slugs overflow its 200 characters, which
    PostgreSQL refused (the whole load failed). The subject is cut with …, the detail keeps every slug."""
    slugs = [f"a-rather-long-bank-slug-number-{n:02d}" for n in range(16)]
    for n, slug in enumerate(slugs):
        text = SAMPLE.replace("bank: sample", f"bank: {slug}").replace("id: s-", f"id: b{n}-")
        (tmp_path / f"{slug}.yaml").write_text(text, encoding="utf-8")
    sync_banks(session, load_banks([tmp_path]))
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "banks.load"))
    assert len(entry.subject) == AUDIT_SUBJECT_MAX and entry.subject.endswith("…")
    assert entry.subject.startswith("、".join(slugs)[:100]) and entry.detail["banks"] == slugs
    assert AuditEntry(subject="短").subject == "短"

"""支部布置的练习: setting a practice for the branch, members doing it, the organizer seeing who has, closing it;
bad input refused in Chinese with nothing written; access for member, another branch, inspector and anonymous."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.engine.timing import FakeClock
from quizengine.models import Attempt, AuditEntry, Bank, PracticeAssignee, PracticeAssignment, Role
from quizengine.services import assignments, dashboard, practice
from quizengine.services.access import NotAllowed
from quizengine.services.assignments import AssignmentError

from .conftest import csrf_token, login
from .test_summaries import _any

# 2026-12-10 10:00 in Shanghai.
NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
BRANCH = "第一党支部"


def _chapter_bank(tmp_path: Path) -> Path:
    """Two chapters of 6 judge questions each, and one chapter without questions."""
    lines = [
        "bank: zhangcheng",
        "title: 党章题库",
        "categories:",
        "  - {id: ch1, title: 第一章 党员}",
        "  - {id: ch2, title: 第二章 组织制度}",
        "  - {id: ch3, title: 第三章 空章}",
        "questions:",
    ]
    for chapter in ("ch1", "ch2"):
        lines += [
            f"  - {{id: {chapter}-{n}, type: judge, category: {chapter}, stem: {chapter}判断{n}, answer: true}}"
            for n in range(6)
        ]
    path = tmp_path / "zhangcheng.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def team(session: Session, runner: FlaskCliRunner, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert runner.invoke(args=["banks", "load", str(_chapter_bank(tmp_path))]).exit_code == 0
    organizer = make_user(Role.ORGANIZER, username="org", name="书记", branch=BRANCH)
    members = [make_user(username=f"m{n}", name=name, branch=BRANCH) for n, name in enumerate(("甲", "乙", "丙"))]
    members[2].active = False
    session.commit()
    bank_id = session.scalar(select(Bank.id))
    return organizer, members, bank_id


def _create(session: Session, actor, bank_id: int, branch_id: int | None = None, **changes):  # type: ignore[no-untyped-def]
    values = {"title": "专项练习：第一章", "chapters": [f"{bank_id}:ch1"], "count": "5", "due_on": "2026-12-20"}
    values.update(changes)
    branch_id = branch_id or actor.branch_id
    return assignments.create_assignment(session, actor, branch_id, clock=FakeClock(NOW), **values)  # type: ignore[arg-type]


def _do(session: Session, member, assignment_id: int, clock: FakeClock) -> Attempt:  # type: ignore[no-untyped-def]
    attempt = assignments.start_assignment(session, member, assignment_id, clock=clock)
    for item in attempt.items:
        practice.answer_item(session, member, attempt.id, item.position, _any(item), clock=clock)
    session.refresh(attempt)
    return attempt


def test_members_do_the_assignment_and_the_organizer_sees_who(session: Session, team) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, yi, bing), bank_id = team
    clock = FakeClock(NOW)
    assignment = _create(session, organizer, bank_id)
    # every active account of the branch: the organizer and 甲, 乙 — not the deactivated 丙
    progress = assignments.assignment_progress(session, organizer, assignment.id)
    assert [row.member.name for row in progress.rows] == sorted(["书记", "甲", "乙"])
    assert progress.pending == progress.rows and progress.chapter_titles == ["第一章 党员"]
    assert [task.progress.assignment.id for task in assignments.member_assignments(session, jia)] == [assignment.id]
    assert assignments.member_assignments(session, bing) == []

    attempt = _do(session, jia, assignment.id, clock)
    assert attempt.question_count == 5 and attempt.title == "支部布置 · 专项练习：第一章"
    assert all(item.question.category == "ch1" for item in attempt.items)
    assert attempt.mode == "self_test" and attempt.settings["assignment_id"] == assignment.id
    assert assignments.member_assignments(session, jia, pending_only=True) == []
    [task] = assignments.member_assignments(session, jia)  # the record page still shows it, done
    assert task.state.done
    with pytest.raises(AssignmentError, match="你已完成该练习"):
        assignments.start_assignment(session, jia, assignment.id, clock=clock)

    # stopping early is not done; starting again resumes an open session, else draws a new one
    started = assignments.start_assignment(session, yi, assignment.id, clock=clock)
    assert assignments.start_assignment(session, yi, assignment.id, clock=clock).id == started.id
    practice.answer_item(session, yi, started.id, 0, _any(started.items[0]), clock=clock)
    practice.finish_attempt(session, yi, started.id, clock=clock)
    progress = assignments.assignment_progress(session, organizer, assignment.id)
    assert [row.member.name for row in progress.done] == ["甲"]
    assert assignments.start_assignment(session, yi, assignment.id, clock=clock).id != started.id

    # the self-test session counts in the record like any other
    board = dashboard.branch_dashboard(session, organizer, organizer.branch_id, clock=clock)
    lines = assignments.reminder_lines(assignments.branch_assignments(session, organizer, organizer.branch_id))
    assert lines == ["· 支部布置的练习“专项练习：第一章”（截止12月20日）未完成：乙、书记"]
    text = dashboard.reminder_text(board, "https://dj.example.cn/", lines)
    assert lines[0] in text and text.endswith("https://dj.example.cn/")

    assignments.close_assignment(session, organizer, assignment.id, clock=clock)
    assert assignments.member_assignments(session, yi) == []
    with pytest.raises(AssignmentError, match="已被支部结束"):
        assignments.start_assignment(session, yi, assignment.id, clock=clock)
    with pytest.raises(AssignmentError, match="已经结束"):
        assignments.close_assignment(session, organizer, assignment.id, clock=clock)
    assert assignments.reminder_lines(assignments.branch_assignments(session, organizer, organizer.branch_id)) == []
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("assignments.%"))).all()
    assert actions == ["assignments.create", "assignments.close"]


def test_chosen_members_several_chapters_and_no_due_date(session: Session, team) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, yi, _), bank_id = team
    assignment = _create(
        session,
        organizer,
        bank_id,
        chapters=[f"{bank_id}:ch1", f"{bank_id}:ch2"],
        count=12,
        due_on="",
        member_ids=[str(yi.id)],
    )
    assert assignment.due_on is None and assignment.chapters == ["ch1", "ch2"]
    assert assignments.member_assignments(session, jia) == []
    attempt = _do(session, yi, assignment.id, FakeClock(NOW))
    assert attempt.question_count == 12 and {item.question.category for item in attempt.items} == {"ch1", "ch2"}
    with pytest.raises(NotAllowed):
        assignments.start_assignment(session, jia, assignment.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chapters": ["999:ch1"]}, "没有找到章节"),
        ({"chapters": ["{bank}:nope"]}, "没有找到章节“nope”"),
        ({"chapters": ["garbage"]}, "没有找到章节"),
        ({"chapters": []}, "请至少选择一个章节"),
        ({"chapters": ["{bank}:ch3"]}, "所选章节没有题目"),
        ({"count": "0"}, "题量须为 1–50 之间的整数"),
        ({"count": "51"}, "题量须为 1–50 之间的整数"),
        ({"count": "五"}, "题量须为 1–50 之间的整数"),
        ({"count": "7"}, "所选章节只有 6 道题"),
        ({"due_on": "2026-12-09"}, "截止日期不能早于今天"),
        ({"due_on": "2026-13-01"}, "截止日期格式不正确"),
        ({"title": "  "}, "请填写练习名称"),
        ({"title": "长" * 101}, "练习名称最多 100 个字"),
        ({"member_ids": []}, "请至少选择一名党员"),
        ({"member_ids": ["x"]}, "所选党员不属于本支部或已停用"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(session: Session, team, changes, message) -> None:  # type: ignore[no-untyped-def]
    organizer, _, bank_id = team
    changes = {
        key: [value.format(bank=bank_id) for value in values] if key == "chapters" else values
        for key, values in changes.items()
    }
    with pytest.raises(AssignmentError, match=message):
        _create(session, organizer, bank_id, **changes)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PracticeAssignment)) == 0
    assert session.scalar(select(func.count()).select_from(PracticeAssignee)) == 0
    assert (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("assignments.%"))) == 0
    )


def test_due_today_is_accepted_and_a_deactivated_or_foreign_member_cannot_be_chosen(
    session: Session, team, make_user
) -> None:  # type: ignore[no-untyped-def]
    organizer, (_, _, bing), bank_id = team
    stranger = make_user(username="stranger", branch="第二党支部")
    for member in (bing, stranger):
        with pytest.raises(AssignmentError, match="所选党员不属于本支部或已停用"):
            _create(session, organizer, bank_id, member_ids=[member.id])
    assert _create(session, organizer, bank_id, due_on="2026-12-10").due_on == date(2026, 12, 10)


def test_only_the_branch_organizer_or_an_admin_sets_and_closes(session: Session, team, make_user) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, *_), bank_id = team
    other = make_user(Role.ORGANIZER, username="other", branch="第二党支部")
    inspector = make_user(Role.INSPECTOR, username="ducha", branch=BRANCH)
    admin = make_user(Role.ADMIN, username="admin")
    for actor in (jia, other, inspector):
        with pytest.raises(NotAllowed):
            _create(session, actor, bank_id, organizer.branch_id)
    assignment = _create(session, admin, bank_id, organizer.branch_id)
    for actor in (jia, other, inspector):
        with pytest.raises(NotAllowed):
            assignments.close_assignment(session, actor, assignment.id)
    assert len(assignments.branch_assignments(session, inspector, organizer.branch_id)) == 1  # reads
    for actor in (jia, other):
        with pytest.raises(NotAllowed):
            assignments.assignment_progress(session, actor, assignment.id)
        with pytest.raises(NotAllowed):
            assignments.branch_assignments(session, actor, organizer.branch_id)
    session.expire_all()
    assert session.get(PracticeAssignment, assignment.id).closed_at is None


def test_pages_from_the_weak_chapter_to_the_member_home(client: FlaskClient, session: Session, team) -> None:  # type: ignore[no-untyped-def]
    organizer, (jia, *_), bank_id = team
    login(client, "org")
    form = client.get(f"/assignments/branch/{organizer.branch_id}/new?chapter={bank_id}:ch1")
    html = form.get_data(as_text=True)
    assert (
        form.status_code == 200 and 'value="专项练习：第一章 党员"' in html and f'value="{bank_id}:ch1" checked' in html
    )
    data = {"csrf_token": csrf_token(client), "title": "专项练习", "chapter": f"{bank_id}:ch1", "count": "99"}
    bad = client.post(f"/assignments/branch/{organizer.branch_id}/new", data=data)
    assert bad.status_code == 400 and "题量须为 1–50 之间的整数" in bad.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(PracticeAssignment)) == 0
    done = client.post(f"/assignments/branch/{organizer.branch_id}/new", data={**data, "count": "5"})
    assignment_id = session.scalar(select(PracticeAssignment.id))
    assert done.headers["Location"].endswith(f"/assignments/{assignment_id}")
    board = client.get(f"/dashboard/branch/{organizer.branch_id}").get_data(as_text=True)
    assert "支部布置的练习“专项练习”未完成：乙、书记、甲" in board
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "m0")
    home = client.get("/").get_data(as_text=True)
    assert "支部布置的练习" in home and "专项练习" in home and "开始练习（5题）" in home
    started = client.post(f"/assignments/{assignment_id}/start", data={"csrf_token": csrf_token(client)})
    assert "/practice/" in started.headers["Location"]
    assert session.get(PracticeAssignee, (assignment_id, jia.id)).attempt_id is not None


def test_a_branch_that_does_not_exist_is_a_404_even_for_an_admin(client: FlaskClient, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user(Role.ADMIN, username="admin")  # an admin may read every branch: the missing one must not reach the page
    login(client, "admin")
    for path in ("/assignments/branch/999999", "/study/branch/999999", "/study/branch/999999/jihua/1"):
        assert client.get(path).status_code == 404, path

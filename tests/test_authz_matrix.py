"""HTTP authorization matrix: every role × every rule of `app.url_map`, expected outcomes from ONE table.

The objects in the URLs are real and belong to branch A (member A's practice and exam attempts, branch A's
exam, contest, members); the roles include a member, an organizer and an inspector of branch B, so "another
branch's object" is tested on every route. The inspector (督导) of branch A reads and never writes: every
route that changes something answers them 403 (web.read_only), and nothing changed afterwards. A rule
missing from `EXPECTED` fails the test: a new route must declare who may use it. (The Socket.IO side is tested
in the contest tests.)

Outcome letters: o = the view ran (2xx, 3xx elsewhere, or a 4xx about the input), l = redirected to log in,
p = redirected to change the password first, f = 403, n = 404. A 500 is always a failure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quizengine.models import (
    AttemptItem,
    Bank,
    BankCategory,
    Branch,
    ExamOverride,
    PracticeAssignment,
    Question,
    QuestionReport,
    Role,
    VoidedQuestion,
)
from quizengine.modes.contest import ContestPlan, QuestionSource, RoundKind, RoundSpec
from quizengine.modes.self_test import PracticeKind
from quizengine.realtime import timers
from quizengine.services import (
    assignments,
    contest_commands,
    contest_setup,
    exam_saves,
    exam_taking,
    practice,
    study_plans,
)

from . import test_exams
from .conftest import login
from .test_exams import _now, _spec

setting = test_exams.setting  # fixture: exam bank, organizer "org" and members m0..m2 of branch A

ROLES = ("anonymous", "member", "stranger", "organizer", "foreign_organizer", "admin", "inspector", "foreign_inspector")
#: endpoint -> outcome per role, in ROLES order. The user who must change the password is the rule below.
EXPECTED: dict[str, str] = {
    "static": "oooooooo",
    "main.index": "oooooooo",
    "auth.login": "oooooooo",
    "auth.logout": "llllllll",  # logging out ends on the login page
    "auth.change_password": "looooooo",
    "main.large_text": "looooooo",  # 大字模式 toggle: any signed-in user
    "main.healthz": "oooooooo",  # which worker answers and whether its database does
    # self-test: a member's own attempts only; nobody else sees them (not even an organizer or admin)
    "practice.choose": "loooooff",
    "practice.start": "loooooff",
    "practice.wrong_book": "loooooff",
    "practice.remove_wrong": "loooooff",
    "practice.attempt": "lonnnnff",
    "practice.answer": "lonnnnff",
    "practice.feedback": "lonnnnff",
    "practice.finish": "lonnnnff",
    "practice.summary": "lonnnnff",
    # learning record: one's own; an organizer sees their branch's members; admin all
    "records.mine": "looooooo",
    "records.member": "lononoon",
    # exams: members of the exam's branches take it; organizers of the branch manage it
    "exams.index": "looooooo",
    "exams.start": "loooooff",  # not invited: a Chinese message on the exam list (no attempt is made)
    "exams.take": "lonnnnff",
    "exams.save": "lonnnnff",
    "exams.result": "lonnnnff",
    "exams.submit": "lonnnnff",
    "exams.tab_switch": "loooooff",  # counts only on the member's own open attempt, a no-op otherwise
    "exams.new": "lffoooff",  # an organizer schedules for their own branch
    "exams.manage": "lffonoon",
    "exams.export": "lffonoon",
    "exams.grading": "lffonoff",
    "exams.member_attempt": "lffonoon",
    # another branch's organizer: the service refuses with a flashed message and changes nothing
    "exams.grade": "lffoooff",
    "exams.regrade": "lffonoff",
    "exams.void": "lffoooff",
    "exams.override": "lffoooff",
    "exams.release": "lffonoff",
    "exams.redraw": "lffonoff",  # exam-wide: the exam's own organizer (a published one: refused with a message)
    "exams.publish": "lffonoff",
    # printed papers: the exam's paper for whoever reads the exam; a drawn paper for any reader; members never
    # (the answer key is on it)
    "papers.exam": "lffonoon",
    "papers.draw": "lffooooo",
    # organization: organizers of the branch and admins (another branch's organizer: 403)
    "org.index": "lffooooo",
    "org.new_branch": "lffffoff",
    "org.branch": "lffofoof",
    "org.new_group": "lffofoff",
    "org.new_member": "lffofoff",
    "org.import_members": "lffofoff",
    "org.confirm_import": "lffofoff",
    "org.edit_member": "lffofoff",
    "org.reset_member_password": "lffofoff",
    "org.deactivate": "lffofoff",
    "org.reactivate": "lffofoff",
    "org.download_template": "lffoooff",
    # 任命: admins any account, an organizer the members of their branch; inspectors' accounts: admins only
    "org.member_role": "lffofoff",
    "org.inspectors": "lffffoff",
    "org.new_inspector": "lffffoff",
    # contests: organizers host; the team and projector pages are for devices in the room
    "contests.index": "loooooff",
    "contests.create": "lffoooff",
    "contests.plan_new": "lffoooff",
    "contests.plan_submit": "lffoooff",
    "contests.host": "lffofoff",
    "contests.projector": "ooooooff",
    "contests.team": "ooooooff",
    "contests.play": "loooooff",
    # the QR codes carry the PIN and the team secrets: the projector (its token, tested apart) and hosts only
    "contests.join_qr": "nnnonoff",
    "contests.team_qr": "lffofoff",
    "contests.team_codes": "lffofoff",
    # results, Excel export, ending and archiving: whoever may host the contest
    "contest_results.results": "lffofoff",
    "contest_results.export": "lffofoff",
    "contest_results.archive": "lffofoff",
    # 纠错: a member reports items of their own papers (this exam's review is not visible yet: a message);
    # a contest's questions are for its players and hosts (this one is not finished: a message)
    "corrections.report_item": "lonnnnff",
    "corrections.contest": "lnnonoff",
    "corrections.report_contest": "lnnonoff",
    "corrections.mine": "loooooff",
    # the queue: organizers see their branch's reports (another branch's: an empty queue), admins all
    "corrections.queue": "lffoooff",
    "corrections.resolve": "lffofoff",
    # 验收标准: organizers see theirs; the committee default is the admin's, a branch's its organizer's
    "standards.index": "lnnoooff",
    "standards.committee": "lnnnnoff",
    "standards.branch": "lnnonoff",
    "standards.reset": "lnnonoff",
    # the branch dashboard: the branch's organizer, its inspector and admins (read-only)
    "dashboard.index": "lnnooooo",
    "dashboard.branch": "lnnonoon",
    # 支部布置的练习: the branch's organizer sets and closes, its inspector reads; the assigned member (m0) starts
    "assignments.index": "lnnonoon",
    "assignments.detail": "lnnonoon",
    "assignments.new": "lnnonoff",
    "assignments.close": "lnnonoff",
    "assignments.start": "lonnnnff",
    # the committee overview: admins (every branch) and inspectors (their assigned branches only)
    "dashboard.overview": "lnnnnooo",
    # printable reports and Excel exports: the same readers as the pages they print
    "dashboard.branch_print": "lnnonoon",
    "dashboard.branch_export": "lnnonoon",
    "dashboard.overview_print": "lnnnnooo",
    "dashboard.overview_export": "lnnnnooo",
    # 学习计划: the committee's plan is everyone's to read; inspectors do not practise
    "study.index": "looooooo",
    "study.topic": "looooooo",
    "study.practise": "loooooff",
    # 学习日: the branch's organizer records attendance; its inspector reads the branch's study days
    "study.branch": "lnnonoon",
    "study.attendance": "lnnonoff",
    # 学习日小问答: the branch's organizer (or an admin) starts it; anyone else is told why (403)
    "study.quiz": "lffofoff",
    # 检查督导 and 通报: admins (every branch) and inspectors (their assigned branches)
    "study_checks.index": "lffffooo",
    "study_checks.bulletin": "lffffooo",
    "study_checks.export": "lffffooo",
    # 题库管理: organizers and admins; inspectors read. The world's bank is the committee's (shared): every
    # reader sees it; a member is refused (a bank or question page: as if it did not exist)
    "banks.index": "lffooooo",
    "banks.template": "lffooooo",
    "banks.export": "lnnooooo",
    "banks.search": "lffooooo",
    "banks.question": "lnnooooo",
    # importing: admins and organizers (an inspector is read-only); a held upload is its uploader's session's
    # only, and this one was never uploaded in any role's session (tested apart in test_bank_upload_pages)
    "banks.upload": "lffoooff",
    "banks.preview": "lffnnnff",
    "banks.save": "lffnnnff",
}
#: What a user who must change the password may still reach (everything else redirects to the form).
PASSWORD_CHANGE_REACHES = {"static", "auth.change_password", "auth.logout", "main.healthz"}


@dataclass
class World:
    """Real ids of branch A's objects, by URL argument name (and blueprint where a name is ambiguous)."""

    args: dict[str, dict[str, object]]
    #: A well-formed body per POST endpoint, so the request reaches the authorization decision.
    bodies: dict[str, dict[str, object]]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    contest_commands._machine_cache.clear()
    contest_commands._player_cache.clear()
    timers._last_rosters.clear()
    timers._last_counts.clear()


@pytest.fixture
def world(app: Flask, session: Session, make_user, setting) -> World:  # type: ignore[no-untyped-def]
    organizer, (member, *_) = setting
    make_user(username="stranger", branch="第二党支部")
    make_user(Role.ORGANIZER, username="foreign_organizer", branch="第二党支部")
    make_user(Role.ADMIN, username="admin")
    make_user(Role.INSPECTOR, username="inspector", branch=test_exams.BRANCH)
    make_user(Role.INSPECTOR, username="foreign_inspector", branch="第二党支部")
    make_user(username="must_change", branch=test_exams.BRANCH).must_change_password = True
    session.commit()
    exam = test_exams.scheduled(session, organizer, _spec(session, _now()))
    exam_attempt = exam_taking.start_exam(session, member, exam.id)
    short_item = next(item for item in exam_attempt.items if item.revision.content["type"] == "short")
    exam_saves.save_answer(session, member.id, exam_attempt.id, short_item.position, "简答的回答")
    exam_taking.submit_exam(session, member, exam_attempt.id)  # its 简答 waits for grading
    drill = practice.start_practice(session, member, practice.PracticeRequest(PracticeKind.CUSTOM, count=5))
    plan = ContestPlan("支部知识竞赛", (RoundSpec(RoundKind.EVERYONE, "全员答题", QuestionSource(count=1), points=10),))
    contest = contest_setup.create_contest(session, organizer, plan, rng=random.Random(1))
    report = QuestionReport(
        question_id=short_item.question_id,
        revision_id=short_item.revision_id,
        user_id=member.id,
        branch_id=member.branch_id,
        reason="answer",
        source="exam",
        source_id=exam_attempt.id,
        open_question_id=short_item.question_id,
    )
    session.add(report)
    session.commit()
    assignment = assignments.create_assignment(
        session,
        organizer,
        member.branch_id,
        title="专项练习",
        chapters=[_a_chapter(session)],
        count=1,
        member_ids=[member.id],
    )
    common = {
        "user_id": member.id,
        "branch_id": member.branch_id,
        "exam_id": exam.id,
        "item_id": short_item.id,
        "contest_id": contest.id,
        "token": contest.projector_token,
        "key": contest.teams[0].key,
        "question_id": drill.items[0].question_id,
        "position": 0,
        "filename": "css/app.css",
        "report_id": report.id,
        "assignment_id": assignment.id,
        "bank_id": session.scalar(select(Bank.id)),
        "fmt": "xlsx",
    }
    return World(
        {
            "practice": {**common, "attempt_id": drill.id},
            "exams": {**common, "attempt_id": exam_attempt.id},
            "study": {**common, **_study_plan(app, session)},
            "banks": {**common, "token": "A" * 32},
            "": common,
        },
        {
            "exams.save": {"json": {"position": 0, "response": None}},
            "practice.answer": {"position": "0"},
            "exams.grade": {"score": "1", "exam_id": str(exam.id)},
            "exams.void": {"question_id": str(short_item.question_id), "mode": "full", "reason": "题目有误"},
            "exams.override": {"member_id": str(member.id), "extra_attempts": "1"},
            "org.new_branch": {"name": "新支部"},
            "corrections.report_item": {"reason": "answer", "text": "答案有误"},
            "corrections.report_contest": {"reason": "answer", "text": "答案有误"},
            "corrections.resolve": {"outcome": "rejected", "note": "题目无误"},
        },
    )


def _study_plan(app: Flask, session: Session) -> dict[str, str]:
    """A plan whose first topic (the exam bank's ch1) is this week's; its URL arguments."""
    folder = Path(app.config["BANKS_PATH"]) / "plans"
    folder.mkdir()
    monday = study_plans.today() - timedelta(days=study_plans.today().weekday())
    bank = session.scalar(select(Bank.slug))
    (folder / "jihua.yaml").write_text(
        f"version: 1\ntitle: 计划\nstart: {monday}\nstudy_day: {{weekday: 3}}\n"
        f"topics:\n  - title: 专题\n    read: [{{bank: {bank}, chapters: [ch1]}}]\n",
        encoding="utf-8",
    )
    return {"slug": "jihua", "key": "1"}


def _a_chapter(session: Session) -> str:
    """A chapter for the assignment: the exam bank has none, so file its questions under one."""
    bank_id = session.scalar(select(Question.bank_id).limit(1))
    session.add(BankCategory(bank_id=bank_id, key="ch1", title="第一章", position=0))
    session.execute(update(Question).values(category="ch1"))
    session.commit()
    return f"{bank_id}:ch1"


def _outcome(client: FlaskClient, method: str, url: str, body: dict[str, object]) -> str:
    if isinstance(body.get("json"), dict):
        response = client.open(url, method=method, json=body["json"])
    else:
        response = client.open(url, method=method, data=body, headers={"Accept": "text/html"})
    response.close()
    status, target = response.status_code, urlsplit(response.headers.get("Location", "")).path
    assert status < 500, f"{method} {url}: {status}"
    if status in {302, 303} and target == "/login":
        return "l"
    if status in {302, 303} and target == "/account/password":
        return "p"
    return {403: "f", 404: "n"}.get(status, "o")


def _requests(app: Flask, world: World) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule: GETs first, then POSTs, logging out last."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.partition(".")[0]
            values = world.args.get(blueprint, world.args[""])
            args = {name: values[name] for name in rule.arguments}
            url = app.url_for(rule.endpoint, **args)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return sorted(found, key=lambda entry: (entry[0] == "auth.logout", entry[1] != "GET", entry[0]))


@pytest.mark.parametrize("role", [*ROLES, "must_change"])
def test_every_route_answers_every_role_as_declared(
    app: Flask, client: FlaskClient, session: Session, world: World, role: str
) -> None:
    if role != "anonymous":
        login(client, "org" if role == "organizer" else "m0" if role == "member" else role)
    app.config["WTF_CSRF_ENABLED"] = False  # the matrix is about who may; CSRF has its own tests
    wrong = []
    for endpoint, method, url in _requests(app, world):
        assert endpoint in EXPECTED, f"{endpoint} has no row in EXPECTED: declare who may use the new route"
        if role == "must_change":
            expected = EXPECTED[endpoint][ROLES.index("member")] if endpoint in PASSWORD_CHANGE_REACHES else "p"
        else:
            expected = EXPECTED[endpoint][ROLES.index(role)]
        got = _outcome(client, method, url, world.bodies.get(endpoint, {}) if method == "POST" else {})
        if got != expected:
            wrong.append(f"{method} {url} ({endpoint}): expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)
    if role in {"anonymous", "stranger", "foreign_organizer", "must_change", "inspector", "foreign_inspector"}:
        # refused means nothing changed
        session.expire_all()
        item = session.get(AttemptItem, world.args["exams"]["item_id"])
        assert item is not None and item.verdict == "pending" and item.score == 0
        for model in (ExamOverride, VoidedQuestion):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.scalars(select(QuestionReport.status)).all() == ["open"]
        assert session.scalar(select(func.count()).select_from(Branch)) == 2
        assert session.scalars(select(PracticeAssignment.closed_at)).all() == [None]


def test_the_table_has_no_stale_rows(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(EXPECTED) <= endpoints, set(EXPECTED) - endpoints
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


def test_an_inspector_writes_nothing(app: Flask) -> None:
    """Every route that takes a write method refuses both inspectors, except their own account's settings."""
    from quizengine.web.read_only import OWN_ACCOUNT

    for rule in app.url_map.iter_rules():
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"} and rule.endpoint not in OWN_ACCOUNT:
            row = EXPECTED[rule.endpoint]
            assert (row[ROLES.index("inspector")], row[ROLES.index("foreign_inspector")]) == ("f", "f"), rule.endpoint

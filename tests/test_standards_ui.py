"""验收标准 pages: the admin edits the committee default, an organizer their branch's; bad input changes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import AcceptanceStandard, Role
from quizengine.services import standards

from .conftest import csrf_token, login


def test_admin_and_organizer_edit_their_standards(client: FlaskClient, session: Session, make_user) -> None:
    make_user(Role.ADMIN, username="admin")
    organizer = make_user(Role.ORGANIZER, username="org")
    login(client, "admin")
    page = client.get("/standards/").get_data(as_text=True)
    assert "党委标准（每月）" in page and "自测不少于 4 次" in page
    token = csrf_token(client, "/standards/committee")
    form = {"csrf_token": token, "period": "month", "sessions": "2", "questions": "", "exam": "y", "points": "30"}
    response = client.post("/standards/committee", data=form)
    assert response.status_code == 302
    assert standards.standard_for_branch(session, None).describe() == [
        "自测不少于 2 次",
        "参加本期考试并及格",
        "学习积分不少于 30 分",
    ]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "org")
    assert client.get("/standards/committee").status_code == 404
    url = f"/standards/branch/{organizer.branch_id}"
    token = csrf_token(client, url)
    bad = [
        ({"period": "month", "sessions": "0"}, "自测次数不少于应在 1 到 10000 之间"),
        ({"period": "month"}, "验收标准至少需要一条规则"),
        ({"period": "week", "sessions": "3"}, "不是有效的选择"),
        ({"period": "month", "days": "3", "active_days": "abc"}, "不是有效的整数"),
    ]
    for data, message in bad:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), message
    assert session.scalar(select(func.count()).select_from(AcceptanceStandard)) == 1  # only the committee's
    response = client.post(url, data={"csrf_token": token, "period": "quarter", "questions": "120", "contests": "1"})
    assert response.status_code == 302
    own = standards.standard_for_branch(session, organizer.branch_id)
    assert own.describe() == ["答题不少于 120 道", "参加知识竞赛不少于 1 次"]
    page = client.get("/standards/").get_data(as_text=True)
    assert "本支部标准" in page and "党委标准" in page
    assert client.post(f"/standards/branch/{organizer.branch_id}/reset", data={"csrf_token": token}).status_code == 302
    assert standards.standard_for_branch(session, organizer.branch_id).describe()[0] == "自测不少于 2 次"

"""Roster import: .xlsx and CSV (UTF-8, BOM, GBK), per-row errors, all or nothing, and the HTTP flow."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.models import AuditEntry, MemberStatus, PartyGroup, Role, User
from quizengine.services.access import NotAllowed
from quizengine.services.accounts import verify_password
from quizengine.services.organization import create_group
from quizengine.services.roster import (
    COLUMNS,
    RosterError,
    UploadStore,
    import_roster,
    parse_roster,
    preview_roster,
    roster_template,
)

from .conftest import csrf_token, login

HEADER = list(COLUMNS)


def xlsx(*rows: list[object], header: list[str] = HEADER) -> bytes:
    """An .xlsx file with the header and rows given."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(text: str, encoding: str) -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


@pytest.fixture
def organizer(make_user: Callable[..., User]) -> User:
    """The organizer of 第一党支部 (with one existing member, phone 13800000001)."""
    make_user(username="existing", phone="13800000001")
    return make_user(Role.ORGANIZER, username="org_a")


def _members(session: Session) -> dict[str, User]:
    return {user.username: user for user in session.scalars(select(User).where(User.role == Role.MEMBER))}


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (User, PartyGroup, AuditEntry))


# --- reading and checking ------------------------------------------------------------------------------


def test_good_xlsx_imports_every_member_with_one_time_passwords(session: Session, organizer: User) -> None:
    create_group(session, organizer, organizer.branch_id, "第一党小组")
    data = xlsx(
        ["张三", "zhangsan", 13900000001, "第一党小组", "正式"],  # phone typed as a number
        ["李四", None, "139 0000 0002", "第二党小组", "预备"],  # blank username: the phone logs in
        [],  # blank rows are skipped
        ["王五", "wangwu", None, None, None],  # no phone, no group, blank category = 正式
    )
    preview = preview_roster(session, organizer, organizer.branch_id, data)
    assert preview.ok and preview.new_groups == ("第二党小组",)
    assert [(row.line, row.username, row.status) for row in preview.rows] == [
        (2, "zhangsan", MemberStatus.FULL),
        (3, "13900000002", MemberStatus.PROBATIONARY),
        (5, "wangwu", MemberStatus.FULL),
    ]
    assert _counts(session)[0] == 2  # a preview writes nothing

    issued = import_roster(session, organizer, organizer.branch_id, data)
    assert [(account.name, account.username, account.group) for account in issued] == [
        ("张三", "zhangsan", "第一党小组"),
        ("李四", "13900000002", "第二党小组"),
        ("王五", "wangwu", ""),
    ]
    members = _members(session)
    lisi = members["13900000002"]
    assert lisi.phone == "13900000002" and lisi.member_status == MemberStatus.PROBATIONARY
    assert lisi.branch_id == organizer.branch_id and lisi.party_group.name == "第二党小组"
    assert members["zhangsan"].phone == "13900000001" and members["wangwu"].party_group is None
    for account in issued:
        user = members[account.username]
        assert user.must_change_password and user.active and verify_password(user.password_hash, account.password)
    summary = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster.import"))
    assert summary.actor_id == organizer.id and summary.detail == {"created": 3, "groups": ["第二党小组"]}
    created = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "users.create", AuditEntry.actor_id == organizer.id)
    )
    assert sorted(entry.subject for entry in created) == ["13900000002", "wangwu", "zhangsan"]


def test_gbk_csv_is_read(session: Session, organizer: User) -> None:
    data = csv_bytes("姓名,用户名,手机号,党小组,党员类别\n欧阳娜娜,,13900000011,机关党小组,预备党员\n", "gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    (account,) = import_roster(session, organizer, organizer.branch_id, data)
    user = _members(session)["13900000011"]
    assert (account.name, user.name, user.party_group.name) == ("欧阳娜娜", "欧阳娜娜", "机关党小组")
    assert user.member_status == MemberStatus.PROBATIONARY


def test_utf8_csv_with_bom_and_columns_in_any_order(session: Session, organizer: User) -> None:
    data = csv_bytes("\ufeff手机号,姓名\n13900000021,陈晨\n", "utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    import_roster(session, organizer, organizer.branch_id, data)
    assert _members(session)["13900000021"].name == "陈晨"


def test_plain_utf8_csv_and_tab_separated_text(session: Session, organizer: User) -> None:
    assert parse_roster(csv_bytes("姓名,用户名\n周一,zhouyi\n", "utf-8"))[0].username == "zhouyi"
    assert parse_roster("姓名\t用户名\r\n吴二\twuer\r\n".encode("utf-16"))[0].name == "吴二"


def test_duplicates_are_reported_per_row_and_nothing_is_written(session: Session, organizer: User) -> None:
    data = xlsx(
        ["甲", "dup", None, "新小组", None],
        ["乙", "DUP", None, None, None],  # usernames compare case-insensitively
        ["丙", None, 13900000031, None, None],
        ["丁", "ding", "13900000031", None, None],  # same phone as row 4
        ["戊", "existing", None, None, None],  # already in the database
        ["己", "ji", 13800000001, None, None],  # phone already in the database
        ["庚", "geng", None, None, None],  # fine on its own
    )
    before = _counts(session)
    preview = preview_roster(session, organizer, organizer.branch_id, data)
    problems = {row.line: row.errors for row in preview.error_rows}
    assert problems == {
        2: ("用户名或手机号“dup”与第3行重复",),
        3: ("用户名或手机号“DUP”与第2行重复",),
        4: ("用户名或手机号“13900000031”与第5行重复",),
        5: ("用户名或手机号“13900000031”与第4行重复",),
        6: ("用户名“existing”已被其他账号使用",),
        7: ("手机号“13800000001”已被其他账号使用",),
    }
    with pytest.raises(RosterError, match="6行存在问题，未导入任何成员") as refused:
        import_roster(session, organizer, organizer.branch_id, data)
    assert refused.value.preview is not None and len(refused.value.preview.error_rows) == 6
    assert _counts(session) == before  # no user, no group, no audit entry


def test_every_row_problem_names_its_row(session: Session, organizer: User) -> None:
    rows = parse_roster(
        xlsx(
            [None, "noname", None, None, None],
            ["无账号", None, None, None, None],
            ["坏手机", None, "1380000", None, None],
            ["坏手机二", None, 23800000000, None, None],
            ["坏类别", "leibie", None, None, "入党积极分子"],
            ["有空格", "a b", None, None, None],
            ["科学计数", None, "1.39E+10", None, None],
        )
    )
    assert {row.line: row.errors for row in rows} == {
        2: ("缺少姓名",),
        3: ("用户名和手机号至少填写一项",),
        4: ("手机号“1380000”格式不正确（应为1开头的11位数字）",),
        5: ("手机号“23800000000”格式不正确（应为1开头的11位数字）",),
        6: ("党员类别“入党积极分子”无效，只能填“正式”或“预备”（空白按正式）",),
        7: ("用户名“a b”无效（不能含空格，最多64个字符）",),
        8: (
            "手机号“1.39E+10”格式不正确（应为1开头的11位数字）",
            "手机号被 Excel 存成了科学计数法：请把该列设为“文本”格式，重新填写后再导出",
        ),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "请上传 Excel 工作簿（.xlsx）或 CSV 文件"),
        (b"PK\x03\x04 not really a zip", "请上传 Excel 工作簿（.xlsx）或 CSV 文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "不支持旧版 Excel 文件（.xls）"),
        (b"", "文件是空的"),
        ("张三,zhangsan,13900000001\n".encode(), "第1行不是表头"),
        (xlsx(["张三", "zs"], header=["姓名", "用户名", "年龄"]), "无法识别的列：年龄"),
        (xlsx(["zs"], header=["用户名"]), "缺少“姓名”列"),
        (xlsx(["张三"], header=["姓名"]), "至少需要“用户名”或“手机号”列"),
        (xlsx(header=HEADER), "表头下面没有成员数据"),
        ("姓名,姓名\n张三,李四\n".encode(), "出现了不止一次"),
        (b"\xe5\xa7\x93\xe5,\xff\x80\n", "无法识别 CSV 文件的编码"),
    ],
)
def test_broken_files_get_a_clear_error_and_write_nothing(
    session: Session, organizer: User, data: bytes, message: str
) -> None:
    before = _counts(session)
    with pytest.raises(RosterError, match=re.escape(message)):
        import_roster(session, organizer, organizer.branch_id, data)
    assert _counts(session) == before


def test_organizer_cannot_import_into_another_branch(
    session: Session, organizer: User, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.ORGANIZER, username="org_b", branch="第二党支部")
    data = xlsx(["张三", "zhangsan", None, None, None])
    for action in (preview_roster, import_roster):
        with pytest.raises(NotAllowed):
            action(session, other, organizer.branch_id, data)
    assert "zhangsan" not in _members(session)


def test_template_has_the_header_and_an_example_and_imports_as_is(session: Session, organizer: User) -> None:
    data = roster_template()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and rows[1] == ("张三", "zhangsan", "13800000000", "第一党小组", "正式")
    assert preview_roster(session, organizer, organizer.branch_id, data).ok


def test_upload_store_keeps_files_by_token_and_sweeps_old_ones(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "uploads", max_age_seconds=60)
    token = store.save(b"roster")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token) and store.load(token) == b"roster"
    assert store.load("../../etc/passwd") is None and store.load("x" * 32) is None
    store.discard(token)
    assert store.load(token) is None
    old = store.save(b"old")
    store.sweep(now=(tmp_path / "uploads" / old).stat().st_mtime + 61)
    assert store.load(old) is None


# --- HTTP ----------------------------------------------------------------------------------------------


def _upload(client: FlaskClient, branch_id: int, data: bytes, filename: str = "名册.xlsx"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/org/branches/{branch_id}/import")
    return client.post(
        f"/org/branches/{branch_id}/import",
        data={"file": (io.BytesIO(data), filename), "csrf_token": token},
        content_type="multipart/form-data",
    )


def _uploads(app: Flask) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_preview_then_confirm_over_http(client: FlaskClient, app: Flask, session: Session, organizer: User) -> None:
    branch_id = organizer.branch_id
    login(client, "org_a")
    assert "批量导入名册" in client.get(f"/org/branches/{branch_id}").get_data(as_text=True)
    preview = _upload(
        client, branch_id, xlsx(["张三", "zhangsan", None, "第一党小组", None], ["李四", None, 13900000041])
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "确认导入" in page and "将新建党小组：第一党小组" in page
    assert "zhangsan" in page and "13900000041" in page
    assert len(_uploads(app)) == 1 and "zhangsan" not in _members(session)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)

    done = client.post(
        f"/org/branches/{branch_id}/import/confirm", data={"token": token, "csrf_token": csrf_token(client, "/")}
    )
    result = done.get_data(as_text=True)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    members = _members(session)
    passwords = re.findall(r'<td class="otp-cell">([^<]+)</td>', result)
    assert len(passwords) == 2 and verify_password(members["zhangsan"].password_hash, passwords[0])
    assert members["13900000041"].name == "李四"
    assert _uploads(app) == []  # the file is deleted after confirming

    again = client.post(
        f"/org/branches/{branch_id}/import/confirm", data={"token": token, "csrf_token": csrf_token(client, "/")}
    )
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/org/branches/{branch_id}/import")
    assert len(_members(session)) == len(members)


def test_preview_with_errors_over_http_keeps_nothing(
    client: FlaskClient, app: Flask, session: Session, organizer: User
) -> None:
    login(client, "org_a")
    data = csv_bytes("姓名,用户名\n甲,same\n乙,same\n", "gbk")
    response = _upload(client, organizer.branch_id, data, "名册.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "其中 2 行有问题" in page and "与第3行重复" in page
    assert "确认导入" not in page and _uploads(app) == []
    assert "same" not in _members(session)


def test_broken_or_missing_file_over_http(client: FlaskClient, app: Flask, organizer: User) -> None:
    login(client, "org_a")
    broken = _upload(client, organizer.branch_id, b"\x89PNG\r\n\x1a\n\x00\x00", "名册.xlsx")
    assert broken.status_code == 400 and "无法读取该文件" in broken.get_data(as_text=True)
    wrong_type = _upload(client, organizer.branch_id, b"whatever", "名册.pdf")
    assert wrong_type.status_code == 400 and "只支持 Excel 工作簿" in wrong_type.get_data(as_text=True)
    token = csrf_token(client, "/")
    missing = client.post(f"/org/branches/{organizer.branch_id}/import", data={"csrf_token": token})
    assert missing.status_code == 400 and "请选择名册文件" in missing.get_data(as_text=True)
    assert _uploads(app) == []


def test_a_token_from_elsewhere_is_refused(
    client: FlaskClient, app: Flask, session: Session, organizer: User, make_user: Callable[..., User]
) -> None:
    token = UploadStore(Path(app.instance_path) / "uploads").save(xlsx(["张三", "zhangsan", None, None, None]))
    login(client, "org_a")
    forged = client.post(
        f"/org/branches/{organizer.branch_id}/import/confirm",
        data={"token": token, "csrf_token": csrf_token(client, "/")},
    )
    assert forged.status_code == 302 and "zhangsan" not in _members(session)
    other = make_user(Role.ORGANIZER, username="org_b", branch="第二党支部")
    assert client.get(f"/org/branches/{other.branch_id}/import").status_code == 403
    own = _upload(client, organizer.branch_id, xlsx(["李四", "lisi", None, None, None]))
    own_token = re.search(r'name="token" value="([^"]+)"', own.get_data(as_text=True)).group(1)
    cross = client.post(
        f"/org/branches/{other.branch_id}/import/confirm",
        data={"token": own_token, "csrf_token": csrf_token(client, "/")},
    )
    assert cross.status_code == 403 and "lisi" not in _members(session)


def test_template_download_opens_with_openpyxl(client: FlaskClient, organizer: User) -> None:
    login(client, "org_a")
    response = client.get("/org/roster-template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADER


def test_members_and_anonymous_users_cannot_import(
    client: FlaskClient, organizer: User, make_user: Callable[..., User]
) -> None:
    path = f"/org/branches/{organizer.branch_id}/import"
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, "existing")
    assert client.get(path).status_code == 403
    assert client.get("/org/roster-template.xlsx").status_code == 403

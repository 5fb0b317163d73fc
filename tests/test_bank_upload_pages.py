"""题库管理 import in the browser: upload → preview (questions as members see them, every problem by row) → save
as a new bank or merged into one (a changed question becomes a new revision); bad input saves nothing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quizengine.banks.importing import common
from quizengine.extensions import db
from quizengine.models import AuditEntry, Bank, Branch, Question, Role
from quizengine.services import bank_uploads
from quizengine.services.setup import first_run
from quizengine.web import banks as bank_pages

from . import test_exams
from .bank_files import HEADER, xlsx_bytes
from .conftest import csrf_token, login

setting = test_exams.setting  # fixture: exam bank (shared), organizer "org" and members m0..m2 of branch A
ROWS = [
    HEADER,
    ["单选题", "党的最高理想和最终目标是（  ）。", "实现共产主义", "小康社会", "共同富裕", "民族复兴", "A", "党章总纲"],
    ["判断题", "预备党员的预备期为一年。", "", "", "", "", "对", "党章第七条"],
    ["单选题", "这一行没有答案", "甲", "乙", "", "", "", ""],
    ["多选题", "<script>alert(1)</script>党员的义务包括", "学习", "<b>工作</b>", "休息", "", "AB", ""],
]


def _upload(client: FlaskClient, data: bytes, name: str = "支部题库.xlsx", **form: str):  # type: ignore[no-untyped-def]
    fields = {"csrf_token": csrf_token(client, "/banks/upload"), "format": "auto", **form}
    if data:
        fields["file"] = (io.BytesIO(data), name)
    return client.post("/banks/upload", data=fields, content_type="multipart/form-data")


def _raw_upload(client: FlaskClient, data: bytes, name: str):  # type: ignore[no-untyped-def]
    """A multipart upload encoded here: the test client spools a large body to a file it never closes."""
    boundary = "----quizengine-test"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{csrf_token(client, '/banks/upload')}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/banks/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _save(client: FlaskClient, preview_url: str, **form: str):  # type: ignore[no-untyped-def]
    token = preview_url.rsplit("/", 1)[1]
    return client.post(f"/banks/upload/{token}/save", data={"csrf_token": csrf_token(client, preview_url), **form})


def _held_files(app: Flask) -> list[Path]:
    folder = Path(app.instance_path) / "uploads" / "banks"
    return [path for path in folder.iterdir() if not path.name.startswith(".")] if folder.is_dir() else []


def test_upload_preview_and_save_a_branch_bank(app: Flask, client: FlaskClient, session: Session, setting) -> None:
    login(client, "org")
    response = _upload(client, xlsx_bytes(*ROWS))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert '可以导入 <strong class="num">3</strong> 道题' in page and "单选题 1、" in page
    assert "支部题库.xlsx:4" in page and "答案" in page  # the bad row, by its Excel row number
    assert "党的最高理想和最终目标是（  ）。" in page and "实现共产主义" in page  # as members see it
    assert 'class="question-card"' in page and "<fieldset disabled" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>工作</b>" not in page and "&lt;b&gt;工作&lt;/b&gt;" in page
    # with a problem, saving asks to skip it first; nothing is written
    refused = _save(client, preview_url, mode="new", slug="zhibu-tiku", title="支部题库")
    assert refused.status_code == 400 and "勾选“跳过有问题的题目”" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Bank).where(Bank.slug == "zhibu-tiku")) == 0
    local = Path(app.config["BANKS_PATH"]) / "local"
    assert not (local / "zhibu-tiku.yaml").exists()
    saved = _save(client, preview_url, mode="new", slug="zhibu-tiku", title="支部题库", skip_bad="1")
    assert saved.status_code == 302
    listing = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "已保存题库“支部题库”：新增 3 题" in listing and "跳过 1 道有问题的题目" in listing
    assert "第一党支部自有题库" in listing
    session.expire_all()
    bank = session.scalar(select(Bank).where(Bank.slug == "zhibu-tiku"))
    assert bank is not None and bank.owner_branch_id == setting[0].branch_id
    assert (local / "zhibu-tiku.yaml").is_file() and bank.path == str(local / "zhibu-tiku.yaml")
    stems = session.scalars(select(Question.external_id).where(Question.bank_id == bank.id)).all()
    assert len(stems) == 3 and all(stem.startswith("zhibu-tiku-") for stem in stems)
    assert session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "banks.upload")) == {
        "file": "支部题库.xlsx",
        "mode": "new",
        "skipped": 1,
        "owner": "第一党支部",
    }
    assert _held_files(app) == []  # the held file is gone once saved
    assert client.get(preview_url).status_code == 404
    again = _upload(client, xlsx_bytes(*ROWS))
    taken = _save(client, again.headers["Location"], mode="new", slug="zhibu-tiku", title="另一个", skip_bad="1")
    assert taken.status_code == 400 and "题库标识“zhibu-tiku”已被使用" in taken.get_data(as_text=True)


def test_merge_makes_an_edited_question_a_new_revision(
    app: Flask, client: FlaskClient, session: Session, setting
) -> None:
    login(client, "org")
    first = _upload(client, xlsx_bytes(*ROWS[:3]))
    assert _save(client, first.headers["Location"], mode="new", slug="hebing", title="合并题库").status_code == 302
    bank = session.scalar(select(Bank).where(Bank.slug == "hebing"))
    assert bank is not None
    exported = client.get(f"/banks/{bank.id}/export/xlsx").data
    workbook = load_workbook(io.BytesIO(exported))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    stem_column = header.index("题干") + 1
    sheet.cell(row=2, column=stem_column, value="党的最高理想和最终目标是（  ）。（修改后）")
    buffer = io.BytesIO()
    workbook.save(buffer)
    extra = xlsx_bytes(HEADER, ["判断题", "新增的一道判断题。", "", "", "", "", "错", ""])
    second = _upload(client, buffer.getvalue(), name="改过的.xlsx")
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "合并到已有题库" in page and f'<option value="{bank.id}"' in page
    merged = _save(client, second.headers["Location"], mode="merge", target=str(bank.id))
    assert merged.status_code == 302
    assert "修改 1 题，未变 1 题" in client.get(merged.headers["Location"]).get_data(as_text=True)
    third = _upload(client, extra, name="新增.xlsx")
    assert _save(client, third.headers["Location"], mode="merge", target=str(bank.id)).status_code == 302
    session.expire_all()
    rows = session.scalars(select(Question).where(Question.bank_id == bank.id).order_by(Question.position)).all()
    assert [row.current_revision for row in rows] == [2, 1, 1] and not any(row.retired for row in rows)
    assert rows[0].revision.content["stem"].endswith("（修改后）")
    page = client.get(f"/banks/questions/{rows[0].id}").get_data(as_text=True)
    assert "第 2 版" in page and "改动：题干" in page


def test_merge_only_into_banks_imported_here_that_the_user_may_change(
    client: FlaskClient, session: Session, setting, make_user
) -> None:
    make_user(Role.ORGANIZER, username="org2", branch="第二党支部")
    login(client, "org2")
    theirs = _upload(client, xlsx_bytes(*ROWS[:2]))
    assert _save(client, theirs.headers["Location"], mode="new", slug="qita", title="其他支部").status_code == 302
    login(client, "org")
    shared = session.scalar(select(Bank.id).where(Bank.slug == "exam"))
    other = session.scalar(select(Bank.id).where(Bank.slug == "qita"))
    upload = _upload(client, xlsx_bytes(*ROWS[:2]))
    for target in (shared, other, "abc", ""):
        refused = _save(client, upload.headers["Location"], mode="merge", target=str(target))
        assert refused.status_code == 400 and "请选择要合并到的题库" in refused.get_data(as_text=True)
    assert _save(client, upload.headers["Location"], mode="copy").status_code == 400
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == other)) == 1


def test_pasted_word_text_imports(client: FlaskClient, session: Session, setting) -> None:
    login(client, "org")
    text = (
        "一、单项选择题\n1. 党的根本宗旨是（  ）。\nA. 全心全意为人民服务\nB. 实现共产主义\n答案：A\n解析：党章总纲。\n"
    )
    response = _upload(client, b"", text=text)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "粘贴的文本.txt" in page and "党的根本宗旨是（  ）。" in page and "全心全意为人民服务" in page


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"PK\x03\x04 not a zip at all", "坏.xlsx", "文件已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "旧.xls", "不支持旧版 Excel 文件（.xls）"),
        (b"<html><table></table></html>", "导出.xls", "不支持旧版 Excel 文件（.xls）"),
        (b"   \n", "空.txt", "文件是空的"),
        (  # an encrypted .xlsx: an OLE compound file holding an "EncryptedPackage" stream
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + bytes(504)
            + "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00"),
            "加密.xlsx",
            "工作簿设有打开密码",
        ),
    ],
)
def test_bad_files_are_refused_with_their_reason_and_not_held(
    app: Flask, client: FlaskClient, setting, data: bytes, name: str, message: str
) -> None:
    login(client, "org")
    response = _upload(client, data, name=name)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and name in page
    assert _held_files(app) == []


def test_oversize_and_empty_uploads(app: Flask, client: FlaskClient, setting, monkeypatch: pytest.MonkeyPatch) -> None:
    login(client, "org")
    # a file above the app-wide body limit but within the importer's reaches the importer (and its message)
    assert app.view_functions["banks.upload"].body_limit > 20 * 1024 * 1024 > app.config["MAX_CONTENT_LENGTH"]
    large = _raw_upload(client, b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1024), "big.txt")
    assert large.status_code == 400 and "没有找到编号的题目" in large.get_data(as_text=True)
    monkeypatch.setattr(bank_pages, "MAX_FILE_BYTES", 1000)
    response = _upload(client, b"x" * 1001, name="大.csv")
    assert response.status_code == 400 and "文件过大" in response.get_data(as_text=True)
    monkeypatch.setattr(app.view_functions["banks.upload"], "body_limit", 5000)
    too_big = _upload(client, b"x" * 6000, name="更大.csv")
    assert too_big.status_code == 413 and "超过了大小限制" in too_big.get_data(as_text=True)
    nothing = _upload(client, b"")
    assert nothing.status_code == 400 and "请选择要上传的文件，或粘贴题目文本" in nothing.get_data(as_text=True)
    assert _upload(client, b"1. x", format="pdf").status_code == 400
    assert _held_files(app) == []
    assert common.MAX_FILE_BYTES == 20 * 1024 * 1024  # the limit the page states


def test_held_uploads_are_the_uploaders_only_and_expire(
    app: Flask, client: FlaskClient, setting, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(Role.ADMIN, username="admin")
    login(client, "org")
    preview_url = _upload(client, xlsx_bytes(*ROWS[:2])).headers["Location"]
    token = preview_url.rsplit("/", 1)[1]
    assert client.get(preview_url).status_code == 200
    for bad in ("..%2F..%2Fetc%2Fpasswd", "not-a-token", "A" * 32, "%00"):
        assert client.get(f"/banks/upload/{bad}").status_code == 404
    login(client, "admin")  # another user, even an admin, cannot take it
    assert client.get(preview_url).status_code == 404
    assert _save(client, "/banks/upload/" + token, mode="new", slug="x", title="x").status_code == 404
    login(client, "org")
    (held,) = _held_files(app)
    old = held.stat().st_mtime - 3601
    os.utime(held, (old, old))
    assert client.get(preview_url).status_code == 404  # expired: swept when read


def test_saving_needs_the_csrf_token(app: Flask, client: FlaskClient, session: Session, setting) -> None:
    login(client, "org")
    preview_url = _upload(client, xlsx_bytes(*ROWS[:2])).headers["Location"]
    token = preview_url.rsplit("/", 1)[1]
    response = client.post(f"/banks/upload/{token}/save", data={"mode": "new", "slug": "csrf", "title": "无令牌"})
    assert response.status_code == 400 and "页面已失效" in response.get_data(as_text=True)
    refused = client.post(
        "/banks/upload",
        data={"file": (io.BytesIO(xlsx_bytes(*ROWS[:2])), "a.xlsx")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert session.scalar(select(func.count()).select_from(Bank).where(Bank.slug == "csrf")) == 0


def test_an_id_another_bank_uses_is_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, session: Session, setting
) -> None:
    login(client, "org")
    rows = [[*HEADER, "题目ID"], ["判断题", "抄来的题目。", "", "", "", "", "对", "", "e-j1"]]
    preview_url = _upload(client, xlsx_bytes(*rows)).headers["Location"]
    refused = _save(client, preview_url, mode="new", slug="chaolai", title="抄来的")
    assert refused.status_code == 400 and "e-j1" in refused.get_data(as_text=True)
    assert "已被题库“exam”使用" in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Bank).where(Bank.slug == "chaolai")) == 0
    assert not (Path(app.config["BANKS_PATH"]) / "local" / "chaolai.yaml").exists()


def test_first_run_loads_the_imported_banks_again(app: Flask, client: FlaskClient, session: Session, setting) -> None:
    login(client, "org")
    preview_url = _upload(client, xlsx_bytes(*ROWS[:3])).headers["Location"]
    assert _save(client, preview_url, mode="new", slug="chongqi", title="重启后").status_code == 302
    yaml_file = Path(app.config["BANKS_PATH"]) / "local" / "chongqi.yaml"
    yaml_file.write_text(yaml_file.read_text("utf-8").replace("预备党员的预备期为一年", "预备期为一年"), "utf-8")
    with app.app_context():
        first_run(app.config)
        db.session.remove()
    session.expire_all()
    bank = session.scalar(select(Bank).where(Bank.slug == "chongqi"))
    assert bank is not None and bank.owner_branch_id == session.scalar(
        select(Branch.id).where(Branch.name == "第一党支部")
    )
    revised = session.scalars(select(Question.current_revision).where(Question.bank_id == bank.id)).all()
    assert sorted(revised) == [1, 2]


def test_merge_mappings_matches_chapters_by_title() -> None:
    current = {
        "bank": "b",
        "title": "B",
        "categories": [{"id": "ch1", "title": "第一章"}],
        "questions": [{"id": "q1", "type": "judge", "stem": "旧", "answer": True, "category": "ch1"}],
    }
    incoming = {
        "bank": "b",
        "title": "B",
        "categories": [{"id": "ch1", "title": "新的一章"}, {"id": "ch2", "title": "第一章"}],
        "questions": [
            {"id": "q1", "type": "judge", "stem": "新", "answer": True, "category": "ch2"},
            {"id": "q2", "type": "judge", "stem": "加", "answer": False, "category": "ch1"},
        ],
    }
    merged = bank_uploads.merge_mappings(current, incoming)
    assert merged["categories"] == [{"id": "ch1", "title": "第一章"}, {"id": "ch1-2", "title": "新的一章"}]
    assert [(q["id"], q["stem"], q["category"]) for q in merged["questions"]] == [
        ("q1", "新", "ch1"),
        ("q2", "加", "ch1-2"),
    ]


def test_the_format_choices_are_the_importers() -> None:
    from quizengine.banks.importing import FORMATS

    assert set(bank_pages.FORMAT_LABELS) == {"auto", *FORMATS}


def test_an_admin_chooses_who_owns_a_new_bank_and_organizers_keep_theirs(
    client: FlaskClient, session: Session, setting, make_user
) -> None:
    make_user(Role.ADMIN, username="admin")
    make_user(Role.ORGANIZER, username="org2", branch="第二党支部")
    session.commit()
    branch_a = session.scalar(select(Branch.id).where(Branch.name == test_exams.BRANCH))
    branch_b = session.scalar(select(Branch.id).where(Branch.name == "第二党支部"))
    login(client, "admin")
    preview_url = _upload(client, xlsx_bytes(*ROWS[:3])).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert 'name="owner"' in page and ">党委共享（所有支部可见）</option>" in page
    assert f'<option value="{branch_b}">第二党支部自有（只有该支部可见）</option>' in page
    for owner, message in (("999999", "没有找到这个支部"), ("abc", "请选择新题库的归属")):
        refused = _save(client, preview_url, mode="new", slug="guishu", title="归属", owner=owner)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Bank).where(Bank.slug == "guishu")) == 0
    assert _save(client, preview_url, mode="new", slug="guishu", title="归属", owner=str(branch_b)).status_code == 302
    shared_url = _upload(client, xlsx_bytes(*ROWS[:2])).headers["Location"]
    assert _save(client, shared_url, mode="new", slug="gongxiang", title="共享", owner="").status_code == 302
    session.expire_all()
    owners = dict(session.execute(select(Bank.slug, Bank.owner_branch_id)).all())
    assert owners["guishu"] == branch_b and owners["gongxiang"] is None
    audit = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "banks.upload")).all()
    assert [entry.get("owner") for entry in audit] == ["第二党支部", "党委共享"]

    login(client, "org")  # an organizer: no choice; a crafted owner other than their branch is refused
    own_url = _upload(client, xlsx_bytes(*ROWS[:2])).headers["Location"]
    assert 'name="owner"' not in client.get(own_url).get_data(as_text=True)
    for owner in ("", str(branch_b)):
        refused = _save(client, own_url, mode="new", slug="zuzhi", title="组织员", owner=owner)
        assert refused.status_code == 400 and "组织员导入的题库属于本支部" in refused.get_data(as_text=True)
    assert _save(client, own_url, mode="new", slug="zuzhi", title="组织员", owner=str(branch_a)).status_code == 302
    assert (
        _save(
            client, _upload(client, xlsx_bytes(*ROWS[:2])).headers["Location"], mode="new", slug="zuzhi2", title="二"
        ).status_code
        == 302
    )
    session.expire_all()
    owners = dict(session.execute(select(Bank.slug, Bank.owner_branch_id)).all())
    assert owners["zuzhi"] == branch_a and owners["zuzhi2"] == branch_a


def test_shipped_banks_are_read_only_in_the_browser_and_the_page_says_so(
    app: Flask, client: FlaskClient, session: Session, setting, make_user
) -> None:
    make_user(Role.ADMIN, username="admin")
    session.commit()
    shipped = session.scalar(select(Bank).where(Bank.slug == "exam"))
    assert shipped is not None
    before = (
        session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == shipped.id)),
        shipped.path,
    )
    shipped_text = Path(shipped.path).read_text(encoding="utf-8")
    login(client, "admin")
    preview_url = _upload(client, xlsx_bytes(*ROWS[:3])).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "随附题库只能通过 YAML 修改" in page and 'value="merge"' not in page  # nothing imported here yet
    assert "还没有在这里导入的题库可以合并" in page
    refused = _save(client, preview_url, mode="merge", target=str(shipped.id))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "“考试题库”是随附题库，只能通过 YAML 文件修改，不能在这里合并" in text, text[
        -2000:
    ]
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(Question).where(Question.bank_id == shipped.id))
    assert (count, shipped.path) == before and Path(shipped.path).read_text(encoding="utf-8") == shipped_text
    assert not (Path(app.config["BANKS_PATH"]) / "local" / "exam.yaml").exists()
    assert _save(client, preview_url, mode="new", slug="liulan", title="浏览器导入").status_code == 302
    page = client.get(_upload(client, xlsx_bytes(*ROWS[:2])).headers["Location"]).get_data(as_text=True)
    assert 'value="merge"' in page and "随附题库只能通过 YAML 修改" in page

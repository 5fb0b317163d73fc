"""Roster import: a branch's members from an Excel (.xlsx) or CSV file, previewed, then all or nothing.

The file is read twice: once for the preview the organizer checks, and again at confirmation, so what
is committed is validated against the database as it is then. Any row with a problem means nothing is
written. Row numbers in messages are the ones the organizer sees in Excel/WPS (the header is row 1).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quizengine.banks.importing.common import ImportRefused
from quizengine.banks.importing.tables import OLE_SIGNATURE, csv_rows, decode_text, open_workbook, sheet_rows
from quizengine.engine.errors import QuizError
from quizengine.models import AuditEntry, MemberStatus, PartyGroup, User
from quizengine.services.organization import (
    MAX_NAME_LENGTH,
    STATUS_LABELS,
    check_member_fields,
    enroll_member,
    get_branch,
    login_names,
    normalize_phone,
    parse_status,
    taken_login_names,
)
from quizengine.services.spreadsheet import append_row

#: Header text -> field, in the template's order.
COLUMNS = {"姓名": "name", "用户名": "username", "手机号": "phone", "党小组": "group", "党员类别": "status"}
MAX_ROWS = 1000
MAX_BYTES = 5 * 1024 * 1024
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_NOT_A_SPREADSHEET = "无法读取该文件：请上传 Excel 工作簿（.xlsx）或 CSV 文件，可先下载导入模板"
_HEADER_HINT = "表头应为：" + "、".join(COLUMNS)
#: What secrets.token_urlsafe(24) produces; anything else is never turned into a path.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class RosterError(QuizError):
    """The file cannot be imported; `preview` holds the per-row problems when there are any."""

    code = "roster_error"

    def __init__(self, message: str, preview: RosterPreview | None = None) -> None:
        super().__init__(message)
        self.preview = preview


@dataclass(frozen=True)
class RosterRow:
    """One member row as read, with its spreadsheet row number and its problems (in Chinese)."""

    line: int
    name: str
    username: str
    phone: str
    group: str
    status: MemberStatus | None
    status_text: str
    errors: tuple[str, ...] = ()

    @property
    def status_label(self) -> str:
        """正式/预备, or what the file said when it was not recognised."""
        return STATUS_LABELS[self.status] if self.status else self.status_text


@dataclass(frozen=True)
class RosterPreview:
    """What an import would do: the rows, their problems and the party groups it would create."""

    rows: tuple[RosterRow, ...]
    new_groups: tuple[str, ...] = ()

    @property
    def error_rows(self) -> list[RosterRow]:
        """Rows with at least one problem."""
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        """True when every row can be imported."""
        return not self.error_rows


@dataclass(frozen=True)
class IssuedAccount:
    """A created account and its one-time password, to hand out once."""

    name: str
    username: str
    phone: str
    group: str
    password: str


# --- reading -------------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    with open_workbook(data) as workbook:
        if not workbook.worksheets:
            raise RosterError(_NOT_A_SPREADSHEET)
        for number, cells in sheet_rows(workbook.worksheets[0]):
            yield number, [cell.strip() for cell in cells]


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    for number, values in csv_rows(decode_text(data)):
        yield number, [value.strip() for value in values]


def read_table(data: bytes) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the file's first sheet as (row number, cell texts); the type comes from the content."""
    if len(data) > MAX_BYTES:
        raise RosterError(f"文件过大（不能超过{MAX_BYTES // (1024 * 1024)} MB）")
    if not data.strip():
        raise RosterError(f"文件是空的。{_HEADER_HINT}")
    rows = _xlsx_rows(data) if data.startswith((b"PK\x03\x04", OLE_SIGNATURE)) else _csv_rows(data)
    table = []
    try:
        with closing(rows):
            for number, cells in rows:
                if any(cells):
                    table.append((number, cells))
                    if len(table) > MAX_ROWS + 1:
                        raise RosterError(f"名册最多{MAX_ROWS}行，请分批导入")
    except ImportRefused as error:
        raise RosterError(str(error)) from None
    if not table:
        raise RosterError(f"文件中没有内容。{_HEADER_HINT}")
    return table


def _header_fields(line: int, header: list[str], records: list[tuple[int, list[str]]]) -> dict[int, str]:
    """Column index -> field; refuses unknown, repeated or missing columns with a clear message."""
    fields: dict[int, str] = {}
    unknown = []
    for index, title in enumerate(header):
        title = title.replace(" ", "").replace("\u3000", "")
        if not title:
            if any(index < len(cells) and cells[index] for _, cells in records):
                raise RosterError(f"第{line}行（表头）第{index + 1}列没有列名，但下面有数据。{_HEADER_HINT}")
            continue
        if title not in COLUMNS:
            unknown.append(title)
        elif COLUMNS[title] in fields.values():
            raise RosterError(f"表头中“{title}”列出现了不止一次")
        else:
            fields[index] = COLUMNS[title]
    if not fields:
        raise RosterError(f"第{line}行不是表头。{_HEADER_HINT}（可下载导入模板）")
    if unknown:
        raise RosterError(f"表头中有无法识别的列：{'、'.join(unknown)}。{_HEADER_HINT}")
    present = set(fields.values())
    if "name" not in present:
        raise RosterError(f"表头缺少“姓名”列。{_HEADER_HINT}")
    if not present & {"username", "phone"}:
        raise RosterError(f"表头至少需要“用户名”或“手机号”列。{_HEADER_HINT}")
    return fields


def _row(line: int, cells: list[str], fields: dict[int, str]) -> RosterRow:
    value = {name: "" for name in COLUMNS.values()}
    for index, name in fields.items():
        value[name] = cells[index] if index < len(cells) else ""
    phone = normalize_phone(value["phone"])
    username = value["username"] or phone
    errors = check_member_fields(value["name"], username, phone)
    if "E+" in phone.upper():
        errors.append("手机号被 Excel 存成了科学计数法：请把该列设为“文本”格式，重新填写后再导出")
    status = parse_status(value["status"])
    if status is None:
        errors.append(f"党员类别“{value['status']}”无效，只能填“正式”或“预备”（空白按正式）")
    if len(value["group"]) > MAX_NAME_LENGTH:
        errors.append(f"党小组名称过长（最多{MAX_NAME_LENGTH}个字符）")
    return RosterRow(line, value["name"], username, phone, value["group"], status, value["status"], tuple(errors))


def _with_errors(row: RosterRow, extra: list[str]) -> RosterRow:
    return replace(row, errors=(*row.errors, *extra)) if extra else row


def parse_roster(data: bytes) -> list[RosterRow]:
    """Read and check a roster file without the database: fields, then duplicates within the file."""
    table = read_table(data)
    (header_line, header), records = table[0], table[1:]
    fields = _header_fields(header_line, header, records)
    if not records:
        raise RosterError("表头下面没有成员数据")
    rows = [_row(line, cells, fields) for line, cells in records]
    lines_by_login: defaultdict[str, list[int]] = defaultdict(list)
    for row in rows:
        for login in login_names(row.username, row.phone):
            lines_by_login[login].append(row.line)
    checked = []
    for row in rows:
        extra = []
        for login in sorted(login_names(row.username, row.phone)):
            others = [line for line in lines_by_login[login] if line != row.line]
            if others:
                shown = row.username if login == row.username.lower() else login
                extra.append(f"用户名或手机号“{shown}”与第{'、'.join(map(str, others))}行重复")
        checked.append(_with_errors(row, extra))
    return checked


def _taken_problems(row: RosterRow, taken: set[str]) -> list[str]:
    problems = []
    if row.username.lower() in taken and row.username != row.phone:
        problems.append(f"用户名“{row.username}”已被其他账号使用")
    if row.phone in taken:
        problems.append(f"手机号“{row.phone}”已被其他账号使用")
    return problems


# --- preview and import --------------------------------------------------------------------------------


def preview_roster(session: Session, actor: User, branch_id: int, data: bytes) -> RosterPreview:
    """Check a roster for a branch against the file and the database; nothing is written."""
    branch = get_branch(session, actor, branch_id)
    rows = parse_roster(data)
    taken = taken_login_names(session, {login for row in rows for login in login_names(row.username, row.phone)})
    rows = [_with_errors(row, _taken_problems(row, taken)) for row in rows]
    existing = {group.name for group in branch.groups}
    new_groups = sorted({row.group for row in rows if row.group and row.group not in existing})
    return RosterPreview(tuple(rows), tuple(new_groups))


def import_roster(session: Session, actor: User, branch_id: int, data: bytes) -> list[IssuedAccount]:
    """Create every member of the roster (and missing party groups) in one commit, or nothing at all.

    Returns the new accounts with their one-time passwords, which are not stored anywhere else.
    """
    preview = preview_roster(session, actor, branch_id, data)
    if not preview.ok:
        raise RosterError(f"名册中有{len(preview.error_rows)}行存在问题，未导入任何成员，请修改后重新上传", preview)
    branch = get_branch(session, actor, branch_id)
    groups = {group.name: group for group in branch.groups}
    for name in preview.new_groups:
        groups[name] = PartyGroup(branch=branch, name=name)
        session.add(groups[name])
        session.add(AuditEntry(actor_id=actor.id, action="groups.create", subject=f"{branch.name}/{name}"))
    issued = []
    for row in preview.rows:
        group = groups.get(row.group)
        _, password = enroll_member(
            session,
            actor,
            branch,
            name=row.name,
            username=row.username,
            phone=row.phone,
            group=group,
            status=row.status or MemberStatus.FULL,
            via="roster",
        )
        issued.append(IssuedAccount(row.name, row.username, row.phone, row.group, password))
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action="roster.import",
            subject=branch.name,
            detail={"created": len(issued), "groups": list(preview.new_groups)},
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise RosterError("导入失败：有用户名或手机号刚被其他操作占用，未导入任何成员，请重新上传") from None
    return issued


def roster_template() -> bytes:
    """An .xlsx with the header, one example row and a 正式/预备 drop-down, for organizers to fill in."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "党员名册"
    append_row(sheet, list(COLUMNS))
    append_row(sheet, ["张三", "zhangsan", "13800000000", "第一党小组", "正式"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (12, 16, 16, 16, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in range(2, MAX_ROWS + 2):  # phones as text, so Excel keeps all 11 digits
        sheet.cell(row=row, column=3).number_format = "@"
    choice = DataValidation(type="list", formula1='"正式,预备"', allow_blank=True)
    choice.add(f"E2:E{MAX_ROWS + 1}")
    sheet.add_data_validation(choice)
    notes = workbook.create_sheet("填写说明")
    for line in (
        "第一行是表头，请勿修改；从第二行起每行一名党员（请删除示例行“张三”）。",
        "姓名：必填。",
        "用户名：可留空，留空时用手机号作为用户名登录。",
        "手机号：1开头的11位数字；用户名和手机号至少填写一项。",
        "党小组：可留空；填写的党小组不存在时会自动新建。",
        "党员类别：正式 或 预备，留空按正式。",
        "同一文件内及系统中已有的用户名、手机号不能重复。只要有一行有误，整份名册都不会导入。",
        "导入后每位党员获得一个一次性密码，首次登录须修改。",
    ):
        append_row(notes, [line])
    notes.column_dimensions["A"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- uploads kept between preview and confirmation -------------------------------------------------------


@dataclass
class UploadStore:
    """Uploaded rosters kept on disk between preview and confirmation, named by a random token.

    Files older than `max_age_seconds` are swept at the next upload, so abandoned previews do not pile up.
    """

    folder: Path
    max_age_seconds: int = 3600

    def save(self, data: bytes) -> str:
        """Store the file; return its token."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(24)
        fd = os.open(self.folder / token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return token

    def _path(self, token: str) -> Path | None:
        return self.folder / token if _TOKEN.fullmatch(token or "") else None

    def load(self, token: str) -> bytes | None:
        """The stored file, or None when the token is malformed, unknown, swept or expired (then deleted)."""
        path = self._path(token)
        try:
            if path is None:
                return None
            if path.stat().st_mtime < time.time() - self.max_age_seconds:
                path.unlink(missing_ok=True)
                return None
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def discard(self, token: str) -> None:
        """Delete the stored file (no error if it is already gone)."""
        path = self._path(token)
        if path:
            path.unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> None:
        """Delete files older than max_age_seconds."""
        limit = (now if now is not None else time.time()) - self.max_age_seconds
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.is_file() and _TOKEN.fullmatch(path.name) and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)

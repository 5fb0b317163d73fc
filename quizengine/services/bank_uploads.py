"""题库管理 uploads: a file (or pasted Word text) → a preview of its questions and problems → a saved bank.

The converter is `banks.importing` (every problem located as FILE:ROW / FILE:LINE, the whole file refused
with `ImportRefused`). Saving writes the YAML v1 bank under `BANKS_PATH/local/` — YAML stays the source of
truth, loaded again at every start — and syncs it, so a changed question becomes a new revision exactly as
with a YAML edit. A new bank imported by an organizer is their branch's own; an admin chooses: the committee's
(shared) or a branch's own. Merging adds the file's questions to a bank imported here before: a question with
the same id (the 题目ID column of an exported sheet, or the same stem) replaces the old one, the others are
kept. The banks outside local/ (shipped under question_banks/, or loaded from the command line) stay read-only
here: they are changed in their YAML files, which a merge here would silently fork.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quizengine.banks.format import SLUG
from quizengine.banks.importing import ImportRefused, ImportResult, bank_to_yaml, import_bank
from quizengine.banks.loader import Bank as LoadedBank
from quizengine.banks.loader import BankLoadError, load_banks
from quizengine.banks.safe_yaml import MAX_FILE_BYTES as MAX_BANK_BYTES
from quizengine.engine.errors import QuizError
from quizengine.engine.timing import Clock
from quizengine.models import AuditEntry, Bank, Branch, User

from .access import is_admin, is_organizer, require
from .bank_admin import bank_mapping, bank_visible_clause, can_edit_bank
from .banks import SyncReport, sync_banks

#: Questions the preview shows as members will see them (the problems are all listed).
PREVIEW_COUNT = 5
#: Most characters of pasted text (a Word list of a few thousand questions fits).
PASTE_MAX_CHARS = 1_000_000
#: The file name pasted text is imported (and its problems located) under.
PASTED_NAME = "粘贴的文本.txt"
TITLE_MAX = 200
SLUG_MAX = 60
LOCAL_FOLDER = "local"


@dataclass(frozen=True)
class Preview:
    """A converted upload: the result, its first questions as engine objects, counts by type."""

    result: ImportResult
    questions: tuple[Any, ...]
    by_type: dict[str, int]


def _checked(bank: dict[str, Any], folder: Path) -> LoadedBank:
    """The bank mapping written as YAML and loaded back exactly as `banks check` would (raises QuizError)."""
    text = bank_to_yaml(bank)
    if len(text.encode("utf-8")) > MAX_BANK_BYTES:
        raise QuizError(f"转换结果超过题库文件 {MAX_BANK_BYTES // (1024 * 1024)} MB 的上限，请把题目分成几个文件导入")
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        (loaded,) = load_banks([temporary])
        return loaded
    except BankLoadError as error:
        raise QuizError(_problems_text(error)) from None
    finally:
        Path(temporary).unlink(missing_ok=True)


def _problems_text(error: BankLoadError) -> str:
    shown = [
        f"{problem.question_id}：{problem.message}" if problem.question_id else problem.message
        for problem in error.problems[:5]
    ]
    more = f"（另有 {len(error.problems) - 5} 处）" if len(error.problems) > 5 else ""
    return "题库未通过检查，未保存：" + "；".join(shown) + more


def convert(data: bytes, filename: str, fmt: str = "auto", **names: str | None) -> ImportResult:
    """The importer on an upload; a file it refuses as a whole raises QuizError with its Chinese reason."""
    try:
        return import_bank(data, filename, fmt=fmt, **names)  # type: ignore[arg-type]
    except ImportRefused as error:
        raise QuizError(f"{filename}：{error}") from None


def preview(data: bytes, filename: str, fmt: str, scratch: Path) -> Preview:
    """Convert the upload and check the result as a bank file; the first questions for the page."""
    result = convert(data, filename, fmt)
    questions: tuple[Any, ...] = ()
    if result.bank["questions"]:
        questions = _checked(result.bank, scratch).questions
    counts = Counter(question["type"] for question in result.bank["questions"])
    return Preview(result, questions[:PREVIEW_COUNT], dict(counts))


@dataclass(frozen=True)
class SaveRequest:
    """What the preview's form asks: a new bank (slug, title) or a merge into `target_id`."""

    mode: str
    slug: str = ""
    title: str = ""
    target_id: int | None = None
    skip_bad: bool = False
    owner: str | None = None  # a new bank's owner as the form sends it: "" the committee, a branch id; None unsent


def can_upload(user: User) -> bool:
    """Admins and organizers import banks (an organizer's are their branch's own)."""
    return is_organizer(user) and (is_admin(user) or user.branch_id is not None)


def owner_choices(session: Session, user: User) -> list[Branch]:
    """The branches an admin may give a new bank to (besides the committee); none for an organizer, whose
    uploads are always their branch's own."""
    return list(session.scalars(select(Branch).order_by(Branch.name))) if is_admin(user) else []


def _new_bank_owner(session: Session, user: User, owner: str | None) -> tuple[int | None, str]:
    """The branch a new bank belongs to (None: the committee's) and its name for the audit; refused in Chinese
    for an unknown branch, or an organizer asking for another owner than their branch."""
    if not is_admin(user):
        if owner is not None and owner != str(user.branch_id):
            raise QuizError("组织员导入的题库属于本支部，不能选择其他归属")
        branch = session.get(Branch, user.branch_id)
        return user.branch_id, branch.name if branch else ""
    if not owner:
        return None, SHARED_LABEL
    if not (owner.isascii() and owner.isdigit() and len(owner) <= 9):
        raise QuizError("请选择新题库的归属：党委共享或某个支部")
    branch = session.get(Branch, int(owner))
    if branch is None:
        raise QuizError("没有找到这个支部，请重新选择新题库的归属")
    return branch.id, branch.name


SHARED_LABEL = "党委共享"


def merge_targets(session: Session, user: User, banks_path: Path) -> list[Bank]:
    """Banks imported here before (their YAML is under local/) that the user may change."""
    local = (banks_path / LOCAL_FOLDER).resolve()
    banks = session.scalars(select(Bank).order_by(Bank.title))
    return [bank for bank in banks if can_edit_bank(user, bank) and _is_under(bank.path, local)]


def local_banks_for(session: Session, user: User, banks_path: Path) -> list[LoadedBank]:
    """The banks imported here that `user` sees, loaded from their files (for the contest plan editor's check);
    none when the folder does not load."""
    local = banks_path / LOCAL_FOLDER
    if not local.is_dir() or not any(local.glob("*.yaml")):
        return []
    visible = set(session.scalars(select(Bank.slug).where(bank_visible_clause(user))))
    try:
        return [bank for bank in load_banks([local]) if bank.slug in visible]
    except BankLoadError:
        return []


def _is_under(path: str, folder: Path) -> bool:
    return bool(path) and Path(path).resolve().parent == folder


def merge_mappings(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """`current` with the incoming questions: the same id replaces, a new id is appended; chapters matched by
    title (a new title becomes a new chapter whose id does not clash)."""
    categories = [dict(category) for category in current.get("categories", [])]
    by_title = {category["title"]: category["id"] for category in categories}
    taken = {category["id"] for category in categories}
    renamed: dict[str, str] = {}
    for category in incoming.get("categories", []):
        if category["title"] not in by_title:
            key, number = category["id"], 2
            while key in taken:
                key, number = f"{category['id']}-{number}", number + 1
            taken.add(key)
            categories.append({"id": key, "title": category["title"]})
            by_title[category["title"]] = key
        renamed[category["id"]] = by_title[category["title"]]
    arriving = {}
    for question in incoming["questions"]:
        question = dict(question)
        if question.get("category"):
            question["category"] = renamed.get(question["category"], question["category"])
        arriving[question["id"]] = question
    questions = [arriving.pop(question["id"], question) for question in current["questions"]]
    merged = {key: value for key, value in current.items() if key not in ("categories", "questions")}
    if categories:
        merged["categories"] = categories
    merged["questions"] = questions + list(arriving.values())
    return merged


def _new_bank_names(session: Session, request: SaveRequest, local: Path) -> tuple[str, str]:
    slug, title = request.slug.strip(), request.title.strip()
    if not title:
        raise QuizError("请填写题库名称")
    if len(title) > TITLE_MAX:
        raise QuizError(f"题库名称最多 {TITLE_MAX} 字")
    if not re.fullmatch(SLUG, slug) or len(slug) > SLUG_MAX:
        raise QuizError(f"题库标识只能由小写字母、数字和连字符组成（最多 {SLUG_MAX} 个字符），如 zhibu-2026")
    if session.scalar(select(Bank.id).where(Bank.slug == slug)) is not None or (local / f"{slug}.yaml").exists():
        raise QuizError(f"题库标识“{slug}”已被使用，请换一个")
    return slug, title


def save(
    session: Session,
    user: User,
    banks_path: Path,
    upload: tuple[bytes, str, str],
    request: SaveRequest,
    *,
    clock: Clock | None = None,
) -> tuple[Bank, SyncReport, int]:
    """Convert the held upload again, write the bank's YAML under local/ and sync it.

    Returns the bank, what the sync did and how many questions with problems were skipped. Refused with a
    Chinese message (nothing written) when the file has problems and skipping them was not asked for, when no
    question is left, for a bad or taken slug, or when the result does not pass the bank check (an id that
    another bank uses).
    """
    require(can_upload(user), "只有管理员和支部组织员可以导入题库")
    data, filename, fmt = upload
    local = banks_path / LOCAL_FOLDER
    owner: int | None = None
    if request.mode == "merge":
        target = session.get(Bank, request.target_id) if request.target_id is not None else None
        if target is None or target not in merge_targets(session, user, banks_path):
            if target is not None and can_edit_bank(user, target):  # a bank the user changes, but by its YAML
                raise QuizError(f"“{target.title}”是随附题库，只能通过 YAML 文件修改，不能在这里合并（可保存为新题库）")
            raise QuizError("请选择要合并到的题库（只能合并到在这里导入、你可以修改的题库）")
        owner_name = ""
        result = convert(data, filename, fmt, slug=target.slug, title=target.title)
        mapping = merge_mappings(bank_mapping(session, target), result.bank) if result.bank["questions"] else None
        slug = target.slug
    elif request.mode == "new":
        slug, title = _new_bank_names(session, request, local)
        result = convert(data, filename, fmt, slug=slug, title=title)
        mapping = result.bank
        owner, owner_name = _new_bank_owner(session, user, request.owner)
    else:
        raise QuizError("请选择保存为新题库，或合并到已有题库")
    if result.problems and not request.skip_bad:
        raise QuizError(
            f"有 {len(result.problems)} 道题有问题：改正后重新上传，或勾选“跳过有问题的题目”只保存无误的题目"
        )
    if mapping is None:
        raise QuizError("没有可以导入的题目")
    loaded = dataclasses.replace(_checked(mapping, local), path=str(local / f"{slug}.yaml"))
    session.add(
        AuditEntry(
            actor_id=user.id,
            action="banks.upload",
            subject=slug,
            detail={"file": filename, "mode": request.mode, "skipped": len(result.problems)}
            | ({"owner": owner_name} if owner_name else {}),
        )
    )
    try:
        report = sync_banks(session, [loaded], clock=clock, actor_id=user.id, owner_branch_id=owner)
    except BankLoadError as error:
        session.rollback()
        raise QuizError(_problems_text(error)) from None
    except IntegrityError:  # another tab saved a bank with this slug first
        session.rollback()
        raise QuizError(f"题库标识“{slug}”已被使用，请换一个") from None
    _write(bank_to_yaml(mapping), local / f"{slug}.yaml")
    bank = session.scalar(select(Bank).where(Bank.slug == slug))
    assert bank is not None
    return bank, report, len(result.problems)


def _write(text: str, target: Path) -> None:
    """Write the bank file atomically (a reader never sees half a file)."""
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)

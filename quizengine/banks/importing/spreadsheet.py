"""Question banks from Excel (.xlsx) and CSV: the column layouts of real import templates.

The header row is found among the first rows (a title row may sit above it); columns are matched by the
names templates use, in any order (题型/题干/选项A…/答案/解析/难度/章节/出处/分值, or English). The other
layout some systems export — *one row per option* with a 是否正确 column — is recognised by its header.
A workbook written by `export_bank` also has a 章节 sheet (chapter ids and titles) and a 题库信息 sheet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from .builder import BankBuilder
from .common import MAX_ROWS, TYPE_LABELS, TYPE_WORDS, Draft, ImportRefused, clean, folded, judge_word
from .tables import Merge, csv_rows, decode_text, merged_ranges, open_workbook, sheet_rows

#: Header names (compared folded, without `*` marks or a （必填） note) → Draft field.
HEADERS: dict[str, str] = {
    **dict.fromkeys(("题型", "类型", "题目类型", "试题类型", "题类", "题型代码", "type", "questiontype"), "type_text"),
    **dict.fromkeys(
        ("题干", "题目", "问题内容", "题目内容", "试题内容", "问题", "试题", "题目名称", "question", "stem"), "stem"
    ),
    **dict.fromkeys(
        ("答案", "正确答案", "正确选项", "标准答案", "参考答案", "answer", "correctanswer", "key"), "answer"
    ),
    **dict.fromkeys(
        ("解析", "答案解析", "试题解析", "题目解析", "说明", "解释", "explanation", "analysis", "feedback"),
        "explanation",
    ),
    **dict.fromkeys(("难度", "难易度", "难易程度", "难度等级", "difficulty", "level"), "difficulty"),
    **dict.fromkeys(
        ("章节", "知识点", "分类", "所属章节", "章节名称", "试题分类", "题目分类", "category", "chapter"), "category"
    ),
    **dict.fromkeys(("出处", "依据", "来源", "reference", "source"), "reference"),
    **dict.fromkeys(("分值", "分数", "score", "points", "mark"), "points"),
    **dict.fromkeys(("题目id", "试题id", "id"), "id"),
    **dict.fromkeys(("标签", "tags", "tag"), "tags"),
    **dict.fromkeys(("原文", "quote"), "quote"),
    **dict.fromkeys(("题组", "group"), "group"),
    **dict.fromkeys(("固定选项", "fixed"), "fixed"),
    **dict.fromkeys(("要点", "得分要点", "评分要点", "keypoints"), "keypoints"),
    **dict.fromkeys(("序号", "题号", "编号", "试题编号", "题目编号", "no", "number"), "serial"),
    **dict.fromkeys(("选项", "选项内容", "选项文本", "答案选项", "option", "optiontext", "choice"), "option_text"),
    **dict.fromkeys(
        ("是否正确", "是否正确项", "是否正确答案", "是否为正确答案", "正确与否", "是否答案", "iscorrect", "correct"),
        "is_correct",
    ),
}
_OPTION_HEADER = re.compile(r"^(?:选项|option|答案)?([a-h1-8])(?:选项|项)?$")
_MARKS = re.compile(r"[*＊]|[（(](?:必填|选填|可选|必选|选填项)[)）]")
#: Sheets of the template that hold no questions.
_NOTE_SHEETS = ("填写说明", "说明", "章节", "题库信息", "instructions")
#: Note sheets a type-code legend may be written in, and how many of their rows are read for one.
_LEGEND_SHEETS = ("填写说明", "说明", "instructions")
LEGEND_SHEET_ROWS = 200
HEADER_SEARCH_ROWS = 20


def header_key(title: str) -> str:
    """A header cell as compared: `*题干`, `题干（必填）`, `Question `, `题型（1单选 2多选）` all become their plain
    folded name (a type legend in the header cell is read by `legend_entries`)."""
    text = _MARKS.sub("", unicodedata.normalize("NFKC", title))
    first = _LEGEND_ENTRY.search(text)
    if first is not None:
        text = text[: first.start()].rstrip(_LEGEND_LEAD)
    return folded(text)


#: Type names a legend may use (the Chinese words of TYPE_WORDS, longest first so 单项选择 wins over 单项).
_LEGEND_TYPES = sorted((word for word in TYPE_WORDS if not word.isascii()), key=len, reverse=True)
#: One legend entry, in NFKC text: `1单选`, `1=单选题`, `1:单选`, `1、单选`, `(1)单选题`, `1-单选`, `1→单选`.
_LEGEND_ENTRY = re.compile(rf"(?<![\d.])\(?(\d{{1,2}})\)?\s*(?:[=:、.\-—–→>]\s*)?({'|'.join(_LEGEND_TYPES)})题?")
_LEGEND_LEAD = " \t:=(（[【,，;；、-—"


def legend_entries(text: str) -> list[tuple[str, str]]:
    """The (code, type) pairs a cell's text gives: `题型：1单选 2多选 3判断` → [("1", "single"), …]."""
    return [
        (match.group(1), TYPE_WORDS[match.group(2)])
        for match in _LEGEND_ENTRY.finditer(unicodedata.normalize("NFKC", text))
    ]


class Legend:
    """What numeric type codes mean, from the notes a file writes beside its table (rows above the header, the
    type column's header, a 填写说明 sheet): codes are read as their types; a code given two types is not used."""

    def __init__(self) -> None:
        self.given: dict[str, set[str]] = {}  # code → the types the notes give it
        self.location = ""
        self.used = False

    def read(self, location: str, cells: Iterable[str]) -> None:
        """Take the entries of these cells (a row, or one header cell)."""
        for cell in cells:
            for code, kind in legend_entries(cell) if cell else ():
                self.location = self.location or location
                self.given.setdefault(code, set()).add(kind)

    def apply(self, draft: Draft) -> None:
        """A draft's numeric type code as the type the legend gives it."""
        kinds = self.given.get(folded(draft.type_text)) if draft.type_text else None
        if kinds is not None and len(kinds) == 1:
            draft.type_text = TYPE_LABELS[next(iter(kinds))]
            self.used = True

    def report(self, builder: BankBuilder, at: int) -> None:
        """Say, before the rows' warnings (from index `at`), which codes were read (when a row used them) and
        which were not used."""
        order, notes = list(TYPE_LABELS), []
        for code, kinds in sorted(self.given.items(), key=_code):
            if len(kinds) > 1:
                names = "、".join(TYPE_LABELS[kind] for kind in sorted(kinds, key=order.index))
                notes.append(f"题型说明中代码“{code}”对应了不同题型（{names}），未使用")
        if self.used:
            entries = "、".join(
                f"{code}={TYPE_LABELS[next(iter(kinds))]}"
                for code, kinds in sorted(self.given.items(), key=_code)
                if len(kinds) == 1
            )
            notes.insert(0, f"按表中的题型说明读取题型代码：{entries}")
        for offset, note in enumerate(notes):
            builder.warn(self.location, note, at=at + offset)


def _code(entry: tuple[str, set[str]]) -> int:
    return int(entry[0])


def map_header(cells: list[str]) -> tuple[dict[int, str], list[str]]:
    """Column index → field (`option:N` for option columns), and the names that matched nothing."""
    fields: dict[int, str] = {}
    unknown = []
    for index, title in enumerate(cells):
        key = header_key(title)
        if not key:
            continue
        option = _OPTION_HEADER.match(key)
        if key in HEADERS:
            fields[index] = HEADERS[key]
        elif option:
            letter = option.group(1)
            fields[index] = f"option:{int(letter) - 1 if letter.isdigit() else ord(letter) - ord('a')}"
        else:
            unknown.append(clean(title))
    return fields, unknown


def _is_header(fields: dict[int, str]) -> bool:
    names = set(fields.values())
    return "stem" in names and len(names) >= 2


def read_xlsx(data: bytes, builder: BankBuilder) -> None:
    """Every question of the workbook's question sheet into `builder`."""
    with open_workbook(data) as workbook:
        sheets = {sheet.title: sheet for sheet in workbook.worksheets}
        if "题库信息" in sheets:
            _bank_info(sheet_rows(sheets["题库信息"]), builder)
        if "章节" in sheets:
            _chapters(sheet_rows(sheets["章节"]), builder)
        legend = Legend()
        for sheet in workbook.worksheets:
            if sheet.title.strip().lower() in _LEGEND_SHEETS:
                for number, cells in islice(sheet_rows(sheet), LEGEND_SHEET_ROWS):
                    legend.read(f"{builder.filename}:{sheet.title}:{number}", cells)
        seen_content = False
        for sheet in workbook.worksheets:
            if sheet.title.strip().lower() in _NOTE_SHEETS:
                continue
            merges = merged_ranges(workbook, sheet)
            rows = _limited(sheet_rows(sheet, merges), builder.filename)
            where = f"工作表“{sheet.title}”"
            found, had_content = _read_rows(rows, builder, where, _merge_warnings(merges), legend)
            if found:
                return
            seen_content = seen_content or had_content
        if not seen_content:
            raise ImportRefused("工作簿中没有内容（所有工作表都是空的）")
        raise ImportRefused(f"没有找到表头行（前{HEADER_SEARCH_ROWS}行内）。{HEADER_HINT}")


def read_csv(data: bytes, builder: BankBuilder) -> None:
    """Every question of a CSV/TSV file into `builder`."""
    text = decode_text(data)
    found, had_content = _read_rows(_limited(csv_rows(text), builder.filename), builder, "CSV 文件", None, Legend())
    if found:
        return
    if not had_content:
        raise ImportRefused("文件中没有内容")
    if "\ufffd" in text or "锟斤拷" in text:
        raise ImportRefused(
            "文件中有乱码（“�”或“锟斤拷”）：它可能是 GBK 编码的文件被当作 UTF-8 打开后又保存了，请用原文件导入"
        )
    raise ImportRefused(f"没有找到表头行（前{HEADER_SEARCH_ROWS}行内）。{HEADER_HINT}")


HEADER_HINT = "表头至少要有“题干”列和“答案”或“选项A”等列，可下载导入模板（quizengine banks template）"


def _limited(rows: Iterator[tuple[int, list[str]]], filename: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows, refusing the file once it holds more than MAX_ROWS of them."""
    count = 0
    for number, cells in rows:
        if any(cell.strip() for cell in cells):
            count += 1
            if count > MAX_ROWS + 1:
                raise ImportRefused(f"文件超过 {MAX_ROWS:,} 行的上限，请分成几个文件导入")
            yield number, cells


def _merge_warnings(merges: list[Merge]) -> list[tuple[int, str]]:
    return [
        (merge.min_row, f"合并单元格的内容已填入第{merge.min_row}–{merge.max_row}行")
        for merge in merges
        if merge.max_row > merge.min_row
    ]


def _read_rows(
    rows: Iterator[tuple[int, list[str]]],
    builder: BankBuilder,
    where: str,
    merges: list[tuple[int, str]] | None,
    legend: Legend,
) -> tuple[bool, bool]:
    """Find the header, then read the questions below it; returns (header found, any content at all). The rows
    above the header and the type column's header cell may hold a legend of numeric type codes."""
    seen = 0
    for number, cells in rows:
        seen += 1
        fields, unknown = map_header(cells)
        if _is_header(fields):
            _check_columns(fields, number, where)
            location = f"{builder.filename}:{number}"
            legend.read(location, [_value(cells, i) for i, name in fields.items() if name == "type_text"])
            if unknown:
                builder.warn(location, f"已忽略无法识别的列：{'、'.join(unknown)}")
            for row, message in merges or []:
                if row > number:
                    builder.warn(f"{builder.filename}:{row}", message)
            names, first = set(fields.values()), len(builder.warnings)
            if "is_correct" in names and "option_text" in names:
                _option_rows(rows, fields, builder, legend)
            else:
                _question_rows(rows, fields, builder, legend)
            legend.report(builder, first)
            return True, True
        legend.read(f"{builder.filename}:{number}", cells)
        if seen >= HEADER_SEARCH_ROWS:
            break
    return False, seen > 0


def _check_columns(fields: dict[int, str], number: int, where: str) -> None:
    names = list(fields.values())
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ImportRefused(
            f"{where}第{number}行（表头）中有重复的列：{'、'.join(FIELD_TITLES.get(n, n) for n in repeated)}"
        )


FIELD_TITLES = {"stem": "题干", "answer": "答案", "type_text": "题型", "explanation": "解析", "category": "章节"}


def _value(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


_NOT_DRAFT_FIELDS = ("serial", "option_text", "is_correct")


def drafter(fields: dict[int, str]) -> Callable[[str, list[str]], Draft]:
    """A function making the Draft of one row for this header (the column plan is worked out once)."""
    simple = [(index, name) for index, name in fields.items() if ":" not in name and name not in _NOT_DRAFT_FIELDS]
    options = [(int(name[7:]), index) for index, name in fields.items() if name.startswith("option:")]
    size = max((position for position, _ in options), default=-1) + 1

    def make(location: str, cells: list[str]) -> Draft:
        count = len(cells)
        draft = Draft(location, **{name: cells[index] if index < count else "" for index, name in simple})
        if size:
            draft.options = [""] * size
            for position, index in options:
                if index < count:
                    draft.options[position] = cells[index]
        return draft

    return make


def _question_rows(
    rows: Iterable[tuple[int, list[str]]], fields: dict[int, str], builder: BankBuilder, legend: Legend
) -> None:
    make = drafter(fields)
    for number, cells in rows:
        draft = make(f"{builder.filename}:{number}", cells)
        legend.apply(draft)
        builder.add(draft)


def _option_rows(
    rows: Iterable[tuple[int, list[str]]], fields: dict[int, str], builder: BankBuilder, legend: Legend
) -> None:
    """One row per option: a new question starts where the 题号 changes (without one: where the 题干 changes)."""
    by_name = {name: index for index, name in fields.items()}
    serial_at, stem_at = by_name.get("serial"), by_name["stem"]
    text_at, mark_at = by_name["option_text"], by_name["is_correct"]
    make = drafter(fields)
    current: Draft | None = None
    current_serial = ""
    for number, cells in rows:
        serial = clean(_value(cells, serial_at)) if serial_at is not None else ""
        stem = clean(_value(cells, stem_at))
        starts = serial != current_serial if serial else bool(stem) and stem != clean(current.stem if current else "")
        if current is None or starts:
            if current is not None:
                _finish_options(current, builder, legend)
            current = make(f"{builder.filename}:{number}", cells)
            current.correct = []
            current_serial = serial
        else:
            for index, name in fields.items():  # later rows may fill what the first left empty
                if name in _SPREAD_FIELDS and not getattr(current, name).strip():
                    setattr(current, name, _value(cells, index))
        text = _value(cells, text_at)
        mark = clean(_value(cells, mark_at))
        if text.strip() or mark:
            truth = _truthy(mark) if mark else False
            if truth:
                current.correct.append(len(current.options))  # type: ignore[union-attr]
            elif truth is None:
                current.notes.append(f"第{number}行“是否正确”填的是“{mark}”，按“否”处理")
            current.options.append(text)
    if current is not None:
        _finish_options(current, builder, legend)


_SPREAD_FIELDS = ("explanation", "reference", "category", "difficulty", "type_text", "answer", "points")


def _truthy(mark: str) -> bool | None:
    if folded(mark) in ("1", "是", "正确", "对", "√", "y", "yes", "true", "t"):
        return True
    if folded(mark) in ("0", "否", "错误", "错", "×", "n", "no", "false", "f", "不是"):
        return False
    return judge_word(mark)


def _finish_options(draft: Draft, builder: BankBuilder, legend: Legend) -> None:
    if draft.correct == [] and draft.answer.strip():
        draft.correct = None  # no option marked, but an 答案 column: read that instead
    legend.apply(draft)
    builder.add(draft)


def _bank_info(rows: Iterator[tuple[int, list[str]]], builder: BankBuilder) -> None:
    """The 题库信息 sheet of an exported workbook: 题库标识 / 题库名称 / 来源 (the command's options win)."""
    names = {"题库标识": "slug", "题库名称": "title", "来源": "source"}
    for _, cells in rows:
        if len(cells) >= 2 and clean(cells[0]) in names:
            builder.adopt(names[clean(cells[0])], cells[1])


def _chapters(rows: Iterator[tuple[int, list[str]]], builder: BankBuilder) -> None:
    """The 章节 sheet: 章节ID and 章节名称 columns, the bank's chapters in order."""
    columns = None
    for number, cells in rows:
        keys = [header_key(cell) for cell in cells]
        if columns is None:
            if "章节id" in keys and "章节名称" in keys:
                columns = keys.index("章节id"), keys.index("章节名称")
            continue
        chapter_id, title = (clean(_value(cells, index)) for index in columns)
        if chapter_id and title:
            builder.declare_category(chapter_id, title)
        elif chapter_id or title:
            builder.problem(f"{builder.filename}:{number}", "章节表：章节ID 和 章节名称 都要填写")

"""Excel and CSV banks: header variants, both layouts, answer spellings, inferred types, stable ids."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from quizengine.banks.importing import ImportResult, import_bank
from quizengine.banks.importing.tables import formatted_number

from .bank_files import HEADER, by_stem, load_result, xlsx_bytes

ROWS = [
    ["单选题", "年满多少岁可以申请入党？", "十六岁", "十八岁", "二十岁", "二十二岁", "B", "党章第一条"],
    ["多选题", "党的纪律处分有（  ）。", "警告", "严重警告", "罚款", "留党察看", "A、B、D", ""],
    ["判断题", "预备党员的预备期为两年。", "", "", "", "", "错", "为一年"],
    ["填空题", "预备党员的预备期为____。", "", "", "", "", "一年|1年", ""],
    ["简答题", "简述党员的义务。", "", "", "", "", "认真学习……", ""],
]


def _import(data: bytes, name: str = "题库.xlsx", **kwargs: str) -> ImportResult:
    result = import_bank(data, name, **kwargs)
    assert result.ok, result.problems
    return result


def test_standard_template_gives_every_type_and_loads(tmp_path: Path) -> None:
    result = _import(xlsx_bytes(HEADER, *ROWS), slug="dz-import", title="党章练习")
    bank = load_result(result, tmp_path)
    assert (bank.slug, bank.title, result.format) == ("dz-import", "党章练习", "xlsx")
    questions = by_stem(bank)
    assert questions["年满多少岁可以申请入党？"].answer == "B"
    assert questions["年满多少岁可以申请入党？"].explanation == "党章第一条"
    assert questions["党的纪律处分有（  ）。"].answer == ("A", "B", "D")
    assert questions["预备党员的预备期为两年。"].answer is False
    assert questions["预备党员的预备期为____。"].answer == (("一年", "1年"),)
    assert questions["简述党员的义务。"].answer == "认真学习……"
    assert [question.type for question in bank.questions] == ["single", "multiple", "judge", "fill", "short"]


@pytest.mark.parametrize(
    "header",
    [
        ["题目类型", "题目内容", "A", "B", "C", "D", "正确答案", "答案解析"],
        ["试题类型", "试题内容", "选项 A", "选项 B", "选项 C", "选项 D", "标准答案", "试题解析"],
        ["类型", "问题内容", "选项1", "选项2", "选项3", "选项4", "正确选项", "说明"],
        ["*题型", "*题干（必填）", "Option A", "Option B", "Option C", "Option D", "*答案", "解析"],
        ["Type", "Question", "A", "B", "C", "D", "Answer", "Explanation"],
    ],
)
def test_header_names_of_real_templates(header: list[str]) -> None:
    result = _import(xlsx_bytes(header, *ROWS))
    assert [question["type"] for question in result.bank["questions"]] == [
        "single",
        "multiple",
        "judge",
        "fill",
        "short",
    ]
    assert result.bank["questions"][0]["explanation"] == "党章第一条"


def test_columns_in_any_order_below_a_title_row_with_more_fields(tmp_path: Path) -> None:
    header = [
        "序号",
        "答案",
        "题干",
        "难度",
        "章节",
        "出处",
        "分值",
        "题型",
        "选项D",
        "选项C",
        "选项B",
        "选项A",
        "创建人",
    ]
    rows = [
        ["党章知识测试题库（2024）"],
        [],
        header,
        [
            1,
            "B",
            "年满多少岁可以申请入党？",
            "简单",
            "第一章 党员",
            "党章第一条",
            2,
            "单选",
            "二十二岁",
            "二十岁",
            "十八岁",
            "十六岁",
            "张三",
        ],
        [2, "对", "党员有表决权。", 4, "第一章 党员", "", None, "判断", None, None, None, None, None],
        [3, "AC", "下列说法正确的有", "中等", "总纲", "", 1.5, "多选", "丁", "丙", "乙", "甲", None],
    ]
    result = _import(xlsx_bytes(*rows))
    assert [str(warning) for warning in result.warnings] == ["题库.xlsx:3: 已忽略无法识别的列：创建人"]
    bank = load_result(result, tmp_path)
    first, second, third = bank.questions
    assert first.options[0].text == "十六岁" and first.answer == "B"
    assert (first.difficulty, first.points, first.reference) == (1, 2, "党章第一条")
    assert (second.difficulty, third.difficulty, third.points) == (4, 3, 1.5)
    assert [category.title for category in bank.categories] == ["第一章 党员", "总纲"]
    assert first.category == second.category != third.category


@pytest.mark.parametrize(
    ("kind", "answer", "expected"),
    [
        ("多选", "ABD", ("A", "B", "D")),
        ("多选", "A,B,D", ("A", "B", "D")),
        ("多选", "A、B、D", ("A", "B", "D")),
        ("多选", "ｄ，ａ", ("A", "D")),
        ("单选", " b ", "B"),
        ("单选", "十八岁", "B"),  # the option's own text
        ("判断", "对", True),
        ("判断", "正确", True),
        ("判断", "√", True),
        ("判断", "T", True),
        ("判断", "A", True),
        ("判断", "错误", False),
        ("判断", "×", False),
        ("判断", "F", False),
        ("判断", "B", False),
    ],
)
def test_answer_spellings(kind: str, answer: str, expected: object) -> None:
    options = ["十六岁", "十八岁", "二十岁", "二十二岁"] if kind != "判断" else ["", "", "", ""]
    result = _import(xlsx_bytes(HEADER, [kind, "题目", *options, answer, ""]))
    assert result.bank["questions"][0]["answer"] == (list(expected) if isinstance(expected, tuple) else expected)


@pytest.mark.parametrize(
    ("stem", "answer", "options", "expected"),
    [
        ("预备期为____。", "一年|1年", [], [["一年", "1年"]]),
        ("预备期为____。", "一年／1年", [], [["一年", "1年"]]),
        ("预备期为____。", "一年；1年", [], [["一年", "1年"]]),
        ("预备期为（　　）。", "一年", [], [["一年"]]),
        ("____年____月", "1921；7|七", [], [["1921"], ["7", "七"]]),
        ("____年____月", "", ["1921", "7|七"], [["1921"], ["7", "七"]]),
    ],
)
def test_fill_answers(stem: str, answer: str, options: list[str], expected: list[list[str]]) -> None:
    cells = [*options, *[""] * (4 - len(options))]
    result = _import(xlsx_bytes(HEADER, ["填空题", stem, *cells, answer, ""]))
    assert result.bank["questions"][0]["answer"] == expected
    assert "____" in result.bank["questions"][0]["stem"]


def test_types_inferred_from_the_answer_and_said_so() -> None:
    header = ["题干", "A", "B", "C", "答案"]
    rows = [
        ["单选的", "甲", "乙", "丙", "B"],
        ["多选的", "甲", "乙", "丙", "AC"],
        ["判断的", "", "", "", "对"],
        ["判断选项的", "正确", "错误", "", "B"],
        ["填空的____", "", "", "", "甲"],
        ["简答的", "", "", "", "要点"],
    ]
    result = _import(xlsx_bytes(header, *rows))
    kinds = [question["type"] for question in result.bank["questions"]]
    assert kinds == ["single", "multiple", "judge", "judge", "fill", "short"]
    assert result.bank["questions"][3]["answer"] is False
    assert [warning.message for warning in result.warnings][:2] == [
        "未注明题型，按答案推断为单选题",
        "未注明题型，按答案推断为多选题",
    ]
    assert len(result.warnings) == 6


def test_numeric_type_codes_without_a_legend_are_inferred() -> None:
    result = _import(
        xlsx_bytes(HEADER, [1, "单选的", "甲", "乙", "", "", "A", ""], [2, "多选的", "甲", "乙", "丙", "", "AB", ""])
    )
    assert [question["type"] for question in result.bank["questions"]] == ["single", "multiple"]
    assert result.warnings[0].message == "题型代码“1”没有说明，按答案推断为单选题"


def test_short_without_reference_imports_with_a_warning(tmp_path: Path) -> None:
    result = _import(xlsx_bytes(HEADER, ["简答题", "简述……", "", "", "", "", "", ""]))
    assert [str(warning) for warning in result.warnings] == ["题库.xlsx:2: 简答题没有参考答案，将由阅卷人评判"]
    assert load_result(result, tmp_path).questions[0].answer == ""


def test_one_row_per_option_layout(tmp_path: Path) -> None:
    rows = [
        ["试题编号", "题型代码", "题干", "选项内容", "是否正确项", "解析"],
        [1, 1, "年满多少岁可以申请入党？", "十六岁", "否", "党章第一条"],
        [1, 1, "", "十八岁", "是", ""],
        [1, 1, "", "二十岁", "否", ""],
        [2, 2, "党的纪律处分有", "警告", "是", ""],
        [2, 2, "党的纪律处分有", "罚款", "否", ""],
        [2, 2, "党的纪律处分有", "留党察看", "是", ""],
        [3, 3, "预备期为两年。", "正确", "", ""],
        [3, 3, "", "错误", "√", ""],
        [4, 1, "没有标出正确项", "甲", "", ""],
        [4, 1, "", "乙", "", ""],
    ]
    result = import_bank(xlsx_bytes(*rows), "选项表.xlsx")
    bank = load_result(result, tmp_path)
    first, second, third = bank.questions
    assert (first.type, first.answer, first.explanation) == ("single", "B", "党章第一条")
    assert [option.text for option in first.options] == ["十六岁", "十八岁", "二十岁"]
    assert (second.type, second.answer) == ("multiple", ("A", "C"))
    assert (third.type, third.answer, third.options) == ("judge", False, ())
    assert [str(problem) for problem in result.problems] == ["选项表.xlsx:10: 没有填写答案"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding(encoding: str, tmp_path: Path) -> None:
    lines = [",".join(HEADER), *(",".join(f'"{cell}"' for cell in row) for row in ROWS)]
    data = "\r\n".join(lines).encode(encoding)
    result = _import(data, "题库.csv")
    assert result.format == "csv"
    assert by_stem(load_result(result, tmp_path))["党的纪律处分有（  ）。"].answer == ("A", "B", "D")


def test_tab_separated_text_is_read_as_a_table() -> None:
    data = "\n".join("\t".join(row) for row in [HEADER, ROWS[0]]).encode("utf-8")
    assert _import(data, "题库.csv").bank["questions"][0]["answer"] == "B"


def test_numbers_shown_as_text_and_whitespace_trimmed() -> None:
    rows = [HEADER, ["单选题", "\u3000 党成立于哪一年？\xa0", 1921, 1949.0, 0.1 + 0.2, "\u200b一九七八 ", "A", "  "]]
    question = _import(xlsx_bytes(*rows)).bank["questions"][0]
    assert question["stem"] == "党成立于哪一年？"
    assert question["options"] == {"A": "1921", "B": "1949", "C": "0.3", "D": "一九七八"}
    assert "explanation" not in question


def test_ids_are_stable_unique_and_prefixed_with_the_bank() -> None:
    rows = [HEADER, *ROWS, ROWS[0]]
    first = import_bank(xlsx_bytes(*rows), "题库.xlsx", slug="demo")
    again = import_bank(xlsx_bytes(HEADER, ROWS[4], *ROWS[:4]), "题库.xlsx", slug="demo")  # reordered
    ids = [question["id"] for question in first.bank["questions"]]
    assert len(set(ids)) == len(ids) == 6
    assert all(question_id.startswith("demo-") for question_id in ids)
    assert ids[5] == f"{ids[0]}-2"
    assert [str(warning) for warning in first.warnings] == [
        "题库.xlsx:7: 题干与 题库.xlsx:2 的题目相同（重复的题目？）"
    ]
    assert {question["id"] for question in again.bank["questions"]} == set(ids[:5])


def test_each_bad_row_is_reported_with_its_row_and_the_rest_kept() -> None:
    rows = [
        HEADER,
        ROWS[0],
        ["单选题", "", "甲", "乙", "", "", "A", ""],
        ["单选题", "只有一个选项", "甲", "", "", "", "A", ""],
        ["单选题", "两个答案", "甲", "乙", "", "", "AB", ""],
        ["多选题", "一个答案", "甲", "乙", "", "", "A", ""],
        ["单选题", "答案不在选项中", "甲", "乙", "", "", "E", ""],
        ["判断题", "判断答案不对", "", "", "", "", "也许", ""],
        ["填空题", "没有空", "", "", "", "", "甲", ""],
        ["填空题", "两个空____和____", "", "", "", "", "甲", ""],
        ["问卷题", "未知题型", "", "", "", "", "甲", ""],
        ["单选题", "选项中间空了", "甲", "", "丙", "", "A", ""],
    ]
    result = import_bank(xlsx_bytes(*rows), "坏.xlsx")
    assert len(result.bank["questions"]) == 1
    assert [str(problem) for problem in result.problems] == [
        "坏.xlsx:3: 题干为空",
        "坏.xlsx:4: 单选题至少需要两个选项（选项A、选项B…）",
        "坏.xlsx:5: 单选题只能有一个答案，这里是 AB（应为多选题？）",
        "坏.xlsx:6: 多选题至少有两个正确选项，这里只有 A（应为单选题？）",
        "坏.xlsx:7: 答案 E 不在选项中（只有 A–B）",
        "坏.xlsx:8: 判断题答案“也许”无法识别，请填 对/错、正确/错误 或 √/×",
        "坏.xlsx:9: 填空题题干中没有空：用一串下划线 ____ 表示每个空",
        "坏.xlsx:10: 题干有2个空，答案有1组（多个空的答案用“；”分开，同一空的多种写法用“|”分开）",
        "坏.xlsx:11: 无法识别的题型“问卷题”，可填：单选、多选、判断、填空、简答",
        "坏.xlsx:12: 选项B为空，但后面还有选项",
    ]
    assert not result.ok


def test_bad_optional_fields_name_the_field() -> None:
    rows = [
        ["题型", "题干", "A", "B", "答案", "难度", "分值", "题目ID", "题组"],
        ["单选", "一", "甲", "乙", "A", "超难", "", "", ""],
        ["单选", "二", "甲", "乙", "A", "", "-1", "", ""],
        ["单选", "三", "甲", "乙", "A", "", "", "Bad ID", ""],
        ["单选", "四", "甲", "乙", "A", "", "", "", "组 1"],
        ["单选", "五", "甲", "甲", "A", "", "", "", ""],
    ]
    messages = [problem.message for problem in import_bank(xlsx_bytes(*rows), "x.xlsx").problems]
    assert messages == [
        "难度“超难”应为 1–5 或 简单/中等/较难/困难",
        "分值“-1”应为大于 0 的数字",
        "题目 id 只能由小写字母、数字和连字符组成",
        "题组 group 只能由小写字母、数字和连字符组成",
        "有内容相同的选项",
    ]


#: Every header name issue #13 lists, per field, with the value a row gives that field.
ISSUE_HEADERS = {
    "type": (["题型", "类型", "题目类型", "试题类型"], "单选题"),
    "stem": (["题干", "题目", "问题内容", "题目内容", "试题内容", "Question"], "年满多少岁可以申请入党？"),
    "answer": (["答案", "正确答案", "正确选项", "标准答案", "Answer"], "B"),
    "explanation": (["解析", "答案解析", "试题解析", "说明"], "党章第一条"),
    "difficulty": (["难度"], "较难"),
    "category": (["章节", "知识点", "分类"], "第一章 党员"),
    "reference": (["出处", "依据"], "《中国共产党章程》第一条"),
    "points": (["分值"], "2.5"),
}


@pytest.mark.parametrize(
    ("field", "name"), [(field, name) for field, (names, _) in ISSUE_HEADERS.items() for name in names]
)
def test_every_header_name_the_issue_lists(field: str, name: str, tmp_path: Path) -> None:
    header = [name if key == field else names[0] for key, (names, _) in ISSUE_HEADERS.items()]
    row = [value for _, value in ISSUE_HEADERS.values()]
    options = ["十六岁", "十八岁", "二十岁"]
    result = _import(xlsx_bytes([*header, "A", "B", "C"], [*row, *options]))
    assert not result.warnings, result.warnings
    (question,) = load_result(result, tmp_path).questions
    assert (question.type, question.stem, question.answer) == ("single", "年满多少岁可以申请入党？", "B")
    assert (question.explanation, question.reference, question.points) == (
        "党章第一条",
        "《中国共产党章程》第一条",
        2.5,
    )
    assert question.difficulty == 4 and question.category is not None


def test_english_headers_for_every_field(tmp_path: Path) -> None:
    header = ["Type", "Question", "A", "B", "C", "Answer", "Explanation", "Difficulty", "Chapter", "Source", "Score"]
    row = ["单选", "年满多少岁可以申请入党？", "十六岁", "十八岁", "二十岁", "B", "党章第一条", 2, "总纲", "党章", 3]
    result = _import(xlsx_bytes(header, row))
    assert not result.warnings, result.warnings
    bank = load_result(result, tmp_path)
    (question,) = bank.questions
    assert (question.answer, question.explanation, question.difficulty, question.reference, question.points) == (
        "B",
        "党章第一条",
        2,
        "党章",
        3,
    )
    assert [category.title for category in bank.categories] == ["总纲"]


@pytest.mark.parametrize(
    ("written", "level"),
    [
        ("简单", 1),
        ("容易", 1),
        ("中等", 3),
        ("一般", 3),
        ("较难", 4),
        ("困难", 5),
        ("1", 1),
        ("2", 2),
        ("3", 3),
        ("4", 4),
        ("5", 5),
        (5, 5),
        (2.0, 2),
    ],
)
def test_difficulty_words_and_levels(written: object, level: int) -> None:
    result = _import(xlsx_bytes([*HEADER, "难度"], [*ROWS[0], written]))
    assert result.bank["questions"][0]["difficulty"] == level


@pytest.mark.parametrize("letters", ["选项{}", "{}"])
def test_eight_options_a_to_h(letters: str, tmp_path: Path) -> None:
    header = ["题型", "题干", *(letters.format(key) for key in "ABCDEFGH"), "答案"]
    texts = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]
    result = _import(xlsx_bytes(header, ["单选", "第八个对", *texts, "H"], ["多选", "单数对", *texts, "A、C、E、G"]))
    single, multiple = load_result(result, tmp_path).questions
    assert [option.key for option in single.options] == list("ABCDEFGH") and single.answer == "H"
    assert multiple.answer == ("A", "C", "E", "G") and multiple.options[7].text == "辛"


def test_numbers_become_the_text_their_format_shows(tmp_path: Path) -> None:
    """A cell keeps its number and shows it through its format: 0.005 as "0.5%", 3.5 as "3.50". The importer
    takes what the secretary sees (Excel turns a typed "0.5%" into 0.005 with a percent format)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案"])
    sheet.append(["填空题", "党费按月工资收入的____交纳。", None, None, None, None, 0.005])
    sheet.append(["单选题", "比例是（  ）", 0.5, 0.25, 1, 1921, "A"])
    sheet.append(["单选题", "金额是（  ）", 3.5, 12, 1234567.891, -2.25, "B"])
    sheet["G2"].number_format = "0.0%"
    sheet["C3"].number_format = "0%"
    sheet["D3"].number_format = "0.00%"
    sheet["C4"].number_format = "0.00"
    sheet["D4"].number_format = "0.0"
    sheet["E4"].number_format = "#,##0.00"
    sheet["F4"].number_format = "0.00;[Red]-0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    questions = _import(buffer.getvalue()).bank["questions"]
    assert questions[0]["answer"] == [["0.5%"]]
    assert questions[1]["options"] == {"A": "50%", "B": "25.00%", "C": "1", "D": "1921"}
    assert questions[2]["options"] == {"A": "3.50", "B": "12.0", "C": "1,234,567.89", "D": "-2.25"}


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (0.125, "0.0%", "12.5%"),
        (0.0125, "0%", "1%"),
        (2.675, "0.00", "2.68"),  # half away from zero on the decimal value (a float 2.675 is 2.67499…)
        (12, '"¥"#,##0.00', "¥12.00"),
        (3, '0"元"', "3元"),
        (-1234.5, "#,##0.00", "-1,234.50"),
        (-2, "0.00;(0.00)", "(2.00)"),
        (1921, "0", "1921"),
        (1.5e-7, "0.00E+00", None),
        (0.5, "# ?/?", None),
    ],
)
def test_formatted_number(value: float, number_format: str, shown: str | None) -> None:
    assert formatted_number(value, number_format) == shown


CODED = [
    [1, "单选的", "甲", "乙", "", "", "A", ""],
    [2, "多选的", "甲", "乙", "丙", "", "AB", ""],
    [3, "判断的", "", "", "", "", "对", ""],
    [4, "填空的____", "", "", "", "", "一年", ""],
    [5, "简述（  ）的要求", "", "", "", "", "要点", ""],  # inferred, this would be a 填空
    [9, "代码不在说明里", "甲", "乙", "", "", "B", ""],
]
CODED_TYPES = ["single", "multiple", "judge", "fill", "short", "single"]


@pytest.mark.parametrize(
    "above",
    [
        [["党章知识题库"], ["题型：1单选 2多选 3判断 4填空 5简答"]],  # a notes row above the header
        [["题型说明", "1=单选题", "2=多选题", "3=判断题", "4=填空题", "5=简答题"]],  # one code per cell
        [["说明：题型代码（1）单选题、（2）多选题、（3）判断题、（4）填空题、（5）简答题"]],
    ],
)
def test_numeric_type_codes_with_a_legend_above_the_header_are_read(above: list[list[str]]) -> None:
    result = _import(xlsx_bytes(*above, HEADER, *CODED))
    assert [question["type"] for question in result.bank["questions"]] == CODED_TYPES
    legend, unknown = (warning.message for warning in result.warnings)
    assert legend == "按表中的题型说明读取题型代码：1=单选题、2=多选题、3=判断题、4=填空题、5=简答题"
    assert unknown == "题型代码“9”没有说明，按答案推断为单选题"  # and no other row was inferred


def test_a_legend_in_the_type_header_or_a_notes_sheet_and_in_csv() -> None:
    header = ["题型（1单选 2多选 3判断 4填空 5简答）", *HEADER[1:]]
    in_header = _import(xlsx_bytes(header, *CODED[:5]))
    assert [question["type"] for question in in_header.bank["questions"]] == CODED_TYPES[:5]
    assert not any("无法识别的列" in warning.message for warning in in_header.warnings)
    notes = {"填写说明": [["题型一栏填代码：1=单选题，2=多选题，3=判断题，4=填空题，5=简答题"]]}
    in_notes = _import(xlsx_bytes(HEADER, *CODED[:5], extra=notes))
    assert [question["type"] for question in in_notes.bank["questions"]] == CODED_TYPES[:5]
    lines = ["题库导出,题型:1单选 2多选 3判断 4填空 5简答", ",".join(HEADER)]
    lines += [",".join(str(cell) for cell in row) for row in CODED[:5]]
    for encoding in ("utf-8-sig", "gbk"):
        in_csv = _import("\r\n".join(lines).encode(encoding), "题库.csv")
        assert [question["type"] for question in in_csv.bank["questions"]] == CODED_TYPES[:5]
        assert in_csv.warnings[0].message.startswith("按表中的题型说明读取题型代码：1=单选题")


def test_a_legend_with_one_code_for_two_types_is_not_used() -> None:
    result = _import(xlsx_bytes(["题型：1单选 1多选 2判断"], HEADER, *CODED[:1]))
    assert result.bank["questions"][0]["type"] == "single"
    messages = [warning.message for warning in result.warnings]
    assert "题型说明中代码“1”对应了不同题型（单选题、多选题），未使用" in messages
    assert "题型代码“1”没有说明，按答案推断为单选题" in messages

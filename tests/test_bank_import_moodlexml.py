"""Moodle XML: the supported types and categories, unsupported types at their line, XML bombs refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from quizengine.banks.importing import ImportRefused, import_bank

from .bank_files import load_result

DATA = Path(__file__).parent / "data" / "import"


def test_moodle_xml_questions(tmp_path: Path) -> None:
    result = import_bank((DATA / "party.moodle.xml").read_bytes(), "party.xml", slug="mx")
    assert result.format == "moodlexml"
    bank = load_result(result, tmp_path)
    assert [category.title for category in bank.categories] == ["第一章 党员", "第二章 党的组织制度"]
    single, multiple, judge, fill, short = bank.questions
    assert single.id == "dz-x-001"
    assert single.stem == "年满多少岁的先进分子可以申请加入中国共产党？"  # HTML to text, the script dropped
    assert (single.answer, single.explanation, single.tags) == ("B", "党章第一条&第二条。", ("入党条件",))
    assert multiple.answer == ("A", "B") and judge.answer is False
    assert fill.answer == (("一年", "1年"),) and fill.category == short.category != single.category
    assert (short.type, short.answer) == ("short", "认真学习……\n贯彻执行……")
    assert [str(problem) for problem in result.problems] == ["party.xml:44: Moodle 匹配题暂不支持，未导入"]
    assert [str(warning) for warning in result.warnings] == ["party.xml:48: 说明文字（description），不是题目，已跳过"]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="essay"><questiontext><text>&lol3;</text></questiontext></question></quiz>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><questiontext><text>&secret;</text></questiontext></question></quiz>
"""


@pytest.mark.parametrize("data", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_entity_bombs_and_external_entities_are_refused(data: bytes) -> None:
    with pytest.raises(ImportRefused, match="XML 炸弹"):
        import_bank(data, "bomb.xml")


def test_broken_and_foreign_xml() -> None:
    with pytest.raises(ImportRefused, match=r"XML 格式有误（第2行）"):
        import_bank(b"<quiz>\n<question type='essay'>", "x.xml")
    with pytest.raises(ImportRefused, match="根元素应为 <quiz>"):
        import_bank(b"<html></html>", "x.xml")
    with pytest.raises(ImportRefused, match="没有找到 Moodle XML 题目"):
        import_bank(b"<quiz></quiz>", "x.xml")

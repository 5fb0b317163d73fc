"""Printed papers (issue #13 item 5): a 统一试卷 exam's paper or a drawn one as an A4 试卷 with an answer key.

The layout (sections by type, numbering, options per line, answer brackets and blanks, the key), who may
print (readers of the exam; members never see a key), 随机组卷 exams (no shared paper: a paper drawn by their
rules instead), and the draw form (the same blueprint rows as the exam form, a reproducible seed, bad input
refused in Chinese). Chromium's PDF output is checked in test_browser_papers.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from quizengine.engine.questions import Option, Question
from quizengine.models import Role
from quizengine.services import exam_setup, printed_papers
from quizengine.services.printed_papers import layout, numeral

from . import test_exams
from .conftest import login
from .test_exam_papers import RANDOM_BLUEPRINT, _levels
from .test_exams import _now, _spec

setting = test_exams.setting  # fixture: the exam bank, organizer "org" and members m0..m2 of 第一党支部

STEM = re.compile(r'<p class="paper-stem"><span class="paper-no">(\d+)\.</span>(.*?)</p>', re.S)


def _q(qid: str, kind: str, stem: str, answer, **extra) -> Question:  # type: ignore[no-untyped-def]
    return Question(id=qid, type=kind, stem=stem, answer=answer, **extra)


def _stems(page: str) -> list[tuple[int, str]]:
    return [(int(number), re.sub(r"<[^>]+>", "_", text)) for number, text in STEM.findall(page)]


def test_numerals() -> None:
    assert [numeral(n) for n in (1, 5, 10, 11, 20, 23)] == ["一", "五", "十", "十一", "二十", "二十三"]


def test_layout_groups_by_type_numbers_through_and_keys_in_print_order() -> None:
    short_options = tuple(Option(key, text) for key, text in zip("ABCD", ("一年", "两年", "三年", "五年"), strict=True))
    long_options = tuple(Option(key, "很长的选项文字" * 4 + key) for key in "ABC")
    questions = [
        # blueprint section 0 mixes types: printed as 单选 then 判断 (type order), each its own section
        (_q("j1", "judge", "党员必须履行义务。", False), 2.0, 0),
        (_q("s1", "single", "预备期为（ ）。", "B", options=short_options), 3.0, 0),
        (
            _q("s2", "single", "哪一项正确？", "C", options=long_options, explanation="因为……", reference="党章第一条"),
            3.0,
            0,
        ),
        # section 1: more judge questions — a run of the same type after section 0's judge is merged
        (_q("j2", "judge", "（　）党的最高领导机关是全国代表大会。", True), 2.0, 1),
        (_q("m1", "multiple", "哪些正确", ("A", "C"), options=short_options), 4.0, 2),
        (_q("f1", "fill", "党员的预备期为____，从____算起。", (("一年",), ("支部大会通过之日", "通过之日"))), 5, 3),
        (_q("q1", "short", "简述党员的义务。", "参考答案：八项义务", keypoints=("学习", "贯彻")), 10.0, 4),
    ]
    paper = layout("测试卷", questions, date="2026年12月7日", minutes=60, seed=7)
    assert [section.heading for section in paper.sections] == [
        "一、单项选择题",
        "二、判断题",
        "三、多项选择题",
        "四、填空题",
        "五、简答题",
    ]
    single, judge, multiple, fill, short = paper.sections
    assert [q.number for section in paper.sections for q in section.questions] == list(range(1, 8))
    assert single.note == "（共2题，每题3分，共6分。每题只有一个正确选项，请将其字母填在括号内）"
    assert judge.note.startswith("（共2题，每题2分，共4分。正确的在括号内画“√”")
    assert paper.total_points == 29 and paper.question_count == 7 and single.numeral == "一"
    s1, s2 = single.questions
    assert s1.stem_parts == ("预备期为（\u3000\u3000）。",) and s1.columns == 4 and s1.answer == "B"
    assert s2.stem_parts == ("哪一项正确？（\u3000\u3000）",) and s2.columns == 1  # no bracket: one is added
    assert s2.explanation == "因为……" and s2.reference == "党章第一条"
    assert [q.answer for q in judge.questions] == ["×", "√"]
    assert judge.questions[1].stem_parts == ("（\u3000\u3000）党的最高领导机关是全国代表大会。",)
    assert multiple.questions[0].answer == "AC"
    (blank,) = fill.questions
    assert (
        blank.stem_parts == ("党员的预备期为", "，从", "算起。") and blank.answer == "一年；支部大会通过之日/通过之日"
    )
    assert fill.note.startswith("（共1题，每题5分，共5分")
    (essay,) = short.questions
    assert essay.lines == 8 and essay.keypoints == ("学习", "贯彻") and essay.answer == "参考答案：八项义务"


def test_options_are_printed_in_authoring_order_and_two_to_a_line_when_middling() -> None:
    options = tuple(Option(key, f"中等长度的选项{key}内容文字") for key in "DBAC")  # authoring keys out of order
    paper = layout("卷", [(_q("s", "single", "题（）", "A", options=options), 1.0, 0)])
    (question,) = paper.sections[0].questions
    assert question.columns == 2
    assert question.options[0] == ("A", "中等长度的选项D内容文字")
    assert [key for key, _ in question.options] == ["A", "B", "C", "D"] and question.answer == "C"


def _exam(session: Session, organizer, **changes):  # type: ignore[no-untyped-def]
    return exam_setup.create_exam(session, organizer, _spec(session, _now(), **changes))


def test_an_exam_paper_prints_the_frozen_paper_with_the_key_on_request(
    client: FlaskClient, session: Session, setting
) -> None:
    organizer, _ = setting
    exam = _exam(session, organizer)
    exam_setup.publish_exam(session, organizer, exam.id)
    login(client, "org")
    page = client.get(f"/papers/exam/{exam.id}").get_data(as_text=True)
    assert "11月月度测试" in page and "姓名" in page and "支部" in page and "得分" in page
    assert "限时：30 分钟" in page and "满分：46 分" in page
    assert '一、单项选择题<span class="paper-note">（共5题，每题4分，共20分' in page
    assert "二、多项选择题" in page and "三、判断题" in page and "四、简答题" in page
    stems = _stems(page)
    by_section = {"单选": 5, "多选": 2, "判断": 3, "简答": 1}
    assert [number for number, _ in stems] == list(range(1, 12))
    assert [stem[:2] for _, stem in stems] == [kind for kind, n in by_section.items() for _ in range(n)]
    frozen = {entry["id"] for entry in exam.paper}
    assert len(frozen) == 11 and page.count('class="paper-line"') == 8  # one 简答 of 10 points: 8 lines
    assert "答案与解析" not in page and 'id="answers"' not in page  # the paper alone by default
    both = client.get(f"/papers/exam/{exam.id}?part=all").get_data(as_text=True)
    assert 'id="paper"' in both and 'id="answers"' in both and "答案与解析" in both
    key = client.get(f"/papers/exam/{exam.id}?part=key").get_data(as_text=True)
    assert 'id="answers"' in key and 'id="paper"' not in key and "姓名" not in key
    answers = re.findall(r'<strong class="paper-answer">(.*?)</strong>', key)
    assert answers == ["A"] * 5 + ["AB"] * 2 + ["√"] * 3 + ["要点"]
    manage = client.get(f"/exams/{exam.id}/manage").get_data(as_text=True)
    assert f'href="/papers/exam/{exam.id}"' in manage
    assert f'href="/papers/exam/{exam.id}"' in client.get("/exams/").get_data(as_text=True)


def test_a_draft_paper_prints_with_a_warning(client: FlaskClient, session: Session, setting) -> None:
    organizer, _ = setting
    exam = _exam(session, organizer)
    login(client, "org")
    page = client.get(f"/papers/exam/{exam.id}").get_data(as_text=True)
    assert "还是草稿" in page and len(_stems(page)) == 11


def test_who_may_print_and_members_never_see_a_key(client: FlaskClient, session: Session, setting, make_user) -> None:
    organizer, _ = setting
    exam = _exam(session, organizer)
    exam_setup.publish_exam(session, organizer, exam.id)
    make_user(Role.ORGANIZER, username="org2", branch="第二党支部")
    make_user(Role.ADMIN, username="admin")
    make_user(Role.INSPECTOR, username="ducha", branch=test_exams.BRANCH)
    session.commit()
    for username in ("m0", "org2", "admin", "ducha"):
        login(client, username)
        for part in ("paper", "all", "key"):
            response = client.get(f"/papers/exam/{exam.id}?part={part}")
            expected = {"m0": 403, "org2": 404, "admin": 200, "ducha": 200}[username]
            assert response.status_code == expected, (username, part)
            if expected != 200:
                assert "答案与解析" not in response.get_data(as_text=True)
        drawn = client.get("/papers/draw?go=1&seed=3&part=all&s0_type=judge&s0_count=2")
        assert drawn.status_code == (403 if username == "m0" else 200), username
    login(client, "m0")
    home = client.get("/").get_data(as_text=True)
    assert "/papers/draw" not in home and "抽题打印" not in home


def test_a_random_exam_explains_and_offers_a_paper_drawn_by_its_rules(
    client: FlaskClient, session: Session, setting, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    organizer, _ = setting
    _levels(tmp_path, runner)
    exam = _exam(session, organizer, blueprint=RANDOM_BLUEPRINT, paper_mode="random", pass_mark=20)
    login(client, "org")
    page = client.get(f"/papers/exam/{exam.id}").get_data(as_text=True)
    assert "这场考试没有统一的试卷" in page and "随机组卷" in page and 'class="paper-stem"' not in page
    link = re.search(r'href="(/papers/exam/\d+\?seed=\d+)"', page)
    assert link, page
    url = link.group(1).replace("&amp;", "&")
    sample = client.get(url).get_data(as_text=True)
    assert "11月月度测试（抽样试卷）" in sample and "换一份" in sample
    stems = _stems(sample)
    assert [stem[:2] for _, stem in stems] == ["单选"] * 4 + ["判断"] * 3  # the exam's sections, as members get
    seed = int(parse_qs(urlsplit(url).query)["seed"][0])
    assert (
        f"编号：{seed}" in sample and _stems(client.get(url).get_data(as_text=True)) == stems
    )  # same seed, same paper
    paper = printed_papers.exam_sample(session, exam, seed, ZoneInfo("Asia/Shanghai"))
    levels = {f"{kind}{n}": 1 + n % 5 for kind, count in (("单选", 8), ("判断", 6)) for n in range(count)}
    total = sum(levels[q.stem_parts[0].partition("（")[0]] for section in paper.sections for q in section.questions)
    target = 4 * (sum(1 + n % 5 for n in range(8)) / 8) + 3 * (sum(1 + n % 5 for n in range(6)) / 6)
    assert abs(total - round(target, 1)) <= 1  # balanced like a member's paper


def test_the_draw_form_draws_a_reproducible_paper(client: FlaskClient, session: Session, setting) -> None:
    login(client, "org")
    form = client.get("/papers/draw?s0_bank=exam").get_data(as_text=True)
    assert '<option value="exam" selected>' in form and 'name="s0_count"' in form and 'name="seed"' in form
    query = "go=1&title=支部党员大会测试&date=2026年12月7日&minutes=45&s0_type=single&s0_count=3&s0_points=5"
    query += "&s1_type=fill&s1_count=1&s1_points=4&s2_type=short&s2_count=1&s2_points=6"
    first = client.get(f"/papers/draw?{query}")
    assert first.status_code == 302  # a seed is chosen and put in the URL, so the page prints the same paper again
    target = first.headers["Location"]
    seed = parse_qs(urlsplit(target).query)["seed"][0]
    page = client.get(target).get_data(as_text=True)
    assert "支部党员大会测试" in page and "日期：2026年12月7日" in page and "限时：45 分钟" in page
    assert f"编号：{seed}" in page and "满分：25 分" in page
    assert [section for section in re.findall(r"[一二三]、[^<]+题", page)] == [
        "一、单项选择题",
        "二、填空题",
        "三、简答题",
    ]
    assert page.count('class="paper-blank"') == 1 and page.count('class="paper-line"') == 6
    again = client.get(target).get_data(as_text=True)
    assert _stems(again) == _stems(page)
    others = {tuple(_stems(client.get(f"/papers/draw?{query}&seed={n}").get_data(as_text=True))) for n in range(6)}
    assert len(others) > 1
    edit = re.search(r'href="(/papers/draw\?[^"]+)">修改抽题条件', page)
    assert edit and "go=" not in edit.group(1) and "s0_count=3" in edit.group(1).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("go=1&seed=1", "请至少设置一个组卷规则"),
        ("go=1&seed=1&s0_type=judge&s0_count=50", "需要50题，题库中只有6题"),
        ("go=1&seed=1&s0_count=150&s1_count=60", "一份试卷最多 200 题"),
        ("go=1&seed=-1&s0_count=1", "输入有误"),
        ("go=1&seed=1&s0_count=1&part=everything", "请选择打印试卷、答案或两者"),
        ("go=1&seed=1&s0_count=abc", "须为整数"),
        ("go=1&seed=1&s0_count=1&minutes=9999", "输入有误"),
        ("go=1&seed=1&s0_bank=nope&s0_count=1", "题库nope"),
    ],
)
def test_the_draw_form_refuses_bad_input_in_chinese(client: FlaskClient, setting, query: str, message: str) -> None:
    login(client, "org")
    response = client.get(f"/papers/draw?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page, page[-2000:]
    assert 'id="draw-form"' in page and 'class="paper-stem"' not in page  # the form again, with the reason


def test_an_exam_paper_refuses_bad_input(client: FlaskClient, session: Session, setting) -> None:
    organizer, _ = setting
    exam = _exam(session, organizer)
    login(client, "org")
    assert client.get(f"/papers/exam/{exam.id}?part=nothing").status_code == 400
    assert "请选择打印试卷、答案或两者" in client.get(f"/papers/exam/{exam.id}?part=x").get_data(as_text=True)
    assert client.get(f"/papers/exam/{exam.id + 1000}").status_code == 400  # no such exam: a Chinese message
    assert "没有找到这场考试" in client.get(f"/papers/exam/{exam.id + 1000}").get_data(as_text=True)

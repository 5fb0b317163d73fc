"""Content checks on the shipped banks that counting cannot fool (issue #17 item 5).

Every question that carries 原文 (`quote`) must be backed by it: the keyed options of a single/multiple
question and an accepted answer of each blank of a fill question appear in the quote (compared after
normalizing punctuation and spaces), and its 出处 (`reference`) names the chapter the question is filed
under. Every shipped question has a quote (a new bank or question without one fails). No two questions of any
bank share a normalized stem, and a 题组 (`group`) is a real group.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import replace
from difflib import SequenceMatcher

import pytest

from quizengine.banks.loader import Bank, Category, load_banks
from quizengine.config import PROJECT_ROOT
from quizengine.engine.questions import Option, Question

BANKS_DIR = PROJECT_ROOT / "question_banks"

#: Banks whose categories are themes, not chapters of one document: each question cites its own
#: speech or document (with its date), so 出处 cannot name a category.
THEMATIC_BANKS = {"xilie-jianghua"}

_NUMERAL = "一二三四五六七八九十百零〇"
#: A chapter-like label in a category title: 第一章, 第三编, 第二部分…
_CHAPTER_LABEL = re.compile(rf"第[{_NUMERAL}]+(?:章|编|部分|节)")
#: A numbered part: "四、严明党的政治纪律" is part 四.
_PART_LABEL = re.compile(rf"^([{_NUMERAL}]+)、")
#: Quotation and title marks belong to the term they wrap (“三个代表”重要思想): dropped, never split on.
_WRAPPING_MARKS = re.compile(r"[“”‘’\"'《》〈〉「」『』]")
#: Generic words an option may add before the term the document uses ("党的十一届三中全会").
_OPTIONAL_PREFIXES = ("党的",)


def normalize(text: str) -> str:
    """NFKC, then drop every space and punctuation mark and fold case: what the comparisons see."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).casefold()


def key_words(option_text: str) -> list[str]:
    """The parts of an option a quote must contain: its items split at punctuation, each normalized.

    "马克思列宁主义、毛泽东思想" must find both items; one-character fragments say nothing and are
    ignored unless the option is nothing but such fragments.
    """
    text = _WRAPPING_MARKS.sub("", unicodedata.normalize("NFKC", option_text))
    items = [normalize(item) for item in re.split(r"[^\w\s]+|_+", text)]  # spaces join, marks split
    words = [item for item in items if len(item) >= 2]
    return words or [normalize(text)]


def _in_quote(word: str, quote: str) -> bool:
    if word in quote:
        return True
    return any(word.startswith(prefix) and word[len(prefix) :] in quote for prefix in _OPTIONAL_PREFIXES)


def quote_problems(question: Question) -> list[str]:
    """Why this question's 原文 does not back its answer (empty when it does, or when it has no quote)."""
    if not question.quote:
        return []
    quote = normalize(question.quote)
    if not quote:
        return [f"{question.id}: 原文只有标点，没有文字"]
    problems = []
    if question.type in ("single", "multiple"):
        keys = (question.answer,) if question.type == "single" else question.answer
        texts = {option.key: option.text for option in question.options}
        for key in keys:
            missing = [word for word in key_words(texts[key]) if not _in_quote(word, quote)]
            if missing:
                problems.append(f"{question.id}: 答案 {key}“{texts[key]}”不在原文中（缺 {'、'.join(missing)}）")
    elif question.type == "fill":
        for number, accepted in enumerate(question.answer, start=1):
            if not any(normalize(answer) in quote for answer in accepted):
                problems.append(f"{question.id}: 第{number}空的答案{list(accepted)}都不在原文中")
    return problems


#: A 解析 must say more than "这是第X条的规定" (issue #17 item 2): longer than this, punctuation aside.
MIN_EXPLANATION = 21
#: A judge question's 解析 must add this many characters of its own to the stem: what makes it true
#: (where the text says so) or false (what the text says instead), not the stem said again.
MIN_JUDGE_OWN_WORDS = 10


def own_words(stem: str, explanation: str) -> int:
    """How many (normalized) characters of the explanation are not matched in the stem."""
    stem, explanation = normalize(stem), normalize(explanation)
    matcher = SequenceMatcher(None, stem, explanation, autojunk=False)
    return len(explanation) - sum(block.size for block in matcher.get_matching_blocks())


def explanation_problems(question: Question) -> list[str]:
    """Why this question's 解析 or keys are flagged by issue #17 item 2 (empty when they are fine)."""
    problems = []
    if len(normalize(question.explanation)) < MIN_EXPLANATION:
        problems.append(f"{question.id}: 解析太短（不足{MIN_EXPLANATION}字），应引用或解释原文：{question.explanation}")
    if question.type == "judge" and own_words(question.stem, question.explanation) < MIN_JUDGE_OWN_WORDS:
        problems.append(f"{question.id}: 判断题解析只是复述题干，应说明对错的依据：{question.explanation}")
    if question.type == "multiple" and len(question.answer) == len(question.options):
        problems.append(f"{question.id}: 多选题所有选项都是答案，至少要有一个干扰项")
    return problems


#: The tag of the projector-ready set (issue #17 item 4): the standard contest plan draws only these.
PROJECTOR_TAG = "投影"
#: Read aloud and shown on a projector: a short stem (blank parentheses aside) and short options.
PROJECTOR_MAX_STEM, PROJECTOR_MAX_OPTION = 50, 18
#: Stems that ask for the wrong item are easily misheard when read aloud.
_NEGATIVE_ASK = re.compile(r"不属于|错误的是|不正确|不包括|不是|不符合")


def projector_problems(question: Question, *, tagged: bool = True) -> list[str]:
    """Why a question does not belong in the projector set (empty when it does).

    `tagged`: only check questions carrying PROJECTOR_TAG (False: judge any question, for tagging)."""
    if tagged and PROJECTOR_TAG not in question.tags:
        return []
    problems = []
    if question.type not in ("single", "multiple", "judge"):
        problems.append(f"{question.id}: 投影题只能是单选、多选或判断题（现场设备作答）")
    stem = re.sub(r"[（(]\s*[)）]", "", question.stem)
    if len(stem) > PROJECTOR_MAX_STEM:
        problems.append(f"{question.id}: 投影题题干超过{PROJECTOR_MAX_STEM}字（{len(stem)}字）")
    long_options = [option.key for option in question.options if len(option.text) > PROJECTOR_MAX_OPTION]
    if long_options:
        problems.append(f"{question.id}: 投影题选项 {'、'.join(long_options)} 超过{PROJECTOR_MAX_OPTION}字")
    if _NEGATIVE_ASK.search(question.stem):
        problems.append(f"{question.id}: 投影题题干不宜用否定问法（朗读时容易听错）")
    return problems


def chapter_labels(category: Category) -> list[str]:
    """How a 出处 names this category: 第X章 (the last such label of the title), part X、 (or 第X部分),
    or else the title's first word (总纲, 序言, 导语…)."""
    chapters = _CHAPTER_LABEL.findall(category.title)
    if chapters:
        return [chapters[-1]]
    part = _PART_LABEL.match(category.title)
    if part:
        return [f"{part.group(1)}、", f"第{part.group(1)}部分"]
    return [re.split(r"[\s（(]", category.title, maxsplit=1)[0]]


def named_categories(categories: tuple[Category, ...], reference: str) -> set[str]:
    """The ids of the categories a 出处 names ("《中国共产党章程》第一章第七条" names ch1)."""
    named = set()
    for category in categories:
        for label in chapter_labels(category):
            # "四、" must not be read inside "十四、", nor "第一章" inside "第十一章" (the 第 guards that)
            if re.search(rf"(?<![{_NUMERAL}]){re.escape(label)}", reference):
                named.add(category.id)
    return named


@pytest.fixture(scope="module")
def banks() -> list[Bank]:
    return load_banks([BANKS_DIR], strict=True)


def _quoted(banks: list[Bank]) -> list[tuple[Bank, Question]]:
    return [(bank, question) for bank in banks for question in bank.questions if question.quote]


# ---- the helpers catch what they are meant to catch --------------------------------------------------


def _options(*texts: str) -> tuple[Option, ...]:
    return tuple(Option("ABCDEFGH"[n], text) for n, text in enumerate(texts))


def _single(answer: str, quote: str = "年满十八岁的中国工人……可以申请加入中国共产党。") -> Question:
    options = _options("十六岁", "十八岁", "二十岁", "二十二岁")
    return Question("t-1", "single", "年满多少岁可以申请入党？", answer, options=options, quote=quote)


def test_a_right_key_passes_and_a_wrong_key_is_caught() -> None:
    assert quote_problems(_single("B")) == []
    [problem] = quote_problems(_single("A"))
    assert "答案 A“十六岁”不在原文中" in problem


def test_a_question_without_quote_is_not_checked_but_an_empty_one_is() -> None:
    assert quote_problems(_single("A", quote="")) == []
    assert quote_problems(_single("B", quote="……")) == ["t-1: 原文只有标点，没有文字"]


def test_multiple_needs_every_item_of_every_keyed_option() -> None:
    quote = "党的纪律处分有五种：警告、严重警告、撤销党内职务、留党察看、开除党籍。"
    options = _options("警告", "严重警告", "罚款", "留党察看、开除党籍", "留党察看、降级")
    question = Question("t-2", "multiple", "纪律处分有（  ）。", ("A", "B", "D"), options=options, quote=quote)
    assert quote_problems(question) == []
    assert len(quote_problems(replace(question, answer=("A", "C")))) == 1  # 罚款 is no 处分
    [problem] = quote_problems(replace(question, answer=("A", "E")))  # one item of E is wrong
    assert "缺 降级" in problem


def test_key_words_ignore_punctuation_quotes_and_spaces() -> None:
    assert key_words("“三个代表”重要思想、科学发展观") == ["三个代表重要思想", "科学发展观"]
    assert key_words("１８ 岁") == ["18岁"]
    assert key_words("是") == ["是"]
    assert _in_quote("党的十一届三中全会", normalize("十一届三中全会以来，……"))


def test_fill_needs_one_accepted_answer_per_blank_in_the_quote() -> None:
    question = Question(
        "t-3", "fill", "预备期为____，延长不超过____。", (("一年", "1年"), ("一年",)), quote="预备期为一年。"
    )
    assert quote_problems(question) == []
    wrong = replace(question, answer=(("两年",), ("一年",)))
    assert quote_problems(wrong) == ["t-3: 第1空的答案['两年']都不在原文中"]


def test_a_reference_names_the_category_it_cites() -> None:
    dangzhang = (Category("zonggang", "总纲"), Category("ch1", "第一章 党员"), Category("ch11", "第十一章 党徽党旗"))
    assert named_categories(dangzhang, "《中国共产党章程》第一章第七条") == {"ch1"}
    assert named_categories(dangzhang, "《中国共产党章程》第十一章第五十五条") == {"ch11"}
    assert named_categories(dangzhang, "《中国共产党章程》总纲") == {"zonggang"}
    assert named_categories(dangzhang, "《中国共产党章程》第七条") == set()
    jilv = (Category("ch1", "第一编 总则 第一章 总体要求和适用范围"), Category("fj", "第三编 附则"))
    assert named_categories(jilv, "《中国共产党纪律处分条例》第一编第一章第五条") == {"ch1"}
    assert named_categories(jilv, "《中国共产党纪律处分条例》第三编附则第一百五十八条") == {"fj"}
    parts = (Category("p4", "四、严明党的政治纪律"), Category("p14", "十四、促进世界和平与发展"))
    assert named_categories(parts, "《准则》四、严明党的政治纪律") == {"p4"}
    assert named_categories(parts, "党的二十大报告第十四部分") == {"p14"}


def test_item_2_flags_short_restating_and_all_keyed_questions() -> None:
    stem = "根据党章，预备党员的预备期为一年，预备期从支部大会通过其为预备党员之日算起。"
    because = "党章第七条规定：“预备党员的预备期为一年。”预备期的起算也与第七条一致，所以正确。"
    judge = Question("t-4", "judge", stem, True, explanation=because)
    assert explanation_problems(judge) == []
    restated = replace(
        judge, explanation="党章规定，预备党员的预备期为一年，预备期从支部大会通过其为预备党员之日算起。"
    )
    assert explanation_problems(restated) == [f"t-4: 判断题解析只是复述题干，应说明对错的依据：{restated.explanation}"]
    short = replace(judge, explanation="这是党章第七条的规定。")
    assert any("解析太短" in problem for problem in explanation_problems(short))
    options = _options("警告", "严重警告", "罚款")
    multiple = Question("t-5", "multiple", "处分有（  ）。", ("A", "B"), options=options, explanation=because)
    assert explanation_problems(multiple) == []
    assert explanation_problems(replace(multiple, answer=("A", "B", "C"))) == [
        "t-5: 多选题所有选项都是答案，至少要有一个干扰项"
    ]


# ---- the shipped banks ---------------------------------------------------------------------------------


def test_every_quote_backs_its_answer(banks: list[Bank]) -> None:
    problems = [problem for _, question in _quoted(banks) for problem in quote_problems(question)]
    assert not problems, "\n".join(problems)


def test_a_wrong_key_in_a_shipped_bank_is_caught(banks: list[Bank]) -> None:
    """Moving the key of quoted single-choice questions to a distractor is caught almost always
    (a distractor may legitimately occur in a longer quote, so not always)."""
    singles = [question for _, question in _quoted(banks) if question.type == "single"]
    if not singles:
        pytest.skip("no quoted single-choice question yet")
    caught = 0
    for question in singles:
        wrong = next(option.key for option in question.options if option.key != question.answer)
        caught += bool(quote_problems(replace(question, answer=wrong)))
    assert caught / len(singles) >= 0.9, f"{caught} of {len(singles)}"


def test_every_quoted_reference_names_its_own_chapter(banks: list[Bank]) -> None:
    problems = []
    for bank, question in _quoted(banks):
        if bank.slug in THEMATIC_BANKS or not bank.categories:
            continue
        named = named_categories(bank.categories, question.reference)
        if question.category not in named:
            problems.append(f"{question.id}: 出处“{question.reference}”没有写明本题的章节 {question.category}")
    assert not problems, "\n".join(problems)


def test_every_shipped_question_has_its_quote(banks: list[Bank]) -> None:
    missing = [q.id for bank in banks for q in bank.questions if not q.quote]
    assert not missing, f"没有原文：{missing}"


def test_no_two_questions_share_a_normalized_stem_across_banks_and_types(banks: list[Bank]) -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for bank in banks:
        for question in bank.questions:
            stem = normalize(question.stem)
            if stem in seen:
                duplicates.append(f"{question.id} repeats {seen[stem]}")
            seen.setdefault(stem, question.id)
    assert not duplicates, "\n".join(duplicates)


def test_every_group_is_a_real_group_within_one_bank(banks: list[Bank]) -> None:
    """A group named by one question only is a typo; a group spanning banks breaks the prefix rule.
    (That no paper draws two questions of one group is tested in test_question_quote_group.py.)"""
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for bank in banks:
        for question in bank.questions:
            if question.group:
                members[question.group].append((bank.slug, question.id))
    for group, questions in members.items():
        assert len(questions) >= 2, f"题组 {group} 只有一道题：{questions}"
        assert len({slug for slug, _ in questions}) == 1, f"题组 {group} 跨题库：{questions}"


def test_every_explanation_quotes_or_explains_and_no_multiple_keys_every_option(banks: list[Bank]) -> None:
    """Issue #17 item 2, kept from coming back: 解析 longer than 20 characters, a judge 解析 that says
    what makes the statement true or false, and a true distractor in every multiple-choice question."""
    problems = [problem for bank in banks for question in bank.questions for problem in explanation_problems(question)]
    assert not problems, "\n".join(problems)


def test_every_declared_category_has_questions(banks: list[Bank]) -> None:
    """A chapter a bank declares but never asks about shows up empty in self-test "by chapter"."""
    empty = [
        f"{bank.slug}: {category.id} {category.title}"
        for bank in banks
        for category in bank.categories
        if not any(question.category == category.id for question in bank.questions)
    ]
    assert not empty, "没有题目的章节：" + "；".join(empty)


def test_every_projector_question_reads_well_aloud(banks: list[Bank]) -> None:
    """The 投影 set (drawn by the standard contest plan) holds only short choice questions without a
    negative ask; and it is no token set."""
    problems = [problem for bank in banks for question in bank.questions for problem in projector_problems(question)]
    assert not problems, "\n".join(problems)
    tagged = [question for bank in banks for question in bank.questions if PROJECTOR_TAG in question.tags]
    assert len(tagged) >= 300


def test_projector_rules_catch_what_reads_badly() -> None:
    question = replace(_single("B"), tags=(PROJECTOR_TAG,))
    assert projector_problems(question) == []
    assert projector_problems(replace(question, tags=())) == []  # untagged: not checked
    long_stem = replace(question, stem="根据党章规定，" * 8 + "（  ）")
    assert projector_problems(long_stem) == ["t-1: 投影题题干超过50字（56字）"]
    negative = replace(question, stem="下列不属于入党条件的是（  ）。")
    assert projector_problems(negative) == ["t-1: 投影题题干不宜用否定问法（朗读时容易听错）"]
    fill = Question("t-6", "fill", "预备期为____。", (("一年",),), tags=(PROJECTOR_TAG,))
    assert projector_problems(fill) == ["t-6: 投影题只能是单选、多选或判断题（现场设备作答）"]

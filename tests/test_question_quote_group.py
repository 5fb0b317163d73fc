"""原文 (`quote`) and 题组 (`group`): validated in banks, kept in revisions, shown to the host and (when the host
chooses) on the projector; no paper, self-test session or contest ever draws two questions of one group."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizengine.banks.format import QUOTE_MAX
from quizengine.banks.loader import BankLoadError, load_banks
from quizengine.engine.errors import InsufficientQuestions
from quizengine.engine.questions import Option, Question
from quizengine.engine.selection import Blueprint, PoolEntry, Section, select_balanced_paper, select_paper
from quizengine.models import Contest
from quizengine.modes.contest import (
    ContestError,
    ContestState,
    QuestionSource,
    Role,
    RoundKind,
    RoundSpec,
)
from quizengine.modes.contest import Phase as ContestPhase
from quizengine.schemas import BadInput, parse
from quizengine.schemas.contest import COMMAND_ARGS
from quizengine.services.contest_setup import _draw
from quizengine.services.practice import _one_per_group
from tests import test_contest_socket as socket_tests
from tests.test_contest_socket import _client, _command, _join, _seat, _views
from tests.test_live_contest_engine import QUESTIONS, Driver, _contest, _plan

live = socket_tests.live  # the contest fixture and cache reset of the socket tests
_fresh_caches = socket_tests._fresh_caches

BANK = """\
bank: quoted
title: 原文题库
questions:
  - id: qu-1
    type: judge
    stem: 预备党员的预备期为一年。
    answer: true
    quote: 预备党员的预备期为一年。
    group: qu-yubeiqi
"""


def _load(tmp_path: Path, text: str) -> list:
    path = tmp_path / "bank.yaml"
    path.write_text(text, encoding="utf-8")
    return load_banks([path])


def test_quote_and_group_load_and_survive_a_stored_revision(tmp_path: Path) -> None:
    [bank] = _load(tmp_path, BANK)
    [question] = bank.questions
    assert question.quote == "预备党员的预备期为一年。" and question.group == "qu-yubeiqi"
    assert Question.from_content(question.id, question.content()) == question


def test_a_question_without_quote_or_group_keeps_its_content_hash() -> None:
    """Revisions stored before the fields existed hash the same: a load makes no new revision of them."""
    question = Question("x-1", "judge", "题干", True, explanation="解析", reference="出处")
    assert "quote" not in question.content() and "group" not in question.content()
    assert Question.from_content("x-1", question.content()).content_hash == question.content_hash


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    quote: '   '\n", "原文（quote）不能为空白"),
        ("    quote: ''\n", "原文（quote）不能为空白"),
        (f"    quote: {'字' * (QUOTE_MAX + 1)}\n", f"原文（quote）最多{QUOTE_MAX}字"),
        ("    quote: [一句]\n", "应为文字"),
        ("    group: 领导\n", "题组 group 只能由小写字母、数字和连字符组成"),
    ],
)
def test_bad_quote_or_group_is_refused_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    text = BANK.replace("    quote: 预备党员的预备期为一年。\n", "").replace("    group: qu-yubeiqi\n", "") + line
    with pytest.raises(BankLoadError) as error:
        _load(tmp_path, text)
    [problem] = error.value.problems
    assert problem.question_id == "qu-1" and message in problem.message and problem.line == 8


# ---- groups in selection -------------------------------------------------------------------------------


def _pool(groups: list[int | None], levels: list[int]) -> list[PoolEntry]:
    options = (Option("A", "甲"), Option("B", "乙"))
    return [
        PoolEntry(
            Question(
                f"q{n}",
                "single",
                f"题{n}",
                "A",
                options=options,
                difficulty=level,
                group=None if group is None else f"g{group}",
            ),
            "bank",
        )
        for n, (group, level) in enumerate(zip(groups, levels, strict=True))
    ]


def _groups_on(paper_ids: tuple[str, ...], pool: list[PoolEntry]) -> list[str]:
    group = {entry.question.id: entry.question.group for entry in pool}
    return [group[qid] for qid in paper_ids if group[qid]]


_pools = st.integers(min_value=4, max_value=40).flatmap(
    lambda size: st.tuples(
        st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=size, max_size=size),
        st.lists(st.integers(1, 5), min_size=size, max_size=size),
    )
)


@settings(max_examples=150, deadline=None)
@given(pool=_pools, counts=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_no_paper_ever_holds_two_questions_of_one_group(
    pool: tuple[list[int | None], list[int]], counts: list[int], seed: int
) -> None:
    entries = _pool(*pool)
    blueprint = Blueprint(tuple(Section(count) for count in counts))
    distinct = len([g for g in pool[0] if g is None]) + len({g for g in pool[0] if g is not None})
    for draw in (
        lambda: select_paper(entries, blueprint, random.Random(seed)),
        lambda: select_balanced_paper(entries, blueprint, random.Random(seed), tolerance=1.5),
    ):
        try:
            paper = draw()
        except InsufficientQuestions:
            continue  # too few distinct groups, or (balanced) no paper within the tolerance
        groups = _groups_on(paper.question_ids, entries)
        assert len(groups) == len(set(groups)), groups
        assert len(paper.question_ids) == sum(counts) <= distinct
    if sum(counts) > distinct:
        with pytest.raises(InsufficientQuestions):
            select_paper(entries, blueprint, random.Random(seed))
    else:
        select_paper(entries, blueprint, random.Random(seed))  # enough distinct groups: always drawn


def test_both_members_of_a_group_get_drawn_over_many_papers() -> None:
    """One per paper, not always the same one: the group does not hide a question for good."""
    entries = _pool([1, 1, None], [2, 2, 2])
    seen = {select_paper(entries, Blueprint((Section(2),)), random.Random(seed)).question_ids for seed in range(40)}
    assert {qid for ids in seen for qid in ids} == {"q0", "q1", "q2"}
    assert all("q2" in ids and len(ids) == 2 for ids in seen)


def test_a_contest_never_draws_a_group_twice_across_its_rounds() -> None:
    entries = _pool([1, 1, 2, 2, 3, 3], [2] * 6)
    for seed in range(20):
        taken: set[str] = set()
        drawn = [_draw(entries, taken, QuestionSource(count=1), random.Random(seed)) for _ in range(3)]
        groups = _groups_on(tuple(qid for ids in drawn for qid in ids), entries)
        assert sorted(groups) == ["g1", "g2", "g3"]


def test_a_self_test_session_keeps_one_question_per_group() -> None:
    pool = [SimpleNamespace(question=entry.question) for entry in _pool([1, None, 1, 2, 2, None], [2] * 6)]
    for seed in range(20):
        kept = _one_per_group(pool, random.Random(seed))  # type: ignore[arg-type]
        groups = [live.question.group for live in kept if live.question.group]
        assert sorted(groups) == ["g1", "g2"] and len(kept) == 4
        assert [pool.index(live) for live in kept] == sorted(pool.index(live) for live in kept)  # order kept


# ---- the contest: host console and projector ------------------------------------------------------------


def _quoted_contest() -> Driver:
    spec = RoundSpec(RoundKind.BUZZER, "抢答", QuestionSource(count=1), points=10, penalty=0)
    contest = _contest(_plan(spec), teams=2)
    contest.questions = {qid: Question(**{**q.__dict__, "quote": f"原文{qid}"}) for qid, q in QUESTIONS.items()}
    return Driver(contest)


def test_the_host_sees_the_quote_and_chooses_when_the_projector_shows_it() -> None:
    d = _quoted_contest()
    d.host("start")
    d.host("next")
    question = d.contest.state.question
    assert d.contest.view_for(Role.HOST)["question"]["quote"] == f"原文{question}"
    assert "quote" not in d.contest.view_for(Role.PROJECTOR)["question"]
    assert d.contest.view_for(Role.PROJECTOR)["quote_shown"] is False
    events = d.host("show_quote", shown=True)
    assert [event.name for event in events] == ["quote_shown"] and d.host("show_quote", shown=True) == []
    assert "quote" not in d.contest.view_for(Role.PROJECTOR)["question"]  # not before the reveal
    d.host("open")
    d.team("t1", "buzz")
    d.host("judge", correct=True)
    assert d.contest.state.phase is ContestPhase.REVEALED
    assert d.contest.view_for(Role.PROJECTOR)["question"]["quote"] == f"原文{question}"
    for role, extra in ((Role.PLAYER, {}), (Role.TEAM, {"team": "t1"})):
        view = d.contest.view_for(role, **extra)
        assert "quote" not in view["question"] and "quote_shown" not in view
    d.host("show_quote", shown=False)
    assert "quote" not in d.contest.view_for(Role.PROJECTOR)["question"]
    assert ContestState.from_dict(d.contest.state.to_dict()).quote_shown is False


def test_show_quote_refuses_bad_args_and_other_roles() -> None:
    d = _quoted_contest()
    version = d.contest.state.version
    with pytest.raises(ContestError, match="请指定是否在大屏显示原文"):
        d.host("show_quote", shown="yes")
    assert d.contest.state.version == version and d.contest.state.quote_shown is False
    for args in ({"shown": "yes"}, {"shown": 1}, {}, {"shown": True, "extra": 1}):
        with pytest.raises(BadInput):
            parse(COMMAND_ARGS["show_quote"](), args)
    assert parse(COMMAND_ARGS["show_quote"](), {"shown": True}) == {"shown": True}


def test_show_quote_over_the_socket_is_kept_on_reload(app: Flask, live: Contest, session: Session) -> None:
    host, projector, _ = _seat(app, live, session)
    for args in ({"shown": "yes"}, {}, {"shown": True, "extra": 1}):
        assert _command(host, "show_quote", 0, **args)["code"] == "bad_input", args
    assert session.scalar(select(Contest.version).where(Contest.id == live.id)) == 0  # nothing changed
    assert _command(host, "show_quote", 0, shown=True)["ok"]
    assert _views(projector)[-1]["view"]["quote_shown"] is True
    snapshot = _join(_client(app), contest=live.id, role="projector", token=live.projector_token)["view"]
    assert snapshot["quote_shown"] is True

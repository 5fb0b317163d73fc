"""Hypothesis fuzz of every HTTP endpoint's inputs: random forms, JSON, query strings and ids never give a 500.

Every rule of `app.url_map` is reachable by the fuzzer (a new route is fuzzed without any change here), with
the real ids of branch A's objects or hostile ones (huge, negative-looking, Unicode digits), and bodies built
from the field names the app reads plus random ones, holding huge numbers, "nan", Unicode digits, long text
and deeply nested JSON. The app runs with TESTING, so any unhandled exception fails the example.
(The Socket.IO events are fuzzed in the contest tests.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizengine.schemas.exam import ExamForm, GradeForm, OverrideForm, VoidForm
from quizengine.schemas.papers import DrawForm
from quizengine.schemas.practice import StartPractice

from . import test_authz_matrix
from .conftest import login

setting, world, _fresh_caches = test_authz_matrix.setting, test_authz_matrix.world, test_authz_matrix._fresh_caches

#: Field names the views read (schemas and WTForms) and a few more, so bodies hit real code paths.
FIELD_NAMES = sorted(
    {
        name
        for schema in (ExamForm, DrawForm, GradeForm, OverrideForm, VoidForm, StartPractice)
        for name in schema().fields
    }
    | {"position", "type", "choice", "blank", "text", "response", "name", "phone", "username", "group", "role"}
    | {"password", "new_password", "confirm", "token", "plan", "action", "file_name", "overwrite", "teams", "title"}
    | {"rounds-0-kind", "rounds-0-source-count", "rounds-99999999999999999999-kind", "base_score", "prizes"}
    | {"next", "pin", "code", "from", "apply", "mode", "reason", "question_id", "member_id", "score", "go"}
)
HOSTILE_TEXT = st.sampled_from(
    [
        *["", "0", "-1", "²", "٣", "1e999", "nan", "inf", "-inf", "9" * 40, str(2**63), "1.5", "true", "null"],
        *["[]", "{}", "A", "B", "custom", "mock", "single", "short", "full", "\x00", "\r\n", "=cmd|' /C calc'!A0"],
    ]
)
TEXT = HOSTILE_TEXT | st.text(max_size=40) | st.integers(min_value=0, max_value=3000).map(lambda n: "长" * n)
FORMS = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=10), st.lists(TEXT, max_size=3), max_size=8)
JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats(allow_nan=False) | TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4),
    max_leaves=20,
)
RAW_BODIES = st.sampled_from(
    [b"", b"nan", b"{", b'{"position": NaN}', b'{"position": Infinity}', b"[" * 5000 + b"]" * 5000, b"\xff\xfe"]
)
ID_VALUES = st.sampled_from(["real", "0", "1", str(2**31), str(2**63), "9" * 30, "%C2%B2", "-1"])


@st.composite
def requests(draw: st.DrawFn, rules: list[tuple[str, str, list[str]]]) -> tuple[str, str, dict[str, Any]]:
    """(method, path, client.open keyword arguments) for a random rule with random ids and a random body."""
    endpoint, method, arguments = draw(st.sampled_from(rules))
    return endpoint, method, {"arguments": {name: draw(ID_VALUES) for name in arguments}, "body": draw(_bodies())}


def _bodies() -> st.SearchStrategy[dict[str, Any]]:
    return (
        FORMS.map(lambda form: {"data": form})
        | JSON_VALUES.map(lambda value: {"data": json.dumps(value), "content_type": "application/json"})
        | RAW_BODIES.map(lambda raw: {"data": raw, "content_type": "application/json"})
        | FORMS.map(lambda form: {"query_string": {key: values[:1] for key, values in form.items()}})
    )


def _rules(app: Flask) -> list[tuple[str, str, list[str]]]:
    return sorted(
        (rule.endpoint, method, sorted(rule.arguments))
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in {"static", "auth.logout"}  # logging out would end the fuzzing session
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def _path(app: Flask, world: test_authz_matrix.World, endpoint: str, chosen: dict[str, str]) -> str:
    values = world.args.get(endpoint.partition(".")[0], world.args[""])
    real = {name: values[name] for name in chosen}
    with app.test_request_context():
        path = app.url_for(endpoint, **real)
    for name, value in chosen.items():  # swap real ids for hostile ones in the path itself (no converter check)
        if value != "real":
            path = path.replace(f"/{real[name]}", f"/{value}", 1)
    return path


@pytest.mark.parametrize("username", ["org", "m0", "stranger", "admin"])
def test_random_inputs_never_cause_a_server_error(
    app: Flask, client: FlaskClient, world: test_authz_matrix.World, username: str
) -> None:
    login(client, username)
    app.config["WTF_CSRF_ENABLED"] = False  # reach the views: CSRF has its own tests
    rules = _rules(app)

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests(rules))
    def fuzz(request: tuple[str, str, dict[str, Any]]) -> None:
        endpoint, method, parts = request
        path = _path(app, world, endpoint, parts["arguments"])
        response = client.open(path, method=method, **parts["body"])
        response.close()
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"

    fuzz()

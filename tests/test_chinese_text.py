"""No English a user can see: WTForms' built-in messages and every command's help are Chinese."""

from __future__ import annotations

import re

import click
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from quizengine.web.org import EditMemberForm

from .conftest import csrf_token

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_built_in_validator_message_is_chinese(client: FlaskClient) -> None:
    data = {"username": "x" * 65, "password": "y", "csrf_token": csrf_token(client)}
    page = client.post("/login", data=data).get_data(as_text=True)
    assert "字段长度不能超过 64 个字符" in page and "Field cannot be longer" not in page


def test_a_field_that_cannot_read_its_value_says_so_in_chinese(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        form = EditMemberForm(
            formdata=MultiDict({"name": "张三", "group": "abc", "status": "full"}), meta={"csrf": False}
        )
        assert not form.validate()
        assert form.errors["group"] == ["选择无效：无法转化类型。"]


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_and_option_explains_itself_in_chinese(app: Flask) -> None:
    commands = _commands(app.cli)
    assert {"db upgrade", "banks check", "banks load", "users create", "exams sweep", "setup", "contests check"} <= {
        name for name, _ in commands
    }
    for name, command in commands:
        assert CJK.search(command.help or ""), f"`quizengine {name}` has no Chinese help"
        for option in command.params:
            if isinstance(option, click.Option) and option.help is not None:
                assert CJK.search(option.help), f"`quizengine {name} {option.opts[0]}` help is not Chinese"
    shown = app.test_cli_runner().invoke(args=["users", "create", "--help"]).output
    assert "创建账号" in shown and "角色" in shown

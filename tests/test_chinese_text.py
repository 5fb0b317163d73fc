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


ENGLISH_CLICK_WORDS = ("Usage:", "Options:", "Commands:", "Show this message", "Error:", "Missing", "No such", "Try ")


def _cli(*args: str) -> str:
    """Run the installed `quizengine` entry point as a secretary would, stdout and stderr together."""
    from click.testing import CliRunner

    from quizengine.cli import main

    return CliRunner().invoke(main, list(args), prog_name="quizengine").output


def test_the_command_line_speaks_chinese_in_help_and_errors() -> None:
    shown = {
        "help": _cli("--help"),
        "group help": _cli("users", "--help"),
        "missing argument": _cli("banks", "check"),
        "unknown command": _cli("nosuch"),
        "flag given a value": _cli("banks", "check", "--strict=1", "x.yaml"),
        "bad choice": _cli("users", "create", "zhang", "--name", "张三", "--role", "boss"),
    }
    for case, output in shown.items():
        assert CJK.search(output), f"{case}: {output}"
        for english in ENGLISH_CLICK_WORDS:
            assert english not in output, f"{case} shows {english!r}:\n{output}"
    assert "用法：" in shown["help"] and "显示本帮助并退出" in shown["help"]
    assert "没有命令 'nosuch'" in shown["unknown command"]
    assert "缺少参数" in shown["missing argument"]
    assert "不在可选值中" in shown["bad choice"]
    # Developer commands are not offered; each listed command has a whole Chinese summary, not "...".
    assert not any(f"  {name} " in shown["help"] for name in ("run", "shell", "routes"))
    assert "..." not in shown["group help"].split("命令:")[1]


def test_run_py_speaks_chinese_in_help_and_errors() -> None:
    import subprocess
    import sys

    from .browser import ROOT

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    shown, wrong = run("--help"), run("--port", "x")
    assert "用法：" in shown and "显示本帮助并退出" in shown and "--port 端口" in shown
    assert not re.search(r"usage|options:|show this|HOST|PORT", shown)
    assert "错误：参数 --port：取值无效" in wrong and "error" not in wrong


def test_python_dash_m_quizengine_is_the_same_command_line() -> None:
    """`python -m quizengine` is what a checkout runs when the installed script belongs to another one."""
    import subprocess
    import sys
    from pathlib import Path

    shown = subprocess.run(
        [sys.executable, "-m", "quizengine", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
    ).stdout
    assert shown.startswith("用法： quizengine "), shown
    assert "banks" in shown and "users" in shown

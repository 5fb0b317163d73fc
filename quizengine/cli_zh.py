"""Chinese for the command line's own words (usage, errors, --help) — secretaries read these too.

Click wraps its user-visible strings in ``gettext``; it ships no Chinese catalogue, so this module installs a
small one into click's modules. Flask's group options (--app, --env-file, --debug) get Chinese help, and the
developer commands (run, shell, routes) are left out: ``run.py`` is how the app is served.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

import click
from flask.cli import FlaskGroup

# click's message ids (click 8.1–8.2) → Chinese. Placeholders are kept; click formats after translating.
CLICK_WORDS = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Aborted!": "已中止。",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接确认。",
    "Missing command.": "缺少命令。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "unknown error": "未知错误",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受取值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "(dynamic)": "（动态）",
    "required": "必填",
    "deprecated": "已弃用",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否取值，可用：{states}",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是目录。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
}

# ngettext(singular, plural, n), keyed by the singular id: Chinese has one form (click passes every name).
CLICK_PLURALS = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "您是不是要输入 {possibility}？",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要 {nargs} 个取值。",
    "{value!r} is not {choice}.": "{value!r} 不在可选值中：{choices}。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式：{formats}。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，实际给了 {len} 个。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，实际给了 {len_value} 个。",
}

_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils")


def _translate(message: str) -> str:
    return CLICK_WORDS.get(message, message)


def _translate_plural(singular: str, plural: str, count: int) -> str:
    if singular in CLICK_PLURALS:
        return CLICK_PLURALS[singular]
    return singular if count == 1 else plural


def install_click_chinese() -> None:
    """Make click's own messages Chinese (idempotent; click looks ``_``/``ngettext`` up at call time)."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _translate  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _translate_plural  # type: ignore[attr-defined]


#: argparse's message ids (run.py's command line) → Chinese.
ARGPARSE_WORDS = {
    "usage: ": "用法：",
    "options": "选项",
    "positional arguments": "参数",
    "show this help message and exit": "显示本帮助并退出",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "expected one argument": "需要一个取值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "invalid %(type)s value: %(value)r": "取值无效：%(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选 %(choices)s）",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
}


def install_argparse_chinese() -> None:
    """Make argparse's own words Chinese for `python run.py` (argparse looks ``_`` up at call time)."""
    import argparse

    argparse._ = lambda message: ARGPARSE_WORDS.get(message, message)  # type: ignore[attr-defined]


_FLASK_OPTION_HELP = {
    "env_file": "从该文件读取环境变量（优先于 .env 和 .flaskenv；直接设置的环境变量最优先）。",
    "app": "要加载的 Flask 应用（'模块:名称'）；quizengine 已默认指定，一般无需填写。",
    "debug": "调试模式（仅供开发）。",
}


class ChineseFlaskGroup(FlaskGroup):
    """FlaskGroup with Chinese option help, Chinese usage words and no developer commands."""

    def __init__(self, **kwargs: Any) -> None:
        install_click_chinese()
        kwargs.setdefault("add_default_commands", False)
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(**kwargs)
        translated = []
        for param in self.params:
            if isinstance(param, click.Option) and param.name in _FLASK_OPTION_HELP:
                param = copy.copy(param)  # Flask's option objects are module-level: leave them untouched
                param.help = _FLASK_OPTION_HELP[str(param.name)]
            translated.append(param)
        self.params = translated


def chinese_usage(group: click.Group) -> None:
    """Give every command of a group Chinese usage placeholders and a one-sentence summary for the list.

    click shortens a help text at spaces, which Chinese has none of, so a long sentence would show as "...".
    """
    for command in group.commands.values():
        command.options_metavar = "[选项]"
        if not command.short_help and command.help:
            command.short_help = command.help.split("。")[0].strip() + "。"
        if isinstance(command, click.Group):
            command.subcommand_metavar = "命令 [参数]..."
            chinese_usage(command)

"""Wire schemas of the live contest's Socket.IO events (docs/socket-protocol.md).

Every event payload is parsed here before any handler looks at it: ids and versions are bounded integers,
score deltas finite numbers, names and reasons sized text, a response one of the shapes a question type
takes, and unknown fields are refused. A host command's `args` are parsed by the schema of its name.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from . import BadInput, Int, Number, Text, WireSchema, parse

ROLES = ("host", "projector", "team", "player")
#: Answers are short in a live contest: a key, a few keys, true/false or a few short blanks.
RESPONSE_ITEMS, RESPONSE_TEXT = 20, 500
QUESTION_ID = 100
#: Team short codes are typed; team secrets (QR link) and device tokens are long random strings.
CODE_MAX, TOKEN_MAX = 64, 128


class Response(fields.Field):
    """A raw answer: a string, a boolean, or a list of strings (choices, blanks), all sized. Null = blank."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            if len(value) > RESPONSE_TEXT:
                raise ValidationError(f"答案不能超过 {RESPONSE_TEXT} 字")
            return value
        if isinstance(value, list):
            if len(value) > RESPONSE_ITEMS or not all(isinstance(item, str) for item in value):
                raise ValidationError(f"答案须为不超过 {RESPONSE_ITEMS} 项的文字列表")
            if any(len(item) > RESPONSE_TEXT for item in value):
                raise ValidationError(f"每项答案不能超过 {RESPONSE_TEXT} 字")
            return list(value)
        raise ValidationError("答案格式不正确")


class StrictBool(fields.Field):
    """true or false exactly (not 1, "yes" or "true")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("须为是或否")
        return value


class JoinSchema(WireSchema):
    """`join`: which contest (id or PIN), which role, and the role's credential."""

    contest = Int(lo=1, strict=True)
    pin = Text(max_length=12)
    role = fields.String(required=True, validate=validate.OneOf(ROLES, error="未知的身份"))
    token = Text(max_length=TOKEN_MAX)  # projector link token, or a team device's token
    code = Text(max_length=CODE_MAX)  # team short code, or the team secret of its QR link
    team = Text(max_length=16, allow_none=True)  # a player's chosen team
    name = Text(max_length=20)  # a guest's name (open events only; a member's name comes from the account)

    @validates_schema
    def _which_contest(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "contest" not in data and not data.get("pin"):
            raise ValidationError("请提供竞赛编号或竞赛码", "contest")


class CommandSchema(WireSchema):
    """`command`: a host command by name, with the version the host saw; `args` are checked per name."""

    name = fields.String(required=True, validate=validate.Length(1, 32))
    version = Int(lo=0, strict=True, allow_none=True, load_default=None)
    args = fields.Dict(load_default=dict)


class _NoArgs(WireSchema):
    pass


class _Judge(WireSchema):
    correct = StrictBool(required=True)


class _Adjust(WireSchema):
    team = Text(max_length=16, required=True)
    delta = Number(lo=-1000, hi=1000, required=True)
    reason = Text(max_length=200, required=True)


class _Participant(WireSchema):
    participant = Text(max_length=32, required=True)


class _Mute(WireSchema):
    muted = StrictBool(required=True)


class _Pause(WireSchema):
    reason = Text(max_length=200)


class _Mute(WireSchema):
    muted = StrictBool(required=True)


class _ShowQuote(WireSchema):
    shown = StrictBool(required=True)


class RiskSchema(WireSchema):
    """`choose_risk` (team), and the host's `choose_risk` args: one of the round's values."""

    value = Int(lo=0, hi=100_000, strict=True, required=True)


#: Every host command and the schema of its args (an unknown name is refused here, before the engine).
COMMAND_ARGS: dict[str, type[WireSchema]] = {
    "start": _NoArgs,
    "next": _NoArgs,
    "open": _NoArgs,
    "lock": _NoArgs,
    "reveal": _NoArgs,
    "judge": _Judge,
    "void": _NoArgs,
    "adjust": _Adjust,
    "undo": _NoArgs,
    "pause": _Pause,
    "resume": _NoArgs,
    "kick": _Participant,
    "readmit": _Participant,
    "choose_risk": RiskSchema,
    "podium": _NoArgs,
    "mute": _Mute,
    "show_quote": _ShowQuote,
    "end": _NoArgs,
}


class BuzzSchema(WireSchema):
    """`buzz`: the question the device shows."""

    question = Text(max_length=QUESTION_ID, required=True)


class AnswerSchema(WireSchema):
    """`submit_answer`: the question answered and the raw response."""

    question = Text(max_length=QUESTION_ID, required=True)
    response = Response(required=True, allow_none=True)


class EmptySchema(WireSchema):
    """`device_here`: no fields."""


def parse_command(data: Any) -> tuple[str, int | None, dict[str, Any]]:
    """A host command's name, version and parsed args; an unknown name or bad args raise BadInput."""
    command = parse(CommandSchema(), data)
    schema = COMMAND_ARGS.get(command["name"])
    if schema is None:
        raise BadInput(f"未知指令“{command['name'][:32]}”", {"name": "未知指令"})
    return command["name"], command["version"], parse(schema(), command["args"])

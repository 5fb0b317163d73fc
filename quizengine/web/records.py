"""我的学习档案: a member's learning record (their own, or one their organizer/admin may see)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from quizengine.engine.learning import PointsPolicy
from quizengine.engine.standard import member_hint
from quizengine.extensions import db
from quizengine.models import User
from quizengine.modes.self_test import KIND_LABELS
from quizengine.services.access import NotAllowed
from quizengine.services.assignments import member_assignments
from quizengine.services.records import get_learning_record
from quizengine.services.standards import member_standing

bp = Blueprint("records", __name__, url_prefix="/record")


def _render(member: User) -> str:
    config = current_app.config
    policy = PointsPolicy(config["POINTS_PER_CORRECT"], config["POINTS_PER_SESSION"], config["POINTS_DAILY_CAP"])
    try:
        record = get_learning_record(
            db.session(), current_user, member, policy=policy, zone=ZoneInfo(config["DISPLAY_TIMEZONE"])
        )
        standing = member_standing(db.session(), current_user, member, policy=policy)
    except NotAllowed:
        abort(404)
    charts = {
        "today": record.today.isoformat(),
        "calendar": [[day.day.isoformat(), day.answered] for day in record.days],
        "trend": [[day.day.isoformat(), round(100 * day.accuracy, 1)] for day in record.days],
    }
    return render_template(
        "records/record.html",
        record=record,
        charts=charts,
        kinds=KIND_LABELS,
        standing=standing,
        hints=member_hint(standing) if member.id == current_user.id else [],
        member_tasks=member_assignments(db.session(), member),
        own=member.id == current_user.id,
    )


@bp.get("/")
@login_required
def mine() -> str:
    """The logged-in member's own record."""
    return _render(current_user)


@bp.get("/<int:user_id>")
@login_required
def member(user_id: int) -> str:
    """Another member's record, for their organizer or an admin (404 for anyone else)."""
    member = db.session.get(User, user_id)
    if member is None:
        abort(404)
    return _render(member)

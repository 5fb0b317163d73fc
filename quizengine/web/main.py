"""Home page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from quizengine.extensions import db
from quizengine.services.banks import list_banks_with_counts
from quizengine.services.motivation import points_policy, today_progress

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """The banks with their live question counts; for a signed-in member also today's goal and next practice."""
    session = db.session()
    today = suggestion = None
    if current_user.is_authenticated:
        config = current_app.config
        today, suggestion = today_progress(
            session, current_user, points_policy(config), config["DAILY_GOAL"], ZoneInfo(config["DISPLAY_TIMEZONE"])
        )
    return render_template("index.html", banks=list_banks_with_counts(session), today=today, suggestion=suggestion)

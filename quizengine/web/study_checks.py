"""检查督导 pages: the committee's check of the branches' study days for a week or a month (admins: every branch,
inspectors: their assigned ones), its printable 通报 and its Excel export. Read-only."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, render_template, request, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quizengine.engine.errors import QuizError
from quizengine.engine.study_plan import StudyPlan
from quizengine.engine.timing import SystemClock
from quizengine.extensions import db
from quizengine.services import study_checks, study_plans
from quizengine.services.access import NotAllowed
from quizengine.services.summaries import ZONE

from .errors import error_response
from .study import plans

bp = Blueprint("study_checks", __name__, url_prefix="/study/check")

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan(found: list[StudyPlan], slug: str | None, today: date) -> StudyPlan | None:
    """The asked plan, else the one running today, else the latest that has started."""
    if slug:
        return next((plan for plan in found if plan.slug == slug), None)
    running = [plan for plan in found if plan.topic_on(today) is not None]
    started = [plan for plan in found if plan.start <= today]
    return (running or started or [None])[-1]


def _check() -> study_checks.StudyCheck | tuple[Response | str, int]:
    today = study_plans.today()
    try:
        period = study_checks.CheckPeriod.parse(request.args.get("period"), today)
        found = plans()
        plan = _plan(found, request.args.get("plan"), today)
        if plan is None:
            return error_response(404, "没有找到学习计划")
        return study_checks.study_check(db.session(), current_user, plan, period, today)
    except NotAllowed as error:
        return error_response(403, error.message)
    except QuizError as error:
        return error_response(400, error.message)


@bp.get("/")
@login_required
def index() -> str | tuple[Response | str, int]:
    """Branches ranked on their study days, attendance, topic practice and 小问答; missed days highlighted."""
    check = _check()
    if not isinstance(check, study_checks.StudyCheck):
        return check
    return render_template("study/check.html", check=check, plans=plans())


@bp.get("/print")
@login_required
def bulletin() -> str | tuple[Response | str, int]:
    """The 通报: the same check as an A4 page to print and circulate."""
    check = _check()
    if not isinstance(check, study_checks.StudyCheck):
        return check
    return render_template(
        "study/bulletin.html", check=check, generated=f"{SystemClock().now().astimezone(ZONE):%Y-%m-%d %H:%M}"
    )


@bp.get("/report.xlsx")
@login_required
def export() -> Response | tuple[Response | str, int]:
    """The check as Excel (ranking, branch × topic, best members)."""
    check = _check()
    if not isinstance(check, study_checks.StudyCheck):
        return check
    data = study_checks.check_workbook(check)
    return send_file(
        io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=study_checks.check_file_name(check)
    )

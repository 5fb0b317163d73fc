"""Home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from quizengine.extensions import db
from quizengine.services.banks import list_banks_with_counts

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """List the banks with their live question counts."""
    return render_template("index.html", banks=list_banks_with_counts(db.session()))

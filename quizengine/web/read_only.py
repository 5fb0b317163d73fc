"""The inspector (督导) is read-only: one check, before every HTTP request, instead of one per view.

An inspector reaches only the endpoints declared here: pages that read (GET) — each view then applies the
branch rule of services.access (`can_read_branch`), so an inspector sees their assigned branches only —
and their own account's settings (password, 大字模式, logging in and out). Every other endpoint, and every
other method on a declared page, answers 403 before the view runs: a route added later is closed to
inspectors until someone declares it here, and the authorization matrix (tests/test_authz_matrix.py) has
an inspector column for every route. The exam autosave does not load the user (it is the hot path); its
own conditional UPDATE refuses an inspector's account (services.exam_saves.save_answer).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

from quizengine.services.access import ReadOnly, is_inspector

from .errors import error_response

#: Pages an inspector may read (GET/HEAD only).
INSPECTOR_PAGES = frozenset(
    {
        "static",
        "main.index",
        "main.healthz",
        "records.mine",
        "records.member",
        "exams.index",
        "exams.manage",
        "exams.export",
        "exams.member_attempt",
        "papers.exam",
        "papers.draw",
        "org.index",
        "org.branch",
        "dashboard.index",
        "dashboard.branch",
        "assignments.index",
        "assignments.detail",
        "dashboard.overview",
        "dashboard.branch_print",
        "dashboard.branch_export",
        "dashboard.overview_print",
        "dashboard.overview_export",
        "study.index",
        "study.topic",
        "study.branch",
        "study_checks.index",
        "study_checks.bulletin",
        "study_checks.export",
        "banks.index",
        "banks.template",
        "banks.export",
        "banks.search",
        "banks.question",
    }
)
#: The inspector's own account, any method: these change nobody else's data.
OWN_ACCOUNT = frozenset({"auth.login", "auth.logout", "auth.change_password", "main.large_text"})
#: Endpoints that refuse an inspector themselves, without loading the user (see the module docstring).
CHECK_THEMSELVES = frozenset({"exams.save"})
_READS = frozenset({"GET", "HEAD"})


def inspector_may(endpoint: str | None, method: str) -> bool:
    """May an inspector send `method` to `endpoint`? (The one rule; the matrix test checks every route.)"""
    if endpoint in OWN_ACCOUNT:
        return True
    return endpoint in INSPECTOR_PAGES and method in _READS


def init_read_only(app: Flask) -> None:
    """Install the check (after the login and password-change checks)."""
    app.before_request(_refuse_inspector_writes)


def _refuse_inspector_writes() -> tuple[Response | str, int] | None:
    if request.endpoint in CHECK_THEMSELVES or not current_user.is_authenticated or not is_inspector(current_user):
        return None
    if inspector_may(request.endpoint, request.method):
        return None
    return error_response(403, ReadOnly().message, ReadOnly.code)

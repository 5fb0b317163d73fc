"""First run: migrate, load the shipped banks, create the first admin."""

from __future__ import annotations

from dataclasses import dataclass

from quizengine.extensions import db
from quizengine.services.accounts import ensure_first_admin
from quizengine.services.bank_uploads import LOCAL_FOLDER
from quizengine.services.banks import SyncReport, check_banks, sync_banks
from quizengine.services.schema import upgrade_database


@dataclass(frozen=True)
class FirstRunReport:
    """What first run did: the bank sync and the admin's one-time password (None if an admin existed)."""

    banks: SyncReport | None
    admin_password: str | None


def first_run(config: dict) -> FirstRunReport:
    """Bring a fresh or existing instance up to date; safe to run at every start."""
    upgrade_database(config["DATABASE_URL"])
    session = db.session()
    report = None
    banks_path = config["BANKS_PATH"]
    if banks_path.is_dir() and any(banks_path.glob("*.yaml")):
        report = sync_banks(session, check_banks([banks_path], strict=True))
    local = banks_path / LOCAL_FOLDER  # banks imported in 题库管理
    if local.is_dir() and any(local.glob("*.yaml")):
        sync_banks(session, check_banks([local]))
    password = ensure_first_admin(session)
    return FirstRunReport(report, password)

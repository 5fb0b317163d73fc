"""SQLAlchemy 2.x typed models.

Times are stored as UTC (naive in the column, aware in Python, see `UTCDateTime`). Organization is
committee -> branch -> party group -> member; every account is a `User` with a role. A question's
identity (`Question`, keyed by the YAML id) is separate from its content (`QuestionRevision`), so
attempts can pin the revision they were asked and an edited bank never rewrites history.

The tables are grouped by use-case: `base` (column types, the declarative base), `people` (organization,
accounts, audit), `banks` (banks, questions, revisions, 纠错), `learning` (attempts, progress, the record's
summaries, 验收标准, assigned practice), `exams`, `contests`, `study`. Everything is importable from here, and
importing this package registers every table on `Base.metadata` (migrations and `create_all` rely on it).
"""

from __future__ import annotations

from .banks import Bank, BankCategory, Question, QuestionReport, QuestionRevision, ReportStatus
from .base import Base, UTCDateTime, utcnow
from .contests import (
    Contest,
    ContestAnswer,
    ContestDevice,
    ContestEvent,
    ContestPlanFile,
    ContestPlayer,
    ContestResult,
    ContestTeam,
)
from .exams import Exam, ExamBranch, ExamOverride, VoidedQuestion
from .learning import (
    AcceptanceStandard,
    Attempt,
    AttemptItem,
    AttemptStatus,
    MemberActivity,
    MemberDay,
    MemberMonth,
    PracticeAssignee,
    PracticeAssignment,
    PracticeCursor,
    QuestionProgress,
    StandardResult,
)
from .people import (
    AUDIT_SUBJECT_MAX,
    ORGANIZER_TITLES,
    ROLE_LABELS,
    AuditEntry,
    Branch,
    Committee,
    InspectorBranch,
    LoginThrottle,
    MemberStatus,
    PartyGroup,
    Role,
    User,
)
from .study import StudyAttendance, StudyDay

__all__ = [
    "AUDIT_SUBJECT_MAX",
    "ORGANIZER_TITLES",
    "ROLE_LABELS",
    "AcceptanceStandard",
    "Attempt",
    "AttemptItem",
    "AttemptStatus",
    "AuditEntry",
    "Bank",
    "BankCategory",
    "Base",
    "Branch",
    "Committee",
    "Contest",
    "ContestAnswer",
    "ContestDevice",
    "ContestEvent",
    "ContestPlanFile",
    "ContestPlayer",
    "ContestResult",
    "ContestTeam",
    "Exam",
    "ExamBranch",
    "ExamOverride",
    "InspectorBranch",
    "LoginThrottle",
    "MemberActivity",
    "MemberDay",
    "MemberMonth",
    "MemberStatus",
    "PartyGroup",
    "PracticeAssignee",
    "PracticeAssignment",
    "PracticeCursor",
    "Question",
    "QuestionProgress",
    "QuestionReport",
    "QuestionRevision",
    "ReportStatus",
    "Role",
    "StandardResult",
    "StudyAttendance",
    "StudyDay",
    "UTCDateTime",
    "User",
    "VoidedQuestion",
    "utcnow",
]

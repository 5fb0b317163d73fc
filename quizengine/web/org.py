"""Organization management over HTTP: branches, party groups, members and roster import.

Views parse the form, call a service (which checks access and writes the audit entry) and render.
Pages that show a one-time password are the POST's own response, never stored or flashed, and are
marked no-store so the browser does not keep them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TypeVar

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask import session as browser_session
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from quizengine.extensions import db, login_manager
from quizengine.models import ORGANIZER_TITLES, ROLE_LABELS, Branch, Role, User
from quizengine.services.access import NotAllowed, can_manage_branch, is_admin, is_reader, require
from quizengine.services.accounts import AccountError
from quizengine.services.appointments import appoint, create_inspector, list_inspectors
from quizengine.services.organization import (
    STATUS_LABELS,
    NotFound,
    add_member,
    can_manage_member,
    create_branch,
    create_group,
    deactivate_member,
    get_branch,
    get_member,
    list_branches,
    list_members,
    reactivate_member,
    reset_password,
    update_member,
)
from quizengine.services.roster import (
    MAX_BYTES,
    XLSX_MIMETYPE,
    RosterError,
    UploadStore,
    import_roster,
    preview_roster,
    roster_template,
)

from .forms import HtmlForm

bp = Blueprint("org", __name__, url_prefix="/org")

Page = str | Response | tuple[str, int]

#: How many previewed uploads one browser session may have waiting for confirmation.
_MAX_PENDING_UPLOADS = 5


class NameForm(HtmlForm):
    """The name of a new branch or party group."""

    name = StringField("名称", validators=[DataRequired("请输入名称"), Length(max=100, message="名称最多100个字符")])


class EditMemberForm(HtmlForm):
    """What an organizer may change about a member."""

    name = StringField("姓名", validators=[DataRequired("请输入姓名"), Length(max=100, message="姓名最多100个字符")])
    phone = StringField("手机号", validators=[Length(max=32, message="手机号过长")])
    group = SelectField("党小组", coerce=int, validate_choice=False)  # the service checks the branch
    status = SelectField(
        "党员类别",
        choices=[SelectChoice(str(key), label) for key, label in STATUS_LABELS.items()],
        validate_choice=False,
    )


class MemberForm(EditMemberForm):
    """A new member: also the username (blank = log in with the phone number)."""

    username = StringField(
        "用户名（可留空，留空则用手机号登录）", validators=[Length(max=64, message="用户名最多64个字符")]
    )


MemberFormT = TypeVar("MemberFormT", bound=EditMemberForm)


class RosterForm(HtmlForm):
    """The roster file to preview."""

    file = FileField(
        "名册文件（.xlsx 或 .csv）",
        validators=[
            FileRequired("请选择名册文件"),
            FileAllowed(["xlsx", "csv"], "只支持 Excel 工作簿（.xlsx）或 CSV 文件；旧版 .xls 请先另存为 .xlsx"),
        ],
    )


def _with_groups(form: MemberFormT, branch: Branch | None) -> MemberFormT:
    groups = branch.groups if branch else []
    form.group.choices = [
        SelectChoice("0", "（未分组）"),
        *(SelectChoice(str(group.id), group.name) for group in groups),
    ]
    return form


def _no_store(body: str) -> Response:
    """A page that shows a one-time password: not cached, not kept in history by well-behaved browsers."""
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_to(member: User) -> Response:
    if member.branch_id is None:
        return redirect(url_for("org.index"))
    return redirect(url_for("org.branch", branch_id=member.branch_id))


def _uploads() -> UploadStore:
    return UploadStore(Path(current_app.instance_path) / "uploads")


@bp.before_request
def _organizers_only() -> Response | None:
    """Anonymous users go to the login page; members get 403 (services check again, per branch; an
    inspector reaches the read-only pages only, see web.read_only)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require(is_reader(current_user))
    return None


@bp.errorhandler(NotAllowed)
def _not_allowed(error: NotAllowed) -> tuple[str, int]:
    return render_template("org/error.html", message=error.message), 403


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[str, int]:
    return render_template("org/error.html", message=error.message), 404


@bp.get("/")
def index() -> Page:
    """Admins see every branch; an organizer goes straight to their own."""
    branches = list_branches(db.session(), current_user)
    if not is_admin(current_user) and len(branches) == 1:
        return redirect(url_for("org.branch", branch_id=branches[0].branch.id))
    return render_template("org/branches.html", branches=branches, form=NameForm())


@bp.post("/branches")
def new_branch() -> Page:
    """Create a branch (admins)."""
    form = NameForm()
    if form.validate_on_submit():
        try:
            branch = create_branch(db.session(), current_user, form.name.data)
        except AccountError as error:
            flash(error.message, "error")
        else:
            flash(f"已新建支部“{branch.name}”", "info")
            return redirect(url_for("org.branch", branch_id=branch.id))
    return render_template("org/branches.html", branches=list_branches(db.session(), current_user), form=form), 400


def _branch_page(
    branch_id: int, *, group_form: NameForm | None = None, member_form: MemberForm | None = None, status: int = 200
) -> tuple[str, int]:
    session = db.session()
    branch = get_branch(session, current_user, branch_id, read=True)
    return render_template(
        "org/branch.html",
        branch=branch,
        may_manage=can_manage_branch(current_user, branch.id),
        members=list_members(session, current_user, branch_id),
        group_form=group_form or NameForm(prefix="group"),
        member_form=member_form or _with_groups(MemberForm(prefix="member"), branch),
        can_manage=can_manage_member,
        status_labels=STATUS_LABELS,
    ), status


@bp.get("/branches/<int:branch_id>")
def branch(branch_id: int) -> Page:
    """The branch's members, with forms to add groups and members."""
    return _branch_page(branch_id)


@bp.post("/branches/<int:branch_id>/groups")
def new_group(branch_id: int) -> Page:
    """Create a party group in the branch."""
    form = NameForm(prefix="group")
    if form.validate_on_submit():
        try:
            group = create_group(db.session(), current_user, branch_id, form.name.data)
        except AccountError as error:
            flash(error.message, "error")
        else:
            flash(f"已新建党小组“{group.name}”", "info")
            return redirect(url_for("org.branch", branch_id=branch_id))
    return _branch_page(branch_id, group_form=form, status=400)


@bp.post("/branches/<int:branch_id>/members")
def new_member(branch_id: int) -> Page:
    """Create a member account and show its one-time password once."""
    session = db.session()
    form = _with_groups(MemberForm(prefix="member"), get_branch(session, current_user, branch_id))
    if form.validate_on_submit():
        try:
            member, password = add_member(
                session,
                current_user,
                branch_id,
                name=form.name.data,
                username=form.username.data or "",
                phone=form.phone.data or "",
                group_id=form.group.data,
                status=form.status.data,
            )
        except AccountError as error:
            flash(error.message, "error")
        else:
            return _no_store(render_template("org/password.html", member=member, password=password, created=True))
    return _branch_page(branch_id, member_form=form, status=400)


@bp.route("/members/<int:user_id>/edit", methods=["GET", "POST"])
def edit_member(user_id: int) -> Page:
    """Change a member's name, phone, party group or category."""
    session = db.session()
    member = get_member(session, current_user, user_id)
    data = {"name": member.name, "phone": member.phone or "", "group": member.party_group_id or 0}
    form = _with_groups(EditMemberForm(data={**data, "status": member.member_status}), member.branch)
    if form.validate_on_submit():
        try:
            update_member(
                session,
                current_user,
                user_id,
                name=form.name.data,
                phone=form.phone.data or "",
                group_id=form.group.data,
                status=form.status.data,
            )
        except AccountError as error:
            flash(error.message, "error")
        else:
            flash(f"已保存“{member.name}”的信息", "info")
            return _back_to(member)
    return render_template("org/member_edit.html", member=member, form=form), 400 if request.method == "POST" else 200


@bp.post("/members/<int:user_id>/reset-password")
def reset_member_password(user_id: int) -> Page:
    """Issue a new one-time password and show it once."""
    member, password = reset_password(db.session(), current_user, user_id)
    return _no_store(render_template("org/password.html", member=member, password=password, created=False))


@bp.route("/members/<int:user_id>/role", methods=["GET", "POST"])
def member_role(user_id: int) -> Page:
    """任命: an admin sets any role (organizer with a post, inspector with branches); an organizer makes a member
    of their branch 支部书记 or 组织委员. A refused or bad choice changes nothing."""
    session = db.session()
    member = get_member(session, current_user, user_id)
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            appoint(
                session,
                current_user,
                user_id,
                form.get("role", ""),
                title=form.get("title"),
                branch_id=form.get("branch"),
                inspect_ids=form.getlist("inspects"),
            )
        except AccountError as error:
            session.rollback()
            flash(error.message, "error")
            status = 400
        else:
            flash(f"已将“{member.name}”设为{_post_of(member)}", "info")
            if member.role == Role.INSPECTOR:
                return redirect(url_for("org.inspectors"))
            return _back_to(member)
    roles = (
        list(ROLE_LABELS.items()) if is_admin(current_user) else [(Role.MEMBER, "党员"), (Role.ORGANIZER, "支部组织员")]
    )
    page = render_template(
        "org/role.html",
        member=member,
        roles=roles,
        titles=ORGANIZER_TITLES,
        branches=session.scalars(select(Branch).order_by(Branch.name)).all() if is_admin(current_user) else [],
        inspected={branch.id for branch in member.inspected_branches},
    )
    return page, status


def _post_of(user: User) -> str:
    """支部书记 / 组织委员 for an organizer with a post, else the role's name."""
    return user.title if user.role == Role.ORGANIZER and user.title else ROLE_LABELS[Role(user.role)]


@bp.get("/inspectors")
def inspectors() -> Page:
    """Every inspector with their branches, and the form for a new one (admins)."""
    return _inspectors_page()


def _inspectors_page(status: int = 200) -> tuple[str, int]:
    session = db.session()
    return render_template(
        "org/inspectors.html",
        inspectors=list_inspectors(session, current_user),
        branches=session.scalars(select(Branch).order_by(Branch.name)).all(),
        values=request.form if request.method == "POST" else {},
        chosen=set(request.form.getlist("inspects")),
    ), status


@bp.post("/inspectors")
def new_inspector() -> Page:
    """Create an inspector account over the chosen branches and show its one-time password once."""
    form = request.form
    try:
        user, password = create_inspector(
            db.session(),
            current_user,
            name=form.get("name", ""),
            username=form.get("username", ""),
            phone=form.get("phone", ""),
            branch_ids=form.getlist("inspects"),
        )
    except AccountError as error:
        flash(error.message, "error")
        return _inspectors_page(400)
    return _no_store(render_template("org/password.html", member=user, password=password, created=True))


@bp.post("/members/<int:user_id>/deactivate")
def deactivate(user_id: int) -> Response:
    """Stop the account from logging in; its history stays."""
    member = deactivate_member(db.session(), current_user, user_id)
    flash(f"已停用“{member.name}”的账号，历史记录均已保留", "info")
    return _back_to(member)


@bp.post("/members/<int:user_id>/reactivate")
def reactivate(user_id: int) -> Response:
    """Let a deactivated account log in again."""
    member = reactivate_member(db.session(), current_user, user_id)
    flash(f"已恢复“{member.name}”的账号", "info")
    return _back_to(member)


def _remember_upload(token: str, branch_id: int) -> None:
    """Tie a previewed upload to this browser session and branch, so only its uploader can confirm it."""
    pending = dict(browser_session.get("roster_uploads", {}))
    pending[token] = branch_id
    browser_session["roster_uploads"] = dict(list(pending.items())[-_MAX_PENDING_UPLOADS:])


def _take_upload(token: str, branch_id: int) -> bytes | None:
    """The previewed file for this session and branch, removed from disk (one confirmation per upload)."""
    pending = dict(browser_session.get("roster_uploads", {}))
    owner = pending.pop(token, None)
    browser_session["roster_uploads"] = pending
    if owner is None:
        return None
    store = _uploads()
    data = store.load(token) if owner == branch_id else None
    store.discard(token)
    return data


@bp.route("/branches/<int:branch_id>/import", methods=["GET", "POST"])
def import_members(branch_id: int) -> Page:
    """Upload a roster and preview it; an importable file is kept for the confirmation."""
    session = db.session()
    branch = get_branch(session, current_user, branch_id)
    form = RosterForm()
    if not form.validate_on_submit():
        return render_template("org/import.html", branch=branch, form=form), 400 if form.errors else 200
    data = form.file.data.read(MAX_BYTES + 1)
    try:
        preview = preview_roster(session, current_user, branch_id, data)
    except RosterError as error:
        flash(error.message, "error")
        return render_template("org/import.html", branch=branch, form=form), 400
    token = _uploads().save(data) if preview.ok else None
    if token:
        _remember_upload(token, branch_id)
    return render_template("org/preview.html", branch=branch, preview=preview, token=token), 200 if token else 400


@bp.post("/branches/<int:branch_id>/import/confirm")
def confirm_import(branch_id: int) -> Page:
    """Re-read the previewed file, import it all or nothing, and show the one-time passwords once."""
    session = db.session()
    branch = get_branch(session, current_user, branch_id)
    data = _take_upload(request.form.get("token", ""), branch_id)
    if data is None:
        flash("这份名册已导入或已失效，请重新上传。如已导入，可在支部页面为成员重置密码。", "error")
        return redirect(url_for("org.import_members", branch_id=branch_id))
    try:
        accounts = import_roster(session, current_user, branch_id, data)
    except RosterError as error:
        flash(error.message, "error")
        if error.preview is None:
            return redirect(url_for("org.import_members", branch_id=branch_id))
        return render_template("org/preview.html", branch=branch, preview=error.preview, token=None), 400
    return _no_store(render_template("org/imported.html", branch=branch, accounts=accounts))


@bp.get("/roster-template.xlsx")
def download_template() -> Response:
    """The roster template: header, an example row and the filling rules."""
    return send_file(
        io.BytesIO(roster_template()),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name="党员名册导入模板.xlsx",
    )

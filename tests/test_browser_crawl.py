"""Browser crawl: every page each role can reach works on a phone (390×844) and passes axe-core (WCAG 2.1 A/AA).

Seeds one instance with the shipped banks and a plan, an exam, a member's open exam paper and practice session
and a contest; then logs in as member, organizer and admin and visits every page reachable from the header
and from the pages themselves (plus the seeded ones), and the projector and a team device without login.
Each page must not scroll sideways (`scrollWidth > innerWidth`), must show no English, must keep tap targets
≥ 44×44 px and text ≥ 16 px, and must have no axe-core violation. The crawl runs again at 200 % text size for
the sideways-scroll check. Screenshots of a few key pages go to the git-ignored build/screenshots/crawl/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from quizengine import create_app
from quizengine.extensions import db
from quizengine.models import BankCategory, Branch, Contest, Question, Role, User
from quizengine.services import assignments, exam_setup
from quizengine.services.accounts import create_user
from quizengine.services.setup import first_run

from .browser import PHONE, ROOT, chromium, live_server, needs_browser, sign_in

pytestmark = [pytest.mark.slow, needs_browser]

AXE = ROOT / "static" / "vendor" / "axe.min.js"
SHOTS = ROOT / "build" / "screenshots" / "crawl"
PASSWORD = "crawl-pass-2026"
BRANCH = "第一党支部"
#: 200 % text, set as soon as <html> exists (before any page script, so charts are built at that size too).
TEXT_200 = """new MutationObserver((changes, observer) => {
  if (document.documentElement) { document.documentElement.style.fontSize = '200%'; observer.disconnect(); }
}).observe(document, {childList: true});"""
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: Links a crawl must not follow: they act (log out) or download a file instead of showing a page.
SKIP = re.compile(r"/logout|\.xlsx$|\.svg$|^/static/|/export")
#: Latin words a Chinese page may show: none but these (format names people know, and the seeded login names).
#: Commands and file names in <code>, and web addresses, are literal text and are not checked.
ALLOWED_LATIN = {
    *("Excel", "CSV", "csv", "xlsx", "UTF", "GBK", "Word", "GIFT", "Aiken", "Moodle", "XML"),
    *("dangyuan", "shuji", "guanli", "ducha", "admin"),
}
VISIBLE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('code, kbd, script, style, noscript, [hidden]').forEach(e => e.remove());
  return document.title + ' ' + copy.innerText.replace(/https?:\\/\\/\\S+/g, ' ');
}"""


@dataclass
class Seeded:
    """What the crawl visits besides the links it finds: pages that need seeded data."""

    url: str
    member_pages: list[str] = field(default_factory=list)
    organizer_pages: list[str] = field(default_factory=list)
    open_pages: list[str] = field(default_factory=list)


def _seed(instance: Path) -> list[str]:
    """Users, an exam with one member's paper open, a practice session, a contest; return the pages that show them."""
    app = create_app({"INSTANCE_PATH": instance, "BANKS_PATH": ROOT / "question_banks", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        first_run(app.config)
        session = db.session()
        users = {}
        for username, name, role in [
            ("dangyuan", "王建国", Role.MEMBER),
            ("shuji", "李书记", Role.ORGANIZER),
            ("guanli", "赵管理", Role.ADMIN),
            ("ducha", "钱督导", Role.INSPECTOR),  # assigned to BRANCH: reads it, changes nothing
        ]:
            users[username], _ = create_user(
                session,
                username=username,
                name=name,
                role=role,
                password=PASSWORD,
                branch_name=None if role is Role.ADMIN else BRANCH,
            )
        session.commit()
        branch_id = session.scalar(select(Branch.id).where(Branch.name == BRANCH))
        now = datetime.now(UTC)
        spec = exam_setup.ExamSpec(
            title="十二月党章月度测试",
            branch_ids=(branch_id,),
            opens_at=now - timedelta(minutes=5),
            closes_at=now + timedelta(days=1),
            duration_minutes=30,
            blueprint={"sections": [{"types": ["single"], "count": 3, "points": 10}]},
            pass_mark=18,
        )
        exam = exam_setup.create_exam(session, users["shuji"], spec)
        exam_setup.publish_exam(session, users["shuji"], exam.id)
        exam_id, member_id = exam.id, users["dangyuan"].id
        category = session.scalars(  # the chapter with the most questions: surely 5 of them
            select(BankCategory)
            .join(Question, (Question.bank_id == BankCategory.bank_id) & (Question.category == BankCategory.key))
            .group_by(BankCategory.id)
            .order_by(func.count(Question.id).desc())
        ).first()
        assignment = assignments.create_assignment(
            session,
            users["shuji"],
            branch_id,
            title="专项练习：" + category.title,
            chapters=[f"{category.bank_id}:{category.key}"],
            count=5,
            due_on=(now + timedelta(days=7)).date(),
        )
        assignment_id = assignment.id

    client = app.test_client()
    pages = []
    client.post("/login", data={"username": "dangyuan", "password": PASSWORD})
    pages.append(client.post(f"/exams/{exam_id}/start").headers["Location"])  # the member's exam paper
    started = client.post("/practice/start", data={"kind": "random", "count": "10"})
    pages.append(started.headers["Location"])
    client.post("/logout")
    client.post("/login", data={"username": "shuji", "password": PASSWORD})
    hosted = client.post("/contests/", data={"plan": "standard.yaml"})
    assert "/host" in hosted.headers["Location"], hosted.get_data(as_text=True)[:500]
    with app.app_context():
        contest = db.session.scalars(select(Contest)).one()
        projector = f"/contests/{contest.id}/projector/{contest.projector_token}"
        team = f"/contests/{contest.id}/team?code={contest.teams[0].join_code}"
        member = db.session.get(User, member_id)
        organizer_pages = [
            hosted.headers["Location"],
            f"/exams/{exam_id}/manage",
            f"/exams/{exam_id}/grading",
            f"/exams/{exam_id}/members/{member_id}",
            f"/record/{member_id}",
            f"/org/members/{member_id}/edit",
            f"/org/members/{member_id}/role",
            f"/org/branches/{member.branch_id}",
            f"/org/branches/{member.branch_id}/import",
            "/contests/plans/new",
            "/exams/new",
            f"/dashboard/branch/{member.branch_id}",
            "/standards/",
            f"/standards/branch/{member.branch_id}",
            f"/assignments/branch/{member.branch_id}",
            f"/assignments/branch/{member.branch_id}/new",
            f"/assignments/{assignment_id}",
        ]
    db.engine.dispose()
    return [*(urlsplit(page).path for page in pages), "|", *organizer_pages, "|", projector, team]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A running server on a seeded instance."""
    if not AXE.exists():
        pytest.skip("axe-core missing: run `npm ci` (copies static/vendor/axe.min.js)")
    instance = tmp_path_factory.mktemp("crawl-instance")
    member_pages, organizer_pages, open_pages = _split(_seed(instance))
    with live_server(instance, ROOT / "question_banks") as server:
        yield Seeded(server.url, member_pages, organizer_pages, open_pages)


def _split(pages: list[str]) -> tuple[list[str], list[str], list[str]]:
    first = pages.index("|")
    second = pages.index("|", first + 1)
    return pages[:first], pages[first + 1 : second], pages[second + 1 :]


def _pattern(path: str) -> str:
    """Pages that differ only by ids are one page for the crawl (visit one of each)."""
    return re.sub(r"\d+", "N", path.split("?")[0])


@dataclass
class Findings:
    """Every problem found, per page, so one run shows them all."""

    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    audited: set[str] = field(default_factory=set)  # page patterns axe has checked (once per run is enough)

    def add(self, path: str, problem: str) -> None:
        self.problems.append(f"{path}: {problem}")


#: Sizes for older members (适老化): every tap target at least 44×44 CSS px (WCAG 2.5.5; a link inside a sentence
#: is exempt, as WCAG allows), every piece of text at least 16 px. Visually hidden text (screen readers only) is
#: not seen. The projector is read from across the room and sized in viewport units: it is not checked.
SIZES = """() => {
  const seen = el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    return box.width > 2 && box.height > 2 && style.visibility !== 'hidden' &&
      !el.closest('[hidden], .visually-hidden');
  };
  const inSentence = a => a.tagName === 'A' && a.parentElement &&
    a.parentElement.textContent.trim().length > a.textContent.trim().length + 8 &&
    getComputedStyle(a).display === 'inline';
  const small = [];
  for (const el of document.querySelectorAll(
      'a[href], button, select, summary, input:not([type=hidden]), [role=button], [tabindex="0"]')) {
    if (!seen(el) || inSentence(el)) continue;
    const target = el.matches('input[type=checkbox], input[type=radio]') && el.closest('label') || el;
    const box = target.getBoundingClientRect();
    if (box.width < 43.5 || box.height < 43.5)
      small.push(`tap ${el.tagName.toLowerCase()} "${(el.textContent || el.value || '').trim().slice(0, 12)}" ` +
                 `${Math.round(box.width)}×${Math.round(box.height)}`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || !seen(el) || el.closest('script, style, noscript')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 15.5) small.push(`text ${size}px "${walker.currentNode.textContent.trim().slice(0, 12)}"`);
  }
  return [...new Set(small)].slice(0, 8);
}"""


def _check_page(page, path: str, findings: Findings, *, axe: bool) -> None:  # type: ignore[no-untyped-def]
    """No sideways scrolling, no visible English, big enough targets and text, and no axe-core violation."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right >
                 window.innerWidth + 1 && e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
                 .slice(0, 3).map(e => e.tagName + '.' + e.className)"""
        )
        findings.add(path, f"scrolls sideways ({width[0]} > {width[1]}): {wide}")
    charts = page.evaluate(
        """() => window.echarts ? Array.from(document.querySelectorAll('[_echarts_instance_]')).map(el =>
             [window.echarts.getInstanceByDom(el).getOption().textStyle.fontSize,
              parseFloat(getComputedStyle(document.documentElement).fontSize)]) : []"""
    )
    if any(chart != page_font for chart, page_font in charts):
        findings.add(path, f"chart text does not follow the page's font size: {charts}")
    if not axe:
        return
    if "/projector/" not in path:
        for problem in page.evaluate(SIZES):
            findings.add(path, f"too small: {problem}")
    text = page.evaluate(VISIBLE_TEXT)
    english = sorted(set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED_LATIN)
    if english:
        findings.add(path, f"English on the page: {english[:8]}")
    # by URL, not path=: Playwright would inline the file and the app's CSP (script-src 'self') rightly blocks that
    page.add_script_tag(url="/static/vendor/axe.min.js")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS
    )
    for violation in result["violations"]:
        targets = [node["target"] for node in violation["nodes"][:3]]
        findings.add(path, f"axe {violation['id']} ({violation['impact']}): {violation['help']} {targets}")


def _open(page, base: str, path: str) -> int:  # type: ignore[no-untyped-def]
    response = page.goto(base + path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)  # scripts render the live screens' first state
    return response.status if response else 0


def _links(page, base: str) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or SKIP.search(parts.path):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def _crawl(page, base: str, start: list[str], findings: Findings, *, axe: bool, shots: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Breadth-first over the role's pages: the seeded ones, then every same-site link found."""
    queue, seen = list(start), set()
    while queue:
        path = queue.pop(0)
        if _pattern(path) in seen and path not in start:
            continue
        seen.add(_pattern(path))
        status = _open(page, base, path)
        findings.visited.append(path)
        if status >= 400:
            findings.add(path, f"HTTP {status}")
            continue
        _check_page(page, path, findings, axe=axe and _pattern(path) not in findings.audited)
        findings.audited.add(_pattern(path))
        for key, name in shots.items():
            if re.fullmatch(key, path):
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(
                    path=str(SHOTS / f"{name}{'' if axe else '-200'}.png"), full_page=axe
                )  # 200 %: first screen
        queue.extend(link for link in _links(page, base) if _pattern(link) not in seen)


def _login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, base, username, PASSWORD)


ROLE_SHOTS = {
    "dangyuan": {"/": "member-home", r"/exams/attempts/\d+": "member-exam", r"/practice/\d+": "member-practice"},
    "shuji": {
        r"/org/branches/\d+": "organizer-branch",
        r"/contests/\d+/host": "host-console",
        r"/assignments/branch/\d+/new": "organizer-assign",
    },
    "guanli": {
        "/org/": "admin-branches",
        "/dashboard/overview": "admin-overview",
        "/org/inspectors": "admin-inspectors",
        r"/org/members/\d+/role": "admin-role",
    },
    "ducha": {r"/org/branches/\d+": "inspector-branch", "/dashboard/overview": "inspector-overview"},
}


@pytest.mark.parametrize("large", [False, True], ids=["normal-text", "text-200"])
def test_every_page_works_on_a_phone_and_passes_axe(site: Seeded, large: bool) -> None:
    findings = Findings()
    with chromium() as browser:
        anonymous = browser.new_context(viewport=PHONE, device_scale_factor=1)
        page = anonymous.new_page()
        if large:
            page.add_init_script(TEXT_200)
        _crawl(
            page,
            site.url,
            ["/login", *site.open_pages],
            findings,
            axe=not large,
            shots={r"/contests/\d+/projector/.*": "projector", r"/contests/\d+/team.*": "team-device"},
        )
        anonymous.close()
        for username, start in [
            ("dangyuan", ["/", *site.member_pages]),
            ("shuji", ["/", *site.organizer_pages]),
            ("guanli", ["/", "/org/", "/org/inspectors", "/dashboard/", "/dashboard/overview", "/standards/committee"]),
            (
                "ducha",
                ["/", "/org/", "/exams/", "/dashboard/overview"],
            ),  # every link an inspector is shown must open for them
        ]:
            context = browser.new_context(viewport=PHONE, device_scale_factor=1)
            page = context.new_page()
            if large:
                page.add_init_script(TEXT_200)
            _login(page, site.url, username)
            _crawl(page, site.url, start, findings, axe=not large, shots=ROLE_SHOTS[username])
            context.close()
    assert len(findings.visited) >= 25, findings.visited
    assert findings.problems == [], "\n".join(findings.problems)

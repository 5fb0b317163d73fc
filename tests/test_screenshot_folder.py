"""A test run never changes tracked files: screenshots go to a git-ignored folder unless asked."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from . import browser


@pytest.mark.skipif(shutil.which("git") is None or not (browser.ROOT / ".git").exists(), reason="needs a git checkout")
def test_screenshots_of_a_plain_run_go_to_a_git_ignored_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "update_screenshots", False)
    path = browser.screenshot_path("any-page")
    assert path.parent == browser.RUN_SCREENSHOTS
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=browser.ROOT, check=False)
    assert ignored.returncode == 0, f"{path} is not git-ignored"


def test_update_screenshots_writes_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "update_screenshots", True)
    assert browser.screenshot_path("any-page") == browser.DOC_SCREENSHOTS / "any-page.png"

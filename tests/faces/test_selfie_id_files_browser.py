"""A check's file links in headless Chromium: an ID photo that is also a page or a script never runs on our origin."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_selfie_id import submit
from .test_selfie_id_files import bmp_with_script, png_with_script

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"


def _links(key: str, video: bytes, name: str, photo: bytes) -> dict[str, str]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, photo, "application/octet-stream")
    response = submit(key, video, None, id_photo=upload)
    assert response.status_code == 200, response.content
    files = response.json()["result"]["files"]
    return {kind: file["url"].split("127.0.0.1:8000", 1)[-1] for kind, file in files.items()}


def _video_width(page) -> int:
    """The width of the video the page shows, once loaded (polled: wait_for_function's eval is refused by CSP)."""
    for _ in range(100):
        width = page.evaluate("() => document.querySelector('video')?.videoWidth || 0")
        if width:
            return width
        page.wait_for_timeout(100)
    return 0


def test_an_id_photo_uploaded_as_a_page_and_a_script_shows_as_an_image_and_runs_nothing(
    live_server, publishable, selfie_videos, faces, tmp_path, settings
):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does it)")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    video = selfie_videos["webm"]
    script = _links(publishable, video, "id.js", bmp_with_script(faces.astronaut, "document.title='ran'"))["idPhoto"]
    links = _links(publishable, video, "id.html", png_with_script(faces.astronaut, script))
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            response = page.goto(f"{live_server.url}{links['idPhoto']}")
            assert response is not None and response.status == 200
            page.wait_for_load_state("load")
            title = page.title()
            shown = page.evaluate("() => [...document.images].map(image => image.naturalWidth)")
            page.goto(f"{live_server.url}{links['selfieVideo']}")
            video_width = _video_width(page)
        finally:
            browser.close()
    assert title != "ran"
    assert shown and shown[0] > 0  # 004's links still show the photo and the video in the browser
    assert video_width > 0

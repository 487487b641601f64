"""The hosted page paces its frames in real Chromium: while its frames go unanswered (busy workers) it waits.

The page's WebSocket is routed through Playwright, which withholds every
``feedback`` answer for a while, as a server whose workers are far behind
would. The page may then send one frame a second at most (a frame the server
skipped is never answered); before it paced itself it kept sending ~9 a
second, which the server dropped unanalysed.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.sessions.test_browser import _browser, _start_demo
from tests.sessions.test_browser import playwright_driver as playwright_driver
from tests.sessions.test_browser import server as server
from tests.sessions.test_browser import videos as videos

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WITHHELD_SECONDS = 3.0


def test_the_page_waits_for_answers_instead_of_sending_frames_the_server_would_drop(server, videos, playwright_driver):
    browser = _browser(playwright_driver, videos["live"])
    page = browser.new_page(bypass_csp=True)
    sent: list[float] = []  # when the page sent each frame
    withheld: list[str] = []

    def route(ws) -> None:
        upstream = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, bytes):
                sent.append(time.monotonic())
            upstream.send(message)

        def from_server(message: str | bytes) -> None:
            busy = bool(sent) and time.monotonic() - sent[0] < WITHHELD_SECONDS
            if busy and isinstance(message, str) and json.loads(message).get("type") == "feedback":
                withheld.append(message)  # a worker that has not got to this frame yet
                return
            ws.send(message)

        ws.on_message(from_page)
        upstream.on_message(from_server)

    page.route_web_socket("**/ws/v1/sessions/**", route)
    _start_demo(page, server["base"], "Passive")
    page.click("#consent-accept")
    page.wait_for_selector("body[data-screen=capture]", timeout=15_000)
    deadline = time.monotonic() + 30
    while not sent and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # the camera starts, the socket authenticates, the first frame goes
    assert sent, "the page sent no frame"
    page.wait_for_timeout(WITHHELD_SECONDS * 1000 + 500)
    first = sent[0]
    in_window = [t for t in sent if t - first < WITHHELD_SECONDS]
    # One frame, then one a second while nothing is answered (a blind page sent ~27 here).
    assert len(in_window) <= WITHHELD_SECONDS + 2, (len(in_window), len(withheld))
    # Answers flow again: the page goes back to its full rate and the capture ends with a result.
    page.wait_for_selector("body[data-screen=analysing], body[data-screen=result]", timeout=40_000)
    after = [t for t in sent if t - first >= WITHHELD_SECONDS]
    assert len(after) >= 5, len(after)
    browser.close()

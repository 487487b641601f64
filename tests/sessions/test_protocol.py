"""The close codes are one enum, on both sides of the socket."""

from __future__ import annotations

import re
from pathlib import Path

from apps.sessions.protocol import CloseCode

SESSION_JS = Path(__file__).resolve().parents[2] / "static" / "capture" / "session.js"


def test_the_hosted_page_only_handles_close_codes_the_server_sends():
    table = re.search(r"var TERMINAL_CLOSE = \{([^}]*)\}", SESSION_JS.read_text())
    assert table is not None
    codes = {int(code) for code in re.findall(r"(\d{4}):", table.group(1))}
    assert codes and codes <= {int(code) for code in CloseCode}


def test_the_close_codes_are_the_documented_ones():
    documented = (Path(__file__).resolve().parents[2] / "docs" / "websocket.md").read_text()
    sent = {code for code in CloseCode if code != CloseCode.NORMAL}
    assert all(f"close **{int(code)}**" in documented for code in sent)

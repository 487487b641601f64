"""The Web SDK's files as the service serves them, the sources they are built from, and the hosted page
opened the SDK's way (``/s/<id>/?t=<sessionToken>``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.sessions.models import Session
from apps.sessions.tokens import session_token_issue
from tests.served import ROOT

from .conftest import make_session

SDK = ROOT / "sdk" / "js"
PASSIVE_FR = {
    "liveness": {"type": "Verification", "challengeType": "Passive"},
    "commonSettings": {"locale": "fr"},
}


@pytest.mark.parametrize(
    ("name", "kind"),
    [("liveproof.js", "text/javascript"), ("liveproof.global.js", "text/javascript"), ("liveproof.d.ts", "text/plain")],
)
def test_the_sdk_is_served_to_any_origin_byte_for_byte_as_packaged(client, name, kind):
    response = client.get(f"/sdk/v1/{name}", HTTP_ORIGIN="https://shop.example")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(kind)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.content == (SDK / name).read_bytes()


@pytest.mark.parametrize("name", ["package.json", "build.mjs", "src/core.js", "..%2fREADME.md", "nope.js"])
def test_nothing_else_is_served_under_sdk(client, name):
    assert client.get(f"/sdk/v1/{name}").status_code == 404


def test_the_es_module_and_the_global_build_are_the_committed_output_of_the_source():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run([node, str(SDK / "build.mjs"), "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    module = (SDK / "liveproof.js").read_text()
    assert re.search(r"^export \{ mount, watch, VERSION as version \};$", module, re.MULTILINE)
    assert "window.Liveproof = Liveproof;" in (SDK / "liveproof.global.js").read_text()
    package = json.loads((SDK / "package.json").read_text())
    assert package["peerDependencies"]["react"] and "dependencies" not in package
    assert set(package["files"]) >= {"liveproof.js", "liveproof.global.js", "liveproof.d.ts", "react.js", "react.d.ts"}


def test_nothing_in_the_sdk_fetches_from_anywhere_else():
    for path in [*SDK.glob("*.js"), *SDK.glob("src/*.js")]:
        text = path.read_text()
        assert not re.search(r"https?://", text.replace("http://www.w3.org", "")), path
        assert "fetch(" not in text and "importScripts" not in text, path


@pytest.mark.django_db
def test_a_live_session_token_opens_the_hosted_page_and_another_sessions_does_not(integrator):
    session = make_session(integrator.account)
    other = make_session(integrator.account)
    opened = integrator.client.get(f"/s/{session.id}/", {"t": session_token_issue(session_id=session.id)})
    assert opened.status_code == 200
    boot = json.loads(re.search(rb'<script id="boot" type="application/json">(.*?)</script>', opened.content)[1])
    assert boot["sessionId"] == str(session.id) and "?k=" in boot["statusUrl"]
    foreign = integrator.client.get(f"/s/{session.id}/", {"t": session_token_issue(session_id=other.id)})
    assert foreign.status_code == 404
    assert integrator.client.get(f"/s/{session.id}/", {"t": "not-a-token"}).status_code == 404


@pytest.mark.django_db
def test_a_finished_sessions_page_may_be_framed_by_the_account_and_tells_it_why(integrator):
    account = integrator.account
    account.allowed_redirect_origins = ["https://shop.example"]
    account.save()
    session = make_session(account)
    Session.objects.filter(id=session.id).update(status="completed", completed_at=timezone.now())
    page = integrator.client.get(f"/s/{session.id}/", {"t": session_token_issue(session_id=session.id)})
    assert page.status_code == 410
    assert "frame-ancestors 'self' https://shop.example" in page["Content-Security-Policy"]
    assert b'"kind": "used"' in page.content and b"capture/problem.js" in page.content


def _boot(page) -> dict:
    return json.loads(re.search(rb'<script id="boot" type="application/json">(.*?)</script>', page.content)[1])


@pytest.mark.django_db
def test_an_expired_token_of_the_session_opens_nothing_but_tells_the_embedder_why(integrator):
    account = integrator.account
    account.allowed_redirect_origins = ["https://shop.example"]
    account.save()
    live, used, lapsed, other = (make_session(account) for _ in range(4))
    Session.objects.filter(id=used.id).update(status="completed", completed_at=timezone.now())
    with time_machine.travel(timezone.now() - timedelta(minutes=11)):
        tokens = {s.id: session_token_issue(session_id=s.id) for s in (live, used, lapsed, other)}
    Session.objects.filter(id=lapsed.id).update(expires_at=timezone.now() - timedelta(minutes=1))

    page = integrator.client.get(f"/s/{live.id}/", {"t": tokens[live.id]})
    assert page.status_code == 403  # the session is still open, but not to this token
    assert "frame-ancestors 'self' https://shop.example" in page["Content-Security-Policy"]
    assert _boot(page) == {"sessionId": str(live.id), "kind": "tokenExpired", "embedOrigins": ["https://shop.example"]}
    assert b"capture/problem.js" in page.content and b"?k=" not in page.content  # no page key, no socket token
    assert Session.objects.get(id=live.id).status == "created"

    assert _boot(integrator.client.get(f"/s/{used.id}/", {"t": tokens[used.id]}))["kind"] == "used"
    expired = integrator.client.get(f"/s/{lapsed.id}/", {"t": tokens[lapsed.id]})
    assert expired.status_code == 410 and _boot(expired)["kind"] == "expired"
    assert Session.objects.get(id=lapsed.id).status == "expired"
    # Another session's expired token, or a forged one, still finds nothing (and tells no embedder).
    foreign = integrator.client.get(f"/s/{live.id}/", {"t": tokens[other.id]})
    assert foreign.status_code == 404 and b'id="boot"' not in foreign.content
    forged = tokens[live.id][:-2] + ("AA" if not tokens[live.id].endswith("AA") else "BB")
    assert integrator.client.get(f"/s/{live.id}/", {"t": forged}).status_code == 404


@pytest.mark.django_db
def test_the_sdks_locale_picks_the_pages_language_and_an_unknown_one_falls_back_to_the_sessions(integrator):
    session = make_session(integrator.account, PASSIVE_FR)
    token = session_token_issue(session_id=session.id)
    chosen = integrator.client.get(f"/s/{session.id}/", {"t": token, "locale": "de"})
    assert chosen.status_code == 200 and chosen["Content-Language"] == "de"
    unknown = integrator.client.get(f"/s/{session.id}/", {"t": token, "locale": "xx"})
    assert unknown["Content-Language"] == "fr"  # the session's commonSettings.locale

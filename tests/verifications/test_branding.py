"""brandingConfig and the account's brand (docs/branding.md): what is refused with a 400, what is stored and
served, and what the hosted consent and result screens show (the config's value over the account's)."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from apps.accounts.branding import LOGO_MAX_BYTES, contrast_ratio
from apps.accounts.models import BrandLogo
from apps.sessions.services.create import session_create
from apps.verifications.models import VerificationConfig

pytestmark = pytest.mark.django_db

LIVENESS = {"liveness": {"type": "Verification", "challengeType": "Passive"}}


def image(kind: str = "PNG", size: tuple[int, int] = (120, 40), noise: bool = False) -> bytes:
    picture = Image.new("RGB", size, (23, 69, 201))
    if noise:  # incompressible: a big file from a modest picture
        picture = Image.frombytes("RGB", size, __import__("os").urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    picture.save(out, kind)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def create(client: Any, branding: dict[str, Any]) -> Any:
    body = {"name": "Branded", "verificationConfig": {"verifierConfigs": LIVENESS, "brandingConfig": branding}}
    return client.post("/v1/verification/create", body, format="json")


def refused(client: Any, branding: dict[str, Any], field: str) -> str:
    before = VerificationConfig.objects.count()
    response = create(client, branding)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and list(error["fields"]) == [f"verificationConfig.brandingConfig.{field}"]
    assert VerificationConfig.objects.count() == before
    return str(error["fields"][f"verificationConfig.brandingConfig.{field}"][0])


def test_an_accent_colour_below_wcag_aa_contrast_is_refused(integrator):
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey
    message = refused(integrator.client, {"accentColor": "#ffcc00"}, "accentColor")
    assert "below WCAG AA's 4.5:1" in message and "1.51:1" in message
    assert "4.5:1" in refused(integrator.client, {"accentColor": "#777777"}, "accentColor")  # 4.48:1
    refused(integrator.client, {"accentColor": "blue"}, "accentColor")
    assert create(integrator.client, {"accentColor": "#767676"}).status_code == 200


@pytest.mark.parametrize(
    ("logo", "says"),
    [
        (b64(image(size=(230, 230), noise=True)), "at most 153600"),
        (b64(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "SVG"),
        (b64(image("GIF")), "GIF logo is not accepted"),
        (b64(b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "not a readable"),
        ("not base64!", "Must match"),
    ],
    ids=["oversize", "svg", "gif", "broken-png", "not-base64"],
)
def test_a_logo_that_is_too_big_svg_or_not_an_image_is_refused(integrator, logo, says):
    assert says in refused(integrator.client, {"logo": logo}, "logo")
    assert not BrandLogo.objects.filter(data__isnull=False).exclude(content_type__startswith="image/").exists()


def test_the_oversize_case_is_over_the_limit():
    assert len(image(size=(230, 230), noise=True)) > LOGO_MAX_BYTES


@pytest.mark.parametrize("field", ["privacyPolicyUrl", "supportUrl"])
def test_a_link_that_is_not_https_is_refused(integrator, field):
    assert "https" in refused(integrator.client, {field: "http://example.com/privacy"}, field)
    refused(integrator.client, {field: "javascript:alert(1)"}, field)


def test_a_logo_is_stored_once_served_by_us_and_reusable_by_its_id(integrator):
    png = image()
    response = create(integrator.client, {"logo": b64(png), "displayName": "Acme Bank"})
    assert response.status_code == 200, response.json()
    stored = VerificationConfig.objects.get()
    logo_id = stored.config["brandingConfig"]["logoId"]
    assert stored.config["brandingConfig"]["displayName"] == "Acme Bank"
    served = Client().get(f"/brand/logo/{logo_id}")
    assert served.status_code == 200 and served["Content-Type"] == "image/png" and served.content == png
    assert served["X-Content-Type-Options"] == "nosniff"
    assert Client().get(f"/brand/logo/{'0' * 64}").status_code == 404
    again = integrator.client.post(
        "/v1/verification/create",
        {"name": "Again", "verificationConfig": {"verifierConfigs": LIVENESS, "brandingConfig": {"logoId": logo_id}}},
        format="json",
    )
    assert again.status_code == 200 and BrandLogo.objects.count() == 1
    assert "No logo has this id" in refused(integrator.client, {"logoId": "f" * 64}, "logoId")


def test_the_fields_are_in_the_openapi_schema(anonymous):
    schema = anonymous.get("/swagger/schema.json").json()
    branding = next(v for k, v in schema["components"]["schemas"].items() if k.startswith("BrandingConfig"))
    assert set(branding["properties"]) == {"displayName", "logo", "logoId", "accentColor", "privacyPolicyUrl",
                                           "supportUrl"}  # fmt: skip
    assert "4.5:1" in branding["properties"]["accentColor"]["description"]


def _page(integrator, branding: dict[str, Any] | None) -> str:
    config = {"verifierConfigs": LIVENESS, **({"brandingConfig": branding} if branding else {})}
    name = f"P{VerificationConfig.objects.count()}"
    response = integrator.client.post("/v1/verification/create", {"name": name, "verificationConfig": config},
                                      format="json")  # fmt: skip
    session = session_create(account=integrator.account, body={"verificationId": response.json()["verificationId"]})
    page = Client().get(session.session_url.split("127.0.0.1:8000", 1)[-1])
    assert page.status_code == 200
    return page.content.decode()


def test_the_consent_and_result_screens_show_the_config_brand_over_the_accounts(integrator):
    account = integrator.account
    account.brand_display_name, account.brand_accent_color = "Acme Group", "#0b5d1e"
    account.brand_privacy_url, account.brand_support_url = "https://acme.example/privacy", "https://acme.example/help"
    account.save()
    html = _page(integrator, None)  # the account's brand alone
    for screen in ("consent", "result"):
        section = re.search(rf'data-name="{screen}".*?</section>', html, re.S)
        assert section and "Verification for Acme Group" in section.group(0)
        assert 'href="https://acme.example/privacy"' in section.group(0)
        assert 'href="https://acme.example/help"' in section.group(0)
    assert re.search(r'<style nonce="[^"]+">\s*:root \{ --primary: #0b5d1e;', html)
    # The config's own values win, field by field; the rest still comes from the account.
    png = image()
    html = _page(integrator, {"displayName": "Acme Bank", "accentColor": "#6b1d8f", "logo": b64(png)})
    assert "Verification for Acme Bank" in html and "Acme Group" not in html
    assert "--primary: #6b1d8f" in html and 'href="https://acme.example/help"' in html
    logo_url = f"/brand/logo/{BrandLogo.objects.get().sha256}"
    assert html.count(f'src="{logo_url}"') == 2  # consent and result


def test_without_a_brand_the_page_shows_none(integrator):
    html = _page(integrator, None)
    assert 'class="brand' not in html and "<style nonce" not in html


# --- In the admin: the account's brand (no API), and a config's brandingConfig through the API's own rules ---


def _account_form(account, **brand: Any) -> dict[str, Any]:
    data = {"name": account.name, "allowed_redirect_origins": "[]", "brand_display_name": "", "brand_logo": "",
            "brand_accent_color": "", "brand_privacy_url": "", "brand_support_url": "", "_save": "Save",
            "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"}  # fmt: skip
    return {**data, **brand}


def test_the_accounts_brand_is_edited_in_the_admin_under_the_same_rules(admin_client, integrator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    account = integrator.account
    url = f"/admin/accounts/account/{account.id}/change/"
    bad = admin_client.post(url, _account_form(account, brand_accent_color="#ffcc00",
                                               brand_privacy_url="http://acme.example/privacy",
                                               logo_upload=SimpleUploadedFile("logo.svg", b"<svg></svg>")))  # fmt: skip
    page = bad.content.decode()
    assert bad.status_code == 200 and "below WCAG AA" in page and "Only https://" in page and "SVG" in page
    account.refresh_from_db()
    assert account.brand_accent_color == "" and account.brand_logo_id is None
    png = image()
    good = admin_client.post(url, _account_form(account, brand_display_name="Acme Group", brand_accent_color="#0B5D1E",
                                                brand_support_url="https://acme.example/help",
                                                logo_upload=SimpleUploadedFile("logo.png", png)))  # fmt: skip
    assert good.status_code == 302, re.findall(r"errorlist.*?</ul>", good.content.decode(), re.S)
    account.refresh_from_db()
    assert (account.brand_display_name, account.brand_accent_color) == ("Acme Group", "#0b5d1e")
    assert account.brand_logo is not None and bytes(account.brand_logo.data) == png
    assert "Verification for Acme Group" in _page(integrator, None)


def test_a_configs_branding_edited_in_the_admin_is_refused_as_the_api_refuses_it(admin_client, integrator):
    config = {"verifierConfigs": LIVENESS, "brandingConfig": {"accentColor": "#ffcc00"}}
    data = {"account": str(integrator.account.pk), "name": "Branded", "verification_config": __import__("json").dumps(
        config), "_save": "Save"}  # fmt: skip
    response = admin_client.post("/admin/verifications/verificationconfig/add/", data)
    assert response.status_code == 200 and "verificationConfig.brandingConfig.accentColor" in response.content.decode()
    assert not VerificationConfig.objects.exists()

"""The brand a hosted page shows: the session's ``brandingConfig``, field by field over its account's brand.

Rules and storage: ``apps.accounts.branding``; the API block: ``apps.verifications.branding``; docs/branding.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from .models import Session


@dataclass(frozen=True)
class PageBrand:
    display_name: str
    logo_url: str
    accent_color: str
    privacy_policy_url: str
    support_url: str


def page_brand(session: Session) -> PageBrand:
    """What the consent and result screens show; empty strings where neither the config nor the account says."""
    config, account = session.typed_config.branding, session.account
    logo_id = config.logo_id or account.brand_logo_id or ""
    return PageBrand(
        display_name=config.display_name or account.brand_display_name,
        logo_url=reverse("brand-logo", kwargs={"logo_id": logo_id}) if logo_id else "",
        accent_color=config.accent_color or account.brand_accent_color,
        privacy_policy_url=config.privacy_policy_url or account.brand_privacy_url,
        support_url=config.support_url or account.brand_support_url,
    )

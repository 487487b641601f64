"""Fixtures of the iLive (002) tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.signing.redirects import allowed_redirect_origins_set


@pytest.fixture
def ilive(integrator):
    """An integrator calling as 002 says: ``Authorization: Bearer <API_KEY>``, its app's origin allowed."""
    allowed_redirect_origins_set(account=integrator.account, origins=["https://yourapp.com"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integrator.key}")
    return client

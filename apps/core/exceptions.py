"""DRF exception handler: every API error becomes the one JSON error shape."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from .errors import ApplicationError, error_body, suspicious_request_message

logger = logging.getLogger(__name__)

_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"dotted.field": ["message", ...]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" and prefix else (f"{prefix}.{key}" if prefix else str(key))
            for field, messages in flatten_errors(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "body": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                for field, messages in flatten_errors(item, f"{prefix}[{index}]").items():
                    flat.setdefault(field, []).extend(messages)
        return flat
    return {prefix or "body": [str(detail)]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.APIException):
        set_rollback()
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            exc.status_code = status.HTTP_401_UNAUTHORIZED
            headers["WWW-Authenticate"] = 'ApiKey realm="api", Bearer realm="api"'
        wait = getattr(exc, "wait", None)  # Throttled's; drf-stubs do not declare it
        if wait:
            headers["Retry-After"] = str(int(wait))
        code = _CODES.get(exc.status_code, "error")
        if isinstance(exc, exceptions.ValidationError):
            fields = flatten_errors(exc.detail)
            return Response(
                error_body("invalid", "The request has invalid fields.", fields), status=400, headers=headers
            )
        if isinstance(exc, exceptions.ParseError):
            return Response(error_body("malformed_json", str(exc.detail)), status=400, headers=headers)
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)

    if isinstance(exc, SuspiciousOperation):
        set_rollback()
        return Response(error_body("invalid", suspicious_request_message(exc)), status=400)
    logger.exception("Unhandled API error", exc_info=exc)
    set_rollback()
    return Response(error_body("server_error", "An internal error occurred."), status=500)


_reusable = threading.local()


def serializer_run(serializer_class: type[Any], data: Any) -> tuple[dict[str, Any], Any]:
    """(validated data, {}) or ({}, errors) of ``data`` through ``serializer_class``, as ``is_valid`` gives them.

    DRF builds each serializer instance's fields by deep-copying every declared field, nested serializers
    included (a fifth of create-session's CPU). Validation itself keeps no state on the instance (our
    serializers read neither ``context`` nor ``initial_data``), so one field-bound instance per class and
    thread serves every call.
    """
    instances: dict[type[Any], Any] = _reusable.__dict__.setdefault("instances", {})
    serializer = instances.get(serializer_class)
    if serializer is None:
        serializer = instances[serializer_class] = serializer_class()
    try:
        return serializer.run_validation(data), {}
    except exceptions.ValidationError as exc:
        detail = exc.detail
    if isinstance(detail, list) and len(detail) == 1 and getattr(detail[0], "code", None) == "null":
        detail = {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]}  # as is_valid
    return {}, detail


def validated_data(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    """``data`` through ``serializer_class``; an invalid field raises the one 400 ``invalid`` error shape."""
    value, errors = serializer_run(serializer_class, data)
    if errors:
        raise ApplicationError("The request has invalid fields.", code="invalid", fields=flatten_errors(errors))
    return dict(value)

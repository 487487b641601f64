"""The hosted ``/verif/`` page, ``POST /verif/submit`` (004) and the partner's check reads under /v1/."""

from __future__ import annotations

import logging
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db.models import CharField
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import api_key_caller_check, failures_limited, request_account
from apps.accounts.branding import COLOR_PATTERN
from apps.accounts.models import Account, ApiKey
from apps.accounts.services import KEY_PREFIXES, api_key_authenticate
from apps.core.errors import ApplicationError, error_response, suspicious_request_message
from apps.core.fields import StrictCharField
from apps.core.languages import language_active, language_headers
from apps.core.patterns import HTTP_URL_PATTERN
from apps.core.ratelimits import RateLimitExceeded, client_address, rate_limit_count
from apps.core.schema import ERROR_RESPONSES
from apps.signing.canonical import EXPIRATION_PARAM, SIGNATURE_PARAM
from apps.verifications.branding import AccentColorField

from .file_links import check_file_link_open, check_file_open
from .file_types import stored_file_response
from .models import PartnerProfile, SelfieCheck
from .page_texts import verif_texts
from .selectors import selfie_check_get
from .selfie_id import (
    Analysis,
    SubmitInput,
    partner_profile_get,
    partner_profile_update,
    selfie_check_analyse,
    selfie_check_record,
    selfie_check_result,
)

logger = logging.getLogger(__name__)

PUBLISHABLE_ONLY_MESSAGE = (
    "Invalid API key: this page accepts only a publishable key (lp_pk_...). "
    "A secret key must never be put in a URL or sent from a browser."
)


def _throttled(message: str, exc: RateLimitExceeded) -> ApplicationError:
    return ApplicationError(message, code="throttled", status=429, headers={"Retry-After": str(exc.retry_after)})


def _submit_account(request: HttpRequest, api_key: str) -> Account:
    """/verif/submit is called from a browser (publishable key) or from the partner's backend (secret key).

    Behind the failed-authentication limits of the API; a secret key also keeps to its IP allow-list and
    its audit trail, as on the API (a publishable key is used from every end user's address).
    """

    def either_kind(plaintext: str) -> ApiKey | None:
        return api_key_authenticate(plaintext=plaintext, kind=ApiKey.Kind.SECRET) or api_key_authenticate(
            plaintext=plaintext, kind=ApiKey.Kind.PUBLISHABLE
        )

    try:
        key = failures_limited(request, api_key, either_kind)
    except RateLimitExceeded as exc:
        raise _throttled("Too many failed authentication attempts; try again later.", exc) from None
    if key is None:
        raise ApplicationError("Invalid API key", code="invalid_api_key", status=401)
    if key.kind == ApiKey.Kind.SECRET:
        api_key_caller_check(request, key)
    return key.account


def _publishable_account(api_key: str) -> Account:
    """The account of an active publishable key; a secret key is refused like an unknown one."""
    if api_key.startswith(KEY_PREFIXES[ApiKey.Kind.SECRET]):
        raise ApplicationError(PUBLISHABLE_ONLY_MESSAGE, code="invalid_api_key", status=401)
    key = api_key_authenticate(plaintext=api_key, kind=ApiKey.Kind.PUBLISHABLE)
    if key is None:
        raise ApplicationError("Invalid API key", code="invalid_api_key", status=401)
    return key.account


def _first(request: HttpRequest, *names: str) -> str:
    """The first non-blank parameter among ``names`` (form fields, then the query string)."""
    for name in names:
        value = (request.POST.get(name) if request.method == "POST" else None) or request.GET.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _submit_count(request: HttpRequest, account: Account) -> None:
    """Count a submission per partner and client address (each check costs seconds of CPU); 429 over the limit."""
    rate = f"{int(settings.VERIF_SUBMITS_PER_HOUR)}/h"
    try:
        rate_limit_count(group=f"verif-submit:{account.pk}", rate=rate, key=client_address(request))
    except RateLimitExceeded as exc:
        raise _throttled("Too many verification attempts from this address; try again later.", exc) from None


def _text_errors(texts: dict[str, str]) -> dict[str, list[str]]:
    """Each text the check cannot keep as sent: a NUL (the database refuses it; it was a 500 after the analysis),
    or more than its column holds (it was cut: two user ids sharing their first 200 characters were one)."""
    errors: dict[str, list[str]] = {}
    for name, value in texts.items():
        field = SelfieCheck._meta.get_field(name)
        limit = field.max_length if isinstance(field, CharField) and field.max_length else 0
        if "\x00" in value:
            errors[name] = ["Not valid text (a NUL character)."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit} characters."]
    return errors


def _submit_input(request: HttpRequest) -> tuple[Account, SubmitInput]:
    """Authenticate the key (secret or publishable) and read the form, in 004's order of errors."""
    if request.content_type != "multipart/form-data":  # before the key: a wrong body never counts against it
        raise ApplicationError("The body must be multipart/form-data.", code="invalid")
    try:
        form, files = request.POST, request.FILES
    except RequestDataTooBig:
        raise ApplicationError("The form fields are too large.", code="too_large", status=413) from None
    except (MultiPartParserError, UnicodeDecodeError):
        raise ApplicationError("The body is not valid multipart/form-data.", code="invalid") from None
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise ApplicationError(suspicious_request_message(exc), code="invalid") from None
    api_key = _first(request, "api_key")
    if not api_key:
        raise ApplicationError("API key is required", code="api_key_required", fields={"api_key": ["Required."]})
    user_identifier = _first(request, "user_identifier", "user_id")
    if not user_identifier:
        raise ApplicationError(
            "User identifier is required",
            code="user_identifier_required",
            fields={"user_identifier": ["Required."]},
        )
    texts = {
        "user_identifier": user_identifier,
        "user_email": str(form.get("user_email", "")).strip(),
        "user_phone": str(form.get("user_phone", "")).strip(),
    }
    bad = _text_errors(texts)
    if bad:  # refused before seconds of analysis: the check could not keep them as sent
        raise ApplicationError("A text field holds a NUL character or is too long.", code="invalid", fields=bad)
    account = _submit_account(request, api_key)
    _submit_count(request, account)
    selfie, photo = files.get("selfie_video"), files.get("id_photo")
    if selfie is None or photo is None:
        missing = {name: ["Required."] for name, f in (("selfie_video", selfie), ("id_photo", photo)) if f is None}
        raise ApplicationError("Both selfie video and ID photo are required", code="files_required", fields=missing)
    return account, SubmitInput(**texts, selfie_video=selfie, id_photo=photo)


def _submit_result(account: Account, data: SubmitInput, analysis: Analysis) -> dict[str, object]:
    check = selfie_check_record(account=account, data=data, analysis=analysis)
    return {"success": True, "check_id": str(check.id), "result": selfie_check_result(check=check)}


@csrf_exempt
async def verif_submit(request: HttpRequest) -> HttpResponse:
    """004's submission endpoint (multipart/form-data, a secret or publishable ``api_key``).

    The few seconds of video analysis run in a worker thread of their own
    (``thread_sensitive=False``), not on the thread every other synchronous
    request of this server process shares; the database work stays on it.
    """
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "Use POST with multipart/form-data.")
    try:
        account, data = await sync_to_async(_submit_input)(request)
        analysis = await sync_to_async(selfie_check_analyse, thread_sensitive=False)(data=data)
        body = await sync_to_async(_submit_result)(account, data, analysis)
    except ApplicationError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.fields, headers=exc.headers)
    except Exception:
        logger.exception("Selfie check failed")
        return error_response(500, "processing_failed", "Verification processing failed")
    return JsonResponse(body)


@require_GET
def verif_page(request: HttpRequest) -> HttpResponse:
    """The hosted page: camera selfie video plus a photo of the ID, submitted to /verif/submit."""
    api_key = _first(request, "api_key")
    user_identifier = _first(request, "user_identifier", "user_id")
    # error: which problem page to show (templates/faces/verif.html words it in the visitor's language).
    status, error = 200, ""
    account: Account | None = None
    if not api_key:
        status, error = 400, "missingKey"
    elif not user_identifier:
        status, error = 400, "missingUser"
    else:
        try:
            account = _publishable_account(api_key)
        except ApplicationError as exc:
            secret = api_key.startswith(KEY_PREFIXES[ApiKey.Kind.SECRET])
            status, error = exc.status, "secretKey" if secret else "badKey"
    profile = PartnerProfile.objects.filter(account=account).first() if account else None
    context: dict[str, object] = {
        "error": error,
        "api_key": api_key if account else "",
        "user_identifier": user_identifier,
        "user_email": _first(request, "user_email"),
        "user_phone": _first(request, "user_phone"),
        "partner_name": (
            profile.display_name if profile and profile.display_name else (account.name if account else "")
        ),
        "accent_color": profile.accent_color if profile else "#2457d6",
    }
    with language_active(request=request, locale=_first(request, "locale")) as language:
        context["texts"] = verif_texts()
        response = render(request, "faces/verif.html", context, status=status)
    language_headers(response, language=language)
    # The URL carries the key: never leak it to other origins through the Referer header.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def verif_file(request: HttpRequest, check_id: uuid.UUID, kind: str) -> HttpResponse | FileResponse:
    """A check's file through its signed link (``file_links``): opens in a browser, no key needed."""
    try:
        check = check_file_link_open(
            check_id=check_id,
            kind=kind,
            expiration=request.GET.get(EXPIRATION_PARAM, ""),
            signature=request.GET.get(SIGNATURE_PARAM, ""),
        )
        return _file_response(check, kind, as_attachment=False)
    except ApplicationError as exc:
        return error_response(exc.status, exc.code, exc.message)


def _file_response(check: SelfieCheck, kind: str, *, as_attachment: bool) -> FileResponse:
    file, name = check_file_open(check=check, kind=kind)
    response = stored_file_response(file=file, name=name, as_attachment=as_attachment)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


_CHECK_PARAM = OpenApiParameter("checkId", str, required=True, description="The check_id from /verif/submit")


class CheckGetView(APIView):
    @extend_schema(
        summary="Get a selfie-versus-ID check",
        parameters=[_CHECK_PARAM],
        responses={
            200: inline_serializer(
                "VerifCheck",
                {
                    "check_id": serializers.UUIDField(),
                    "user_identifier": serializers.CharField(),
                    "user_email": serializers.CharField(),
                    "user_phone": serializers.CharField(),
                    "result": serializers.DictField(),
                },
            ),
            **ERROR_RESPONSES(401, 404),
        },
        tags=["Selfie versus ID"],
    )
    def get(self, request: Request) -> Response:
        check = selfie_check_get(account=request_account(request), check_id=request.query_params.get("checkId", ""))
        return Response(
            {
                "check_id": str(check.id),
                "user_identifier": check.user_identifier,
                "user_email": check.user_email,
                "user_phone": check.user_phone,
                "result": selfie_check_result(check=check),
            }
        )


class CheckFileView(APIView):
    @extend_schema(
        summary="Download a check's selfie video or ID photo (until the retention period ends)",
        parameters=[_CHECK_PARAM, OpenApiParameter("file", str, required=True, enum=["selfieVideo", "idPhoto"])],
        responses={(200, "application/octet-stream"): bytes, **ERROR_RESPONSES(400, 401, 404, 410)},
        tags=["Selfie versus ID"],
    )
    def get(self, request: Request) -> FileResponse:
        check = selfie_check_get(account=request_account(request), check_id=request.query_params.get("checkId", ""))
        kind = request.query_params.get("file")
        if kind not in ("selfieVideo", "idPhoto"):
            raise ApplicationError("file must be selfieVideo or idPhoto.", fields={"file": ["selfieVideo or idPhoto."]})
        return _file_response(check, kind, as_attachment=True)


class PartnerSettingsView(APIView):
    """The /verif/ page's theming and the webhook URL of ``verif.check.completed``."""

    class PartnerSerializer(serializers.Serializer):
        # Strict: a JSON string or a 400 ("displayName": 0 is not a name).
        displayName = StrictCharField(source="display_name", max_length=200, allow_blank=True, required=False)
        # The page's buttons hold white text on the accent: the contrast rule of every brand colour.
        accentColor = AccentColorField(
            source="accent_color",
            pattern=COLOR_PATTERN,
            required=False,
            help_text="A colour like #2457d6; refused below 4.5:1 contrast against white (WCAG AA)",
        )
        webhookUrl = StrictCharField(
            source="webhook_url",
            pattern=HTTP_URL_PATTERN,  # or "" (blank is allowed)
            max_length=2000,
            allow_blank=True,
            required=False,
            help_text="An http(s) URL that passes the outbound rules, or empty for no webhook",
        )

    @extend_schema(
        summary="Get the /verif/ partner settings",
        responses={200: PartnerSerializer, **ERROR_RESPONSES(401)},
        tags=["Selfie versus ID"],
    )
    def get(self, request: Request) -> Response:
        return Response(self.PartnerSerializer(partner_profile_get(account=request_account(request))).data)

    @extend_schema(
        summary="Update the /verif/ partner settings (only the fields sent change)",
        request=PartnerSerializer,
        responses={200: PartnerSerializer, **ERROR_RESPONSES(400, 401)},
        tags=["Selfie versus ID"],
    )
    def post(self, request: Request) -> Response:
        body = self.PartnerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        profile = partner_profile_update(account=request_account(request), changes=dict(body.validated_data))
        return Response(self.PartnerSerializer(profile).data)

"""The reporter API: submit, open and reply. One view per operation; every field validated, and the OpenAPI
document says what the validation enforces (patterns, lengths, enums), which schemathesis checks."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import client_of
from core.text import CleanTextApiField
from directory import lookup
from reports import forms as limits
from reports import services
from reports.models import Anonymity, Channel, ConcernType, RaisedInternally, ReporterSector

# Rendering only: what the reporter may know of their case's progress is triage's to say (ADR 0001).
from triage.selectors import reporter_status

# --- what the schema says of text ----------------------------------------------------------------------
# Every character str.strip() and str.split() take for space (each c with c.isspace()), spelled out so that
# every regular-expression engine reads these patterns alike: ECMA's \s (the schema's) and Python's differ.
_SPACE_BEYOND_ASCII = r"\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE = rf"\t-\r\u001c-\u0020{_SPACE_BEYOND_ASCII}"
# Text that may be blank: anything but NUL, which every text field refuses (DRF's and Django's CharField,
# and core.text's cleaned fields alike).
NO_NUL = r"^[^\u0000]*$"
# Text that must not be blank once trimmed (DRF's and Django's CharField): no NUL, and a character that is
# not space.
TRIMMED_NOT_BLANK = rf"^[^\u0000]*[^\u0000{_SPACE}][^\u0000]*$"
# Text that must not be blank once cleaned (core.text: control characters removed, then space stripped):
# no NUL, and a character that is neither a control character nor space.
CLEANED_NOT_BLANK = rf"^[^\u0000]*[^\u0000-\u0020{_SPACE_BEYOND_ASCII}][^\u0000]*$"


def text_pattern(*, cleaned: bool, trimmed: bool, blank_allowed: bool) -> str:
    """The pattern of what a text field accepts, length aside (maxLength says that)."""
    if blank_allowed:
        return NO_NUL
    if cleaned:
        return CLEANED_NOT_BLANK
    return TRIMMED_NOT_BLANK if trimmed else NO_NUL


class TextFieldSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call] # drf-spectacular's hook
    """Every request's text field in the OpenAPI document carries the pattern of what its validation accepts
    (a field may give its own, ``schema_pattern``): without it the schema promised that NUL, or a required
    field of spaces only, would do. A schema extension, so it reaches every API's serializers (the staff
    sign-in's too) from here, the module every role's URLs load."""

    target_class = "rest_framework.fields.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if direction != "request" or not isinstance(schema, dict) or schema.get("type") != "string":
            return schema
        if {"pattern", "enum", "format"} & set(schema):
            return schema  # an email address, a choice, or a pattern of its own already
        pattern = getattr(field, "schema_pattern", None) or text_pattern(
            cleaned=isinstance(field, CleanTextApiField),
            trimmed=bool(field.trim_whitespace),
            blank_allowed=bool(field.allow_blank),
        )
        if field.allow_blank:
            # drf-spectacular rewrites a field that may be blank and has a pattern as oneOf (the pattern, or
            # ""), moving its default of "" into the first, where "" does not match and may not: an invalid
            # schema. Inside allOf the pattern is left alone, and matches "" itself.
            schema["allOf"] = [{"pattern": pattern}]
        else:
            schema["pattern"] = pattern
        return schema


class ContactSerializer(serializers.Serializer[dict[str, str]]):
    name = CleanTextApiField(max_length=limits.NAME_MAX, allow_blank=True, required=False, default="")
    # No default: "" is not an email address, and a schema's default must be valid for its own format.
    email = serializers.EmailField(max_length=254, allow_blank=True, required=False)
    phone = CleanTextApiField(max_length=limits.PHONE_MAX, allow_blank=True, required=False, default="")


# The GSS codes of English children's services authorities: unitary authorities (E06), metropolitan
# districts (E08), London boroughs (E09) and counties (E10), current or former. Case does not matter.
GSS_CODE = re.compile(r"[Ee](?:0[689]|10)[0-9]{6}")
NOT_A_GSS_CODE = (
    "Not an English children's services authority GSS code: E06, E08, E09 or E10 and 6 digits, like E08000018."
)
UNKNOWN_GSS_CODE = "No English children's services authority has this GSS code."


class AuthorityCodeField(CleanTextApiField):
    """A GSS code in, a LocalAuthority out (current or former codes accepted). A code of the wrong form and
    one that names no authority are refused with different messages: the schema can state the first."""

    schema_pattern = f"^{GSS_CODE.pattern}$"

    def run_validation(self, data: Any = serializers.empty) -> Any:
        code = super().run_validation(data)
        if code is None:
            return None
        if not GSS_CODE.fullmatch(code):
            raise serializers.ValidationError(NOT_A_GSS_CODE)
        authority = lookup.authority_by_code(code.upper())
        if authority is None:
            raise serializers.ValidationError(UNKNOWN_GSS_CODE)
        return authority


# A postcode as lookup.normalise_postcode reads it: a full postcode with any spacing ("S60 1AA", "s601aa"), an
# outward code ("S60") or a sector ("S60 1"), in either case; or nothing, or spaces only, which clean to
# nothing. (The lookup also takes tabs and other space where this shows a space.) Whether the postcode is in
# the directory, or in England, is the lookup's to say.
_FULL_POSTCODE = "[A-Za-z] *(?:[A-HJ-Ya-hj-y] *)?[0-9] *(?:[A-Za-z0-9] *)?[0-9] *[A-Za-z] *[A-Za-z]"
_OUTWARD_OR_SECTOR = "[A-Za-z][A-HJ-Ya-hj-y]?[0-9][A-Za-z0-9]?(?: +[0-9])?"
POSTCODE_PATTERN = f"^ *(?:{_FULL_POSTCODE}|{_OUTWARD_OR_SECTOR})? *$"


class PostcodeField(CleanTextApiField):
    """A postcode as typed, or nothing; the lookup reads it (and refuses a malformed one)."""

    schema_pattern = POSTCODE_PATTERN

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=12, required=False, allow_blank=True, default="", **kwargs)


# --- Idempotency-Key ----------------------------------------------------------------------------------------
# A replay (409, with the reference) and a reuse (422) are answered to whoever sends the key, from any
# address: so the key must be one nobody else can guess, at least 128 random bits. The key is never tied
# to the client: a keyed hash of an address beside the report would be an address recoverable by trying
# every IPv4 address, next to the report it filed (docs/adr/0002-idempotency-keys.md).
IDEMPOTENCY_HEADER = "Idempotency-Key"
_BASE64URL_KEY = re.compile(r"[A-Za-z0-9_-]{22,128}")
_UUID_FORM = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# Version 4 (random) in RFC 9562's variant; any other UUID (a time, a MAC address, a name's hash) can be
# worked out by someone else.
_UUID4 = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-4[0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}")
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 22,
    "maxLength": 128,
    "pattern": f"^{_BASE64URL_KEY.pattern}$",
    # ... and not a UUID, unless a version 4 one.
    "not": {"allOf": [{"pattern": f"^{_UUID_FORM.pattern}$"}, {"not": {"pattern": f"^{_UUID4.pattern}$"}}]},
}
IDEMPOTENCY_KEY_REFUSED = (
    "Give a random key of at least 128 bits: a version 4 UUID, or 22 to 128 base64url characters "
    "(A-Z, a-z, 0-9, - and _), such as Python's secrets.token_urlsafe(16)."
)
IDEMPOTENCY_KEY_DESCRIPTION = (
    "Optional. A key of at least 128 random bits that you generate for this report and keep until it has "
    "been filed: a version 4 UUID (e.g. 0b8f5cda-3c1e-4d7a-9f3e-5a1b2c3d4e5f), or 22 to 128 base64url "
    "characters without padding (A-Z, a-z, 0-9, - and _; e.g. Python's secrets.token_urlsafe(16)). Any "
    "other key (shorter, another alphabet, a UUID of another version) is refused with 400 naming this "
    "header. A retry with the same key and body files nothing new and answers 409 with the reference (not "
    "the access code, which is shown once); the same key with another body answers 422. Those answers go "
    "to whoever sends the key, from anywhere, so only a random key keeps them to you: never derive it from "
    "the report, a counter, a time or anything else someone could guess. The service keeps only a keyed "
    "hash of the key, for IDEMPOTENCY_KEY_SECONDS (a day by default), and nothing about who sent it."
)


def idempotency_key_valid(key: str) -> bool:
    """A version 4 UUID, or 22 to 128 base64url characters that are not a UUID of another version."""
    if not _BASE64URL_KEY.fullmatch(key):
        return False
    return _UUID4.fullmatch(key) is not None or _UUID_FORM.fullmatch(key) is None


class AccessSerializer(serializers.Serializer[dict[str, str]]):
    reference = CleanTextApiField(max_length=20)
    access_code = CleanTextApiField(max_length=200)


# The rules between a report's fields, which its schema does not state: the anonymity chosen and the
# contact details given.
CONTACT_WHEN_ANONYMOUS = "An anonymous report must not include contact details."
CONTACT_NEEDS_A_NAME = "A confidential or named report needs a name."
CONTACT_NEEDS_A_WAY = "A confidential or named report needs an email address or phone number."


class ReportSubmitApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReportSubmitInputSerializer(serializers.Serializer[dict[str, Any]]):
        anonymity = serializers.ChoiceField(choices=Anonymity.choices)
        reporter_sector = serializers.ChoiceField(choices=ReporterSector.choices)
        concern_types = serializers.ListField(
            child=serializers.ChoiceField(choices=ConcernType.choices), min_length=1, max_length=len(ConcernType)
        )
        local_authority = AuthorityCodeField(required=False, allow_null=True, default=None)
        postcode = PostcodeField()
        about_authority = AuthorityCodeField(required=False, allow_null=True, default=None)
        organisation_name = CleanTextApiField(
            max_length=limits.ORGANISATION_MAX, required=False, allow_blank=True, default=""
        )
        summary = CleanTextApiField(max_length=limits.SUMMARY_MAX)
        details = CleanTextApiField(max_length=limits.DETAILS_MAX)
        child_at_immediate_risk = serializers.BooleanField()
        raised_internally = serializers.ChoiceField(choices=RaisedInternally.choices)
        internal_response = CleanTextApiField(
            max_length=limits.INTERNAL_RESPONSE_MAX, required=False, allow_blank=True, default=""
        )
        contact = ContactSerializer(required=False, allow_null=True, default=None)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            errors: dict[str, str] = {}
            contact = attrs.get("contact") or {}
            has_contact = any(contact.get(key) for key in ("name", "email", "phone"))
            if attrs["anonymity"] == Anonymity.ANONYMOUS and has_contact:
                errors["contact"] = CONTACT_WHEN_ANONYMOUS
            if attrs["anonymity"] != Anonymity.ANONYMOUS:
                if not contact.get("name"):
                    errors["contact"] = CONTACT_NEEDS_A_NAME
                elif not (contact.get("email") or contact.get("phone")):
                    errors["contact"] = CONTACT_NEEDS_A_WAY
            if attrs.get("local_authority") is None and attrs.get("postcode"):
                found = lookup.resolve_postcode(attrs["postcode"])
                problem = lookup.postcode_problem(found)
                if problem:
                    errors["postcode"] = problem
                elif found.kind == "resolved":
                    attrs["local_authority"] = found.authority
                else:
                    errors["postcode"] = (
                        "This postcode covers more than one council: give the full postcode or local_authority. "
                        "Candidates: " + ", ".join(f"{a.gss_code} {a.name}" for a in found.candidates)
                    )
            if errors:
                raise serializers.ValidationError(errors)
            return attrs

    class ReportSubmittedSerializer(serializers.Serializer[dict[str, Any]]):
        reference = serializers.CharField()
        access_code = serializers.CharField(help_text="Shown once. Never stored by the service.")
        status = serializers.CharField()
        local_authority = serializers.CharField(allow_null=True)

    @extend_schema(
        operation_id="report_submit",
        request=ReportSubmitInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                IDEMPOTENCY_KEY_SCHEMA,
                OpenApiParameter.HEADER,
                required=False,
                description=IDEMPOTENCY_KEY_DESCRIPTION,
            )
        ],
        responses={
            201: ReportSubmittedSerializer,
            400: OpenApiResponse(
                description="Field errors; a malformed or too short Idempotency-Key is an error named after the header"
            ),
            409: OpenApiResponse(description="Already filed with this Idempotency-Key: the reference only"),
            422: OpenApiResponse(description="This Idempotency-Key was used with a different body"),
            429: OpenApiResponse(description="Too many reports from this client for now"),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "data", "submitted")
    def post(self, request: Request) -> Response:
        serializer = self.ReportSubmitInputSerializer(data=request.data)
        valid = serializer.is_valid()
        idempotency = _idempotency(request)
        if not valid or isinstance(idempotency, Response):
            # Every problem at once: the body's fields and the header's.
            errors = dict(serializer.errors) if not valid else {}
            if isinstance(idempotency, Response):
                errors.update(idempotency.data)
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        data = serializer.validated_data
        contact = data.get("contact") or {}
        try:
            submitted = self._submit(request, data, contact, idempotency)
        except services.IdempotentReplay as replay:
            return Response({"reference": replay.reference, "detail": ALREADY_FILED}, status=status.HTTP_409_CONFLICT)
        except services.IdempotencyKeyReused:
            return Response({"detail": KEY_REUSED}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        except services.SubmissionsExhausted:
            return Response(
                {"detail": SUBMISSIONS_EXHAUSTED.format(phone=settings.HELPLINE_PHONE)},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(settings.SUBMISSION_WINDOW_SECONDS)},
            )
        report = submitted.report
        body = self.ReportSubmittedSerializer(
            {
                "reference": report.reference,
                "access_code": submitted.access_code,
                "status": "received",  # a report is routed after this transaction commits
                "local_authority": report.local_authority.gss_code if report.local_authority else None,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    @staticmethod
    @sensitive_variables("data", "contact")
    def _submit(
        request: Request, data: dict[str, Any], contact: dict[str, str], idempotency: services.Idempotency | None
    ) -> services.SubmittedReport:
        return services.report_submit(
            data=services.ReportInput(
                anonymity=data["anonymity"],
                reporter_sector=data["reporter_sector"],
                concern_types=tuple(data["concern_types"]),
                local_authority=data.get("local_authority"),
                about_authority=data.get("about_authority"),
                organisation_name=data["organisation_name"],
                summary=data["summary"],
                details=data["details"],
                child_at_immediate_risk=data["child_at_immediate_risk"],
                raised_internally=data["raised_internally"],
                internal_response=data["internal_response"],
                contact=services.Contact(
                    name=contact.get("name", ""), email=contact.get("email", ""), phone=contact.get("phone", "")
                ),
            ),
            channel=Channel.API,
            client=client_of(request._request),
            idempotency=idempotency,
        )


ALREADY_FILED = "A report was already filed with this Idempotency-Key. Its access code was shown once only."
KEY_REUSED = "This Idempotency-Key was already used with a different request. Use a new key for a new report."
SUBMISSIONS_EXHAUSTED = "Too many reports from this client for now. Try again later, or call the helpline on {phone}."


def _idempotency(request: Request) -> services.Idempotency | None | Response:
    """The request's Idempotency-Key as keyed hashes, none when absent, or a 400 naming the header when it
    is not a random key of at least 128 bits."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not idempotency_key_valid(key):
        return Response({IDEMPOTENCY_HEADER: [IDEMPOTENCY_KEY_REFUSED]}, status=status.HTTP_400_BAD_REQUEST)
    body = request.data if isinstance(request.data, dict) else {"body": request.data}
    return services.Idempotency.of(key, body)


NOT_FOUND = {"detail": "No report opens with this reference and access code."}
CLOSED_DETAIL = (
    "The helpline has closed this concern, so messages can no longer be sent on it. To add information, "
    "file a new report that mentions this reference, or call the helpline."
)
THROTTLED = {"detail": "Too many wrong attempts for this reference from here. Try again in an hour."}
DERIVATIONS_EXHAUSTED = {
    "detail": "Too many attempts to open reports from this client. Try again in an hour, or call the helpline."
}


def _unlock(request: Request, serializer: serializers.Serializer[Any]) -> tuple[Any, bytes] | Response:
    try:
        return services.report_unlock(
            reference=serializer.validated_data["reference"],
            access_code=serializer.validated_data["access_code"],
            client=client_of(request._request),
        )
    except services.AccessThrottled:
        return Response(
            THROTTLED,
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(settings.ACCESS_THROTTLE_WINDOW_SECONDS)},
        )
    except services.DerivationsExhausted:
        return Response(
            DERIVATIONS_EXHAUSTED,
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(settings.ACCESS_DERIVATION_WINDOW_SECONDS)},
        )
    except services.ReportNotFound:
        return Response(NOT_FOUND, status=status.HTTP_404_NOT_FOUND)


# "from" is a Python keyword, so this serializer's fields are declared as a mapping.
MessageOutputSerializer = type(
    "ReporterMessageSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.CharField(help_text="from_reporter or from_helpline"),
        "sent_on": serializers.DateField(),
        "kind": serializers.CharField(),
        "body": serializers.CharField(),
    },
)


class ReportAccessApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReportFollowUpSerializer(serializers.Serializer[Any]):
        reference = serializers.CharField()
        status = serializers.CharField()
        status_label = serializers.CharField()
        status_explanation = serializers.CharField()
        submitted_on = serializers.DateField()
        summary = serializers.CharField()
        messages = MessageOutputSerializer(many=True)

    @extend_schema(
        operation_id="report_access",
        request=AccessSerializer,
        responses={
            200: ReportFollowUpSerializer,
            400: OpenApiResponse(description="Field errors"),
            404: OpenApiResponse(description="No report opens with this pair (always the same answer)"),
            429: OpenApiResponse(description="Too many wrong attempts"),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "unlocked", "opened")
    def post(self, request: Request) -> Response:
        serializer = AccessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unlocked = _unlock(request, serializer)
        if isinstance(unlocked, Response):
            return unlocked
        report, data_key = unlocked
        opened = services.report_read(report=report, data_key=data_key)
        current = reporter_status(report)
        return Response(
            self.ReportFollowUpSerializer(
                {
                    "reference": report.reference,
                    "status": current.code,
                    "status_label": current.label,
                    "status_explanation": current.explanation,
                    "submitted_on": report.submitted_at.date(),
                    "summary": opened.content.get("summary", ""),
                    "messages": [
                        {"from": m.direction, "sent_on": m.sent_on, "kind": m.kind, "body": m.body}
                        for m in opened.messages
                    ],
                }
            ).data
        )


class ReportMessageApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReportMessageInputSerializer(AccessSerializer):
        body = CleanTextApiField(max_length=limits.MESSAGE_MAX)
        kind = serializers.ChoiceField(
            choices=[("message", "Message"), ("more_information", "More information")], default="message"
        )

    @extend_schema(
        operation_id="report_message",
        request=ReportMessageInputSerializer,
        responses={
            201: inline_serializer("MessageSent", {"sent_on": serializers.DateField()}),
            400: OpenApiResponse(description="Field errors"),
            404: OpenApiResponse(description="No report opens with this pair"),
            409: OpenApiResponse(description="The concern is closed: nothing more can be sent on it"),
            429: OpenApiResponse(description="Too many wrong attempts"),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "unlocked")
    def post(self, request: Request) -> Response:
        serializer = self.ReportMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unlocked = _unlock(request, serializer)
        if isinstance(unlocked, Response):
            return unlocked
        report, data_key = unlocked
        if reporter_status(report).code == "closed":
            return Response({"detail": CLOSED_DETAIL}, status=status.HTTP_409_CONFLICT)
        message = services.message_send_from_reporter(
            report=report,
            data_key=data_key,
            body=serializer.validated_data["body"],
            kind=serializer.validated_data["kind"],
        )
        return Response({"sent_on": message.sent_on.isoformat()}, status=status.HTTP_201_CREATED)


class LocalAuthoritiesApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class LocalAuthorityQuerySerializer(serializers.Serializer[Any]):
        postcode = PostcodeField()

    class LocalAuthoritySerializer(serializers.Serializer[Any]):
        gss_code = serializers.CharField()
        name = serializers.CharField()

    @extend_schema(
        operation_id="local_authorities",
        parameters=[LocalAuthorityQuerySerializer],
        responses={200: LocalAuthoritySerializer(many=True), 400: OpenApiResponse(description="Field errors")},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        query = self.LocalAuthorityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        postcode = query.validated_data["postcode"]
        if not postcode:
            every = [{"gss_code": code, "name": name} for code, name in lookup.authority_choices()]
            return Response(every)
        found = lookup.resolve_postcode(postcode)
        problem = lookup.postcode_problem(found)
        if problem:
            return Response({"postcode": [problem]}, status=status.HTTP_400_BAD_REQUEST)
        matches = [found.authority] if found.kind == "resolved" and found.authority else found.candidates
        return Response(self.LocalAuthoritySerializer(matches, many=True).data)

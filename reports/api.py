"""The reporter API: submit, open and reply. One view per operation; every field validated, and the OpenAPI
document says what the validation enforces (patterns, lengths, enums), which schemathesis checks."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.forms import past_day_problem
from core.http import client_of
from core.text import CleanTextApiField
from directory import lookup
from reports import forms as limits
from reports import services
from reports.attachments import files_left, incoming_discard
from reports.filetypes import ACCEPTED_WORDS, FileType
from reports.models import (
    AlreadyReported,
    Anonymity,
    Attachment,
    Channel,
    ConcernType,
    PriorReportBy,
    PriorReportTo,
    RaisedInternally,
    ReporterSector,
)
from reports.retention import destroyed_detail
from reports.uploads import SealedUpload

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
    """How the helpline can reach the reporter: only for a confidential or named report."""

    name = CleanTextApiField(
        max_length=limits.NAME_MAX,
        allow_blank=True,
        required=False,
        default="",
        help_text="The reporter's name, e.g. Sam Taylor. Required for a confidential or named report.",
    )
    # No default: "" is not an email address, and a schema's default must be valid for its own format.
    email = serializers.EmailField(
        max_length=254,
        allow_blank=True,
        required=False,
        help_text="An email address the helpline can use to contact the reporter, e.g. sam.taylor@example.org. "
        "A confidential or named report needs this or a phone number.",
    )
    phone = CleanTextApiField(
        max_length=limits.PHONE_MAX,
        allow_blank=True,
        required=False,
        default="",
        help_text="A phone number the helpline can use to contact the reporter, as typed, e.g. 01632 960123. "
        "A confidential or named report needs this or an email address.",
    )


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


REFERENCE_HELP = "The report's reference, given when it was filed, e.g. HX7K-29QM."
ACCESS_CODE_HELP = (
    "The report's access code: the 7 words given once when it was filed, separated by spaces, "
    "e.g. harbour lantern maple orbit velvet copper meadow."
)


class AccessSerializer(serializers.Serializer[dict[str, str]]):
    reference = CleanTextApiField(max_length=20, help_text=REFERENCE_HELP)
    access_code = CleanTextApiField(max_length=200, help_text=ACCESS_CODE_HELP)


def choices_help(intro: str, choices: list[tuple[str, str]]) -> str:
    """A field's description that explains each of its values: the intro, then "value: meaning" for each."""
    return intro + " One of: " + "; ".join(f"{value} ({meaning})" for value, meaning in choices) + "."


ANONYMITY_HELP = choices_help(
    "How much the reporter tells the helpline about who they are.",
    [
        ("anonymous", "no name or contact details; leave out contact"),
        (
            "confidential",
            "the reporter gives the helpline their name and contact details, to keep confidential: shared with nobody "
            "without their consent, unless two supervisors approve it under a legal duty",
        ),
        (
            "named",
            "the reporter gives their name and contact details, and the helpline may ask to share their name: each "
            "sharing still needs their consent, asked per referral through the mailbox and answered on /check",
        ),
    ],
)
RAISED_INTERNALLY_HELP = choices_help(
    "Whether the reporter has already raised this concern inside their own organisation.",
    [("yes", "they have"), ("no", "they have not"), ("not_sure", "they do not know, or are not sure")],
)
AUTHORITY_CODE_FORMAT = (
    "GSS code of an English children's services authority: E06, E08, E09 or E10 and 6 digits "
    "(current or former codes; any case), e.g. E08000018 (Rotherham)."
)


PRIOR_DAY = "the day it was reported"


class PriorReportSerializer(serializers.Serializer[dict[str, Any]]):
    """Whether the concern was already reported to the police or the council (the duty to report)."""

    answer = serializers.ChoiceField(
        choices=AlreadyReported.choices,
        help_text=choices_help(
            "Whether anyone has already reported this to the police or the council's children's services.",
            AlreadyReported.choices,
        ),
    )
    by = serializers.ChoiceField(
        choices=PriorReportBy.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=choices_help("Who made that report. Ignored unless answer is yes.", PriorReportBy.choices),
    )
    to = serializers.ChoiceField(
        choices=PriorReportTo.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=choices_help("Whom it was made to. Ignored unless answer is yes.", PriorReportTo.choices),
    )
    on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The day it was made (a day, not a time), e.g. 2026-03-02: today or earlier, and in 1950 or "
        "later. Ignored unless answer is yes.",
    )
    reference = CleanTextApiField(
        max_length=limits.PRIOR_REFERENCE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="The reference the police or the council gave, as given. Ignored unless answer is yes.",
    )

    def validate_on(self, value: date | None) -> date | None:
        problem = past_day_problem(value, what=PRIOR_DAY) if value is not None else ""
        if problem:
            raise serializers.ValidationError(problem)
        return value


# The rules between a report's fields, which its schema does not state: the anonymity chosen and the
# contact details given.
CONTACT_WHEN_ANONYMOUS = "An anonymous report must not include contact details."
CONTACT_NEEDS_A_NAME = "A confidential or named report needs a name."
CONTACT_NEEDS_A_WAY = "A confidential or named report needs an email address or phone number."


ACCESS_CODE_EXAMPLE = "harbour lantern maple orbit velvet copper meadow"
SUBMIT_EXAMPLES = [
    OpenApiExample(
        "A confidential report",
        request_only=True,
        value={
            "anonymity": "confidential",
            "reporter_sector": "childrens_social_care",
            "concern_types": ["concern_not_acted_on", "information_not_shared"],
            "local_authority": "E08000018",
            "organisation_name": "Northfield Children's Services",
            "summary": "Referrals about a 14-year-old were closed without a visit",
            "details": "Three referrals since March about the same child were closed without anyone visiting.",
            "child_at_immediate_risk": False,
            "raised_internally": "yes",
            "internal_response": "My manager said the threshold was not met.",
            "already_reported": {
                "answer": "yes",
                "by": "reporter",
                "to": "council",
                "on": "2026-02-27",
                "reference": "MASH-40213",
            },
            "contact": {"name": "Sam Taylor", "email": "sam.taylor@example.org", "phone": "01632 960123"},
        },
    ),
    OpenApiExample(
        "An anonymous report about a council",
        request_only=True,
        value={
            "anonymity": "anonymous",
            "reporter_sector": "local_council",
            "concern_types": ["records_altered_or_suppressed"],
            "postcode": "S60 2TH",
            "about_authority": "E08000018",
            "summary": "Case notes were changed after a complaint",
            "details": "Notes of a strategy meeting were rewritten after the family complained.",
            "child_at_immediate_risk": False,
            "raised_internally": "not_sure",
        },
    ),
    OpenApiExample(
        "Filed",
        response_only=True,
        status_codes=["201"],
        value={
            "reference": "HX7K-29QM",
            "access_code": ACCESS_CODE_EXAMPLE,
            "status": "received",
            "local_authority": "E08000018",
        },
    ),
]
ACCESS_EXAMPLES = [
    OpenApiExample(
        "Open a report",
        request_only=True,
        value={"reference": "HX7K-29QM", "access_code": ACCESS_CODE_EXAMPLE},
    ),
    OpenApiExample(
        "A report with a question from the helpline",
        response_only=True,
        status_codes=["200"],
        value={
            "reference": "HX7K-29QM",
            "status": "question_for_you",
            "status_label": "The helpline has a question for you",
            "status_explanation": "Please read the messages below and reply.",
            "submitted_on": "2026-03-02",
            "summary": "Referrals about a 14-year-old were closed without a visit",
            "messages": [
                {
                    "from": "from_reporter",
                    "sent_on": "2026-03-03",
                    "kind": "more_information",
                    "body": "The first was on 3 March, the second on 17 April.",
                    "read_by_helpline_on": "2026-03-04",
                    "new": False,
                },
                {
                    "from": "from_helpline",
                    "sent_on": "2026-03-04",
                    "kind": "message",
                    "body": "Thank you. Do you know the name of the social worker?",
                    "read_by_helpline_on": None,
                    "new": True,
                },
            ],
            "new_messages": 1,
            "attachments": [
                {"id": "3f0c1a52-8d7e-4b1a-9c4e-2f6d5b7a9e10", "name": "rota-march.pdf", "status": "clean"},
                {"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "name": "referral-screenshot.png", "status": "pending"},
            ],
        },
    ),
]
MESSAGE_EXAMPLES = [
    OpenApiExample(
        "Reply with more information",
        request_only=True,
        value={
            "reference": "HX7K-29QM",
            "access_code": ACCESS_CODE_EXAMPLE,
            "body": "The first referral was on 3 March, the second on 17 April.",
            "kind": "more_information",
        },
    ),
    OpenApiExample("Sent", response_only=True, status_codes=["201"], value={"sent_on": "2026-03-05"}),
]
LOCAL_AUTHORITIES_EXAMPLES = [
    OpenApiExample(
        "The council for a postcode",
        response_only=True,
        status_codes=["200"],
        value=[{"gss_code": "E08000018", "name": "Rotherham"}],
    ),
]


class ReportSubmitApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReportSubmitInputSerializer(serializers.Serializer[dict[str, Any]]):
        anonymity = serializers.ChoiceField(choices=Anonymity.choices, help_text=ANONYMITY_HELP)
        reporter_sector = serializers.ChoiceField(
            choices=ReporterSector.choices,
            help_text=choices_help("The sector the reporter works or volunteers in.", ReporterSector.choices),
        )
        concern_types = serializers.ListField(
            child=serializers.ChoiceField(choices=ConcernType.choices),
            min_length=1,
            max_length=len(ConcernType),
            help_text=choices_help("What went wrong: one or more of these, each at most once.", ConcernType.choices),
        )
        local_authority = AuthorityCodeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="The council whose area the children concerned live in. "
            + AUTHORITY_CODE_FORMAT
            + " Optional: leave it out (or null) and give postcode instead, or give neither if not known. "
            "GET /api/v1/local-authorities lists the codes.",
        )
        postcode = PostcodeField(
            help_text="A postcode in the area the concern is about, used to find local_authority when that is "
            "not given: a full postcode (e.g. S60 1AA, any spacing or case), or an outward code or sector "
            "(e.g. S60, S60 1) if that covers only one council. Ignored when local_authority is given."
        )
        about_authority = AuthorityCodeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Only when the concern is about a council itself (its staff, managers or decisions), that "
            "council: so the report is not handled by the council it is about. "
            + AUTHORITY_CODE_FORMAT
            + " Leave it out (or null) otherwise.",
        )
        organisation_name = CleanTextApiField(
            max_length=limits.ORGANISATION_MAX,
            required=False,
            allow_blank=True,
            default="",
            help_text="The organisation the concern is about, as the reporter names it, e.g. Northfield Academy. "
            "Optional.",
        )
        summary = CleanTextApiField(
            max_length=limits.SUMMARY_MAX,
            help_text="A one-line summary of the concern, in the reporter's words. Shown back to the reporter.",
        )
        details = CleanTextApiField(
            max_length=limits.DETAILS_MAX,
            help_text="The full account: what happened, when, who was involved and what was done about it.",
        )
        child_at_immediate_risk = serializers.BooleanField(
            help_text="true if the reporter believes a child is at risk of harm right now. Such a report is "
            "triaged urgently, within an hour; false otherwise."
        )
        raised_internally = serializers.ChoiceField(choices=RaisedInternally.choices, help_text=RAISED_INTERNALLY_HELP)
        internal_response = CleanTextApiField(
            max_length=limits.INTERNAL_RESPONSE_MAX,
            required=False,
            allow_blank=True,
            default="",
            help_text="If the concern was raised internally, what the organisation did or said. Optional.",
        )
        already_reported = PriorReportSerializer(
            required=False,
            allow_null=True,
            default=None,
            help_text="Optional: whether the concern was already reported to the police or the council, and if so "
            "by whom, to whom, on which day and under which reference. Left out or null means not known.",
        )
        contact = ContactSerializer(
            required=False,
            allow_null=True,
            default=None,
            help_text="The reporter's contact details. Required for a confidential or named report (a name, and "
            "an email address or phone number); must be left out, null or empty for an anonymous one.",
        )

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
        reference = serializers.CharField(
            help_text="The new report's reference, e.g. HX7K-29QM. Give it with access_code to follow the report."
        )
        access_code = serializers.CharField(
            help_text="The report's access code: 7 words separated by spaces. Shown once. Never stored by the "
            "service, so it cannot be sent again: the reporter must keep it."
        )
        status = serializers.CharField(
            help_text="Always received (the report has been filed and is being passed to the helpline team)."
        )
        local_authority = serializers.CharField(
            allow_null=True,
            help_text="GSS code of the council the report was routed by, e.g. E08000018 (Rotherham), whether given "
            "or found from the postcode; null if neither was given.",
        )

    @extend_schema(
        operation_id="report_submit",
        description="File a report. The answer gives its reference and access code: the access code is shown "
        "only this once.",
        request=ReportSubmitInputSerializer,
        examples=SUBMIT_EXAMPLES,
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
                already_reported=_prior_report(data.get("already_reported")),
            ),
            channel=Channel.API,
            client=client_of(request._request),
            idempotency=idempotency,
        )


def _prior_report(given: dict[str, Any] | None) -> services.PriorReport:
    if not given:
        return services.PriorReport()
    if given["answer"] != AlreadyReported.YES:
        return services.PriorReport(answer=given["answer"])
    on = given.get("on")
    return services.PriorReport(
        answer=AlreadyReported.YES,
        by=given.get("by") or "",
        to=given.get("to") or "",
        on=on.isoformat() if on else "",
        reference=given.get("reference") or "",
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
DESTROYED_RESPONSE = OpenApiResponse(
    inline_serializer(
        "ReportDestroyed",
        {
            "detail": serializers.CharField(help_text="What was deleted, when and why, for the reporter."),
            "content_destroyed_on": serializers.DateField(help_text="The day it was deleted, as YYYY-MM-DD."),
        },
    ),
    description="The report's content was deleted under the helpline's retention schedule: nothing of it opens",
)
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
    except services.ReportDestroyed as destroyed:
        day = destroyed.args[0]
        return Response(
            {"detail": destroyed_detail(day), "content_destroyed_on": day.isoformat()}, status=status.HTTP_410_GONE
        )
    except services.ReportNotFound:
        return Response(NOT_FOUND, status=status.HTTP_404_NOT_FOUND)


def message_fields() -> dict[str, Any]:
    """A mailbox message's fields, for the reporter's API and the helpline's (triage/api.py)."""
    return {
        "from": serializers.CharField(
            help_text="Who sent the message: from_reporter (the reporter) or from_helpline (a helpline adviser; "
            "never which member of staff)."
        ),
        "sent_on": serializers.DateField(help_text="The day it was sent, as YYYY-MM-DD, e.g. 2026-03-04."),
        "kind": serializers.CharField(
            help_text="message (an ordinary message) or more_information (the reporter adding to their report)."
        ),
        "body": serializers.CharField(help_text="The message's text."),
        "read_by_helpline_on": serializers.DateField(
            allow_null=True,
            help_text="A message from the reporter: the day the helpline first read it, as YYYY-MM-DD (never a "
            "time); null while it is unread, and for a message from the helpline.",
        ),
    }


# "from" is a Python keyword, so this serializer's fields are declared as a mapping.
MessageOutputSerializer = type(
    "ReporterMessageSerializer",
    (serializers.Serializer,),
    {
        **message_fields(),
        "new": serializers.BooleanField(
            help_text="A message from the helpline that the reporter had not been shown before this request (on "
            "/check or here). Opening the report marks every message from the helpline read: the next request "
            "says false. Whether it was read is kept, never when."
        ),
    },
)


# --- files ---------------------------------------------------------------------------------------------------

ATTACHMENT_STATUS_HELP = choices_help(
    "Where the file is.",
    [
        ("pending", "received, and being checked for malware and stripped of hidden details such as its author"),
        ("clean", "checked and cleaned: the helpline can open it"),
        ("blocked", "the malware scan found a problem, so it could not be accepted and nobody can open it"),
        ("not_cleaned", "kept, but its hidden details could not be removed, so the helpline can see them"),
        ("removed", "removed by the helpline"),
    ],
)


class AttachmentOutputSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField(help_text="The file's id, e.g. 3f0c1a52-8d7e-4b1a-9c4e-2f6d5b7a9e10.")
    name = serializers.CharField(help_text="The file's name as it was sent (a long one shortened), e.g. rota.pdf.")
    status = serializers.CharField(help_text=ATTACHMENT_STATUS_HELP)


def _attachment_out(file: services.OpenedFile) -> dict[str, Any]:
    return {"id": file.public_id, "name": file.name, "status": file.status}


class SealedFileField(serializers.FileField):
    """The one file of a multipart request, already sealed as it arrived (reports.uploads): checked by its size,
    its name and its first bytes (reports.forms.upload_check), never read back."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, SealedUpload):
            raise serializers.ValidationError(limits.SELECT_A_FILE + ".")
        try:
            return limits.upload_check(data)
        except limits.UploadRefused as refused:
            raise serializers.ValidationError(f"{refused}.") from None


FILE_HELP = (
    f"The file: a {ACCEPTED_WORDS}, named with its extension (its first bytes must match it), at most "
    "ATTACHMENT_MAX_BYTES (20 MiB by default). One file per request; a report holds at most "
    "ATTACHMENT_MAX_FILES (10 by default). It is sealed as it arrives, scanned for malware and stripped of "
    "hidden details (authors, GPS positions, camera serial numbers) before the helpline opens it."
)
ATTACHMENT_EXAMPLES = [
    OpenApiExample(
        "Add a file",
        request_only=True,
        media_type="multipart/form-data",
        value={"reference": "HX7K-29QM", "access_code": ACCESS_CODE_EXAMPLE, "file": "(the bytes of rota-march.pdf)"},
    ),
    OpenApiExample(
        "Added",
        response_only=True,
        status_codes=["201"],
        value={"id": "3f0c1a52-8d7e-4b1a-9c4e-2f6d5b7a9e10", "name": "rota-march.pdf", "status": "pending"},
    ),
]


class ReportAttachmentApi(APIView):
    """Add a file to a report with its reference and access code. The file is sealed chunk by chunk as it
    arrives, with a key of its own, before the code has been checked: once it has, the file's key is wrapped
    with the report's data key; a file that is not kept (a wrong code, a refused file) is discarded at once."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    parser_classes = [MultiPartParser]

    class ReportAttachmentInputSerializer(AccessSerializer):
        file = SealedFileField(help_text=FILE_HELP, error_messages={"required": limits.SELECT_A_FILE + "."})

    @extend_schema(
        operation_id="report_attachment_add",
        description="Add a file to a report, with its reference and access code: a multipart/form-data body "
        "with reference, access_code and one file. The answer gives the file's id, name and status (pending "
        "until it has been checked); POST /api/v1/reports/access lists the report's files.",
        request={"multipart/form-data": ReportAttachmentInputSerializer},
        examples=ATTACHMENT_EXAMPLES,
        responses={
            201: AttachmentOutputSerializer,
            400: OpenApiResponse(
                description="Field errors: no file, a file over the size limit, not an accepted type or not what "
                "its name says, or a report that already holds ATTACHMENT_MAX_FILES files"
            ),
            404: OpenApiResponse(description="No report opens with this pair (always the same answer)"),
            410: DESTROYED_RESPONSE,
            409: OpenApiResponse(description="The concern is closed: nothing more can be sent on it"),
            413: OpenApiResponse(description="The request body is too large (more than one file's size)"),
            429: OpenApiResponse(description="Too many wrong attempts, or too many uploads at once from here"),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "unlocked", "data_key")
    def post(self, request: Request) -> Response:
        kept: SealedUpload | None = None
        try:
            serializer = self.ReportAttachmentInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            upload, kind = serializer.validated_data["file"]
            unlocked = _unlock(request, serializer)
            if isinstance(unlocked, Response):
                return unlocked
            report, data_key = unlocked
            if reporter_status(report).code == "closed":
                return Response({"detail": CLOSED_DETAIL}, status=status.HTTP_409_CONFLICT)
            attachment = self._keep(report, data_key, upload, kind)
            if attachment is None:
                return Response({"file": [limits.too_many_sent_message() + "."]}, status=status.HTTP_400_BAD_REQUEST)
            kept = upload
            body = {"id": attachment.public_id, "name": upload.name, "status": attachment.status}
            return Response(AttachmentOutputSerializer(body).data, status=status.HTTP_201_CREATED)
        finally:
            # Every file of the request but the one kept: a second file, or any file of a refused request.
            # (DRF's files: none when the body could not be parsed, whose partial files expire unkept.)
            for name in list(request.FILES):
                for upload in request.FILES.getlist(name):
                    if isinstance(upload, SealedUpload) and upload is not kept:
                        incoming_discard(upload.incoming)

    @staticmethod
    @sensitive_variables("data_key")
    def _keep(report: Any, data_key: bytes, upload: SealedUpload, kind: FileType) -> Attachment | None:
        if files_left(report.pk) <= 0:
            return None
        try:
            return services.reporter_file_add(
                report=report, data_key=data_key, incoming=upload.incoming, content_type=kind.content_type
            )
        except services.TooManyFiles:
            return None


class ReportAccessApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReportFollowUpSerializer(serializers.Serializer[Any]):
        reference = serializers.CharField(help_text=REFERENCE_HELP)
        status = serializers.CharField(
            help_text=choices_help(
                "Where the concern is, as the reporter may know it.",
                [
                    ("received", "filed, and being passed to the helpline team"),
                    ("with_helpline", "in the helpline's queue or being looked at"),
                    ("question_for_you", "the helpline has asked the reporter something: see messages"),
                    ("referred", "passed to the local authority"),
                    ("national_review", "being looked at independently of the council it is about"),
                    ("closed", "finished; the helpline's feedback is in messages"),
                ],
            )
        )
        status_label = serializers.CharField(help_text="status in words for the reporter, e.g. With the helpline.")
        status_explanation = serializers.CharField(
            help_text="A sentence for the reporter on what status means, e.g. Your concern is in the helpline's queue."
        )
        submitted_on = serializers.DateField(help_text="The day the report was filed, as YYYY-MM-DD.")
        summary = serializers.CharField(help_text="The summary given when the report was filed.")
        messages = MessageOutputSerializer(
            many=True,
            help_text="The messages between the reporter and the helpline, oldest first: each of the reporter's "
            "with the day the helpline read it, each of the helpline's saying whether it is new.",
        )
        new_messages = serializers.IntegerField(
            help_text="How many messages from the helpline are new (new is true): none on the next request."
        )
        attachments = AttachmentOutputSerializer(
            many=True,
            help_text="The files the reporter has added to the report (when it was filed, later, or through "
            "POST /api/v1/reports/attachments), oldest first, each with where it is.",
        )

    @extend_schema(
        operation_id="report_access",
        description="Open a report with its reference and access code: where it is, and its messages.",
        request=AccessSerializer,
        examples=ACCESS_EXAMPLES,
        responses={
            200: ReportFollowUpSerializer,
            400: OpenApiResponse(description="Field errors"),
            404: OpenApiResponse(description="No report opens with this pair (always the same answer)"),
            410: DESTROYED_RESPONSE,
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
        response = Response(
            self.ReportFollowUpSerializer(
                {
                    "reference": report.reference,
                    "status": current.code,
                    "status_label": current.label,
                    "status_explanation": current.explanation,
                    "submitted_on": report.submitted_at.date(),
                    "summary": opened.content.get("summary", ""),
                    "messages": [
                        {
                            "from": m.direction,
                            "sent_on": m.sent_on,
                            "kind": m.kind,
                            "body": m.body,
                            "read_by_helpline_on": m.read_by_helpline_on,
                            "new": m.new,
                        }
                        for m in opened.messages
                    ],
                    "new_messages": sum(1 for m in opened.messages if m.new),
                    "attachments": [
                        _attachment_out(file) for file in services.reporter_files_read(report=report, data_key=data_key)
                    ],
                }
            ).data
        )
        # Given to the reporter now: the helpline's messages are read (yes or no, never when).
        services.reporter_messages_seen(opened=opened)
        return response


class ReportMessageApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReportMessageInputSerializer(AccessSerializer):
        body = CleanTextApiField(max_length=limits.MESSAGE_MAX, help_text="The message to send to the helpline.")
        kind = serializers.ChoiceField(
            choices=[("message", "Message"), ("more_information", "More information")],
            default="message",
            help_text=choices_help(
                "What the message is.",
                [
                    ("message", "an ordinary message, such as a reply; the default"),
                    ("more_information", "information to add to the report"),
                ],
            ),
        )

    @extend_schema(
        operation_id="report_message",
        description="Send a message to the helpline on a report, with its reference and access code.",
        request=ReportMessageInputSerializer,
        examples=MESSAGE_EXAMPLES,
        responses={
            201: inline_serializer(
                "MessageSent",
                {"sent_on": serializers.DateField(help_text="The day it was sent, as YYYY-MM-DD, e.g. 2026-03-05.")},
            ),
            400: OpenApiResponse(description="Field errors"),
            404: OpenApiResponse(description="No report opens with this pair"),
            410: DESTROYED_RESPONSE,
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
        postcode = PostcodeField(
            help_text="A full postcode (e.g. S60 2TH), an outward code (e.g. EC1A) or a sector: the councils it "
            "covers. Leave it out for every English children's services authority."
        )

    class LocalAuthoritySerializer(serializers.Serializer[Any]):
        gss_code = serializers.CharField(
            help_text="The council's GSS code, e.g. E08000018: give it as local_authority or about_authority."
        )
        name = serializers.CharField(help_text="The council's name, e.g. Rotherham.")

    @extend_schema(
        operation_id="local_authorities",
        description="The councils a report can name, with their GSS codes: all of them, or those a postcode covers.",
        parameters=[LocalAuthorityQuerySerializer],
        examples=LOCAL_AUTHORITIES_EXAMPLES,
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

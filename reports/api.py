"""The reporter API: submit, open and reply. One view per operation; every field validated."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
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


class ContactSerializer(serializers.Serializer[dict[str, str]]):
    name = CleanTextApiField(max_length=limits.NAME_MAX, allow_blank=True, required=False, default="")
    # No default: "" is not an email address, and a schema's default must be valid for its own format.
    email = serializers.EmailField(max_length=254, allow_blank=True, required=False)
    phone = CleanTextApiField(max_length=limits.PHONE_MAX, allow_blank=True, required=False, default="")


class AuthorityCodeField(CleanTextApiField):
    """A GSS code in, a LocalAuthority out (current or former codes accepted)."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        code = super().run_validation(data)
        if code is None:
            return None
        authority = lookup.authority_by_code(code.upper()) if len(code) <= 9 and code.isalnum() else None
        if authority is None:
            raise serializers.ValidationError("Not an English children's services authority GSS code.")
        return authority


IDEMPOTENCY_HEADER = "Idempotency-Key"


class AccessSerializer(serializers.Serializer[dict[str, str]]):
    reference = CleanTextApiField(max_length=20)
    access_code = CleanTextApiField(max_length=200)


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
        postcode = CleanTextApiField(max_length=12, required=False, allow_blank=True, default="")
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
                errors["contact"] = "An anonymous report must not include contact details."
            if attrs["anonymity"] != Anonymity.ANONYMOUS:
                if not contact.get("name"):
                    errors["contact"] = "A confidential or named report needs a name."
                elif not (contact.get("email") or contact.get("phone")):
                    errors["contact"] = "A confidential or named report needs an email address or phone number."
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
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique string of 1 to 255 printable ASCII characters. A retry with the same key "
                "and body files nothing new and answers 409 with the reference (not the access code, which "
                "is shown once); the same key with another body answers 422.",
            )
        ],
        responses={
            201: ReportSubmittedSerializer,
            400: OpenApiResponse(description="Field errors"),
            409: OpenApiResponse(description="Already filed with this Idempotency-Key: the reference only"),
            422: OpenApiResponse(description="This Idempotency-Key was used with a different body"),
            429: OpenApiResponse(description="Too many reports from this client for now"),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "data", "submitted")
    def post(self, request: Request) -> Response:
        serializer = self.ReportSubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        idempotency = _idempotency(request)
        if isinstance(idempotency, Response):
            return idempotency
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
    """The request's Idempotency-Key as keyed hashes, none when absent, or a 400 when it is malformed."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not all(" " <= character <= "~" for character in key):
        return Response(
            {IDEMPOTENCY_HEADER: ["Give 1 to 255 printable ASCII characters."]}, status=status.HTTP_400_BAD_REQUEST
        )
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
        postcode = CleanTextApiField(max_length=12, required=False, allow_blank=True, default="")

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

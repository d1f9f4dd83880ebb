"""The authority API: a council's case-management system takes its referrals without screen scraping.

``GET /api/v1/referrals`` (the officer's referrals, filtered as the page filters them),
``GET /api/v1/referrals/{id}`` (what the referral page shows) and ``POST /api/v1/referrals/{id}/{action}``
(acknowledge, record an action, ask the helpline a question, record the outcome). The same knox tokens,
scoping (referrals.selectors), services and audit events as the pages; typed serializers, so the OpenAPI
document describes every field. A referral's recipient is ``{kind, code, name}``: a local authority by
its GSS code, or a national body (the independent national review team, whose reviewers use this API too)
by its code in the bodies directory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.decorators import PolicyPermission, staff_user
from accounts.policy import Permission
from directory.models import NationalBody
from referrals import listing, selectors, services
from referrals.models import (
    LOCAL_AUTHORITY,
    REFERRAL_OUTCOMES,
    AuthorityAction,
    AuthorityOutcome,
    HowSent,
    Referral,
    ReviewOutcome,
)
from referrals.officer_actions import ACTIONS, content_kept_check, referral_act
from reports.forms import MESSAGE_MAX
from triage.case_content import FileUnavailable
from triage.file_api import (
    ATTACHMENT_ID,
    FILE_RESPONSES,
    CaseFileListSerializer,
    FileApiView,
    file_row,
    file_streamed,
)
from triage.workflow import ActionNotAllowed

RECIPIENT_KINDS = [(LOCAL_AUTHORITY, "Local authority"), *NationalBody.Kind.choices]
OUTCOMES = REFERRAL_OUTCOMES


class AuthorityOfficerVerified(PolicyPermission):
    """Signed in with a second factor (a verified session, or a knox token, issued only after one), and an
    authority officer."""

    permission = Permission.REFERRAL_WORK


class RecipientSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=RECIPIENT_KINDS)
    code = serializers.CharField(
        help_text="The recipient's code: a local authority's current GSS code, or a national body's code"
    )
    name = serializers.CharField()


class ReferralSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    case_number = serializers.CharField()
    recipient = RecipientSerializer()
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    referred_at = serializers.DateTimeField()
    acknowledgement_due_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    outcome_due_at = serializers.DateTimeField()
    outcome = serializers.ChoiceField(choices=OUTCOMES, allow_blank=True)
    outcome_at = serializers.DateTimeField(allow_null=True)
    escalated = serializers.BooleanField(help_text="National oversight has been alerted about this referral")


def _row(
    *,
    pk: int,
    case_number: str,
    kind: str,
    code: str,
    name: str,
    status: str,
    referred_at: datetime,
    ack_due_at: datetime,
    acknowledged_at: datetime | None,
    outcome_due_at: datetime,
    outcome: str,
    outcome_at: datetime | None,
    escalated: bool,
) -> dict[str, Any]:
    return {
        "id": pk,
        "case_number": case_number,
        "recipient": {"kind": kind, "code": code, "name": name},
        "status": status,
        "referred_at": referred_at,
        "acknowledgement_due_at": ack_due_at,
        "acknowledged_at": acknowledged_at,
        "outcome_due_at": outcome_due_at,
        "outcome": outcome,
        "outcome_at": outcome_at,
        "escalated": escalated,
    }


def referral_row(referral: Referral, case_number: str | None = None) -> dict[str, Any]:
    """A referral as the API gives it (``case_number`` given when the caller has the case at hand)."""
    return _row(
        pk=referral.pk,
        case_number=case_number or referral.case.case_number,
        kind=referral.recipient_kind,
        code=referral.recipient_code,
        name=referral.recipient_name,
        status=referral.status,
        referred_at=referral.referred_at,
        ack_due_at=referral.ack_due_at,
        acknowledged_at=referral.acknowledged_at,
        outcome_due_at=referral.outcome_due_at,
        outcome=referral.outcome,
        outcome_at=referral.outcome_at,
        escalated=referral.escalated,
    )


class CaseReferralSerializer(ReferralSerializer):
    """A referral as the helpline reads it on the case: the authority API's row, with what the helpline wrote
    for it and, for one passed on outside the service (status sent: Ofsted, a police force …), how and the
    reference the body gave. Such a referral has no clocks: nobody here answers it."""

    acknowledgement_due_at = serializers.DateTimeField(allow_null=True, help_text="null when passed on (sent)")
    outcome_due_at = serializers.DateTimeField(allow_null=True, help_text="null when passed on (sent)")
    summary = serializers.CharField(
        allow_blank=True,
        help_text="What the helpline wrote for it: the summary for an authority, the reason for review, what was "
        "passed on to a national body (empty for a police referral or one the review referred on)",
    )
    how_sent = serializers.ChoiceField(
        choices=HowSent.choices, allow_blank=True, help_text="How it was passed on (status sent only)"
    )
    reference = serializers.CharField(allow_blank=True, help_text="The reference the body gave, if any (sent only)")
    referred_from = serializers.IntegerField(
        allow_null=True, help_text="The review referral that referred the case on, for one the review made"
    )


def case_referral_row(referral: Referral, summary: str, reference: str) -> dict[str, Any]:
    """A referral as the helpline's case API gives it (triage/api.py), with what case_open opened for it."""
    row = referral_row(referral)
    if referral.status == Referral.Status.SENT:
        row["acknowledgement_due_at"] = row["outcome_due_at"] = None
    return {
        **row,
        "summary": summary,
        "how_sent": referral.how_sent,
        "reference": reference,
        "referred_from": referral.referred_from_id,
    }


def _listing_row(row: dict[str, Any]) -> dict[str, Any]:
    return _row(
        pk=row["id"],
        case_number=row["case_number"],
        kind=row["body__kind"] or LOCAL_AUTHORITY,
        code=row["authority__gss_code"] or row["body__code"],
        name=row["authority__name"] or row["body__name"],
        status=row["status"],
        referred_at=row["referred_at"],
        ack_due_at=row["ack_due_at"],
        acknowledged_at=row["acknowledged_at"],
        outcome_due_at=row["outcome_due_at"],
        outcome=row.get("outcome", ""),
        outcome_at=row["outcome_at"],
        escalated=row["escalated"],
    )


class ReferralPageSerializer(serializers.Serializer[Any]):
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total = serializers.IntegerField()
    has_next = serializers.BooleanField()
    results = ReferralSerializer(many=True)


class ThreadEntrySerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AuthorityAction.Kind.choices)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    from_helpline = serializers.BooleanField()
    reply_to = serializers.IntegerField(allow_null=True, help_text="The question a reply answers")
    answer_due_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)


class ReporterSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(allow_blank=True, help_text="Only when a named reporter consented")
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)


class PassedOnSerializer(serializers.Serializer[dict[str, Any]]):
    recipient = RecipientSerializer()
    how_sent = serializers.ChoiceField(choices=HowSent.choices)
    reference = serializers.CharField(allow_blank=True, help_text="The reference the body gave, if any")
    referred_at = serializers.DateTimeField()


class ReferralDetailSerializer(ReferralSerializer):
    summary = serializers.CharField()
    about_council = serializers.CharField(
        allow_blank=True, help_text="Under independent review: the council the concern is about"
    )
    referred_on = PassedOnSerializer(
        many=True, help_text="Under independent review: where the review referred the case on"
    )
    child_at_immediate_risk = serializers.BooleanField()
    area = serializers.CharField()
    postcode_district = serializers.CharField(allow_blank=True)
    organisation = serializers.CharField(allow_blank=True)
    concern_types = serializers.ListField(child=serializers.CharField())
    reporter = ReporterSerializer()
    thread = ThreadEntrySerializer(many=True)
    content_destroyed_on = serializers.DateField(
        allow_null=True,
        help_text="The day the case's content was destroyed (under the retention schedule, or early with a second "
        "supervisor's approval), or null. Once it was, the summary and every note are empty and nothing more can "
        "be recorded.",
    )


class ReferralFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """The list's query parameters, as the page's filter form takes them (and validates them)."""

    case_number = serializers.CharField(required=False, allow_blank=True, max_length=listing.SEARCH_MAX)
    status = serializers.ChoiceField(choices=listing.Status.CHOICES, required=False, allow_blank=True)
    overdue = serializers.BooleanField(required=False)
    page = serializers.IntegerField(required=False, min_value=1, max_value=listing.MAX_PAGE)


class NoInput(serializers.Serializer[dict[str, Any]]):
    """Acknowledge: no body."""


class RecordActionInput(serializers.Serializer[dict[str, Any]]):
    kind = serializers.ChoiceField(choices=[(k, AuthorityAction.Kind(k).label) for k in services.RECORDABLE])
    note = serializers.CharField(required=False, allow_blank=True, max_length=MESSAGE_MAX, trim_whitespace=False)


class RecordOutcomeInput(serializers.Serializer[dict[str, Any]]):
    outcome = serializers.ChoiceField(choices=AuthorityOutcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MESSAGE_MAX, trim_whitespace=False)


class AskHelplineInput(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(max_length=MESSAGE_MAX, trim_whitespace=False, help_text="The question")


class RecordFindingsInput(serializers.Serializer[dict[str, Any]]):
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)
    note = serializers.CharField(max_length=MESSAGE_MAX, trim_whitespace=False, help_text="The review's findings")


class ReferOnInput(serializers.Serializer[dict[str, Any]]):
    body = serializers.CharField(max_length=64, help_text="The national body's code: Ofsted, a police force, the panel")
    how_sent = serializers.ChoiceField(choices=HowSent.choices)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=64)


# The typed API input of each action of referrals.officer_actions (a test holds them to the same names); the
# action's form then cleans what it accepts, as on the page.
ACTION_INPUTS: dict[str, type[serializers.Serializer[dict[str, Any]]]] = {
    "acknowledge": NoInput,
    "record_action": RecordActionInput,
    "record_outcome": RecordOutcomeInput,
    "ask_helpline": AskHelplineInput,
    "record_findings": RecordFindingsInput,
    "refer_on": ReferOnInput,
}
REFERRAL_ID = OpenApiParameter("referral_id", int, OpenApiParameter.PATH, description="The referral's id")


class ReferralListApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [AuthorityOfficerVerified]

    @extend_schema(
        operation_id="referral_list",
        parameters=[ReferralFilterSerializer],
        responses={
            200: ReferralPageSerializer,
            400: OpenApiResponse(description="Field errors"),
            403: OpenApiResponse(description="Not an authority officer"),
        },
    )
    def get(self, request: Request) -> Response:
        query = ReferralFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # The page's own filter form decides what the filters mean (and refuses what it refuses).
        form = listing.ReferralFilterForm(request.query_params or None)
        if form.is_bound and not form.is_valid():
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        page = listing.referral_list(user=staff_user(request), filters=form.filters())
        return Response(
            {
                "page": page.page,
                "page_size": page.page_size,
                "total": page.total,
                "has_next": page.has_next,
                "results": [_listing_row(row) for row in page.rows],
            }
        )


class ReferralDetailApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [AuthorityOfficerVerified]

    @extend_schema(
        operation_id="referral_detail",
        parameters=[REFERRAL_ID],
        responses={
            200: ReferralDetailSerializer,
            403: OpenApiResponse(description="Not an authority officer"),
            404: OpenApiResponse(description="No such referral to your authorities"),
        },
    )
    def get(self, request: Request, referral_id: int) -> Response:
        user = staff_user(request)
        referral = selectors.referral_by_id_for(user=user, referral_id=referral_id)
        opened = services.referral_open(referral=referral, acting_user=user)
        return Response(
            {
                **referral_row(referral),
                "summary": opened.summary,
                "about_council": opened.about_council,
                "referred_on": [
                    {
                        "recipient": {
                            "kind": passed.referral.recipient_kind,
                            "code": passed.referral.recipient_code,
                            "name": passed.referral.recipient_name,
                        },
                        "how_sent": passed.referral.how_sent,
                        "reference": passed.reference,
                        "referred_at": passed.referral.referred_at,
                    }
                    for passed in opened.referred_on
                ],
                "child_at_immediate_risk": opened.child_at_immediate_risk,
                "area": opened.area,
                "postcode_district": opened.postcode_district,
                "organisation": opened.organisation,
                "concern_types": list(referral.case.report.concern_types or []) if referral.case.report else [],
                "reporter": {
                    "name": opened.reporter_name,
                    "email": opened.reporter_email,
                    "phone": opened.reporter_phone,
                },
                "thread": [
                    {
                        "id": action.pk,
                        "kind": action.kind,
                        "note": note,
                        "created_at": action.created_at,
                        "from_helpline": action.from_helpline,
                        "reply_to": action.reply_to_id,
                        "answer_due_at": action.answer_due_at,
                        "answered_at": action.answered_at,
                    }
                    for action, note in opened.actions
                ],
                "content_destroyed_on": opened.destroyed_on,
            }
        )


class ReferralActionApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [AuthorityOfficerVerified]

    @extend_schema(
        operation_id="referral_action",
        parameters=[
            REFERRAL_ID,
            OpenApiParameter("action", {"type": "string", "enum": list(ACTION_INPUTS)}, OpenApiParameter.PATH),
        ],
        request=PolymorphicProxySerializer(
            component_name="ReferralActionBody",
            serializers=list(ACTION_INPUTS.values()),
            resource_type_field_name=None,
        ),
        responses={
            200: ReferralSerializer,
            400: OpenApiResponse(description="Field errors"),
            403: OpenApiResponse(description="Not an authority officer"),
            404: OpenApiResponse(description="No such referral to your authorities, or no such action"),
            409: OpenApiResponse(description="Not allowed in the referral's current state"),
        },
    )
    def post(self, request: Request, referral_id: int, action: str) -> Response:
        user = staff_user(request)
        referral = selectors.referral_by_id_for(user=user, referral_id=referral_id)
        if action not in ACTION_INPUTS:
            raise Http404
        try:
            content_kept_check(referral, action)
        except ActionNotAllowed as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        body = ACTION_INPUTS[action](data=request.data if isinstance(request.data, dict) else {})
        if not body.is_valid():
            return Response(body.errors, status=status.HTTP_400_BAD_REQUEST)
        # The page's form cleans the text as the page does (CleanTextField): one rule for both.
        form_class = ACTIONS[action].form
        data: dict[str, Any] = {}
        if form_class is not None:
            form = form_class({f"{action}-{k}": v for k, v in body.validated_data.items()}, prefix=action)
            if not form.is_valid():
                return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
            data = form.cleaned_data
        try:
            referral_act(referral=referral, action=action, data=data, acting_user=user)
        except ActionNotAllowed as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        referral.refresh_from_db()
        return Response(referral_row(referral))


class ReferralAttachmentListApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [AuthorityOfficerVerified]

    @extend_schema(
        operation_id="referral_attachment_list",
        parameters=[REFERRAL_ID],
        responses={
            200: CaseFileListSerializer,
            403: OpenApiResponse(description="Not an authority officer"),
            404: OpenApiResponse(description="No such referral to your authorities"),
        },
    )
    def get(self, request: Request, referral_id: int) -> Response:
        """The files the helpline shared with this referral (cleaned files only). Opening them is recorded."""
        user = staff_user(request)
        referral = selectors.referral_by_id_for(user=user, referral_id=referral_id)
        files = services.referral_files_list(referral=referral, acting_user=user)
        return Response({"attachments": [file_row(file) for file in files]})


class ReferralAttachmentApi(FileApiView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [AuthorityOfficerVerified]

    @extend_schema(
        operation_id="referral_attachment",
        parameters=[REFERRAL_ID, ATTACHMENT_ID],
        responses={**FILE_RESPONSES, 403: OpenApiResponse(description="Not an authority officer")},
    )
    def get(self, request: Request, referral_id: int, attachment_id: Any) -> Any:
        """A file the helpline shared with this referral, decrypted as it is streamed. Every download is
        recorded, and the helpline's supervisors see who downloaded what."""
        user = staff_user(request)
        referral = selectors.referral_by_id_for(user=user, referral_id=referral_id)
        try:
            file, chunks = services.referral_file_download(referral=referral, public_id=attachment_id, acting_user=user)
        except FileUnavailable as refused:
            return Response({"detail": str(refused)}, status=refused.status)
        return file_streamed(file, chunks)

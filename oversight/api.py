"""The pattern alerts API, for national oversight and helpline supervisors (Permission.PATTERN_ALERTS):

``GET /api/v1/patterns/alerts`` lists every alert (open first), and
``POST /api/v1/patterns/alerts/{id}/acknowledge`` and ``/dismiss`` (with a ``note``) act on an open one, and
``/review`` (with ``confirm: true``, Permission.OPEN_REVIEW_CASE) turns an open or acknowledged one into a
case for independent national review (once: pressed again, it opens nothing more).
The same knox tokens, policy, services (oversight.alerts) and audit events as the pages. Counts and codes
only: no case numbers here."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.decorators import PolicyPermission, staff_user
from accounts.policy import Permission
from oversight.alerts import (
    NOTE_MAX,
    AlertNotOpen,
    alert_acknowledge,
    alert_dismiss,
    alert_review,
    alert_row,
    alerts_listed,
    note_problem,
)
from oversight.models import PatternAlert


class PatternAlertsAllowed(PolicyPermission):
    """Signed in with a second factor (a verified session or a knox token) and allowed the pattern alerts."""

    permission = Permission.PATTERN_ALERTS


class ReviewCaseAllowed(PolicyPermission):
    """Signed in with a second factor and allowed to open a national review case from an alert."""

    permission = Permission.OPEN_REVIEW_CASE


class PeriodSerializer(serializers.Serializer[dict[str, Any]]):
    start = serializers.DateField(help_text="The first day of the weeks compared")
    end = serializers.DateField(help_text="The last day of the weeks compared")


class SeriesSerializer(serializers.Serializer[dict[str, Any]]):
    region = serializers.CharField(required=False, help_text="A surge's region")
    concern_type = serializers.CharField(required=False, help_text="A surge's concern type (its code)")
    setting = serializers.CharField(required=False, help_text="A surge's setting (triage.facts.Setting's code)")
    group_based = serializers.CharField(required=False, help_text="A surge in group-based exploitation: yes")
    ofsted_class = serializers.CharField(required=False, help_text="A surge in Ofsted's classification (its code)")
    authority = serializers.CharField(required=False, help_text="A late authority's current GSS code")
    outcome_class = serializers.CharField(
        required=False, help_text="What is late: ack_late (acknowledgements) or outcome_late (outcomes)"
    )
    against = serializers.CharField(
        required=False, help_text="1_working_day: judged against the statutory standard rather than its own past"
    )
    organisation = serializers.CharField(required=False, help_text="The first 16 characters of the keyed hash")


class PatternAlertSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PatternAlert.Kind.choices)
    series = SeriesSerializer()
    period = PeriodSerializer()
    observed = serializers.IntegerField()
    expected = serializers.FloatField()
    threshold = serializers.FloatField(allow_null=True, help_text="The upper bound; null when there is none")
    method = serializers.CharField(
        help_text="farrington, short_history (under a year of history), too_short, standard (1 working day) "
        "or count (organisations)"
    )
    status = serializers.ChoiceField(choices=PatternAlert.Status.choices)


class DismissInput(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(
        max_length=NOTE_MAX,
        help_text="Why the alert is dismissed, about the figures only: no names, case numbers, references, "
        "email addresses or phone numbers",
    )

    def validate_note(self, value: str) -> str:
        problem = note_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value.strip()


ALERT_ID = OpenApiParameter("alert_id", int, OpenApiParameter.PATH, description="The alert's id")
REFUSED = OpenApiResponse(description="Not national oversight or a helpline supervisor")


class PatternAlertListApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [PatternAlertsAllowed]

    @extend_schema(
        operation_id="pattern_alert_list",
        responses={200: PatternAlertSerializer(many=True), 403: REFUSED},
    )
    def get(self, request: Request) -> Response:
        return Response([alert_row(alert) for alert in alerts_listed()])


class PatternAlertAcknowledgeApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [PatternAlertsAllowed]

    @extend_schema(
        operation_id="pattern_alert_acknowledge",
        parameters=[ALERT_ID],
        request=None,
        responses={
            200: PatternAlertSerializer,
            403: REFUSED,
            404: OpenApiResponse(description="No such alert"),
            409: OpenApiResponse(description="The alert is not open"),
        },
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = get_object_or_404(PatternAlert, pk=alert_id)
        try:
            acted = alert_acknowledge(alert, user=staff_user(request))
        except AlertNotOpen as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(alert_row(acted))


class PatternAlertDismissApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [PatternAlertsAllowed]

    @extend_schema(
        operation_id="pattern_alert_dismiss",
        parameters=[ALERT_ID],
        request=DismissInput,
        responses={
            200: PatternAlertSerializer,
            400: OpenApiResponse(description="Field errors"),
            403: REFUSED,
            404: OpenApiResponse(description="No such alert"),
            409: OpenApiResponse(description="The alert is not open"),
        },
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = get_object_or_404(PatternAlert, pk=alert_id)
        body = DismissInput(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        try:
            acted = alert_dismiss(alert, user=staff_user(request), note=body.validated_data["note"])
        except AlertNotOpen as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(alert_row(acted))


class ReviewInput(serializers.Serializer[dict[str, Any]]):
    confirm = serializers.BooleanField(help_text="true: open a case for independent national review from the alert")

    def validate_confirm(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Confirm that a national review case should be opened")
        return value


class PatternAlertReviewApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [ReviewCaseAllowed]

    @extend_schema(
        operation_id="pattern_alert_review",
        parameters=[ALERT_ID],
        request=ReviewInput,
        responses={
            200: OpenApiResponse(PatternAlertSerializer, description="The alert had its review case already"),
            201: PatternAlertSerializer,
            400: OpenApiResponse(description="Field errors"),
            403: REFUSED,
            404: OpenApiResponse(description="No such alert"),
            409: OpenApiResponse(description="The alert was dismissed"),
        },
    )
    def post(self, request: Request, alert_id: int) -> Response:
        alert = get_object_or_404(PatternAlert, pk=alert_id)
        body = ReviewInput(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        had_case = alert.review_case_id is not None
        try:
            acted = alert_review(alert, user=staff_user(request))
        except AlertNotOpen as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(alert_row(acted), status=status.HTTP_200_OK if had_case else status.HTTP_201_CREATED)

"""The staff API: the same selectors and actions as the workspace pages, one endpoint per action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.decorators import staff_user
from accounts.models import User
from triage import selectors, workflow
from triage.case_content import case_open
from triage.deadlines import CASE_PAGE_CLOCKS
from triage.forms import case_filter_form
from triage.staff_actions import ACTION_FORMS, action_form, case_act


class HelplineStaffVerified(BasePermission):
    """Signed in with a second factor (a session verified by OTP, or a knox token, which accounts/api.py
    issues only after the second factor), and helpline staff."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or not user.is_active:
            return False
        if request.auth is None and not getattr(user, "is_verified", lambda: False)():
            return False
        return user.is_helpline


class CaseListApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    class CaseRowSerializer(serializers.Serializer[dict[str, Any]]):
        case_number = serializers.CharField()
        reference = serializers.CharField(source="report__reference")
        priority = serializers.CharField()
        status = serializers.CharField()
        queue = serializers.CharField(source="queue__slug")
        authority = serializers.CharField(source="authority__name", allow_null=True)
        assignee = serializers.CharField(source="assignee__username", allow_null=True)
        independent_review = serializers.BooleanField()
        triage_due_at = serializers.DateTimeField()

    class CasePageSerializer(serializers.Serializer[Any]):
        page = serializers.IntegerField()
        page_size = serializers.IntegerField()
        has_next = serializers.BooleanField()
        results = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        operation_id="case_list",
        parameters=[
            OpenApiParameter(name, str, required=False)
            for name in (
                "search",
                "queue",
                "status",
                "priority",
                "authority",
                "assignee",
                "overdue",
                "sort",
                "page",
                "page_size",
            )
        ],
        responses={
            200: CasePageSerializer,
            400: OpenApiResponse(description="Field errors"),
            403: OpenApiResponse(description="Not helpline staff"),
        },
    )
    def get(self, request: Request) -> Response:
        form = case_filter_form(request.query_params)
        if form.is_bound and not form.is_valid():
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        page = selectors.case_list(user=staff_user(request), filters=form.filters())
        return Response(
            {
                "page": page.page,
                "page_size": page.page_size,
                "has_next": page.has_next,
                "results": [self.CaseRowSerializer(row).data for row in page.rows],
            }
        )


class CaseDetailApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(operation_id="case_detail", responses={200: serializers.DictField(), 404: None})
    def get(self, request: Request, case_number: str) -> Response:
        user = staff_user(request)
        case = selectors.case_get_for(user=user, case_number=case_number)
        opened = case_open(case=case, acting_user=user)
        return Response(
            {
                "case_number": case.case_number,
                "reference": case.report.reference,
                "status": case.status,
                "priority": case.priority,
                "queue": case.queue.slug,
                "authority": case.authority.gss_code if case.authority else None,
                "independent_review": case.independent_review,
                "concern_types": case.report.concern_types,
                "allowed_actions": workflow.allowed_actions(case),
                "deadlines": {clock.key: getattr(case, clock.due_field) for clock in CASE_PAGE_CLOCKS},
                "content": opened.content,
                "messages": [
                    {"from": m.direction, "sent_on": m.sent_on, "kind": m.kind, "body": body}
                    for m, body in opened.messages
                ],
            }
        )


class CaseActionApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_action",
        request=serializers.DictField(),
        responses={
            200: serializers.DictField(),
            400: OpenApiResponse(description="Field errors"),
            404: None,
            409: OpenApiResponse(description="Not allowed in the case's current state"),
        },
    )
    def post(self, request: Request, case_number: str, action: str) -> Response:
        user = staff_user(request)
        case = selectors.case_get_for(user=user, case_number=case_number)
        if action not in ACTION_FORMS:
            raise Http404
        data, wrong_types = _as_form_data(request.data, action)
        if wrong_types:
            return Response(wrong_types, status=status.HTTP_400_BAD_REQUEST)
        form = action_form(action, data, case=case)
        if form is not None and not form.is_valid():
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            case_act(case=case, action=action, data=form.cleaned_data if form else {}, acting_user=user)
        except workflow.ActionNotAllowed as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        # case_act has reloaded the case: its status is the one the action left.
        return Response({"case_number": case.case_number, "status": case.status})


def _as_form_data(data: Any, action: str) -> tuple[MultiValueDict[str, Any], dict[str, list[str]]]:
    """JSON fields as the action's prefixed form fields (the same forms validate both), and an error for each
    field whose JSON type is wrong: text must be a string, a list of codes a list of strings, a yes or no a
    JSON boolean. Nothing is coerced: ``"share_identity": "no"`` must never mean "share"."""
    values: MultiValueDict[str, Any] = MultiValueDict()
    errors: dict[str, list[str]] = {}
    form_class = ACTION_FORMS.get(action)
    if form_class is None or not isinstance(data, dict):
        return values, errors
    for key, value in data.items():
        field = form_class.base_fields.get(key)
        if field is None or value is None:
            continue  # unknown fields are ignored; a missing or null required field is the form's error
        name = f"{action}-{key}"
        if isinstance(field, forms.MultipleChoiceField):
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                values.setlist(name, value)
            else:
                errors[key] = ["Give a list of codes."]
        elif isinstance(field, forms.BooleanField):
            if isinstance(value, bool):
                if value:
                    values[name] = "on"
            else:
                errors[key] = ["Must be true or false."]
        elif isinstance(value, str):
            values[name] = value
        else:
            errors[key] = ["Must be text."]
    return values, errors

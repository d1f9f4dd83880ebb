"""The staff API: the same selectors and actions as the workspace pages, one endpoint per action.

Its OpenAPI document is written from the same forms that validate the API (the case list's filters, each
action's form), so it says what they accept: enums, lengths, and patterns for text and for the values
only the directory or the staff list can confirm."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, cast

from django import forms
from django.conf import settings
from django.http import Http404
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.hooks import postprocess_schema_enums
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.decorators import PolicyPermission, staff_user
from accounts.models import User
from accounts.policy import Permission
from core.identifiers import CASE_NUMBER_ALPHABET
from core.text import CleanTextField
from referrals.api import CaseReferralSerializer, case_referral_row
from reports.api import message_fields, text_pattern
from reports.models import AlreadyReported, Message
from triage import routing, selectors, workflow
from triage.case_content import FileUnavailable, case_files_open, case_open, file_download
from triage.deadlines import CASE_PAGE_CLOCKS
from triage.file_api import (
    ATTACHMENT_ID,
    FILE_RESPONSES,
    CaseFileListSerializer,
    FileApiView,
    file_row,
    file_streamed,
)
from triage.forms import CaseFilterForm, case_filter_form
from triage.models import Case
from triage.routing import needs_supervisor
from triage.staff_actions import (
    ACTION_FORMS,
    ACTIONS,
    BULK_ACTIONS,
    action_form,
    bulk_check,
    case_act,
    page_actions,
    run_bulk,
)


class HelplineStaffVerified(PolicyPermission):
    """Signed in with a second factor (a session verified by OTP, or a knox token, which accounts/api.py
    issues only after the second factor), and helpline staff."""

    permission = Permission.HELPLINE_WORK


# --- what the forms accept, as JSON Schema ------------------------------------------------------------------
# A current GSS code, as the directory's choice lists hold it (capitals; former codes are not in the lists).
CURRENT_GSS_CODE = "E(?:0[689]|10)[0-9]{6}"
# A username as Django's username validator allows it (letters, digits and @.+-_), ASCII spelled out.
USERNAME = "[A-Za-z0-9_.@+-]{1,150}"
CASE_NUMBER_PATTERN = f"^[0-9]{{4}}-[{CASE_NUMBER_ALPHABET}]{{6}}$"


def field_schema(field: forms.Field, *, in_query: bool = False) -> dict[str, Any]:
    """The JSON Schema of what ``field`` accepts: as a query parameter, or as the API's JSON (where every
    value but a list of codes and a yes or no is a string: staff_actions' forms validate both)."""
    schema: dict[str, Any]
    if isinstance(field, forms.MultipleChoiceField):
        schema = {"type": "array", "items": {"type": "string", "enum": _choices(field)}}
        if field.required:
            schema["minItems"] = 1
    elif isinstance(field, forms.BooleanField):
        # A required box must be ticked: true is the only answer.
        schema = {"type": "boolean", "enum": [True]} if field.required else {"type": "boolean"}
    elif isinstance(field, forms.TypedChoiceField) and field.coerce is int and in_query:
        schema = {"type": "integer", "enum": [int(value) for value in _choices(field)]}
    elif isinstance(field, forms.ChoiceField):
        if not _choices(field):
            raise ValueError(f"The choices of {field!r} come from the database: give its schema")
        schema = {"type": "string", "enum": _choices(field) + ([] if field.required else [""])}
    elif isinstance(field, forms.IntegerField):
        low, high = field.min_value, field.max_value
        if not isinstance(low, int) or not isinstance(high, int):
            raise ValueError(f"No schema for an integer field from {low!r} to {high!r}")
        if in_query:
            schema = {"type": "integer", "minimum": low, "maximum": high}
        elif low == 1 and high >= 10**18:
            # A whole number written as text: at most 18 digits is within the field's bounds.
            schema = {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"}
        elif low == 0 and high in (9, 99, 999, 9999):
            # A count written as text, up to as many digits as its limit has; empty when it is optional.
            digits = f"(?:0|[1-9][0-9]{{0,{len(str(high)) - 1}}})"
            schema = {"type": "string", "pattern": f"^{digits}$" if field.required else f"^{digits}?$"}
        else:
            raise ValueError(f"No pattern for an integer field from {low} to {high}")
    elif isinstance(field, forms.CharField):
        schema = {
            "type": "string",
            "pattern": text_pattern(
                cleaned=isinstance(field, CleanTextField), trimmed=field.strip, blank_allowed=not field.required
            ),
        }
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
    else:
        raise ValueError(f"No schema for {type(field).__name__}")
    if field.help_text:
        schema["description"] = str(field.help_text)
    return schema


def _choices(field: forms.ChoiceField) -> list[str]:
    choices = cast("Iterable[tuple[Any, Any]]", field.choices)
    return [str(value) for value, _ in choices if value != ""]


def form_schema(form_class: type[forms.Form] | None, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The JSON body a form validates: its fields, the required ones required. Fields the API does not
    know are ignored, so other properties are allowed."""
    # A file is attached on the page only (multipart); the API's bodies are JSON.
    fields = {
        name: field for name, field in (form_class.base_fields if form_class else {}).items() if not is_file(field)
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: overrides.get(name) or field_schema(field) for name, field in fields.items()},
    }
    if not fields:
        # An action without a form takes no body: say so, or its schema would be every object.
        schema["additionalProperties"] = False
    required = [name for name, field in fields.items() if field.required]
    if required:  # OpenAPI 3.0: a list of required properties has at least one
        schema["required"] = required
    return schema


def is_file(field: forms.Field) -> bool:
    return isinstance(field, forms.FileField)


def _queue_slugs() -> list[str]:
    regions = list(settings.REGIONAL_QUEUES)
    regional = [routing.queue_slug(urgent=False, region=r, regional_queues=frozenset(regions)) for r in regions]
    return ["urgent", "national", *regional]


def case_list_parameters() -> list[OpenApiParameter]:
    """The case list's filters, from CaseFilterForm: its choices come from the database (queues, the
    directory, staff), so those three are described by what a value looks like."""
    dynamic: dict[str, dict[str, Any]] = {
        "queue": {
            "type": "string",
            "enum": ["", *_queue_slugs()],
            "description": "A queue's slug (regional queues as configured); a queue no case has entered yet is refused",
        },
        "authority": {
            "type": "string",
            "pattern": f"^(?:unknown|{CURRENT_GSS_CODE})?$",
            "description": "unknown, or the current GSS code of an authority in the directory",
        },
        "assignee": {
            "type": "string",
            "pattern": f"^(?:{USERNAME})?$",
            "description": "me, none, or the username of active helpline staff",
        },
    }
    return [
        OpenApiParameter(name, dynamic.get(name) or field_schema(field, in_query=True), required=False)
        for name, field in CaseFilterForm.base_fields.items()
    ]


# The actions' fields whose choices come from the database (AssignForm's, AuthorityForm's), by name.
ACTION_BODY_OVERRIDES: dict[str, dict[str, Any]] = {
    "assignee": {
        "type": "string",
        "pattern": f"^{USERNAME}$",
        "description": "The username of active helpline staff",
    },
    "authority": {
        "type": "string",
        "pattern": f"^{CURRENT_GSS_CODE}$",
        "description": "The current GSS code of an authority in the directory",
    },
    # What case_actions.postcode_district_clean takes: a district, in either case, spaces around it, or none.
    "postcode_district": {
        "type": "string",
        "maxLength": 8,
        "pattern": "^[ \\t\\n\\r]*(?:[A-Za-z][A-HJ-Ya-hj-y]?[0-9][A-Za-z0-9]?)?[ \\t\\n\\r]*$",
        "description": "A postcode district only, like S60 (never a full postcode), or empty",
    },
    # The authority that placed a child out of area (record_facts): one in the directory, or not known.
    "placing_authority": {
        "type": "string",
        "pattern": f"^(?:{CURRENT_GSS_CODE})?$",
        "description": "The current GSS code of the authority that placed the child (only for a child placed "
        "out of area), or empty: not known",
    },
    # Which police force a case was passed to (escalate, route police): its code in the bodies directory.
    "force": {
        "type": "string",
        "maxLength": 64,
        "pattern": "^(police-[a-z0-9-]+)?$",
        "description": "A police force's code in the national bodies directory, like police-south-yorkshire "
        "(route police only)",
    },
    # Which national body a case was referred to directly (refer_national_body): its code in the directory.
    "national_body": {
        "type": "string",
        "maxLength": 64,
        "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$",
        "description": "The code of Ofsted, the Care Quality Commission or the Child Safeguarding Practice Review "
        "Panel in the national bodies directory (ofsted, cqc, cspr-panel as loaded; administrators may add "
        "others of those kinds). The police: escalate with route police.",
    },
    # The case's files a referral's authority may see (refer), and the file to delete (delete_attachment).
    "attachments": {
        "type": "array",
        "items": {"type": "string", "format": "uuid"},
        "description": "The ids of the case's files the authority may open (GET /api/v1/cases/{case_number}/"
        "attachments): cleaned files only; a file still being checked, blocked or not cleaned is refused",
    },
    "attachment": {
        "type": "string",
        "format": "uuid",
        "description": "The id of one of the case's files (GET /api/v1/cases/{case_number}/attachments)",
    },
    # Who a referral goes to (refer), or which referral an update is for (update_authority).
    "recipient": {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["local_authority"]},
            "code": {"type": "string", "pattern": f"^{CURRENT_GSS_CODE}$"},
        },
        "required": ["kind", "code"],
        "additionalProperties": False,
        "description": "A local authority by its current GSS code. For refer, left out: the case's own "
        "authority; a second call with another recipient adds a second referral.",
    },
}


def action_body_schema(action: str) -> dict[str, Any]:
    """The body ``action`` takes, from the form that validates it, titled with the action's name."""
    return {"title": action, **form_schema(ACTION_FORMS[action], ACTION_BODY_OVERRIDES)}


class ActionInputSerializer(serializers.Serializer[dict[str, Any]]):
    """The JSON body of one staff action, validated by the action's form (staff_actions.ACTIONS), so the
    page and the API accept and refuse exactly the same; its schema is the form's (ActionInputSchema).
    Give the case as ``context={"case": case}``: some forms' choices are the case's."""

    action: ClassVar[str] = ""

    def run_validation(self, data: Any = empty) -> dict[str, Any]:
        form_class = ACTION_FORMS.get(self.action)
        # Every field optional (record_facts): anything but an object would record "not known" for
        # everything, which nobody sending it meant.
        everything_optional = form_class is not None and not any(f.required for f in form_class.base_fields.values())
        if everything_optional and not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send the fields as a JSON object."]})
        values, wrong_types = _as_form_data(data, self.action)
        if wrong_types:
            raise serializers.ValidationError(wrong_types)
        form = action_form(self.action, values, case=self.context.get("case"), user=self.context.get("user"))
        if form is None:
            return {}
        if not form.is_valid():
            raise serializers.ValidationError(
                {name: [str(message) for message in errors] for name, errors in form.errors.items()}
            )
        return dict(form.cleaned_data)


def _action_serializer(action: str) -> type[ActionInputSerializer]:
    camel = "".join(part.capitalize() for part in action.split("_"))
    return type(f"{camel}ActionSerializer", (ActionInputSerializer,), {"action": action, "__module__": __name__})


# One typed input serializer per staff action, by name (components "<Action>ActionRequest" in the schema).
ACTION_SERIALIZERS: dict[str, type[ActionInputSerializer]] = {name: _action_serializer(name) for name in ACTIONS}


class CaseActionBodySerializer(serializers.Serializer[dict[str, Any]]):
    """Only for the schema: the body of the action named in the URL, one of ACTION_SERIALIZERS."""


class ActionInputSchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    target_class = ActionInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return action_body_schema(self.target.action)


class CaseActionBodySchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    target_class = CaseActionBodySerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "anyOf": [auto_schema.resolve_serializer(cls, direction).ref for cls in ACTION_SERIALIZERS.values()],
            "description": "The body of the action named in the URL: the alternative titled with its name.",
        }


def postprocess_schema(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular's enum hook, with each action's body left as its form writes it (field_schema): pulled
    out into shared enums, fields of the same name with other choices (priority, outcome) would be renamed
    across the whole document."""
    schemas = result.get("components", {}).get("schemas", {})
    names = {f"{serializer.__name__.removesuffix('Serializer')}Request" for serializer in ACTION_SERIALIZERS.values()}
    bodies = {name: schemas.pop(name) for name in names if name in schemas}
    result = postprocess_schema_enums(result, generator, **kwargs)  # type: ignore[no-untyped-call]
    schemas = result["components"]["schemas"]
    result["components"]["schemas"] = dict(sorted({**schemas, **bodies}.items()))
    return result


class CaseRowSerializer(serializers.Serializer[dict[str, Any]]):
    case_number = serializers.CharField()
    reference = serializers.CharField(
        source="report__reference", allow_null=True, help_text="null: a national review case, with no report"
    )
    priority = serializers.ChoiceField(choices=Case.Priority.choices)
    status = serializers.ChoiceField(choices=Case.Status.choices)
    queue = serializers.CharField(source="queue__slug")
    authority = serializers.CharField(source="authority__name", allow_null=True)
    assignee = serializers.CharField(source="assignee__username", allow_null=True)
    independent_review = serializers.BooleanField()
    triage_due_at = serializers.DateTimeField()
    unread_messages = serializers.IntegerField(
        help_text="How many of the reporter's messages nobody at the helpline has read yet (opening the case, "
        "on its page or at /cases/{case_number}, reads them)"
    )
    reporter_read_last_message = serializers.BooleanField(
        source="reporter_read_last",
        allow_null=True,
        help_text="Whether the reporter has read the helpline's last message: yes or no, never when (a read time "
        "would log the reporter's visits); null when the helpline has not written to them",
    )


class CasePageSerializer(serializers.Serializer[Any]):
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    results = CaseRowSerializer(many=True)


class CaseListApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_list",
        parameters=case_list_parameters(),
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
                "results": [CaseRowSerializer(row).data for row in page.rows],
            }
        )


def offered_actions(case: Case, user: User) -> list[str]:
    """The actions the staff API (and the case page) offers ``user`` on ``case``: what the page offers in
    the case's status, less what the user's role may not take, by the rule that refuses it (workflow)."""
    return page_actions(case, user)


CASE_NUMBER_PARAMETER = OpenApiParameter(
    "case_number", {"type": "string", "pattern": CASE_NUMBER_PATTERN}, OpenApiParameter.PATH
)


# A message as the helpline reads it: the reporter's fields, and whether the reporter has read it.
CaseMessageSerializer = type(
    "CaseMessageSerializer",
    (serializers.Serializer,),
    {
        **message_fields(),
        "read_by_reporter": serializers.BooleanField(
            help_text="A message from the helpline: whether the reporter has read it (on /check or through the "
            "reporter's API), yes or no, never when. False for a message from the reporter."
        ),
    },
)


def case_message_row(message: Message, body: str, *, read_now: bool) -> dict[str, Any]:
    """A message as the case API gives it. ``read_now``: the request opened the case, so a reporter's message
    unread until now was read today (case_open marked it; ``message`` is the row as it was before)."""
    from_reporter = message.direction == Message.Direction.FROM_REPORTER
    read_on = message.read_by_helpline_on or (timezone.localdate() if read_now else None)
    return {
        "from": message.direction,
        "sent_on": message.sent_on,
        "kind": message.kind,
        "body": body,
        "read_by_helpline_on": read_on if from_reporter else None,
        "read_by_reporter": message.read_by_reporter and not from_reporter,
    }


class CaseDetailSerializer(serializers.Serializer[Any]):
    case_number = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=Case.Kind.choices, help_text="pattern_review: opened from a pattern alert, with no report"
    )
    reference = serializers.CharField(allow_null=True, help_text="null: a national review case, with no report")
    status = serializers.ChoiceField(choices=Case.Status.choices)
    priority = serializers.ChoiceField(choices=Case.Priority.choices)
    queue = serializers.CharField()
    authority = serializers.CharField(allow_null=True, help_text="Its GSS code")
    independent_review = serializers.BooleanField()
    concern_types = serializers.ListField(child=serializers.CharField())
    supervisor_flag = serializers.BooleanField(
        help_text="A supervisor must look at it: the reporter says they were stopped or discouraged from reporting "
        "abuse, an offence (escalate with route police to refer it to the police)."
    )
    already_reported = serializers.ChoiceField(
        choices=AlreadyReported.choices,
        help_text="Whether it was already reported to the police or the council (who, to whom, when and the "
        "reference are in content.already_reported).",
    )
    allowed_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ACTION_FORMS)),
        help_text="The actions you may take now: each is accepted at /cases/{case_number}/{action}, the case's "
        "state and the body's validity aside.",
    )
    deadlines = serializers.DictField(child=serializers.DateTimeField(allow_null=True))
    referrals = CaseReferralSerializer(many=True, help_text="Each referral of the case, with its own status and clocks")
    content = serializers.DictField(
        help_text="The decrypted concern ({} once its content was destroyed), without the reporter's name and "
        "contact details: see contact."
    )
    contact_given = serializers.ListField(
        child=serializers.ChoiceField(choices=["name", "email", "phone"]),
        help_text="Which details the reporter gave the helpline (none for an anonymous reporter).",
    )
    contact = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The reporter's name and contact details: null unless you showed them with a reason (POST "
        "/cases/{case_number}/reveal_contact, an audit event supervisors see) in the last 15 minutes.",
    )
    messages = CaseMessageSerializer(
        many=True,
        help_text="Oldest first. Opening the case reads the reporter's messages: each has the day it was first "
        "read (today for those unread_messages counts).",
    )
    unread_messages = serializers.IntegerField(
        help_text="How many of the reporter's messages nobody at the helpline had read before this request (it "
        "reads them)"
    )
    reporter_read_last_message = serializers.BooleanField(
        allow_null=True,
        help_text="Whether the reporter has read the helpline's last message: yes or no, never when; null when "
        "the helpline has not written to them",
    )
    content_destroyed_on = serializers.DateField(
        allow_null=True,
        help_text="The day the case's content was destroyed (under the retention schedule, or early with a second "
        "supervisor's approval), or null. Once it was, content is empty, each message's body is empty, and only "
        "the case's record (dates, authority, outcome, concern types, deadlines, referrals) is left.",
    )


class CaseDetailApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_detail",
        parameters=[CASE_NUMBER_PARAMETER],
        responses={200: CaseDetailSerializer, 403: OpenApiResponse(description="Not helpline staff"), 404: None},
    )
    def get(self, request: Request, case_number: str) -> Response:
        user = staff_user(request)
        case = selectors.case_get_for(user=user, case_number=case_number)
        opened = case_open(case=case, acting_user=user)
        report = case.report
        return Response(
            {
                "case_number": case.case_number,
                "kind": case.kind,
                # A national review case (kind pattern_review) has no report: no reference, no concern types.
                "reference": report.reference if report is not None else None,
                "status": case.status,
                "priority": case.priority,
                "queue": case.queue.slug,
                "authority": case.authority.gss_code if case.authority else None,
                "independent_review": case.independent_review,
                "concern_types": report.concern_types if report is not None else [],
                "supervisor_flag": needs_supervisor(report.concern_types) if report is not None else False,
                "already_reported": report.already_reported if report is not None else AlreadyReported.NOT_KNOWN,
                "allowed_actions": offered_actions(case, user),
                "deadlines": {clock.key: getattr(case, clock.due_field) for clock in CASE_PAGE_CLOCKS},
                "referrals": [
                    case_referral_row(referral, summary, opened.referral_references.get(referral.pk, ""))
                    for referral, summary in opened.referrals
                ],
                "content": opened.content,
                "contact_given": list(opened.contact_given),
                "contact": opened.contact or None,
                "messages": [
                    case_message_row(m, body, read_now=opened.destroyed_on is None) for m, body in opened.messages
                ],
                "unread_messages": opened.unread_messages,
                "reporter_read_last_message": opened.reporter_read_last,
                "content_destroyed_on": opened.destroyed_on,
            }
        )


class CaseActionApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_action",
        parameters=[
            CASE_NUMBER_PARAMETER,
            OpenApiParameter("action", {"type": "string", "enum": list(ACTION_FORMS)}, OpenApiParameter.PATH),
        ],
        request=CaseActionBodySerializer,
        responses={
            200: inline_serializer(
                "CaseActionDone",
                {"case_number": serializers.CharField(), "status": serializers.ChoiceField(Case.Status.choices)},
            ),
            400: OpenApiResponse(description="Field errors"),
            403: OpenApiResponse(description="Not helpline staff, or an action your role may not take"),
            404: None,
            409: OpenApiResponse(description="Not allowed in the case's current state"),
        },
    )
    def post(self, request: Request, case_number: str, action: str) -> Response:
        user = staff_user(request)
        case = selectors.case_get_for(user=user, case_number=case_number)
        if action not in ACTIONS:
            raise Http404
        try:
            # The rule allowed_actions is drawn from: what is not offered to this role is refused, 403.
            workflow.check_permitted(user, action)
        except workflow.ActionNotPermitted as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
        try:
            workflow.check_content_kept(case, action)
        except workflow.ActionNotAllowed as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        body = ACTION_SERIALIZERS[action](data=request.data, context={"case": case, "user": user})
        if not body.is_valid():
            return Response(body.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            case_act(case=case, action=action, data=body.validated_data, acting_user=user)
        except workflow.ActionNotPermitted as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
        except workflow.ActionNotAllowed as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        # case_act has reloaded the case: its status is the one the action left.
        return Response({"case_number": case.case_number, "status": case.status})


class BulkCasesSerializer(serializers.Serializer[dict[str, Any]]):
    """The cases a bulk action is taken on, by case number (at most BULK_MAX), and the action's own body (as
    the action on one case takes it)."""

    cases = serializers.ListField(
        child=serializers.CharField(max_length=16),
        allow_empty=False,
        error_messages={"empty": "Select at least one case."},
    )
    body = CaseActionBodySerializer(required=False, help_text="The action's body, as for one case.")


class CaseBulkActionApi(APIView):
    """Bulk triage: one action over many cases in one call, through the same service as the workspace's bulk
    pages (staff_actions.run_bulk) and the same form as for one case."""

    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_bulk_action",
        parameters=[OpenApiParameter("action", {"type": "string", "enum": BULK_ACTIONS}, OpenApiParameter.PATH)],
        request=BulkCasesSerializer,
        responses={
            200: inline_serializer(
                "CaseBulkActionDone",
                {
                    "done": serializers.ListField(child=serializers.CharField()),
                    "refused": serializers.ListField(
                        child=inline_serializer(
                            "CaseBulkRefusal",
                            {"case_number": serializers.CharField(), "reason": serializers.CharField()},
                        )
                    ),
                },
            ),
            400: OpenApiResponse(description="Field errors: cases, or the action's fields under body"),
            403: OpenApiResponse(description="Not a supervisor (bulk triage), or an action your role may not take"),
            404: None,
            409: OpenApiResponse(description="Refused as a whole (no such assignee)"),
        },
    )
    def post(self, request: Request, action: str) -> Response:
        user = staff_user(request)
        if action not in BULK_ACTIONS:
            raise Http404
        cases = BulkCasesSerializer(data=request.data)
        if not cases.is_valid():
            return Response(cases.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            numbers = bulk_check(action=action, case_numbers=cases.validated_data["cases"], acting_user=user)
        except workflow.ActionNotPermitted as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
        except workflow.ActionNotAllowed as refused:
            return Response({"cases": [str(refused)]}, status=status.HTTP_400_BAD_REQUEST)
        sent = request.data.get("body", {}) if isinstance(request.data, dict) else {}
        body = ACTION_SERIALIZERS[action](data=sent, context={"user": user})
        if not body.is_valid():
            return Response({"body": body.errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = run_bulk(action=action, case_numbers=numbers, data=body.validated_data, acting_user=user)
        except workflow.ActionNotPermitted as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_403_FORBIDDEN)
        except workflow.ActionNotAllowed as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        return Response(
            {
                "done": result.done,
                "refused": [{"case_number": number, "reason": reason} for number, reason in result.refused],
            }
        )


class CaseAttachmentListApi(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_attachment_list",
        parameters=[CASE_NUMBER_PARAMETER],
        responses={
            200: CaseFileListSerializer,
            403: OpenApiResponse(description="Not helpline staff"),
            404: OpenApiResponse(description="No such case"),
        },
    )
    def get(self, request: Request, case_number: str) -> Response:
        """The case's files, oldest first, with their names (opening them is recorded, as for the case)."""
        user = staff_user(request)
        case = selectors.case_get_for(user=user, case_number=case_number)
        return Response({"attachments": [file_row(file) for file in case_files_open(case=case, acting_user=user)]})


class CaseAttachmentApi(FileApiView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HelplineStaffVerified]

    @extend_schema(
        operation_id="case_attachment",
        parameters=[CASE_NUMBER_PARAMETER, ATTACHMENT_ID],
        responses={**FILE_RESPONSES, 403: OpenApiResponse(description="Not helpline staff")},
    )
    def get(self, request: Request, case_number: str, attachment_id: Any) -> Any:
        """One of the case's files, cleaned, decrypted as it is streamed (a file that could not be cleaned
        too: its warning is in the list). Every download is recorded."""
        user = staff_user(request)
        case = selectors.case_get_for(user=user, case_number=case_number)
        attachment = selectors.case_file_get(user=user, case=case, public_id=attachment_id)
        try:
            file, chunks = file_download(case=case, attachment=attachment, acting_user=user)
        except FileUnavailable as refused:
            return Response({"detail": str(refused)}, status=refused.status)
        return file_streamed(file, chunks)


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
        if field is None or value is None or is_file(field):
            continue  # unknown fields are ignored; a missing or null required field is the form's error
        name = f"{action}-{key}"
        if key == "recipient":
            code = _recipient_code(value)
            if code is None:
                errors[key] = ['Give the recipient as {"kind": "local_authority", "code": its GSS code}.']
            else:
                values[name] = code
        elif isinstance(field, forms.MultipleChoiceField):
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


def _recipient_code(value: Any) -> str | None:
    """A recipient's GSS code from ``{"kind": "local_authority", "code": ...}``; None for anything else."""
    if not isinstance(value, dict) or value.get("kind") != "local_authority":
        return None
    code = value.get("code")
    return code if isinstance(code, str) and code else None

"""The helpline's and the authority's forms: case filters and one form per action."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst

from core.forms import GovukForm, HintedChoiceField
from core.text import CleanTextField
from directory.lookup import authority_by_code, authority_choices
from reports.attachments import incoming_discard, max_bytes
from reports.filetypes import ACCEPT_ATTRIBUTE, ACCEPTED_WORDS, RefusedType, sniff
from reports.forms import DETAILS_MAX, MESSAGE_MAX
from reports.models import Attachment, ConcernType
from reports.uploads import SealedUpload
from triage.case_actions import DELETABLE, HOW_SENT, HOW_TOLD, REVEAL_REASONS, postcode_district_clean
from triage.facts import ETHNICITY_ANSWERS, NATIONALITY_ANSWERS, SUSPECTS_MAX, Known, OfstedClass, Setting
from triage.models import Case, CaseFacts, LegalHold, Outcome, Queue
from triage.ports import SOME_AUTHORITY
from triage.selectors import PAGE_SIZES, SORTS, CaseFilters, authority_reach, helpline_staff
from triage.templatetags.case_events import event_label
from triage.workflow import ActionNotAllowed


class CaseFilterForm(GovukForm):
    # Where the error summary points for the hidden page field: the filters.
    error_anchor = "case-filters"
    search = forms.CharField(
        label="Reference, case number or organisation",
        help_text="All or the start of a reference or case number, or an organisation's whole name",
        required=False,
        max_length=200,
    )
    queue = forms.ChoiceField(label="Queue", required=False)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Open cases"), *Case.Status.choices])
    priority = forms.ChoiceField(label="Priority", required=False, choices=[("", "Any"), *Case.Priority.choices])
    authority = forms.ChoiceField(label="Authority", required=False)
    assignee = forms.ChoiceField(label="Assigned to", required=False)
    overdue = forms.BooleanField(label="Overdue only", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("deadline", "Deadline, soonest first"),
            ("-deadline", "Deadline, latest first"),
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
        ],
    )
    page_size = forms.TypedChoiceField(
        label="Per page",
        required=False,
        coerce=int,
        choices=[(n, str(n)) for n in PAGE_SIZES],
        empty_value=None,
        initial=50,  # what the list shows when none is chosen, so the select says so
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        queues: list[tuple[str, str]],
        authorities: list[tuple[str, str]],
        assignees: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("queue", [("", "All queues"), *queues])
        self.set_choices("authority", [("", "Any"), ("unknown", "Not known"), *authorities])
        self.set_choices("assignee", [("", "Anyone"), ("me", "Me"), ("none", "Nobody"), *((u, u) for u in assignees)])

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or "deadline"
        return sort if sort in SORTS else "deadline"

    def filters(self) -> CaseFilters:
        """The filters to apply: none when the form was not filled in (or not valid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return CaseFilters(**{k: v for k, v in data.items() if v not in (None, "")})


class BulkProblemForm(GovukForm):
    """What is wrong with a bulk triage selection (no case ticked, too many, no action), for the error summary."""

    error_anchor = "bulk-cases"


def case_filter_form(params: Any) -> CaseFilterForm:
    """The case list's filters bound to a query string, for the page and the API alike."""
    return CaseFilterForm(
        params or None,
        queues=list(Queue.objects.order_by("name").values_list("slug", "name")),
        authorities=authority_choices(),
        assignees=list(helpline_staff().values_list("username", flat=True)),
    )


class TimelineFilterForm(GovukForm):
    """The case timeline's filter: one kind of event, from those the timeline holds."""

    kind = forms.ChoiceField(
        label="Show",
        required=False,
        error_messages={"invalid_choice": "Choose a kind of event from the list"},
    )

    def __init__(self, *args: Any, kinds: list[str], who: str = "", **kwargs: Any) -> None:
        """``who``: the case's one recipient, as a sentence names it, for the events about it."""
        super().__init__(*args, **kwargs)
        self.set_choices("kind", [("", "All events"), *((kind, event_label(kind, who)) for kind in kinds)])

    @property
    def chosen(self) -> str:
        return str(self.cleaned_data.get("kind") or "") if self.is_bound and self.is_valid() else ""


def message_field(*, label: str, what: str, required: str, help_text: str = "") -> CleanTextField:
    """A message box of up to MESSAGE_MAX characters; ``what`` names it in the too-long error."""
    return CleanTextField(
        label=label,
        help_text=help_text,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": required, "max_length": f"{what} must be {MESSAGE_MAX:,} characters or fewer"},
    )


class TextForm(forms.Form):
    body = message_field(label="Message", what="Text", required="Enter the text")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class StaffFileField(forms.FileField):
    """One file a member of staff attaches, already sealed as it arrived (reports.uploads): checked as the
    reporter's files are, by its size and by whether its first bytes fit its name. A refused file is dropped
    at once. The staff API takes JSON, so it never has one of these fields (triage/api.py leaves it out)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.FileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        kwargs.setdefault(
            "error_messages",
            {"empty": "The selected file is empty", "invalid": "The selected file could not be read: choose it again"},
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> SealedUpload | None:
        try:
            # Before Django's own checks: a file over the limit arrives with nothing stored (size 0).
            if isinstance(data, SealedUpload) and data.too_large:
                raise ValidationError(f"The selected file must be smaller than {megabytes(max_bytes())}")
            upload = super().clean(data, initial)
            if not upload:
                return None
            if not isinstance(upload, SealedUpload):
                raise ValidationError("The selected file could not be read: choose it again")
            try:
                sniff(upload.name or "", upload.head)
            except RefusedType as refused:
                raise ValidationError(str(refused)) from refused
        except ValidationError:
            if isinstance(data, SealedUpload):
                incoming_discard(data.incoming)
            raise
        return upload


FILE_HINT = (
    f"{ACCEPTED_WORDS}, up to {megabytes(max_bytes())}. It is checked for viruses and cleaned of hidden "
    "details (like who wrote it) before anyone can open it."
)


class ReporterMessageForm(TextForm):
    body = message_field(
        label="Message to the reporter",
        help_text="The reporter reads this on their follow-up page. Do not name anyone they have not named.",
        what="Message",
        required="Enter the message to the reporter",
    )
    file = StaffFileField(
        label="Attach a file for the reporter (optional)",
        help_text="For example a form to fill in. " + FILE_HINT,
    )


class PhoneFileForm(GovukForm):
    """A file the caller emailed in, kept with the report the call handler records."""

    file = StaffFileField(
        label="A file the caller emailed in (optional)",
        help_text="Only the file, never the email it came with: an email's headers identify who sent it. " + FILE_HINT,
    )


def is_file_id(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class FileChoiceField(forms.ChoiceField):
    """A file of the case by its id, chosen from a list. Any id is taken here: whether it names one of the
    case's files, and one that may be chosen, is the service's to say, so that a file deleted meanwhile is
    a clear refusal (409 in the API, as on the page) rather than a field error."""

    def valid_value(self, value: Any) -> bool:
        return is_file_id(value)


class FileChoicesField(forms.MultipleChoiceField):
    """Files of the case chosen by their ids: offered are those that may be chosen; another file of the
    case is refused here with the reason (``refused``: its id, and why); an id the case does not know is
    the service's to refuse, as for FileChoiceField."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: dict[str, str] = {}

    def valid_value(self, value: Any) -> bool:
        return is_file_id(value)

    def validate(self, value: Any) -> None:
        for chosen in value or []:
            if str(chosen) in self.refused:
                raise ValidationError(self.refused[str(chosen)])
        super().validate(value)


class NoteForm(TextForm):
    body = message_field(
        label="Internal note",
        help_text="Only helpline staff can see internal notes. They are never sent to the reporter, nor to anyone "
        "the case is referred to.",
        what="Internal note",
        required="Enter the internal note",
    )


class AssignForm(GovukForm):
    assignee = forms.ChoiceField(label="Assign to", error_messages={"required": "Choose who to assign the case to"})

    def __init__(self, *args: Any, assignees: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("assignee", [(u, u) for u in assignees])


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(
        label="Priority",
        choices=Case.Priority.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a priority"},
    )


class ConcernTypesForm(forms.Form):
    concern_types = forms.MultipleChoiceField(
        label="Concern types",
        choices=ConcernType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one concern type"},
    )


class AuthorityForm(GovukForm):
    authority = forms.ChoiceField(label="Local authority", error_messages={"required": "Choose the authority"})

    def __init__(self, *args: Any, authorities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("authority", [("", "Choose an authority"), *authorities])


# Why a file of the case cannot be shared with an authority, by its status: only a cleaned file can.
UNSHAREABLE: dict[str, str] = {
    Attachment.Status.PENDING: "it is still being checked",
    Attachment.Status.BLOCKED: "it was blocked by the malware scan",
    Attachment.Status.NOT_CLEANED: "it could not be cleaned of identifying metadata",
    Attachment.Status.REMOVED: "it was removed",
}


class ReferForm(GovukForm):
    """Refer the case to its authority. Offers only what can succeed for this case: "name the organisation"
    only when one was given, and, when no email would reach the authority (no referral inbox, no active
    officer), requires how the helpline will tell it. Never the reporter's identity: that is shared per
    referral afterwards, with their consent or under a legal duty (IdentityConsentForm,
    IdentityDisclosureForm)."""

    # Which authority: the case's own unless another is chosen (a child placed out of area: the placing and
    # the host authority each get a referral, with a summary written for each).
    recipient = forms.ChoiceField(
        label="Refer to",
        help_text="Leave as it is to refer to the case's authority. Choose another to refer the case to it as "
        "well, with a summary written for it. The next page says who was emailed.",
        required=False,
        error_messages={"invalid_choice": "Choose an English children's services authority"},
    )
    summary = CleanTextField(
        label="Summary for the authority",
        help_text="Written for the authority: what the concern is and what you ask them to do. Leave out "
        "anything that could identify the reporter.",
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write a summary for the authority"},
    )
    postcode_district = forms.CharField(
        label="Postcode district (optional)",
        help_text="Where the concern is, as the first half of the postcode only, for example S60. The "
        "authority sees it with the area's name.",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    share_organisation = forms.BooleanField(
        label="Name the organisation the concern is about to the authority", required=False
    )
    how_told = forms.ChoiceField(
        label="How will the helpline make sure the authority knows?",
        widget=forms.RadioSelect,
        required=False,
        choices=list(HOW_TOLD.items()),
        error_messages={"required": "Choose how the helpline will make sure the authority knows of the referral"},
    )
    how_told_note = CleanTextField(
        label="Note for the follow-up",
        help_text="Who you will call or write to, and when. Kept as an internal note; only helpline staff see it.",
        required=False,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write who the helpline will contact at the authority, and when"},
    )
    attachments = FileChoicesField(
        label="Files the authority may see (optional)",
        help_text="Only files that were checked and cleaned can be shared. The authority can open the files you "
        "choose here, and no other.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose files of this case"},
    )

    def __init__(
        self,
        *args: Any,
        case: Case | None = None,
        authorities: list[tuple[str, str]] | None = None,
        case_files: list[tuple[str, str, str]] | None = None,
        file_senders: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offer_files(case_files or [], senders=file_senders or {})
        own = case.authority if case is not None and case.authority else None
        # The case's own authority first, named and chosen (an empty value still means it, for the API).
        others = [(code, name) for code, name in authorities or [] if own is None or code != own.gss_code]
        self.set_choices("recipient", [(own.gss_code, own.name) if own else ("", "Choose an authority"), *others])
        if own is not None:
            self.initial.setdefault("recipient", own.gss_code)
        # Whom it goes to: the authority chosen in what was sent, else the case's own. Whether the helpline
        # must say how it will tell them depends on that authority's inbox and officers.
        self.chosen = own
        if self.is_bound:
            code = str(self.data.get(self.add_prefix("recipient")) or "")
            recipient = cast("forms.ChoiceField", self.fields["recipient"])
            offered = {str(value) for value, _ in cast("list[tuple[str, str]]", recipient.choices)}
            if code in offered and (found := authority_by_code(code)) is not None:
                self.chosen = found
        self.reach = authority_reach(self.chosen) if self.chosen else None
        if case is None:
            return
        report = case.report
        if report is None or not report.organisation_hash:
            del self.fields["share_organisation"]
        if self.reach is None or self.reach.reachable:
            del self.fields["how_told"], self.fields["how_told_note"]
        else:
            self.fields["how_told"].required = True
            self.fields["how_told_note"].required = True

    def offer_files(self, files: list[tuple[str, str, str]], *, senders: dict[str, str] | None = None) -> None:
        """Offer the case's cleaned files (``files``: each file's id, its name as the page shows it and its
        status), each checkbox saying who sent the file (``senders``, by id: "sent by the reporter"); any other
        file of the case is refused with the reason it cannot be shared, which the page also says beside the
        choices (``not_shareable``: a removed file aside)."""
        field = cast("FileChoicesField", self.fields["attachments"])
        sent_by = senders or {}
        field.choices = [
            (public_id, f"{label}, {sent_by[public_id]}" if public_id in sent_by else label)
            for public_id, label, status in files
            if status == Attachment.Status.CLEAN
        ]
        others = [(public_id, label, status) for public_id, label, status in files if status != Attachment.Status.CLEAN]
        field.refused = {
            public_id: f"{label} cannot be shared: {UNSHAREABLE.get(status, UNSHAREABLE[Attachment.Status.REMOVED])}"
            for public_id, label, status in others
        }
        self.not_shareable = [
            (label, UNSHAREABLE[status]) for _, label, status in others if status != Attachment.Status.REMOVED
        ]

    def clean_postcode_district(self) -> str:
        try:
            return postcode_district_clean(self.cleaned_data.get("postcode_district") or "")
        except ActionNotAllowed as refused:
            raise forms.ValidationError(str(refused)) from refused


class QuestionChoiceForm(GovukForm):
    """A form about one of the authority's unanswered questions (the newest first)."""

    # A number chosen from a list: whether it is one of this case's questions is the service's to say
    # (the API takes the same number), so a question answered meanwhile is a clear refusal, not a 400.
    question = forms.IntegerField(
        label="Which question",
        min_value=1,
        max_value=2**62,
        widget=forms.Select,
        error_messages={"required": "Choose the question", "invalid": "Choose the question from the list"},
    )

    def __init__(self, *args: Any, questions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["question"].widget.choices = questions
        if len(questions) == 1 and not self.is_bound:
            self.initial["question"] = questions[0][0]


class AuthorityReplyForm(QuestionChoiceForm):
    body = message_field(
        label="Your reply to the authority",
        help_text="The authority reads this. Pass on only what it needs from the reporter's answers, and "
        "nothing that could identify them.",
        what="Reply",
        required="Write your reply to the authority",
    )

    def __init__(self, *args: Any, addressee: str = SOME_AUTHORITY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        body = self.fields["body"]
        body.label = f"Your reply to {addressee}"
        body.help_text = (
            f"{capfirst(addressee)} reads this. Pass on only what it needs from the reporter's answers, and "
            "nothing that could identify them."
        )
        body.error_messages["required"] = f"Write your reply to {addressee}"


class RelayToReporterForm(QuestionChoiceForm):
    body = message_field(
        label="Your message to the reporter",
        help_text="The reporter reads this on their follow-up page. Ask in your own words what the "
        "authority needs to know.",
        what="Message",
        required="Write the message to the reporter",
    )

    def __init__(self, *args: Any, addressee: str = SOME_AUTHORITY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        body = self.fields["body"]
        body.help_text = (
            f"The reporter reads this on their follow-up page. Ask in your own words what {addressee} needs to know."
        )


class AuthorityUpdateForm(GovukForm):
    # Asked only while the case is with more than one authority: the update is written for one of them.
    recipient = forms.ChoiceField(
        label="Which authority",
        required=False,
        error_messages={"invalid_choice": "Choose an authority the case is referred to"},
    )
    summary = CleanTextField(
        label="Update for the authority",
        help_text="Written for the authority: what is new since the referral. Leave out anything that "
        "could identify the reporter.",
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write the update for the authority"},
    )

    def __init__(
        self,
        *args: Any,
        recipients: list[tuple[str, str]] | None = None,
        addressee: str = SOME_AUTHORITY,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        recipients = recipients or []
        if len(recipients) > 1:
            self.set_choices("recipient", [("", "Choose an authority"), *recipients])
            self.fields["recipient"].required = True
            self.fields["recipient"].error_messages["required"] = "Choose which authority to update"
        else:
            # One authority (or none): the update goes to it.
            del self.fields["recipient"]
        summary = self.fields["summary"]
        summary.label = f"Update for {addressee}"
        summary.help_text = (
            f"Written for {addressee}: what is new since the referral. Leave out anything that could identify "
            "the reporter."
        )
        summary.error_messages["required"] = f"Write the update for {addressee}"


# Escalate's routes, and the fields each asks for (shown under its radio: GovukForm.reveals).
ESCALATION_ROUTES = {"national_review": "Independent national review", "police": "The police"}
ROUTE_FIELDS: dict[str, tuple[str, ...]] = {
    "national_review": ("reason",),
    "police": ("force", "how_sent", "crime_reference"),
}


class EscalateForm(GovukForm):
    """Send the case to independent national review, with the reason the review team reads, or record that
    it was passed to a police force: which, how, and the crime reference when the force gave one. Nothing
    about the case is emailed to either. Each route's fields are shown under its radio and count only for
    it; a route the case cannot take now (``routes``: independent review once the case is under review) is
    not offered, and with one route left the form asks only for its fields."""

    reveals = {"route": ROUTE_FIELDS}

    route = forms.ChoiceField(
        label="Escalate to",
        widget=forms.RadioSelect,
        choices=list(ESCALATION_ROUTES.items()),
        error_messages={
            "required": "Choose where to escalate the case",
            "invalid_choice": "Choose where to escalate the case from the list",
        },
    )
    reason = CleanTextField(
        label="Why the case needs independent review",
        help_text="The review team reads this. Say what the concern is about, why it cannot go to the council, "
        "and what you ask the team to look at. Leave out anything that could identify the reporter.",
        required=False,
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    force = forms.ChoiceField(
        label="Which police force",
        required=False,
        error_messages={"invalid_choice": "Choose a police force from the list"},
    )
    how_sent = forms.ChoiceField(
        label="How the case was passed to the police",
        help_text="Never by an email with case details in it.",
        widget=forms.RadioSelect,
        required=False,
        choices=[("telephone", HOW_SENT["telephone"]), ("secure_channel", "Through the force's own secure channel")],
        error_messages={"invalid_choice": "Choose how the case was passed to the police"},
    )
    crime_reference = forms.CharField(
        label="Crime reference (optional)",
        help_text="The reference the force gave, if it gave one.",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": "The crime reference must be 64 characters or fewer"},
    )

    def __init__(
        self,
        *args: Any,
        forces: list[tuple[str, str]] | None = None,
        routes: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("force", [("", "Choose a police force"), *(forces or [])])
        offered = [route for route in ESCALATION_ROUTES if routes is None or route in routes]
        self.set_choices("route", [(route, ESCALATION_ROUTES[route]) for route in offered])
        for route, names in ROUTE_FIELDS.items():
            if route not in offered:
                for name in names:
                    del self.fields[name]
        if "national_review" not in offered:
            self.fields["route"].error_messages["invalid_choice"] = (
                "The case is already under independent national review: escalate it to the police"
            )
        if len(offered) == 1:
            # One way left: no question to ask, only that route's fields.
            self.fields["route"].widget = forms.HiddenInput()
            self.initial["route"] = offered[0]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        route = cleaned.get("route")
        # Only the chosen route's fields count: what was typed under another (then left) is dropped.
        for other, names in ROUTE_FIELDS.items():
            if other != route:
                for name in names:
                    self.errors.pop(name, None)
                    cleaned.pop(name, None)
        if route == "national_review" and not str(cleaned.get("reason") or "").strip():
            self.add_error("reason", "Write why the case needs independent review")
        if route == "police":
            if not cleaned.get("force") and "force" not in self.errors:
                self.add_error("force", "Choose which police force")
            if not cleaned.get("how_sent") and "how_sent" not in self.errors:
                self.add_error("how_sent", "Choose how the case was passed to the police")
        return cleaned


class ReferNationalBodyForm(GovukForm):
    """Record that the case was referred to a national body with no accounts here (Ofsted, the Care Quality
    Commission, the Child Safeguarding Practice Review Panel): which, how it was passed on (never by an email
    with case details), the reference the body gave, and what the helpline passed on (sealed; the body is sent
    nothing by this service)."""

    national_body = forms.ChoiceField(
        label="Which national body",
        help_text="Ofsted for a systemic failure in a council's children's services, the Care Quality Commission "
        "for a health setting, the Child Safeguarding Practice Review Panel for a serious incident. For the "
        "police, use Escalate.",
        error_messages={
            "required": "Choose which national body the case was referred to",
            "invalid_choice": "Choose a national body from the list",
        },
    )
    how_sent = forms.ChoiceField(
        label="How the case was passed to them",
        help_text="Never by an email with case details in it.",
        widget=forms.RadioSelect,
        choices=list(HOW_SENT.items()),
        error_messages={
            "required": "Choose how the case was passed to the national body",
            "invalid_choice": "Choose how the case was passed to the national body from the list",
        },
    )
    reference = forms.CharField(
        label="Their reference (optional)",
        help_text="The reference the body gave, if it gave one.",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": "The reference must be 64 characters or fewer"},
    )
    summary = CleanTextField(
        label="What was passed on",
        help_text="A short record of what you told them, for the helpline. Only helpline staff read it here: "
        "this service sends the body nothing.",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Write what was passed on to the national body",
            "max_length": f"What was passed on must be {MESSAGE_MAX:,} characters or fewer",
        },
    )

    def __init__(self, *args: Any, bodies: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("national_body", [("", "Choose a national body"), *(bodies or [])])


class LinkForm(forms.Form):
    other = forms.CharField(
        label="Case number of the duplicate",
        help_text="Or the reporter's reference, for example HX7K-29QM",
        max_length=16,
        error_messages={"required": "Enter the case number"},
    )

    def __init__(self, *args: Any, find: Callable[[str], object | None] | None = None, **kwargs: Any) -> None:
        """``find`` looks a case number or reference up among the cases the user may open."""
        super().__init__(*args, **kwargs)
        self._find = find

    def clean_other(self) -> str:
        other = str(self.cleaned_data["other"])
        if self._find is not None and self._find(other) is None:
            raise ValidationError("There is no case with that number or reference. Check it and try again.")
        return other


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose an outcome"), *Outcome.choices],
        error_messages={"required": "Choose an outcome"},
    )
    feedback = CleanTextField(
        label="Feedback for the reporter",
        help_text="The reporter reads this on their follow-up page.",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write the feedback the reporter will read"},
    )
    confirm = forms.BooleanField(
        label="Yes, close this case. The reporter will read the feedback.",
        error_messages={"required": "Confirm that you want to close this case"},
    )

    def __init__(self, *args: Any, no_reporter: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if no_reporter:  # a national review case: nobody reported it, and its closing words stay a sealed note
            self.fields["feedback"].label = "What the review concluded"
            self.fields["feedback"].help_text = "Kept as an internal note on the case. There is no reporter to read it."
            self.fields["feedback"].error_messages["required"] = "Write what the review concluded"
            self.fields["confirm"].label = "Yes, close this case."


class DeleteAttachmentForm(GovukForm):
    """Delete a file of the case for good (a supervisor's action): which, and why."""

    attachment = FileChoiceField(
        label="Which file",
        error_messages={"required": "Choose the file to delete", "invalid_choice": "Choose a file of this case"},
    )
    reason = CleanTextField(
        label="Why is the file being deleted?",
        help_text="Kept as an internal note. The file's content is deleted for good: nobody can open it again.",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the file is being deleted"},
    )

    def __init__(self, *args: Any, case_files: list[tuple[str, str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        deletable = [(public_id, label) for public_id, label, status in case_files or [] if status in DELETABLE]
        self.set_choices("attachment", [("", "Choose a file"), *deletable])


class ReopenForm(forms.Form):
    reason = CleanTextField(
        label="Why is the case being reopened?",
        help_text="Kept as an internal note. Only helpline staff can see it.",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the case is being reopened"},
    )


# The legal bases a supervisor chooses from; "shared as evidence" is the evidence export's own, recorded by it.
HOLD_BASES = [(value, label) for value, label in LegalHold.Basis.choices if value != LegalHold.Basis.EVIDENCE_EXPORT]
HOLD_BASIS_HINTS: dict[str, str] = {
    LegalHold.Basis.INQUIRY_NOTICE: "From the statutory inquiry or one of its local investigations, for example a "
    "notice under section 21.",
    LegalHold.Basis.COURT_ORDER: "An order to keep or produce the case's records.",
    LegalHold.Basis.POLICE_REQUEST: "From a police force or the national police operation.",
    LegalHold.Basis.LITIGATION: "Proceedings the helpline is part of, or expects to be.",
    LegalHold.Basis.OTHER: "Say which in the reference below.",
}
HOLD_REASON_MAX = 200


class LegalHoldForm(GovukForm):
    """Put a case on legal hold (a supervisor's action): the legal basis, and the notice's or order's
    reference, which is sealed like everything people write."""

    basis = HintedChoiceField(
        label="Why must the case be kept?",
        item_hints=HOLD_BASIS_HINTS,
        choices=HOLD_BASES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the legal basis for the hold",
            "invalid_choice": "Choose the legal basis for the hold from the list",
        },
    )
    reason = CleanTextField(
        label="Reference of the notice, order or request",
        help_text="For example, the inquiry's notice number or the crime reference. Do not describe the concern: "
        "the case holds that already.",
        max_length=HOLD_REASON_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the reference of the notice, order or request",
            "max_length": f"The reference must be {HOLD_REASON_MAX} characters or fewer",
        },
    )


class HoldReleaseForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, release the hold. The retention schedule applies to this case again.",
        error_messages={"required": "Confirm that you want to release the hold"},
    )


def _known_field(label: str, help_text: str = "") -> forms.ChoiceField:
    """A yes, no or not known question; left unanswered it is not known."""
    return forms.ChoiceField(
        label=label,
        help_text=help_text,
        choices=Known.choices,
        widget=forms.RadioSelect,
        required=False,
        initial=Known.NOT_KNOWN,
        error_messages={"invalid_choice": "Choose yes, no or not known"},
    )


def _count_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=SUSPECTS_MAX,
        error_messages={
            "invalid": f"Enter a whole number of suspects for {label}, or leave it empty",
            "min_value": f"Enter a number of suspects from 0 to {SUSPECTS_MAX}",
            "max_value": f"Enter a number of suspects from 0 to {SUSPECTS_MAX}",
        },
    )


# The rules between the record's answers (the staff API's schema cannot state them: its tests name them).
PLACING_ONLY_OUT_OF_AREA = "Choose the placing authority only when the child is placed out of area"
SUSPECTS_BEFORE_COUNTS = "Enter how many suspects there are before counting them by "
COUNTS_OVER_SUSPECTS = "Change the number of suspects or the counts"

ETHNICITY_FIELDS = {f"ethnicity_{code}": code for code, _ in ETHNICITY_ANSWERS}
NATIONALITY_FIELDS = {f"nationality_{code}": code for code, _ in NATIONALITY_ANSWERS}


class RecordFactsFields(GovukForm):
    """What the helpline knows about the case for the national picture (triage/facts.py). Every answer is
    optional and starts as not known; the form shows what is recorded, and saving it replaces the record
    (the staff API alike: a field left out is recorded as not known). Codes and counts only."""

    ofsted_class = forms.ChoiceField(
        label="Ofsted's classification",
        choices=[("", "Not known"), *OfstedClass.choices],
        required=False,
        error_messages={"invalid_choice": "Choose one of Ofsted's classifications, or not known"},
    )
    group_based = _known_field("Group-based exploitation", "More than one perpetrator")
    settings = forms.MultipleChoiceField(
        label="Settings (optional)",
        help_text="Where it happened or began. Choose all that apply; none chosen means not known.",
        choices=Setting.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose settings from the list"},
    )
    looked_after = _known_field("Is the child looked after?")
    placed_out_of_area = _known_field("Is the child placed out of area?")
    placing_authority = forms.ChoiceField(
        label="Which authority placed the child? (optional)",
        help_text="Only for a child placed out of area. The case can be referred to both authorities.",
        required=False,
        error_messages={"invalid_choice": "Choose an English children's services authority"},
    )
    missing_episodes = _known_field("Has the child had missing episodes?")
    suspects = forms.IntegerField(
        label="How many suspects? (optional)",
        help_text="Leave empty if not known. Suspects not counted by ethnicity or nationality below are "
        "counted as not known.",
        required=False,
        min_value=0,
        max_value=SUSPECTS_MAX,
        error_messages={
            "invalid": "Enter the number of suspects as a whole number, or leave it empty",
            "min_value": f"Enter a number of suspects from 0 to {SUSPECTS_MAX}",
            "max_value": f"Enter a number of suspects from 0 to {SUSPECTS_MAX}",
        },
    )

    def __init__(
        self,
        *args: Any,
        authorities: list[tuple[str, str]] | None = None,
        facts: CaseFacts | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.set_choices("placing_authority", [("", "Not known"), *(authorities or [])])
        if facts is not None and not self.is_bound:
            self.initial.update(facts_initial(facts))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("group_based", "looked_after", "placed_out_of_area", "missing_episodes"):
            if name in cleaned and not cleaned[name]:
                cleaned[name] = Known.NOT_KNOWN
        if cleaned.get("placing_authority") and cleaned.get("placed_out_of_area") != Known.YES:
            self.add_error("placing_authority", PLACING_ONLY_OUT_OF_AREA)
        suspects = cleaned.get("suspects")
        for what, fields in (("ethnicity", ETHNICITY_FIELDS), ("nationality", NATIONALITY_FIELDS)):
            total = sum(cleaned.get(name) or 0 for name in fields)
            if total and "suspects" in cleaned and suspects is None:
                self.add_error("suspects", SUSPECTS_BEFORE_COUNTS + what)
            elif suspects is not None and total > suspects:
                self.add_error(
                    "suspects",
                    f"The counts by {what} add up to {total}: more than the {suspects} suspects. "
                    + COUNTS_OVER_SUSPECTS,
                )
        return cleaned


# The form, with a count field per category after the fields above (ethnicity_<code>, nationality_<code>):
# a field each, so that the page, the API and its schema treat each count like any other field.
RecordFactsForm = cast(
    "type[RecordFactsFields]",
    type(
        "RecordFactsForm",
        (RecordFactsFields,),
        {
            "__module__": __name__,
            **{name: _count_field(label) for name, (_, label) in zip(ETHNICITY_FIELDS, ETHNICITY_ANSWERS, strict=True)},
            **{
                name: _count_field(label)
                for name, (_, label) in zip(NATIONALITY_FIELDS, NATIONALITY_ANSWERS, strict=True)
            },
        },
    ),
)


def facts_initial(facts: CaseFacts) -> dict[str, Any]:
    """The form's answers for what is recorded, so that saving it again changes nothing."""
    initial: dict[str, Any] = {
        "ofsted_class": facts.ofsted_class,
        "group_based": facts.group_based,
        "settings": list(facts.settings),
        "looked_after": facts.looked_after,
        "placed_out_of_area": facts.placed_out_of_area,
        "placing_authority": facts.placing_authority.gss_code if facts.placing_authority else "",
        "missing_episodes": facts.missing_episodes,
        "suspects": facts.suspects,
    }
    for fields, counts in (
        (ETHNICITY_FIELDS, facts.suspect_ethnicity),
        (NATIONALITY_FIELDS, facts.suspect_nationality),
    ):
        initial.update({name: counts[code] for name, code in fields.items() if code in counts})
    return initial


# --- the reporter's identity ------------------------------------------------------------------------------

IDENTITY_ITEM_CHOICES = [("name", "Their name"), ("phone", "Their telephone number"), ("email", "Their email address")]
LEGAL_REFERENCE_MAX = 200


class RevealContactForm(GovukForm):
    """Show a confidential or named reporter's contact details, with the reason: an audit event."""

    reason = forms.ChoiceField(
        label="Why do you need to see the reporter's contact details?",
        help_text="Showing them is recorded with your reason, and supervisors can see who saw them and why.",
        choices=list(REVEAL_REASONS.items()),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose why you need to see the contact details",
            "invalid_choice": "Choose why you need to see the contact details from the list",
        },
    )


class ReferralChoiceForm(GovukForm):
    """A form about one of the case's referrals, chosen by its number (the API takes the same number; whether
    it is this case's is the service's to say)."""

    referral = forms.IntegerField(
        label="Which referral",
        min_value=1,
        max_value=2**62,
        widget=forms.Select,
        error_messages={"required": "Choose the referral", "invalid": "Choose the referral from the list"},
    )

    def __init__(self, *args: Any, referrals: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referral"].widget.choices = referrals
        if len(referrals) == 1 and not self.is_bound:
            self.initial["referral"] = referrals[0][0]


class IdentityConsentForm(ReferralChoiceForm):
    """Ask the reporter, through their mailbox, whether one referral's recipient may have some of their
    details: the question names exactly what and with whom, and they answer yes or no on /check."""

    covers = forms.MultipleChoiceField(
        label="What would be shared",
        help_text="Only what the recipient needs. The reporter is asked about exactly this, for this referral only.",
        choices=IDENTITY_ITEM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose what would be shared",
            "invalid_choice": "Choose what would be shared from the list",
        },
    )


class IdentityDisclosureForm(IdentityConsentForm):
    """Propose sharing the reporter's identity with one referral's recipient without their consent, under a
    legal duty (a supervisor's; a second supervisor approves). The reporter is told afterwards."""

    basis = forms.ChoiceField(
        label="The legal duty",
        choices=[("immediate_risk", "A child is at immediate risk of harm"), ("court_order", "A court ordered it")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the legal duty",
            "invalid_choice": "Choose the legal duty from the list",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not asked: under a legal duty the reporter is told afterwards, in their mailbox.
        self.fields["covers"].help_text = (
            "Only what the recipient needs, for this referral only. The reporter is told afterwards what was shared, "
            "with whom and why."
        )

    legal_reference = CleanTextField(
        label="Reference of the order or the safeguarding decision",
        help_text="For example, the court order's number, or the strategy discussion's date and reference. Do not "
        "describe the concern.",
        max_length=LEGAL_REFERENCE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the reference of the order or the safeguarding decision",
            "max_length": f"The reference must be {LEGAL_REFERENCE_MAX} characters or fewer",
        },
    )


class IdentityDecisionForm(GovukForm):
    """A second supervisor approves or refuses a proposed legal-duty sharing (never the one who proposed it)."""

    proposal = forms.IntegerField(
        label="Which proposal",
        min_value=1,
        max_value=2**62,
        widget=forms.Select,
        error_messages={"required": "Choose the proposal", "invalid": "Choose the proposal from the list"},
    )
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("approve", "Approve: share it now and tell the reporter"), ("refuse", "Refuse: nothing is shared")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose approve or refuse", "invalid_choice": "Choose approve or refuse"},
    )

    def __init__(self, *args: Any, proposals: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["proposal"].widget.choices = proposals
        if len(proposals) == 1 and not self.is_bound:
            self.initial["proposal"] = proposals[0][0]

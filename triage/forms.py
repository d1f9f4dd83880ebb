from django import forms

from reports.forms import DETAILS_MAX, MESSAGE_MAX, clean_text
from reports.models import ConcernType
from triage.models import Case, Outcome
from triage.selectors import PAGE_SIZES, SORTS


class CaseFilterForm(forms.Form):
    search = forms.CharField(label="Reference or case number", required=False, max_length=20)
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
        label="Per page", required=False, coerce=int, choices=[(n, str(n)) for n in PAGE_SIZES], empty_value=None
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: object,
        queues: list[tuple[str, str]],
        authorities: list[tuple[str, str]],
        assignees: list[str],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["queue"].choices = [("", "All queues"), *queues]  # type: ignore[attr-defined]
        self.fields["authority"].choices = [("", "Any"), ("unknown", "Not known"), *authorities]  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [("", "Anyone"), ("none", "Nobody"), *((u, u) for u in assignees)]  # type: ignore[attr-defined]

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or "deadline"
        return sort if sort in SORTS else "deadline"


class TextForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter the text",
            "max_length": f"Text must be {MESSAGE_MAX:,} characters or fewer",
        },
    )

    def clean_body(self) -> str:
        value = clean_text(self.cleaned_data["body"])
        if not value:
            raise forms.ValidationError("Enter the text")
        return value


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label="Assign to", error_messages={"required": "Choose who to assign the case to"})

    def __init__(self, *args: object, assignees: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["assignee"].choices = [(u, u) for u in assignees]  # type: ignore[attr-defined]


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


class AuthorityForm(forms.Form):
    authority = forms.ChoiceField(label="Local authority", error_messages={"required": "Choose the authority"})

    def __init__(self, *args: object, authorities: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["authority"].choices = [("", "Choose an authority"), *authorities]  # type: ignore[attr-defined]


class ReferForm(forms.Form):
    summary = forms.CharField(
        label="Summary for the authority",
        help_text="Written for the authority: what the concern is and what you ask them to do. Leave out "
        "anything that could identify the reporter.",
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write a summary for the authority"},
    )
    share_identity = forms.BooleanField(
        label="The reporter is named and has agreed that their identity may be shared with the authority",
        required=False,
    )

    def clean_summary(self) -> str:
        value = clean_text(self.cleaned_data["summary"])
        if not value:
            raise forms.ValidationError("Write a summary for the authority")
        return value


class EscalateForm(forms.Form):
    route = forms.ChoiceField(
        label="Escalate to",
        widget=forms.RadioSelect,
        choices=[("national_review", "Independent national review"), ("police", "The police")],
        error_messages={"required": "Choose where to escalate the case"},
    )


class LinkForm(forms.Form):
    other = forms.CharField(
        label="Case number of the duplicate", max_length=16, error_messages={"required": "Enter the case number"}
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("", "Choose an outcome"), *Outcome.choices],
        error_messages={"required": "Choose an outcome"},
    )
    feedback = forms.CharField(
        label="Feedback for the reporter",
        help_text="The reporter reads this on their follow-up page.",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write the feedback the reporter will read"},
    )

    def clean_feedback(self) -> str:
        value = clean_text(self.cleaned_data["feedback"])
        if not value:
            raise forms.ValidationError("Write the feedback the reporter will read")
        return value

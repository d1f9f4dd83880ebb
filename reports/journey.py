"""The question pages as data: which step comes next, what to show on check-your-answers, and how
the answers become a ReportInput. Answers live in the sealed draft (reports/drafts.py) between pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from directory.contacts import AuthorityContacts, authority_contacts
from directory.lookup import authority_by_code
from reports import forms as report_forms
from reports.models import AlreadyReported, Anonymity, ConcernType, PriorReportBy, RaisedInternally, ReporterSector
from reports.services import Contact, PriorReport, ReportInput

Answers = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Step:
    slug: str
    form_class: type[forms.Form]
    title: str

    def applies(self, answers: Answers) -> bool:
        if self.slug == "council":
            where = answers.get("where", {})
            return bool((where.get("candidates") is not None or where.get("conflict")) and not where.get("council"))
        if self.slug == "contact":
            return answers.get("anonymity", {}).get("anonymity") not in (None, Anonymity.ANONYMOUS)
        return True


STEPS = [
    Step("anonymity", report_forms.AnonymityForm, "How do you want to report your concern?"),
    Step("about-you", report_forms.SectorForm, "Where do you work?"),
    Step("concern", report_forms.ConcernTypesForm, "What is your concern about?"),
    Step("where", report_forms.WhereForm, "Where is the concern?"),
    Step("council", report_forms.CouncilChoiceForm, "Which council is it?"),
    Step("about-council", report_forms.AboutCouncilForm, "Is your concern about a council?"),
    Step("organisation", report_forms.OrganisationForm, "Which organisation is your concern about?"),
    Step("what-happened", report_forms.WhatHappenedForm, "What happened?"),
    Step("raised-internally", report_forms.RaisedInternallyForm, "Was the concern raised inside the organisation?"),
    Step("reported", report_forms.AlreadyReportedForm, "Has anyone reported this to the police or the council?"),
    Step("immediate-risk", report_forms.ImmediateRiskForm, "Is a child at immediate risk of harm?"),
    Step("contact", report_forms.ContactForm, "Your contact details"),
]
STEP_BY_SLUG = {step.slug: step for step in STEPS}


def next_step(answers: Answers, after: str | None = None) -> str:
    """The first applicable step without an answer after ``after``, or "check" when none is left."""
    started = after is None
    for step in STEPS:
        if not started:
            started = step.slug == after
            continue
        if step.applies(answers) and step.slug not in answers:
            return step.slug
    return first_missing(answers) or "check"


# "Do you have documents, photos or recordings?": asked once the questions are answered, before check your
# answers. Not one of STEPS (the phone form is built from those) and never required: a report without files
# is complete, and check your answers offers the page again.
DOCUMENTS = "documents"


def documents_seen(answers: Answers) -> bool:
    return bool(answers.get(DOCUMENTS, {}).get("seen"))


def after_questions(answers: Answers) -> str:
    """Where a reporter goes once every question is answered: the documents page the first time, then check
    your answers."""
    return "check" if documents_seen(answers) else DOCUMENTS


def last_step(answers: Answers) -> str:
    """The last question that applies (the documents page's way back)."""
    return [step.slug for step in STEPS if step.applies(answers)][-1]


def first_missing(answers: Answers) -> str | None:
    for step in STEPS:
        if step.applies(answers) and step.slug not in answers:
            return step.slug
    return None


def previous_step(answers: Answers, slug: str) -> str | None:
    previous = None
    for step in STEPS:
        if step.slug == slug:
            return previous
        if step.applies(answers):
            previous = step.slug
    return None


def form_kwargs(slug: str, answers: Answers) -> dict[str, Any]:
    if slug == "council":
        where = answers.get("where", {})
        codes = where.get("candidates") or []
        conflict = where.get("conflict")
        return {
            "candidates": [(code, name) for code, name in codes],
            "conflict": report_forms.CouncilConflict.from_answer(conflict) if conflict else None,
        }
    return {}


def answers_from_form(slug: str, form: forms.Form, answers: Answers) -> Answers:
    """Store a step's cleaned answers (JSON only); some steps change what later steps need."""
    data = {key: value for key, value in form.cleaned_data.items()}
    updated = dict(answers)
    if slug == "where":
        lookup = getattr(form, "lookup", None)
        conflict = getattr(form, "conflict", None)
        data["candidates"] = None
        data["conflict"] = None
        if conflict is not None:
            # The postcode is in another council than the one chosen: the "council" step asks which is right.
            data["council"] = ""
            data["conflict"] = conflict.as_answer()
        elif lookup is not None and lookup.kind == "resolved" and lookup.authority:
            data["council"] = lookup.authority.gss_code
        elif lookup is not None:
            data["council"] = ""
            data["candidates"] = [[a.gss_code, a.name] for a in lookup.candidates]
        updated.pop("council", None)
    if slug == "council":
        data = {"council": data.get("council") or data.get("other_council")}
    if slug == "anonymity" and data.get("anonymity") == Anonymity.ANONYMOUS:
        updated.pop("contact", None)
    updated[slug] = data
    return updated


def chosen_authority_code(answers: Answers) -> str | None:
    code = answers.get("council", {}).get("council") or answers.get("where", {}).get("council")
    if not code or code == report_forms.UNKNOWN_AUTHORITY:
        return None
    return str(code)


def duty_contacts(answers: Answers) -> AuthorityContacts | None:
    """The chosen council's numbers, for where to make a mandatory report (None when it is not known)."""
    code = chosen_authority_code(answers)
    return authority_contacts(authority_by_code(code)) if code else None


def authority_name(code: str | None) -> str:
    if not code:
        return "Not known"
    authority = authority_by_code(code)
    return authority.name if authority else "Not known"


@dataclass(frozen=True)
class SummaryRow:
    key: str
    value: str
    step: str


def summary_rows(answers: Answers) -> list[SummaryRow]:
    def get(step: str, key: str) -> Any:
        return answers.get(step, {}).get(key)

    concern_labels = dict(ConcernType.choices)
    about = get("about-council", "about_council")
    rows = [
        SummaryRow(
            "How you are reporting", dict(Anonymity.choices).get(get("anonymity", "anonymity"), ""), "anonymity"
        ),
        SummaryRow(
            "Where you work", dict(ReporterSector.choices).get(get("about-you", "reporter_sector"), ""), "about-you"
        ),
        SummaryRow(
            "What the concern is about",
            "\n".join(concern_labels.get(code, code) for code in get("concern", "concern_types") or []),
            "concern",
        ),
        SummaryRow("Council area", authority_name(chosen_authority_code(answers)), "where"),
        SummaryRow(
            "About a council",
            f"Yes: {authority_name(get('about-council', 'which_council'))}" if about == "yes" else "No",
            "about-council",
        ),
        SummaryRow("Organisation", get("organisation", "organisation_name") or "Not given", "organisation"),
        SummaryRow("Summary", get("what-happened", "summary") or "", "what-happened"),
        SummaryRow("What happened", get("what-happened", "details") or "", "what-happened"),
        SummaryRow(
            "Raised inside the organisation",
            dict(RaisedInternally.choices).get(get("raised-internally", "raised_internally"), ""),
            "raised-internally",
        ),
        SummaryRow(
            "What came of it", get("raised-internally", "internal_response") or "Not given", "raised-internally"
        ),
        SummaryRow("Reported to the police or the council", prior_report_text(answers), "reported"),
        SummaryRow(
            "A child at immediate risk",
            "Yes" if get("immediate-risk", "child_at_immediate_risk") == "yes" else "No",
            "immediate-risk",
        ),
    ]
    if STEP_BY_SLUG["contact"].applies(answers):
        rows += [
            SummaryRow("Your name", get("contact", "name") or "", "contact"),
            SummaryRow("Email address", get("contact", "email") or "Not given", "contact"),
            SummaryRow("Phone number", get("contact", "phone") or "Not given", "contact"),
        ]
    return rows


def prior_report(answers: Answers) -> PriorReport:
    """The "Did you report it?" answer as the service takes it: not answered is "not known"."""
    given = answers.get("reported", {})
    choice = given.get("already_reported") or ""
    details = any(given.get(name) for name in ("reported_to", "reported_on", "reported_reference"))
    if choice in (report_forms.PRIOR_NO, report_forms.PRIOR_NOT_KNOWN) or not (choice or details):
        return PriorReport(answer=AlreadyReported.NO if choice == report_forms.PRIOR_NO else AlreadyReported.NOT_KNOWN)
    # Yes, or no answer but who, when or the reference given: it was reported (by whom, not said).
    by = {
        report_forms.PRIOR_BY_ME: PriorReportBy.REPORTER,
        report_forms.PRIOR_BY_SOMEONE_ELSE: PriorReportBy.SOMEONE_ELSE,
    }
    return PriorReport(
        answer=AlreadyReported.YES,
        by=by.get(choice, ""),
        to=str(given.get("reported_to") or ""),
        on=str(given.get("reported_on") or ""),
        reference=str(given.get("reported_reference") or ""),
    )


def prior_report_text(answers: Answers) -> str:
    """The answer in words, for check-your-answers (in the reporter's words)."""
    choice = answers.get("reported", {}).get("already_reported") or ""
    labels = dict(report_forms.PRIOR_CHOICES)
    prior = prior_report(answers)
    if prior.answer != AlreadyReported.YES:
        return str(labels.get(choice, "Not answered"))
    return ", ".join(part for part in (labels.get(choice, "Yes"), prior.where_and_when()) if part)


def report_input(answers: Answers) -> ReportInput:
    """Turn complete answers into the service's input. Call only when first_missing() is None."""

    def get(step: str, key: str, default: Any = "") -> Any:
        return answers.get(step, {}).get(key, default)

    anonymity = get("anonymity", "anonymity")
    about_code = get("about-council", "which_council") if get("about-council", "about_council") == "yes" else None
    contact = Contact()
    if anonymity != Anonymity.ANONYMOUS:
        contact = Contact(name=get("contact", "name"), email=get("contact", "email"), phone=get("contact", "phone"))
    local_code = chosen_authority_code(answers)
    return ReportInput(
        anonymity=anonymity,
        reporter_sector=get("about-you", "reporter_sector"),
        concern_types=tuple(get("concern", "concern_types", [])),
        local_authority=authority_by_code(local_code) if local_code else None,
        about_authority=authority_by_code(about_code) if about_code else None,
        organisation_name=get("organisation", "organisation_name"),
        summary=get("what-happened", "summary"),
        details=get("what-happened", "details"),
        child_at_immediate_risk=get("immediate-risk", "child_at_immediate_risk") == "yes",
        raised_internally=get("raised-internally", "raised_internally"),
        internal_response=get("raised-internally", "internal_response"),
        contact=contact,
        already_reported=prior_report(answers),
    )

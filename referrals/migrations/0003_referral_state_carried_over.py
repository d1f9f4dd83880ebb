"""Each referral carries its own state: status, clocks, outcome, escalation ladder, and its thread.

Until now the authority's side lived on the case (referred_at, the acknowledgement and outcome clocks, what
the authority recorded) and the thread hung off the case. A case marked referred without a referral row
gets one, with no summary (none was kept). Each case's state moves onto its latest referral;
an earlier referral of the same case (made before a reopen) was superseded and is withdrawn; each thread
entry goes to the referral that was current when it was written; the ladder's authority steps move to the
referral's own ladder. Triage's migration 0014 then drops the case's columns."""

from django.db import migrations

from core.calendar import working_days_after

ACK, ACK_ESCALATE, OUTCOME, OUTCOME_ESCALATE = 1, 3, 45, 47
AUTHORITY_STEPS = ("ack_overdue", "ack_overdue_national", "outcome_overdue", "outcome_overdue_national")


def _clocks(referral, case=None) -> None:
    """The clocks of one referral: the case's, for the referral they belonged to, else from its own date."""
    start = referral.referred_at
    referral.ack_due_at = (case and case.authority_ack_due_at) or working_days_after(start, ACK)
    referral.ack_escalate_at = (case and case.authority_ack_escalate_at) or working_days_after(start, ACK_ESCALATE)
    referral.outcome_due_at = (case and case.authority_outcome_due_at) or working_days_after(start, OUTCOME)
    referral.outcome_escalate_at = (case and case.authority_outcome_escalate_at) or working_days_after(
        start, OUTCOME_ESCALATE
    )


def _current_state(referral, case) -> None:
    referral.acknowledged_at = case.authority_acknowledged_at
    referral.outcome = case.authority_outcome
    referral.outcome_at = case.authority_outcome_at
    referral.escalated = case.escalated
    if case.authority_outcome_at is not None:
        referral.status = "outcome_recorded"
    elif case.status != "referred":
        referral.status = "withdrawn"
        referral.withdrawn_at = case.closed_at or referral.referred_at
    elif case.authority_acknowledged_at is not None:
        referral.status = "acknowledged"
    else:
        referral.status = "awaiting_acknowledgement"


def carry_over(apps, schema_editor) -> None:
    Case = apps.get_model("triage", "Case")
    Referral = apps.get_model("referrals", "Referral")
    AuthorityAction = apps.get_model("referrals", "AuthorityAction")
    Escalation = apps.get_model("triage", "Escalation")
    ReferralEscalation = apps.get_model("referrals", "ReferralEscalation")
    for case in Case.objects.filter(referrals__isnull=False).distinct().iterator():
        referrals = list(Referral.objects.filter(case=case).order_by("referred_at", "id"))
        latest = referrals[-1]
        for earlier, following in zip(referrals, referrals[1:], strict=False):
            _clocks(earlier)
            earlier.status, earlier.withdrawn_at = "withdrawn", following.referred_at
            earlier.save()
        _clocks(latest, case)
        _current_state(latest, case)
        latest.save()
        for action in AuthorityAction.objects.filter(case=case):
            current = [r for r in referrals if r.referred_at <= action.created_at]
            action.referral_id = (current[-1] if current else referrals[0]).pk
            action.save(update_fields=["referral"])
        for step in Escalation.objects.filter(case=case, step__in=AUTHORITY_STEPS):
            ReferralEscalation.objects.create(
                referral=latest, step=step.step, deadline=step.deadline, created_at=step.created_at
            )
    _legacy(Case, Referral, ReferralEscalation, Escalation)
    Escalation.objects.filter(step__in=AUTHORITY_STEPS).delete()


def _legacy(Case, Referral, ReferralEscalation, Escalation) -> None:
    """A case marked referred with no referral row (referred before referrals were recorded, or seeded):
    its state gets a referral row of its own, with no summary (none was kept), made by its assignee or else
    the first supervisor; a case with neither keeps nobody to name and is left as it is."""
    supervisor = Case._meta.get_field("assignee").related_model.objects.filter(role="supervisor").order_by("id")
    fallback = supervisor.values_list("id", flat=True).first()
    for case in Case.objects.filter(referred_at__isnull=False, referrals__isnull=True, authority__isnull=False):
        referred_by = case.assignee_id or fallback
        if referred_by is None:
            continue
        referral = Referral(
            case=case,
            authority_id=case.authority_id,
            summary=b"",
            referred_by_id=referred_by,
            referred_at=case.referred_at,
        )
        _clocks(referral, case)
        _current_state(referral, case)
        referral.save()
        for step in Escalation.objects.filter(case=case, step__in=AUTHORITY_STEPS):
            ReferralEscalation.objects.create(
                referral=referral, step=step.step, deadline=step.deadline, created_at=step.created_at
            )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0002_referral_owns_its_state")]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]

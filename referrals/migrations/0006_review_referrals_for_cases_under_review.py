"""Every case already under independent national review gets a referral to the review team, so that a national
reviewer can work it (issue 24): before it, "send to independent national review" only moved the case, and
nobody outside the helpline could receive it.

A case in the national review status (``independent_review`` set, as it always was with that status) with no
referral to the review team other than a withdrawn one gets one: awaiting acknowledgement, its clocks
started now (the team could not have acknowledged it before: clocks from the day the case moved would have
put every one of them past both rungs of its ladder at once), made by whoever sent the case for review (its
audit event), else its assignee, else the first supervisor; a case with none of them is left as it is.

No reason was asked when these cases were sent, and a migration holds no private key to open the case's data
key with, so nothing can be sealed: the summary is left empty (b"", as for the referrals referrals 0003 made
for legacy cases), and the pages say that none was kept. No email is sent (reviewers find the cases in their list) and no
audit event is written (the trail is MAC-chained by the running service). Rerunning makes none twice; the
reverse keeps the referrals (a reviewer may have worked them)."""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.calendar import working_days_after

# The clocks in working days, as referrals.deadlines started them when this was written.
ACK, ACK_ESCALATE, OUTCOME, OUTCOME_ESCALATE = 1, 3, 45, 47
BATCH = 1000


def review_referrals_made(apps, schema_editor) -> int:
    """Make the missing review referrals; how many were made."""
    Case = apps.get_model("triage", "Case")
    Referral = apps.get_model("referrals", "Referral")
    NationalBody = apps.get_model("directory", "NationalBody")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    User = Case._meta.get_field("assignee").related_model
    team = NationalBody.objects.filter(kind="review_team").order_by("pk").first()
    if team is None:
        return 0  # no review team in the directory (directory 0006 loads it): nobody to refer to
    reviewed = Referral.objects.filter(case=OuterRef("pk"), body__kind="review_team").exclude(status="withdrawn")
    waiting = list(
        Case.objects.filter(status="national_review", independent_review=True)
        .exclude(Exists(reviewed))
        .order_by("pk")
        .values_list("pk", "assignee_id")
    )
    if not waiting:
        return 0
    supervisor = (
        User.objects.filter(role="supervisor").order_by("-is_active", "pk").values_list("pk", flat=True).first()
    )
    now = timezone.now()
    clocks = {
        "ack_due_at": working_days_after(now, ACK),
        "ack_escalate_at": working_days_after(now, ACK_ESCALATE),
        "outcome_due_at": working_days_after(now, OUTCOME),
        "outcome_escalate_at": working_days_after(now, OUTCOME_ESCALATE),
    }
    made = 0
    for start in range(0, len(waiting), BATCH):
        batch = waiting[start : start + BATCH]
        # Who sent each case for review: the actor of its latest such event.
        sent_by = dict(
            AuditEvent.objects.filter(
                subject_kind="case",
                subject_id__in=[pk for pk, _ in batch],
                kind="escalate_national_review",
                actor__isnull=False,
            )
            .order_by("subject_id", "-id")
            .distinct("subject_id")
            .values_list("subject_id", "actor_id")
        )
        referrals = []
        for pk, assignee in batch:
            referred_by = sent_by.get(pk) or assignee or supervisor
            if referred_by is None:
                continue
            referrals.append(
                Referral(
                    case_id=pk,
                    body_id=team.pk,
                    summary=b"",
                    referred_by_id=referred_by,
                    referred_at=now,
                    status="awaiting_acknowledgement",
                    **clocks,
                )
            )
        Referral.objects.bulk_create(referrals)
        made += len(referrals)
    return made


def forwards(apps, schema_editor) -> None:
    review_referrals_made(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_trail_record_and_alerts"),
        ("directory", "0006_national_bodies_loaded"),
        ("referrals", "0005_national_bodies_and_review"),
        ("triage", "0016_case_facts"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

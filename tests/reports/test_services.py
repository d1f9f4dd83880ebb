import pytest
from django.db import connection

from core import crypto
from outbox.models import OutboxMessage
from reports import services
from reports.models import Message, Report
from tests.factories import report_input, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def test_submitting_stores_the_report_and_its_routing_outbox_row_together() -> None:
    submitted = submit_report()
    report = submitted.report
    assert Report.objects.filter(pk=report.pk).exists()
    assert OutboxMessage.objects.filter(kind="route_report", target_id=report.pk, processed_at=None).exists()


def test_what_the_reporter_wrote_is_not_stored_in_clear() -> None:
    submitted = submit_report(details="CANARY-details-7731", summary="CANARY-summary-7731")
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(r)::text FROM reports_report r WHERE id = %s", [submitted.report.pk])
        row = cursor.fetchone()[0]
    assert "CANARY" not in row
    assert submitted.access_code.split()[0] not in row


def test_the_helpline_and_the_reporter_both_open_the_same_content() -> None:
    submitted = submit_report(details="the details")
    report = Report.objects.get(pk=submitted.report.pk)
    helpline_key = crypto.open_key_as_helpline(report.helpline_key_id, bytes(report.helpline_sealed_key))
    assert crypto.open_content(helpline_key, bytes(report.content))["details"] == "the details"
    unlocked, reporter_key = services.report_unlock(
        reference=report.reference, access_code=submitted.access_code, client="c"
    )
    assert reporter_key == helpline_key
    assert services.report_read(report=unlocked, data_key=reporter_key).content["details"] == "the details"


def test_the_derivation_parameters_are_stored_with_each_report(settings) -> None:  # type: ignore[no-untyped-def]
    report = submit_report().report
    assert report.reporter_kdf_opslimit == settings.ACCESS_CODE_KDF_OPSLIMIT
    assert report.reporter_kdf_memlimit == settings.ACCESS_CODE_KDF_MEMLIMIT
    assert len(bytes(report.reporter_kdf_salt)) == 16


def test_an_anonymous_report_refuses_contact_details() -> None:
    with pytest.raises(ValueError, match="anonymous"):
        services.report_submit(data=report_input(contact=services.Contact(name="Sam")))


def test_the_reference_is_safe_to_read_aloud_and_normalises_from_what_people_type() -> None:
    reference = submit_report().report.reference
    assert len(reference) == 9 and reference[4] == "-"
    assert not set(reference.replace("-", "")) & set("01OIL58BSZ")
    assert services.normalise_reference(reference.lower().replace("-", " ")) == reference
    assert services.normalise_reference("nonsense!") is None


@pytest.mark.parametrize("case", ["unknown", "malformed_reference", "malformed_code", "wrong_code"])
def test_every_pair_that_does_not_open_a_report_gets_the_same_answer(case: str) -> None:
    submitted = submit_report()
    reference, code = submitted.report.reference, crypto.generate_access_code()
    if case == "unknown":
        reference = "AAAA-AAAA"
    elif case == "malformed_reference":
        reference = "not a reference"
    elif case == "malformed_code":
        code = "not words at all"
    with pytest.raises(services.ReportNotFound):
        services.report_unlock(reference=reference, access_code=code, client="c")


def test_a_reporter_message_is_sealed_and_reads_back_on_the_follow_up() -> None:
    submitted = submit_report()
    report, key = services.report_unlock(
        reference=submitted.report.reference, access_code=submitted.access_code, client="c"
    )
    services.message_send_from_reporter(report=report, data_key=key, body="CANARY-message", kind="more_information")
    stored = Message.objects.get(report=report)
    assert b"CANARY" not in bytes(stored.body)
    opened = services.report_read(report=report, data_key=key)
    assert [(m.body, m.kind, m.direction) for m in opened.messages] == [
        ("CANARY-message", "more_information", "from_reporter")
    ]

"""Deleting a case's file: a supervisor's action, with a reason, declared in the action registry like any other
(the case page and the staff API): its content goes for good, its row and an audit event stay."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from audit.models import AuditEvent
from core import crypto
from reports.models import Attachment, AttachmentChunk
from tests.factories import attachment_make, routed_case, signed_in, staff_with_mfa
from tests.triage.page_text import error_summary, section, text
from triage import case_actions
from triage.case_content import case_data_key
from triage.models import Case, CaseNote
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

REASON = "Sent to the wrong case: it names another family."


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("deleting-supervisor", role=User.Role.SUPERVISOR)[0]


@pytest.fixture
def supervisor_client(supervisor: User) -> Client:
    return signed_in(supervisor)


def delete(client: Client, case: Case, attachment: Attachment, reason: str = REASON) -> Any:
    return client.post(
        f"/staff/cases/{case.case_number}/delete_attachment",
        {"delete_attachment-attachment": str(attachment.public_id), "delete_attachment-reason": reason},
        follow=True,
    )


def assert_intact(attachment: Attachment) -> None:
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.status == attachment.status
    assert AttachmentChunk.objects.filter(attachment=attachment).exists()
    assert not AuditEvent.objects.filter(kind="delete_attachment").exists()


def test_a_supervisor_deletes_a_file_with_a_reason(supervisor: User, supervisor_client: Client) -> None:
    case = routed_case()
    file = attachment_make(case, name="other-family.txt")
    response = delete(supervisor_client, case, file)
    assert "File deleted. Nobody can open it again" in text(response)
    stored = Attachment.objects.get(pk=file.pk)
    assert stored.status == Attachment.Status.REMOVED
    assert (bytes(stored.key_wrap), stored.chunk_count) == (b"", 0)
    assert not AttachmentChunk.objects.filter(attachment=file).exists()
    event = AuditEvent.objects.get(kind="delete_attachment")
    assert event.actor == supervisor
    assert event.detail["attachment_id"] == file.pk and event.detail["previous_status"] == "clean"
    note = CaseNote.objects.get(pk=event.detail["note_id"])
    assert REASON.encode() not in bytes(note.body), "the reason is sealed like any note"
    assert (
        crypto.open_text(case_data_key(case), bytes(note.body)) == f"File deleted: other-family.txt. Reason: {REASON}"
    )
    # Listed as removed, and never served again.
    body = text(supervisor_client.get(f"/staff/cases/{case.case_number}"))
    assert "Deleted by a supervisor: nobody can open it again. The reason is in the internal notes." in section(
        body, 'data-testid="case-files"', "</table>"
    )
    assert supervisor_client.get(f"/staff/cases/{case.case_number}/files/{file.public_id}").status_code == 410


def test_deleting_without_a_reason_is_refused_with_the_form_again(supervisor_client: Client) -> None:
    case = routed_case()
    file = attachment_make(case)
    response = delete(supervisor_client, case, file, reason="")
    assert response.status_code == 400
    assert "Enter why the file is being deleted" in error_summary(response)
    assert_intact(file)


def test_a_call_handler_is_not_offered_deletion_and_is_refused_it(handler_client: Client) -> None:
    case = routed_case()
    file = attachment_make(case)
    body = text(handler_client.get(f"/staff/cases/{case.case_number}"))
    assert 'id="action-delete_attachment"' not in body
    response = delete(handler_client, case, file)
    assert response.status_code == 409
    assert "Only a supervisor can delete a file." in html.unescape(response.content.decode())
    assert_intact(file)


def test_a_supervisor_is_offered_deletion_only_of_files_with_content(supervisor_client: Client) -> None:
    case = routed_case()
    assert 'id="action-delete_attachment"' not in text(supervisor_client.get(f"/staff/cases/{case.case_number}"))
    attachment_make(case, name="being-checked.txt", status="pending")
    assert 'id="action-delete_attachment"' not in text(supervisor_client.get(f"/staff/cases/{case.case_number}"))
    attachment_make(case, name="rota.txt")
    form = section(
        text(supervisor_client.get(f"/staff/cases/{case.case_number}")), 'id="action-delete_attachment"', "</details>"
    )
    assert "rota.txt" in form and "being-checked.txt" not in form


def test_a_file_being_checked_cannot_be_deleted_until_the_checks_are_done(supervisor: User) -> None:
    case = routed_case()
    file = attachment_make(case, status="pending")
    with pytest.raises(ActionNotAllowed, match="still being checked"):
        case_actions.case_delete_attachment(
            case=case, attachment_id=str(file.public_id), reason=REASON, acting_user=supervisor
        )
    assert_intact(file)


def test_a_removed_file_or_another_cases_file_cannot_be_deleted(supervisor: User) -> None:
    case = routed_case()
    removed = attachment_make(case, status="removed")
    theirs = attachment_make(routed_case())
    with pytest.raises(ActionNotAllowed, match="already been deleted"):
        case_actions.case_delete_attachment(
            case=case, attachment_id=str(removed.public_id), reason=REASON, acting_user=supervisor
        )
    with pytest.raises(ActionNotAllowed, match="no such file"):
        case_actions.case_delete_attachment(
            case=case, attachment_id=str(theirs.public_id), reason=REASON, acting_user=supervisor
        )
    assert_intact(theirs)


def test_the_staff_api_deletes_through_the_registry_for_a_supervisor_only(supervisor: User) -> None:
    case = routed_case()
    file = attachment_make(case)
    handler = staff_with_mfa("api-handler", role=User.Role.CALL_HANDLER)[0]
    path = f"/api/v1/cases/{case.case_number}/delete_attachment"
    body = {"attachment": str(file.public_id), "reason": REASON}
    as_handler = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(handler)[1]}")
    refused = as_handler.post(path, body, content_type="application/json")
    assert (refused.status_code, refused.json()) == (403, {"detail": "Only a supervisor can delete a file."})
    assert_intact(file)
    as_supervisor = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(supervisor)[1]}")
    no_reason = as_supervisor.post(path, {"attachment": str(file.public_id)}, content_type="application/json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert_intact(file)
    done = as_supervisor.post(path, body, content_type="application/json")
    assert done.status_code == 200, done.content
    assert Attachment.objects.get(pk=file.pk).status == Attachment.Status.REMOVED
    detail = as_supervisor.get(f"/api/v1/cases/{case.case_number}").json()
    assert "delete_attachment" not in detail["allowed_actions"], "nothing is left to delete"

"""Files shared with a referral: when referring, the helpline picks which of the case's cleaned files the
referral's authority may see (never one being checked, blocked or not cleaned); that authority's officers see
and download those and no other, each download audited; nobody else outside the helpline sees a file."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from audit.models import AuditEvent
from referrals import services
from referrals.models import Referral
from reports.filetypes import DOCX
from reports.models import Attachment
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    attachment_make,
    authority,
    partnership_make,
    referral_of,
    reviewed_case,
    reviewer,
    routed_case,
    signed_in,
    signed_in_as,
    staff_user,
    staff_with_mfa,
)
from triage.models import Case
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
ROTA = b"Rota for the week of 3 March\n"


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("sharing-supervisor", role=R.SUPERVISOR)[0]


@pytest.fixture
def officer() -> User:
    user = staff_with_mfa("rotherham-officer", role=R.AUTHORITY_OFFICER)[0]
    user.authorities.set([authority(ROTHERHAM)])
    return user


@pytest.fixture
def officer_client(officer: User) -> Client:
    return signed_in(officer)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def refer(client: Client, case: Case, *files: Attachment) -> Any:
    return client.post(
        f"/staff/cases/{case.case_number}/refer",
        {"refer-summary": "Please look into this.", "refer-attachments": [str(file.public_id) for file in files]},
        follow=True,
    )


def referral_page(referral: Referral) -> str:
    return f"/staff/referrals/{referral.case.case_number}/{referral.pk}"


def file_url(referral: Referral, file: Attachment, *, preview: bool = False) -> str:
    return f"{referral_page(referral)}/files/{file.public_id}" + ("/preview" if preview else "")


def case_with_files() -> tuple[Case, dict[str, Attachment]]:
    case = routed_case(local_authority=authority(ROTHERHAM))
    files = {
        "rota": attachment_make(case, ROTA, name="rota.txt"),
        "photo": attachment_make(case, PNG, name="photo.png", content_type="image/png"),
        "private": attachment_make(case, b"Diary\n", name="diary.txt"),
        "pending": attachment_make(case, name="being-checked.txt", status="pending"),
        "blocked": attachment_make(case, name="virus.txt", status="blocked"),
        "not_cleaned": attachment_make(
            case, b"PK\x03\x04", name="notes.docx", content_type=DOCX.content_type, status="not_cleaned"
        ),
    }
    return case, files


def shared_referral(supervisor: User, *names: str) -> tuple[Referral, dict[str, Attachment]]:
    case, files = case_with_files()
    referral = services.case_refer(
        case=case,
        summary="Please look into this.",
        attachments=[str(files[name].public_id) for name in names],
        acting_user=supervisor,
    )
    return Referral.objects.select_related("case").get(pk=referral.pk), files


# --- choosing what to share ---------------------------------------------------------------------------------


def test_the_refer_form_offers_the_cleaned_files_and_says_why_the_others_cannot_be_shared(
    supervisor: User, officer: User
) -> None:
    case, _ = case_with_files()
    body = text(signed_in(supervisor).get(f"/staff/cases/{case.case_number}"))
    form = body[body.index('id="action-refer"') :]
    form = form[: form.index("</form>")]
    for offered in ("rota.txt", "photo.png", "diary.txt"):
        assert f"{offered} (" in form
    reasons = form[form.index('data-testid="refer-files-not-shareable"') :]
    assert "being-checked.txt" in reasons and "it is still being checked" in reasons
    assert "virus.txt" in reasons and "it was blocked by the malware scan" in reasons
    assert "notes.docx" in reasons and "it could not be cleaned of identifying metadata" in reasons
    assert 'type="checkbox"' not in reasons, "none of those can be chosen"


def test_the_helpline_shares_the_files_it_chooses_with_the_referral(supervisor: User, officer: User) -> None:
    case, files = case_with_files()
    response = refer(signed_in(supervisor), case, files["rota"], files["photo"])
    assert "Case referred to Rotherham" in text(response), text(response)[:500]
    referral = referral_of(case)
    assert set(referral.attachments.all()) == {files["rota"], files["photo"]}
    event = AuditEvent.objects.get(kind="refer")
    assert event.detail["attachments_shared"] == sorted([files["rota"].pk, files["photo"].pk])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("pending", "being-checked.txt (Text file, 35 bytes) cannot be shared: it is still being checked"),
        ("blocked", "virus.txt (Text file, 35 bytes) cannot be shared: it was blocked by the malware scan"),
        ("not_cleaned", "cannot be shared: it could not be cleaned of identifying metadata"),
    ],
)
def test_a_file_being_checked_blocked_or_not_cleaned_can_never_be_shared(
    supervisor: User, officer: User, name: str, reason: str
) -> None:
    case, files = case_with_files()
    response = refer(signed_in(supervisor), case, files["rota"], files[name])
    assert response.status_code == 400
    assert reason in text(response)
    assert not Referral.objects.exists()
    # Nor through the API, with a field error.
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(supervisor)[1]}")
    refused = api.post(
        f"/api/v1/cases/{case.case_number}/refer",
        {"summary": "Please look.", "attachments": [str(files[name].public_id)]},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert reason in refused.json()["attachments"][0]
    # Nor by the service itself.
    with pytest.raises(ActionNotAllowed, match="Only files that were checked and cleaned"):
        services.case_refer(
            case=case,
            summary="Please look.",
            attachments=[str(files[name].public_id)],
            acting_user=supervisor,
        )
    assert not Referral.objects.exists()


def test_another_cases_file_cannot_be_shared(supervisor: User, officer: User) -> None:
    case, _ = case_with_files()
    theirs = attachment_make(routed_case(), name="theirs.txt")
    # Whether an id names one of the case's files is the service's to say (as for a file deleted meanwhile).
    response = refer(signed_in(supervisor), case, theirs)
    assert response.status_code == 409 and "Choose files of this case" in text(response)
    assert not Referral.objects.exists()
    with pytest.raises(ActionNotAllowed, match="Choose files of this case"):
        services.case_refer(case=case, summary="x", attachments=[str(theirs.public_id)], acting_user=supervisor)


def test_the_api_refers_with_the_files_it_names(supervisor: User, officer: User) -> None:
    case, files = case_with_files()
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(supervisor)[1]}")
    done = api.post(
        f"/api/v1/cases/{case.case_number}/refer",
        {"summary": "Please look.", "attachments": [str(files["rota"].public_id)]},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert list(referral_of(case).attachments.all()) == [files["rota"]]


# --- the officer's side -------------------------------------------------------------------------------------


def test_the_officer_sees_and_downloads_only_the_files_shared_with_their_referral(
    supervisor: User, officer: User, officer_client: Client
) -> None:
    referral, files = shared_referral(supervisor, "rota", "photo")
    body = text(officer_client.get(referral_page(referral)))
    table = body[body.index('data-testid="referral-files"') :]
    table = table[: table.index("</table>")]
    assert "rota.txt" in table and "photo.png" in table
    for hidden in ("diary.txt", "being-checked.txt", "virus.txt", "notes.docx"):
        assert hidden not in body
    response = officer_client.get(file_url(referral, files["rota"]))
    assert response.status_code == 200
    assert body_of(response) == ROTA
    assert response["Content-Disposition"] == 'attachment; filename="rota.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    event = AuditEvent.objects.get(kind="attachment_downloaded")
    assert event.actor == officer and event.subject_id == referral.case_id
    assert event.detail == {"attachment_id": files["rota"].pk, "inline": False, "referral_id": referral.pk}
    preview = officer_client.get(file_url(referral, files["photo"], preview=True))
    assert preview.status_code == 200 and preview["Content-Disposition"] == 'inline; filename="photo.png"'
    # The preview link leads to a page of the authority's workspace that shows it, with the way back.
    assert f'href="{file_url(referral, files["photo"])}/view" data-testid="file-preview"' in table
    page = text(officer_client.get(f"{file_url(referral, files['photo'])}/view"))
    assert f'<img src="{file_url(referral, files["photo"], preview=True)}" alt="photo.png">' in page
    assert f'href="{referral_page(referral)}#files" class="govuk-back-link">Back to the referral</a>' in page
    assert officer_client.get(f"{file_url(referral, files['rota'])}/view").status_code == 404, "not an image"


@pytest.mark.parametrize("name", ["private", "pending", "blocked", "not_cleaned"])
def test_a_file_not_shared_with_the_referral_is_not_found(supervisor: User, officer_client: Client, name: str) -> None:
    referral, files = shared_referral(supervisor, "rota")
    response = officer_client.get(file_url(referral, files[name]))
    assert response.status_code == 404
    assert "This file cannot be opened" in text(response)
    assert files[name].public_id.hex not in text(response)
    assert not AuditEvent.objects.filter(kind="attachment_downloaded").exists()


def test_a_shared_file_deleted_since_is_gone(supervisor: User, officer_client: Client) -> None:
    from triage.case_actions import case_delete_attachment

    referral, files = shared_referral(supervisor, "rota")
    case_delete_attachment(
        case=referral.case, attachment_id=str(files["rota"].public_id), reason="Wrong family.", acting_user=supervisor
    )
    assert officer_client.get(file_url(referral, files["rota"])).status_code == 410
    assert "rota.txt" not in text(officer_client.get(referral_page(referral)))


def test_supervisors_see_which_officer_downloaded_which_file(
    supervisor: User, officer: User, officer_client: Client
) -> None:
    referral, files = shared_referral(supervisor, "rota")
    officer_client.get(file_url(referral, files["rota"]))
    body = text(signed_in(supervisor).get(f"/staff/cases/{referral.case.case_number}"))
    table = body[body.index('data-testid="file-downloads"') :]
    assert "rotherham-officer (Rotherham)" in table[: table.index("</table>")]
    assert "Downloaded: rota.txt" in table[: table.index("</table>")]


def test_the_authority_api_lists_and_streams_only_the_shared_files(supervisor: User, officer: User) -> None:
    referral, files = shared_referral(supervisor, "rota")
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(officer)[1]}")
    listed = api.get(f"/api/v1/referrals/{referral.pk}/attachments")
    assert listed.status_code == 200
    assert [(row["id"], row["name"], row["status"]) for row in listed.json()["attachments"]] == [
        (str(files["rota"].public_id), "rota.txt", "clean")
    ]
    viewed = AuditEvent.objects.get(kind="content_viewed", actor=officer)
    assert viewed.detail == {"view": "referral_files"}
    streamed = api.get(f"/api/v1/referrals/{referral.pk}/attachments/{files['rota'].public_id}")
    assert streamed.status_code == 200 and body_of(streamed) == ROTA
    assert streamed["Content-Security-Policy"].startswith("sandbox;")
    refused = api.get(f"/api/v1/referrals/{referral.pk}/attachments/{files['private'].public_id}")
    assert refused.status_code == 404
    assert AuditEvent.objects.filter(kind="attachment_downloaded").count() == 1


# --- nobody else --------------------------------------------------------------------------------------------


def test_an_officer_of_another_authority_finds_nothing(supervisor: User) -> None:
    referral, files = shared_referral(supervisor, "rota")
    client, sheffield = signed_in_as(R.AUTHORITY_OFFICER, SHEFFIELD, username="sheffield-officer")
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(sheffield)[1]}")
    events = AuditEvent.objects.count()
    for response in (
        client.get(file_url(referral, files["rota"])),
        client.get(file_url(referral, files["photo"], preview=True)),
        api.get(f"/api/v1/referrals/{referral.pk}/attachments"),
        api.get(f"/api/v1/referrals/{referral.pk}/attachments/{files['rota'].public_id}"),
    ):
        assert response.status_code == 404
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("role", [R.PARTNERSHIP, R.OVERSIGHT_ANALYST, R.ADMINISTRATOR])
def test_partnerships_oversight_and_administrators_never_see_a_file(supervisor: User, role: str) -> None:
    referral, files = shared_referral(supervisor, "rota")
    partnership = partnership_make("Rotherham", ROTHERHAM) if role == R.PARTNERSHIP else None
    client, user = signed_in_as(role, partnership=partnership)
    api = Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    case = referral.case
    rota = files["rota"].public_id
    events = AuditEvent.objects.count()
    for response in (
        client.get(file_url(referral, files["rota"])),
        client.get(f"/staff/cases/{case.case_number}/files/{rota}"),
        api.get(f"/api/v1/referrals/{referral.pk}/attachments"),
        api.get(f"/api/v1/referrals/{referral.pk}/attachments/{rota}"),
        api.get(f"/api/v1/cases/{case.case_number}/attachments"),
        api.get(f"/api/v1/cases/{case.case_number}/attachments/{rota}"),
    ):
        assert response.status_code == 403, response.request["PATH_INFO"]
    assert AuditEvent.objects.count() == events


def test_a_national_reviewer_sees_no_file_of_a_case_under_review(supervisor: User) -> None:
    """Nothing is shared with the review team's referral: its reviewers see no file."""
    case, referral = reviewed_case(supervisor)
    file = attachment_make(case, name="rota.txt")
    client = signed_in(staff_with_mfa("files-reviewer", role=R.NATIONAL_REVIEWER)[0])
    response = client.get(f"/staff/referrals/{case.case_number}/{referral.pk}")
    assert response.status_code == 200
    page = text(response)
    assert "rota.txt" not in page and 'data-testid="referral-files"' not in page
    assert client.get(f"/staff/referrals/{case.case_number}/{referral.pk}/files/{file.public_id}").status_code == 404


def test_the_policy_scopes_an_officers_files_to_those_shared_with_their_referrals(supervisor: User) -> None:
    from accounts import policy

    referral, files = shared_referral(supervisor, "rota")
    rotherham = staff_user("scope-rotherham", role=R.AUTHORITY_OFFICER)
    rotherham.authorities.set([authority(ROTHERHAM)])
    sheffield = staff_user("scope-sheffield", role=R.AUTHORITY_OFFICER)
    sheffield.authorities.set([authority(SHEFFIELD)])
    assert policy.attachment_scope(supervisor) is None
    visible = policy.attachment_scope(rotherham)
    assert visible is not None
    assert list(Attachment.objects.filter(visible).distinct()) == [files["rota"]]
    for user in (sheffield, staff_user("scope-partnership", role=R.PARTNERSHIP), reviewer("scope-reviewer")):
        scope = policy.attachment_scope(user)
        assert scope is not None and not Attachment.objects.filter(scope).exists()

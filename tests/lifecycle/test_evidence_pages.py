"""The evidence export pages: a supervisor prepares, another approves, only those two download; bad input is a 4xx
page with the GOV.UK error summary, never a 500; nobody but a supervisor gets in."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from nacl.public import PrivateKey

from accounts.models import User
from audit.models import AuditEvent
from lifecycle import bundle, evidence
from lifecycle.models import EvidenceExport
from lifecycle.recipient_keys import fingerprint
from tests.factories import ROTHERHAM, routed_case, signed_in_as
from triage.models import LegalHold

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

E = EvidenceExport
R = User.Role
NEW = "/staff/lifecycle/exports/new"
RECIPIENT = PrivateKey(bytes([0x42]) * 32)
PUBLIC = base64.b64encode(bytes(RECIPIENT.public_key)).decode()
AGE_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"  # the age spec's, of 0x42 × 32


@pytest.fixture(autouse=True)
def _own_folders(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    settings.EVIDENCE_EXPORT_DIR = str(tmp_path / "exports")


def answers(**changes: str) -> dict[str, str]:
    data = {
        "scope": "case",
        "case_number": "",
        "recipient": "Greater Manchester Police, Operation Hydrant",
        "recipient_key": PUBLIC,
        "basis": "police_request",
        "basis_reference": "GMP/OPH/2026/117",
        "tell_reporters": "no",
        "withheld_because": "prejudice_investigation",
    }
    data.update(changes)
    return data


def errors_of(response: Any) -> list[str]:
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.content.decode(), re.S)
    assert found, response.content[:500]
    return [
        html.unescape(" ".join(re.sub(r"<[^>]+>", " ", item).split())) for item in found.group(1).split("</li>")[:-1]
    ]


def supervisor(name: str) -> tuple[Client, User]:
    return signed_in_as(R.SUPERVISOR, username=name)


def prepared_on_the_page(client: Client, number: str, **changes: str) -> EvidenceExport:
    response = client.post(NEW, answers(case_number=number, **changes))
    assert response.status_code == 302
    assert response["Location"] != NEW, errors_of(client.get(NEW))
    export = EvidenceExport.objects.get()
    assert response["Location"] == f"/staff/lifecycle/exports/{export.public_id}"
    return export


def test_a_supervisor_prepares_an_export_and_sees_the_cases_and_the_fingerprint() -> None:
    client, first = supervisor("first")
    case = routed_case()
    export = prepared_on_the_page(client, case.case_number.lower().replace("-", " "))
    assert export.case_numbers == [case.case_number] and export.requested_by == first
    assert export.status == E.Status.WAITING and not export.tell_reporters
    page = client.get(f"/staff/lifecycle/exports/{export.public_id}")
    assert page.status_code == 200
    text = page.content.decode()
    assert case.case_number in text
    assert fingerprint(bytes(RECIPIENT.public_key)) in text
    assert "Another supervisor must approve this export: you prepared it." in text
    assert 'action="/staff/lifecycle/exports/' + str(export.public_id) + '/approve"' not in text
    assert AuditEvent.objects.filter(kind="evidence_export_prepared", actor=first).exists()


def test_an_age_recipient_is_the_same_x25519_key() -> None:
    client, _ = supervisor("first")
    export = prepared_on_the_page(client, routed_case().case_number, recipient_key=AGE_RECIPIENT)
    assert bytes(export.recipient_key) == bytes(RECIPIENT.public_key)
    assert export.recipient_key_format == "age"


BAD = [
    ("not a key", {"recipient_key": "not a key at all!"}, "must be a base64 X25519 key"),
    ("a key of the wrong length", {"recipient_key": base64.b64encode(b"x" * 31).decode()}, "must be 32 bytes"),
    ("a point nothing can be sealed to", {"recipient_key": base64.b64encode(bytes(32)).decode()}, "cannot be used"),
    ("a private age identity", {"recipient_key": "AGE-SECRET-KEY-1" + "Q" * 58}, "This is a private key"),
    ("an age recipient cut short", {"recipient_key": AGE_RECIPIENT[:-1]}, "age recipient is not valid"),
    ("no key", {"recipient_key": ""}, "Enter the recipient's public key"),
    ("an unknown case", {"case_number": "2026-AAAAAA"}, "There is no case 2026-AAAAAA"),
    ("no case number", {"case_number": ""}, "Enter the case number"),
    ("not a case number", {"case_number": "hello"}, "Enter a case number like 2026-K7M3QX"),
    ("no scope", {"scope": ""}, "Choose whether to export one case"),
    ("no legal basis", {"basis": ""}, "Choose the legal basis"),
    ("an unknown legal basis", {"basis": "because"}, "Choose the legal basis from the list"),
    ("no reference", {"basis_reference": "   "}, "Enter the reference"),
    ("a NUL in the reference", {"basis_reference": "GMP\x00117"}, ""),
    ("no reason not to tell", {"withheld_because": ""}, "Choose why the reporters must not be told"),
    (
        "a filter that matches no case",
        {
            "scope": "filter",
            "authority": ROTHERHAM,
            "period": "closed",
            **{f"period_from-{p}": v for p, v in zip(("day", "month", "year"), ("1", "1", "2025"), strict=True)},
            **{f"period_to-{p}": v for p, v in zip(("day", "month", "year"), ("31", "3", "2025"), strict=True)},
        },
        "No cases of Rotherham were closed between 1 January 2025 and 31 March 2025",
    ),
    (
        "a period that ends before it starts",
        {
            "scope": "filter",
            "authority": ROTHERHAM,
            "period": "submitted",
            **{f"period_from-{p}": v for p, v in zip(("day", "month", "year"), ("1", "3", "2025"), strict=True)},
            **{f"period_to-{p}": v for p, v in zip(("day", "month", "year"), ("1", "1", "2025"), strict=True)},
        },
        "The end of the period must be the same as or after its start",
    ),
    ("a filter with no authority", {"scope": "filter", "period": "submitted"}, "Choose the local authority"),
]


@pytest.mark.parametrize(("what", "changes", "message"), BAD, ids=[what for what, _, _ in BAD])
def test_bad_input_is_refused_with_the_error_summary(what: str, changes: dict[str, str], message: str) -> None:
    client, _ = supervisor("first")
    case = routed_case()
    data = answers(case_number=case.case_number)
    data.update(changes)
    response = client.post(NEW, data, follow=True)
    assert response.status_code == 400, (what, response.status_code)
    shown = errors_of(response)
    assert shown and (not message or any(message in error for error in shown)), shown
    assert 'class="govuk-template' in response.content.decode()
    assert not EvidenceExport.objects.exists()


def test_the_preparer_is_refused_approval_on_the_page_too() -> None:
    client, _ = supervisor("first")
    export = prepared_on_the_page(client, routed_case().case_number)
    response = client.post(
        f"/staff/lifecycle/exports/{export.public_id}/approve",
        {"digest": export.frozen_digest, "checked": "on"},
        follow=True,
    )
    assert response.status_code == 409
    assert any("another supervisor must approve it" in error for error in errors_of(response))
    assert EvidenceExport.objects.get().status == E.Status.WAITING


def test_a_second_supervisor_approves_after_confirming_the_checks() -> None:
    first_client, first = supervisor("first")
    case = routed_case()
    export = prepared_on_the_page(first_client, case.case_number)
    client, second = supervisor("second")
    page = f"/staff/lifecycle/exports/{export.public_id}"
    shown = client.get(page).content.decode()
    assert f'name="digest" value="{export.frozen_digest}"' in shown
    unchecked = client.post(f"{page}/approve", {"digest": export.frozen_digest}, follow=True)
    assert unchecked.status_code == 400
    assert errors_of(unchecked) == ["Confirm that you have checked the cases and the key fingerprint"]
    assert EvidenceExport.objects.get().status == E.Status.WAITING
    response = client.post(f"{page}/approve", {"digest": export.frozen_digest, "checked": "on"})
    assert response.status_code == 302 and response["Location"] == page
    export.refresh_from_db()
    assert (export.status, export.approved_by) == (E.Status.APPROVED, second)
    assert LegalHold.objects.filter(case=case, released_on__isnull=True, basis="evidence_export").exists()


def test_a_tampered_export_is_stopped_on_the_approval_page() -> None:
    first_client, _ = supervisor("first")
    case, other = routed_case(), routed_case()
    export = prepared_on_the_page(first_client, case.case_number)
    EvidenceExport.objects.filter(pk=export.pk).update(case_numbers=[case.case_number, other.case_number])
    client, _ = supervisor("second")
    response = client.post(
        f"/staff/lifecycle/exports/{export.public_id}/approve",
        {"digest": export.frozen_digest, "checked": "on"},
        follow=True,
    )
    assert response.status_code == 409
    assert any("changed after it was prepared" in error for error in errors_of(response))
    assert EvidenceExport.objects.get().status == E.Status.STOPPED
    assert not LegalHold.objects.exists()


def test_only_the_two_supervisors_download_the_bundle_and_each_download_is_audited() -> None:
    first_client, first = supervisor("first")
    export = prepared_on_the_page(first_client, routed_case().case_number)
    second_client, second = supervisor("second")
    evidence.export_approve(export=export, digest_seen=export.frozen_digest, acting_user=second)
    third_client, third = supervisor("third")
    page = f"/staff/lifecycle/exports/{export.public_id}/download"
    assert first_client.get(page).status_code == 200  # the page says it is being built
    assert first_client.get(f"/staff/lifecycle/exports/{export.public_id}/bundle").status_code == 404
    bundle.evidence_build(export.pk)
    export.refresh_from_db()
    stored = evidence.bundle_path(export).read_bytes()
    for client, user in ((first_client, first), (second_client, second)):
        shown = client.get(page)
        assert shown.status_code == 200
        text = shown.content.decode()
        assert export.recipient_fingerprint in text and export.bundle_sha256 in text
        response: Any = client.get(f"/staff/lifecycle/exports/{export.public_id}/bundle")
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert body == stored and hashlib.sha256(body).hexdigest() == export.bundle_sha256
        assert response["Content-Disposition"].startswith("attachment")
        assert (
            AuditEvent.objects.filter(
                kind="evidence_export_downloaded", actor=user, detail__export=str(export.public_id)
            ).count()
            == 1
        )
    for path in (page, f"/staff/lifecycle/exports/{export.public_id}/bundle"):
        refused = third_client.get(path)
        assert refused.status_code == 403
        assert b"Only the two supervisors who prepared and approved this export" in refused.content
    assert not AuditEvent.objects.filter(kind="evidence_export_downloaded", actor=third).exists()


@pytest.mark.parametrize("role", [R.CALL_HANDLER, R.AUTHORITY_OFFICER, R.ADMINISTRATOR, R.OVERSIGHT_ANALYST])
def test_nobody_but_a_supervisor_gets_in(role: str) -> None:
    first_client, _ = supervisor("first")
    export = prepared_on_the_page(first_client, routed_case().case_number)
    client, _ = signed_in_as(role, *([ROTHERHAM] if role == R.AUTHORITY_OFFICER else []))
    for path in ("/staff/lifecycle/exports", NEW, f"/staff/lifecycle/exports/{export.public_id}"):
        assert client.get(path).status_code == 403, path
    assert client.post(NEW, answers(case_number=export.case_numbers[0])).status_code == 403
    response = client.post(
        f"/staff/lifecycle/exports/{export.public_id}/approve", {"digest": export.frozen_digest, "checked": "on"}
    )
    assert response.status_code == 403
    assert EvidenceExport.objects.get().status == E.Status.WAITING and EvidenceExport.objects.count() == 1


def test_the_list_shows_every_export_and_the_navigation_leads_there() -> None:
    client, _ = supervisor("first")
    export = prepared_on_the_page(client, routed_case().case_number)
    page = client.get("/staff/lifecycle/exports").content.decode()
    assert export.short_id in page and "Greater Manchester Police, Operation Hydrant" in page
    assert 'href="/staff/lifecycle/exports"' in client.get("/staff/").content.decode()
    handler_client, _ = signed_in_as(R.CALL_HANDLER)
    assert 'href="/staff/lifecycle/exports"' not in handler_client.get("/staff/").content.decode()


def active_navigation(page: str) -> list[str]:
    items = re.findall(r'govuk-header__navigation-item--active"><a class="govuk-header__link" [^>]*>([^<]+)</a>', page)
    return [item.strip() for item in items]


def test_the_exports_pages_mark_their_own_navigation_item_and_the_retention_pages_theirs() -> None:
    client, _ = supervisor("first")
    export = prepared_on_the_page(client, routed_case().case_number)
    for path in ("/staff/lifecycle/exports", NEW, f"/staff/lifecycle/exports/{export.public_id}"):
        assert active_navigation(client.get(path).content.decode()) == ["Evidence exports"], path
    assert active_navigation(client.get("/staff/lifecycle/due").content.decode()) == ["Retention"]


def test_an_unknown_export_is_not_found() -> None:
    client, _ = supervisor("first")
    assert client.get("/staff/lifecycle/exports/00000000-0000-0000-0000-000000000000").status_code == 404

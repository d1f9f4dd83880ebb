"""Issue 22 points 1 and 4: authorities' referral inboxes and telephone numbers, set by administrators or
all at once with ``manage.py import_authority_contacts FILE``; the staff health page and the
administration list count authorities without an inbox."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.models import AuditEvent
from directory import lookup
from directory.models import LocalAuthority
from directory.phones import PhoneInvalid, phone_normalise
from tests.factories import signed_in_as, staff_with_mfa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

SHEFFIELD, ROTHERHAM = "E08000039", "E08000018"


def csv_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0114 2734855", "0114 273 4855"),
        ("+44 114 273 4855", "0114 273 4855"),
        ("01632960123", "01632 960123"),
        ("020 7946 0000", "020 7946 0000"),
        ("0300 123 4567", "0300 123 4567"),
        ("", ""),
    ],
)
def test_phone_numbers_are_set_out_one_way(typed: str, kept: str) -> None:
    assert phone_normalise(typed) == kept


@pytest.mark.parametrize("typed", ["call the council", "12345", "+1 212 555 0100", "0114 273 4855 ext 2"])
def test_anything_else_is_not_a_phone_number(typed: str) -> None:
    with pytest.raises(PhoneInvalid):
        phone_normalise(typed)


def test_the_import_sets_inboxes_and_numbers_for_many_authorities_at_once(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "gss_code,referral_email,emergency_duty_phone,childrens_services_contact\n"
        f"{ROTHERHAM},referrals@rotherham.example,01632 960002,01632960001\n"
        # Sheffield by its former code, and a cell left empty: left as it is.
        "E08000019,referrals@sheffield.example,,01632 960003\n",
    )
    out = io.StringIO()
    call_command("import_authority_contacts", str(path), stdout=out)
    rotherham, sheffield = lookup.authority_by_code(ROTHERHAM), lookup.authority_by_code(SHEFFIELD)
    assert rotherham is not None and sheffield is not None
    assert (rotherham.referral_email, rotherham.emergency_duty_phone, rotherham.childrens_services_contact) == (
        "referrals@rotherham.example",
        "01632 960002",
        "01632 960001",
    )
    assert (sheffield.referral_email, sheffield.emergency_duty_phone) == ("referrals@sheffield.example", "")
    assert "151 authorities have no referral inbox" in out.getvalue()
    event = AuditEvent.objects.get(kind="authority_contacts_imported")
    assert event.detail == {
        "rows": 2,
        "changed": {"referral_email": 2, "emergency_duty_phone": 1, "childrens_services_contact": 2},
    }


def test_one_bad_row_and_nothing_changes(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "gss_code,referral_email,emergency_duty_phone\n"
        f"{ROTHERHAM},referrals@rotherham.example,01632 960002\n"
        f"{SHEFFIELD},not an address,\n"
        "E99999999,x@example.com,\n"
        f"{ROTHERHAM},,call us\n",
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_authority_contacts", str(path), stdout=io.StringIO())
    message = str(refused.value)
    assert "line 3" in message and "line 4" in message and "line 5" in message
    assert LocalAuthority.objects.exclude(referral_email="").count() == 0
    assert not AuditEvent.objects.filter(kind="authority_contacts_imported").exists()


def test_a_dash_clears_and_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    LocalAuthority.objects.filter(gss_code=ROTHERHAM).update(referral_email="old@rotherham.example")
    path = csv_file(tmp_path, f"gss_code,referral_email\n{ROTHERHAM},-\n")
    out = io.StringIO()
    call_command("import_authority_contacts", str(path), "--dry-run", stdout=out)
    assert "would change" in out.getvalue()
    assert LocalAuthority.objects.get(gss_code=ROTHERHAM).referral_email == "old@rotherham.example"
    call_command("import_authority_contacts", str(path), stdout=io.StringIO())
    assert LocalAuthority.objects.get(gss_code=ROTHERHAM).referral_email == ""


def test_a_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="header"):
        call_command("import_authority_contacts", str(csv_file(tmp_path, "code,email\nX,y\n")), stdout=io.StringIO())


def test_an_administrator_sets_an_authoritys_numbers_and_they_are_audited() -> None:
    client = signed_in_as(User.Role.ADMINISTRATOR)[0]
    form = client.get(f"/staff/admin/authorities/{ROTHERHAM}").content.decode()
    assert "Emergency duty team telephone number" in form and "Children&#x27;s services telephone number" in form
    response = client.post(
        f"/staff/admin/authorities/{ROTHERHAM}",
        {"referral_email": "", "emergency_duty_phone": "01632960002", "childrens_services_contact": "01632 960001"},
    )
    assert response.status_code == 302
    rotherham = LocalAuthority.objects.get(gss_code=ROTHERHAM)
    assert (rotherham.emergency_duty_phone, rotherham.childrens_services_contact) == ("01632 960002", "01632 960001")
    event = AuditEvent.objects.get(kind="authority_phones_set")
    assert event.detail == {"authority": ROTHERHAM, "changed": ["emergency_duty_phone", "childrens_services_contact"]}


def test_a_number_that_is_not_one_gets_the_error_summary() -> None:
    response = signed_in_as(User.Role.ADMINISTRATOR)[0].post(
        f"/staff/admin/authorities/{ROTHERHAM}", {"emergency_duty_phone": "ring the council"}, follow=True
    )
    assert response.status_code == 400
    assert "Enter a UK telephone number" in response.content.decode()


def test_the_administration_list_counts_authorities_without_an_inbox() -> None:
    LocalAuthority.objects.filter(gss_code=ROTHERHAM).update(referral_email="referrals@rotherham.example")
    page = signed_in_as(User.Role.ADMINISTRATOR)[0].get("/staff/admin/authorities").content.decode()
    assert "152 of 153 authorities have no referral inbox" in page
    assert "import_authority_contacts" in page


def test_the_staff_health_page_counts_authorities_without_an_inbox() -> None:
    LocalAuthority.objects.filter(gss_code=ROTHERHAM).update(referral_email="referrals@rotherham.example")
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([LocalAuthority.objects.get(gss_code=SHEFFIELD)])
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    page = client.get("/staff/health").content.decode()
    assert "152 of 153 authorities have no referral inbox; 151 of them have no officer with an account" in page
    body = client.get("/staff/health", {"format": "json"}).json()
    assert body["authorities"] == {"authorities": 153, "without_inbox": 152, "unreached": 151}

"""Safeguarding partnerships (which replaced Local Safeguarding Children Boards): administrators set them up
with the authorities each covers and put members in them; accounts migration 0011 turned every board reviewer
into a partnership member who sees what they saw; the former role name still works where a script sends it."""

from __future__ import annotations

import html
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from audit.models import AuditEvent
from directory.models import LocalAuthority, Partnership
from tests.accounts.helpers import administrator, page, redirected_to, refused
from tests.factories import partnership_make, staff_user

R = User.Role
PARTNERSHIPS = "/staff/admin/partnerships"
BCP, DORSET, ROTHERHAM = "E06000058", "E06000059", "E08000018"
YORKSHIRE = "Yorkshire and The Humber"


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities")
class TestTheAdministratorsPages:
    def test_an_administrator_sets_up_a_partnership_of_two_authorities_and_it_is_audited(self) -> None:
        admin, client = administrator()
        assert "No safeguarding partnership has been set up yet" in page(client, PARTNERSHIPS)
        data = {"name": "Pan-Dorset Safeguarding Children Partnership", "authorities": "E06000058\nDorset Council"}

        assert redirected_to(client.post(f"{PARTNERSHIPS}/new", data)) == PARTNERSHIPS

        made = Partnership.objects.get()
        assert made.name == "Pan-Dorset Safeguarding Children Partnership"
        assert sorted(made.authorities.values_list("gss_code", flat=True)) == [BCP, DORSET]
        listed = page(client, PARTNERSHIPS)
        assert "Pan-Dorset Safeguarding Children Partnership saved" in listed
        assert "Bournemouth, Christchurch and Poole; Dorset Council" in listed
        event = AuditEvent.objects.get(kind="partnership_created")
        assert (event.actor_id, event.detail) == (admin.pk, {"partnership": made.pk, "authorities": [BCP, DORSET]})

    def test_an_administrator_changes_the_authorities_a_partnership_covers(self) -> None:
        _, client = administrator()
        partnership = partnership_make("Rotherham Safeguarding Children Partnership", ROTHERHAM)
        path = f"{PARTNERSHIPS}/{partnership.pk}"
        assert "Rotherham" in page(client, path)

        client.post(path, {"name": partnership.name, "authorities": "Rotherham\nSheffield"})

        assert sorted(partnership.authorities.values_list("name", flat=True)) == ["Rotherham", "Sheffield"]
        assert AuditEvent.objects.filter(kind="partnership_changed").count() == 1

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"name": "", "authorities": "Rotherham"}, "Enter the partnership's name"),
            ({"name": "New", "authorities": ""}, "Enter at least one authority the partnership covers"),
            ({"name": "New", "authorities": "Atlantis"}, "There is no authority called Atlantis"),
            ({"name": "rotherham partnership", "authorities": "Sheffield"}, "There is already a safeguarding"),
        ],
    )
    def test_a_refused_partnership_is_shown_again_and_saves_nothing(self, data: dict[str, str], message: str) -> None:
        _, client = administrator()
        partnership_make("Rotherham partnership", ROTHERHAM)
        assert message in html.unescape(refused(client, f"{PARTNERSHIPS}/new", data))
        assert Partnership.objects.count() == 1

    def test_no_such_partnership_is_a_404(self) -> None:
        _, client = administrator()
        assert client.get(f"{PARTNERSHIPS}/999999").status_code == 404

    def test_the_staff_list_says_which_partnership_a_member_belongs_to(self) -> None:
        _, client = administrator()
        pan_dorset = partnership_make("Pan-Dorset Safeguarding Children Partnership", BCP, DORSET)
        staff_user("dorset", role=R.PARTNERSHIP, partnership=pan_dorset)
        staff_user("nowhere", role=R.PARTNERSHIP)
        listed = page(client, "/staff/admin/staff")
        assert "Safeguarding partnership" in listed and "Safeguarding board" not in listed
        assert "Pan-Dorset Safeguarding Children Partnership" in listed
        assert "No partnership" in listed


@pytest.mark.django_db
@pytest.mark.usefixtures("local_authorities")
def test_invite_staff_takes_a_partnership_by_name_and_the_former_role_name() -> None:
    pan_dorset = partnership_make("Pan-Dorset Safeguarding Children Partnership", BCP, DORSET)
    call_command(
        "invite_staff",
        "old-script",
        "--role",
        "board_reviewer",
        "--scope",
        "Pan-Dorset",
        "Safeguarding",
        "Children",
        "Partnership",
        stdout=StringIO(),
    )
    invited = User.objects.get(username="old-script")
    assert (invited.role, invited.partnership) == (R.PARTNERSHIP, pan_dorset)
    with pytest.raises(CommandError, match="no safeguarding partnership called 'Atlantis'"):
        call_command("invite_staff", "lost", "--role", "partnership", "--scope", "Atlantis", stdout=StringIO())


BEFORE = [("accounts", "0010_user_partnership")]
AFTER = [("accounts", "0011_board_reviewers_become_partnership_members")]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("authorities_committed")  # a transactional test: the session's copy may be flushed
def test_board_reviewers_become_members_of_a_partnership_of_their_region_and_come_back() -> None:
    old = migrate(BEFORE).loader.project_state(BEFORE).apps
    OldUser = old.get_model("accounts", "User")
    OldUser.objects.create(username="board-yh", role="board_reviewer", area=YORKSHIRE)
    OldUser.objects.create(username="board-yh-2", role="board_reviewer", area=YORKSHIRE)
    OldUser.objects.create(username="board-none", role="board_reviewer", area="")
    OldUser.objects.create(username="handler", role="call_handler", area="")

    new = migrate(AFTER).loader.project_state(AFTER).apps
    users = {u.username: u for u in new.get_model("accounts", "User").objects.all()}
    partnerships = new.get_model("directory", "Partnership").objects.all()
    assert [p.name for p in partnerships] == [YORKSHIRE]  # one for the region, shared
    yorkshire = partnerships[0]
    assert set(yorkshire.authorities.values_list("pk", flat=True)) == set(
        LocalAuthority.objects.filter(region=YORKSHIRE).values_list("pk", flat=True)
    )
    assert (users["board-yh"].role, users["board-yh"].partnership_id) == ("partnership", yorkshire.pk)
    assert (users["board-yh-2"].role, users["board-yh-2"].partnership_id) == ("partnership", yorkshire.pk)
    assert (users["board-none"].role, users["board-none"].partnership_id) == ("partnership", None)
    assert (users["handler"].role, users["handler"].partnership_id) == ("call_handler", None)

    back = migrate(BEFORE).loader.project_state(BEFORE).apps
    returned = {u.username: (u.role, u.area) for u in back.get_model("accounts", "User").objects.all()}
    assert returned["board-yh"] == ("board_reviewer", YORKSHIRE)
    assert returned["board-none"] == ("board_reviewer", "")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(latest)

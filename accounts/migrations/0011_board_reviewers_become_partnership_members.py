"""Local Safeguarding Children Boards became safeguarding partnerships: every board reviewer becomes a member
of a partnership. A reviewer's region becomes a partnership of that name covering the region's authorities,
so each keeps seeing the figures they saw (administrators then narrow it to the real partnership's
authorities on the partnerships page). A reviewer with no region gets no partnership and, as before, sees
nothing. Going back, a member's region is that of their partnership's authorities when they share one."""

from django.db import migrations


def boards_to_partnerships(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Partnership = apps.get_model("directory", "Partnership")
    LocalAuthority = apps.get_model("directory", "LocalAuthority")
    for user in User.objects.filter(role="board_reviewer").order_by("pk"):
        partnership = None
        authorities = list(LocalAuthority.objects.filter(region=user.area)) if user.area else []
        if authorities:
            partnership, created = Partnership.objects.get_or_create(name=user.area)
            if created:
                partnership.authorities.set(authorities)
        user.role = "partnership"
        user.partnership = partnership
        user.save(update_fields=["role", "partnership"])


def partnerships_to_boards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(role="partnership").order_by("pk"):
        regions = set(user.partnership.authorities.values_list("region", flat=True)) if user.partnership_id else set()
        user.role = "board_reviewer"
        user.area = regions.pop() if len(regions) == 1 else ""
        user.partnership = None
        user.save(update_fields=["role", "area", "partnership"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_user_partnership"), ("directory", "0004_safeguarding_partnerships")]

    operations = [migrations.RunPython(boards_to_partnerships, partnerships_to_boards)]

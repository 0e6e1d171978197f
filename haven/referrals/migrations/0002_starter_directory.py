"""Give the missions that exist already the starter directory (new ones get it on creation)."""

from typing import Any

from django.db import migrations

from haven.referrals.starter import CHECKED_ON, STARTER


def seed(apps: Any, schema_editor: Any) -> None:
    Mission = apps.get_model("core", "Mission")
    Mechanism = apps.get_model("referrals", "Mechanism")
    for mission in Mission.objects.all():
        existing = set(Mechanism.objects.filter(mission=mission).values_list("name", flat=True))
        for entry in STARTER:
            if entry["name"] in existing:
                continue
            values = {k: v for k, v in entry.items() if k != "unverified"}
            codes = values.pop("support_types")
            Mechanism.objects.create(
                mission=mission,
                last_verified_on=None if entry.get("unverified") else CHECKED_ON,
                support_types=f",{','.join(codes)}," if codes else "",
                **values,
            )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial"), ("core", "0004_case_response_settings")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

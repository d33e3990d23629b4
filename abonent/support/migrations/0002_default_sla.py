from django.db import migrations

# Minutes: (first response, resolution). Staff change them in the back office.
DEFAULTS = {
    "no_connection": (30, 4 * 60),
    "slow_speed": (60, 24 * 60),
    "billing": (2 * 60, 24 * 60),
    "tariff": (4 * 60, 48 * 60),
    "equipment": (2 * 60, 48 * 60),
    "other": (8 * 60, 72 * 60),
}


def seed(apps, schema_editor):
    SlaTarget = apps.get_model("support", "SlaTarget")
    for category, (first, resolution) in DEFAULTS.items():
        SlaTarget.objects.get_or_create(
            category=category,
            defaults={"first_response_minutes": first, "resolution_minutes": resolution},
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

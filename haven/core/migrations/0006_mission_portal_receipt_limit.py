# The per-visitor cap (a cookie anyone could drop) gives way to a mission-wide budget of
# receipt checks per minute; the hourly cap now counts only requests actually stored.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_mission_report_settings"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="mission",
            name="portal_session_limit",
        ),
        migrations.AddField(
            model_name="mission",
            name="portal_receipt_limit",
            field=models.PositiveIntegerField(
                default=30,
                help_text="Each check of a receipt costs the server real work, right or wrong. Beyond this, people checking a receipt are asked to wait a minute; sending requests is not affected.",
                verbose_name="receipt checks per minute for the whole portal",
            ),
        ),
        migrations.AlterField(
            model_name="mission",
            name="portal_hourly_limit",
            field=models.PositiveIntegerField(
                default=600,
                help_text="Only requests actually received count. Beyond this, people are asked to send again a little later, and what they wrote is kept on their screen.",
                verbose_name="requests accepted per hour for the whole portal",
            ),
        ),
    ]

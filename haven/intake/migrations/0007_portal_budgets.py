# Two budgets counted apart (requests per hour, receipt checks per minute), and the spent
# tokens of the portal's forms. Old hourly counts are dropped: they mixed both kinds of post.

from django.db import migrations, models


def forget_hourly_counts(apps, schema_editor):
    # Counts of past hours only; without this the new unique window would collide on them.
    apps.get_model("intake", "PortalUsage").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_mission_portal_receipt_limit"),
        ("intake", "0006_attachment_original"),
    ]

    operations = [
        migrations.RunPython(forget_hourly_counts, migrations.RunPython.noop),
        migrations.CreateModel(
            name="SpentFormToken",
            fields=[
                ("nonce", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("forget_after", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="portalusage",
            name="one_usage_row_per_hour",
        ),
        migrations.RemoveField(
            model_name="portalusage",
            name="hour",
        ),
        migrations.AddField(
            model_name="portalusage",
            name="budget",
            field=models.CharField(
                choices=[("submissions", "requests sent"), ("receipts", "receipt checks")],
                default="submissions",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="portalusage",
            name="window",
            field=models.CharField(default="", max_length=12),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="portalusage",
            constraint=models.UniqueConstraint(
                fields=("mission", "budget", "window"), name="one_usage_row_per_window"
            ),
        ),
    ]

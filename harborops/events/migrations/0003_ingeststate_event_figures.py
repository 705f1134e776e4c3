"""Per-instance event figures on IngestState (events/figures.py), computed once here from what is stored."""

from typing import Any

from django.db import migrations, models
from django.db.models import Count, Max, Min


def fill(apps: Any, schema_editor: Any) -> None:
    event, state, instance = (apps.get_model(*m.split(".")) for m in
                              ("events.HarborEvent", "events.IngestState", "fleet.Instance"))
    figures = (event.objects.exclude(instance=None).order_by().values("instance_id")
               .annotate(n=Count("id"), oldest=Min("op_time"), newest=Max("op_time")))
    known = set(instance.objects.values_list("pk", flat=True))
    for f in figures:
        if f["instance_id"] in known:
            state.objects.update_or_create(instance_id=f["instance_id"], defaults={
                "stored_events": f["n"], "oldest_event_at": f["oldest"], "newest_event_at": f["newest"]})


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0002_postgres_search_indexes'),
        ('fleet', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='ingeststate',
            name='newest_event_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ingeststate',
            name='oldest_event_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ingeststate',
            name='stored_events',
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]

"""The activity chart's per-day rollup (events/figures.py keeps it), counted once here from what is stored."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncDate


def fill(apps: Any, schema_editor: Any) -> None:
    event, day = apps.get_model("events", "HarborEvent"), apps.get_model("events", "EventDay")
    rows = (event.objects.order_by().annotate(d=TruncDate("op_time")).values("instance_id", "d", "operation")
            .annotate(n=Count("id")))
    day.objects.bulk_create((day(instance_id=r["instance_id"], day=r["d"], operation=r["operation"], count=r["n"])
                             for r in rows.iterator()), batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0003_ingeststate_event_figures'),
        ('fleet', '0003_sweep_chunks_expired'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('operation', models.CharField(blank=True, max_length=64)),
                ('count', models.BigIntegerField(default=0)),
                ('instance', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='fleet.instance')),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='events_day_day')],
                'constraints': [models.UniqueConstraint(fields=('instance', 'day', 'operation'), name='events_day_unique')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]

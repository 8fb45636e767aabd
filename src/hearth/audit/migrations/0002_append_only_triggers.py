from django.db import migrations


def install(apps, schema_editor):
    from hearth.audit.triggers import install_sql

    for sql in install_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    from hearth.audit.triggers import drop_sql

    for sql in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, drop)]

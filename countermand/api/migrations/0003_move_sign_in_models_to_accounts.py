"""ApiToken and LoginFailure now belong to the accounts app (countermand/accounts/models.py).

Only Django's model state moves: the tables keep their names (api_apitoken, api_loginfailure) and their
rows; accounts' 0001_initial takes the models over with `db_table` set to these names.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_admin_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ApiToken"),
                migrations.DeleteModel(name="LoginFailure"),
            ],
            database_operations=[],
        ),
    ]

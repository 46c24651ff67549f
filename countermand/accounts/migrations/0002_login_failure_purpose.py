"""LoginFailure.purpose: password-reset requests are counted in the same table as failed sign-ins, apart."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='loginfailure',
            name='purpose',
            field=models.CharField(choices=[('sign_in', 'Sign-in'), ('password_reset', 'Password reset')], default='sign_in', max_length=20),
        ),
    ]

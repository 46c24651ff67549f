from django.core.management.base import BaseCommand, CommandError

from countermand.integration.services import connection_passwords_reencrypt


class Command(BaseCommand):
    help = (
        "Encrypt the stored connection passwords with the current COUNTERMAND_SECRET_KEY. Rotating the key: set "
        "the new one, put the old one in COUNTERMAND_SECRET_KEY_FALLBACKS, run this, then remove the fallback."
    )

    def handle(self, *args, **options):
        done, unreadable = connection_passwords_reencrypt()
        self.stdout.write(f"{done} connection password(s) encrypted with the current key.")
        if unreadable:
            raise CommandError(
                "No key reads the password of: " + ", ".join(unreadable) + ". Add the key they were saved with to "
                "COUNTERMAND_SECRET_KEY_FALLBACKS and run this again, or enter those passwords again."
            )

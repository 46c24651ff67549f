from django.core.management.base import BaseCommand, CommandError

from countermand.core.errors import DomainError
from countermand.settings.registry import setting_definition
from countermand.settings.services import setting_set
from countermand.websites.models import Website


class Command(BaseCommand):
    help = "Set a registered setting, for the application or (--website NAME) one website. Lists take several values."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("values", nargs="+", help="the value; list settings take one or more values")
        parser.add_argument("--website", help="website name, for website settings")

    def handle(self, *args, name, values, website, **options):
        site = None
        if website:
            site = Website.objects.filter(name=website).first()
            if site is None:
                raise CommandError(f"There is no website named {website!r}.")
        try:
            definition = setting_definition(name)
            value = values if definition.type == "list" else " ".join(values)
            stored = setting_set(name=name, value=value, website=site)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{name} = {definition.to_text(stored)!r}" + (f" on {site}" if site else ""))

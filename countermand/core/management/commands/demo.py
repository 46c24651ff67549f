from django.core.management import call_command
from django.core.management.base import BaseCommand
from tqdm import tqdm

from countermand.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo data (idempotent). --orders N adds N generated orders for load and scale tests."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=0, help="generated orders to add (default 0)")
        parser.add_argument(
            "--sandbox-url",
            default="http://127.0.0.1:8000/sandbox-erp",
            help="URL of the Sandbox ERP the demo connection calls (default %(default)s)",
        )

    def handle(self, *args, orders: int, sandbox_url: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        bar = tqdm(total=orders, unit="orders", desc="generated orders", disable=orders < 10000, file=self.stderr._out)
        created = demo_load(orders=orders, sandbox_url=sandbox_url, progress=bar.update)
        bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created['orders']} new orders). Storefront: buyer@example.com / demo-buyer; "
                "Admin Console: admin / demo-admin."
            )
        )

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from countermand.accounts.models import ApiToken
from countermand.accounts.services import user_tokens_revoke


class Command(BaseCommand):
    help = "List a user's API tokens and revoke them all (e.g. a lost laptop); --list only lists them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--list", action="store_true", help="only list the tokens, revoke nothing")

    def handle(self, *args: Any, username: str, list: bool = False, **options: Any) -> None:
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        tokens = ApiToken.objects.filter(user=user).order_by("created_at")
        for token in tokens:
            last_used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"  {token.prefix}…  created {token.created_at:%Y-%m-%d %H:%M}  "
                f"expires {token.expires_at:%Y-%m-%d %H:%M}  last used {last_used}"
            )
        if list:
            self.stdout.write(f"{username} has {len(tokens)} API token(s).")
            return
        revoked = user_tokens_revoke(user_id=user.pk)
        self.stdout.write(f"Revoked {revoked} API token(s) of {username}.")

"""Create the demo accounts and print their credentials (only with DEMO_MODE on)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.accounts import accounts_ensure


class Command(BaseCommand):
    help = "Create the demo user and admin (DEMO_MODE only) and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("demo_setup only runs with DEMO_MODE=1 (use `make demo`).")
        for account in accounts_ensure():
            role = "admin" if account.staff else "user "
            self.stdout.write(f"  demo {role}  {account.username} / {account.password}")

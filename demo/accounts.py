"""The demo's two accounts, created (or reset to their known passwords) at every start."""

from __future__ import annotations

from accounts.models import User

from .config import ACCOUNTS, Account


def account_ensure(account: Account) -> None:
    user, _ = User.objects.get_or_create(username=account.username)
    user.set_password(account.password)
    user.is_staff = user.is_superuser = account.staff
    user.is_active = True
    user.save()


def accounts_ensure() -> tuple[Account, ...]:
    for account in ACCOUNTS:
        account_ensure(account)
    return ACCOUNTS

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.http import HttpRequest

from . import services
from .models import ApiToken, User


class PasswordChangeRevokingTokensForm(AdminPasswordChangeForm):
    """The admin's "change password" for a user: a new password revokes the user's API tokens, as
    it does on the user's own pages (accounts.views)."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            services.api_tokens_revoke_all(user=user)
        return user


@admin.register(User)
class SiteUserAdmin(UserAdmin):
    change_password_form = PasswordChangeRevokingTokensForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a token's secret is shown once to its owner, on the tokens page

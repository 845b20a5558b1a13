from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User

EMAIL_IN_USE = (
    "An account already uses this e-mail address. Sign in to it, or reset its password if you forgot it."
)


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # the stubs omit the form's Meta
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        # One account per address, whatever its case: a reset mail for the address would otherwise
        # carry links to several accounts, some of them not its owner's.
        email = self.cleaned_data.get("email", "")
        if email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(EMAIL_IN_USE, code="email_in_use")
        return email


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name", max_length=100, help_text="What it is for, e.g. “laptop script”.", strip=True
    )

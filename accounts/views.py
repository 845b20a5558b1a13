from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator

from . import selectors, services
from .forms import ApiTokenForm, SignUpForm
from .http import AuthenticatedHttpRequest
from .models import ApiToken
from .ratelimit import login_attempts_exceeded, record_login_failure


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! Pick a song to get started.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login view, with a per-username and per-address limit on failed attempts."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        username = request.POST.get("username", "")
        if login_attempts_exceeded(request, username):
            messages.error(request, "Too many failed sign-in attempts. Wait a few minutes and try again.")
            return self.render_to_response(self.get_context_data(form=self.get_form()), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        record_login_failure(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)


# --- API tokens -----------------------------------------------------------------------------------


def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        # Rendered, not redirected: the secret must never be stored, not even in the session.
        return render(request, "accounts/token_created.html", {"token": token, "secret": secret})
    tokens = selectors.api_token_list_for_user(user=request.user)
    return render(request, "accounts/token_list.html", {"tokens": tokens, "form": form})


def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "POST":
        services.api_token_revoke(token=token)
        messages.success(request, f"Token “{token.name}” revoked: scripts using it are refused from now on.")
        return redirect("accounts:token_list")
    return render(request, "accounts/token_confirm_revoke.html", {"token": token})

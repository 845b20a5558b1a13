from __future__ import annotations

from typing import Any, TypeVar, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.contrib.sites.shortcuts import get_current_site
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from . import ratelimit, selectors, services
from .forms import ApiTokenForm, SignUpForm
from .http import AuthenticatedHttpRequest
from .models import ApiToken

FormT = TypeVar("FormT", bound=forms.BaseForm)


def _form_refused(form_class: type[FormT], message: str, **form_kwargs: Any) -> FormT:
    """The form again, bound to what was typed but not validated (a refused sign-in must not even
    check the password), with the refusal as its one and only error."""

    class Refused(form_class):  # type: ignore[valid-type,misc]  # mypy cannot subclass a class held in a TypeVar
        def full_clean(self) -> None:
            self._errors = ErrorDict()
            self.cleaned_data: dict[str, Any] = {}
            self.add_error(None, message)

    return cast(FormT, Refused(**form_kwargs))


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        usage = ratelimit.throttle_take("signup", request)
        if not usage.allowed:
            message = f"Too many accounts were created from your network. Try again in {ratelimit.wait_phrase(usage.retry_after)}."
            form = _form_refused(SignUpForm, message, data=request.POST)
            return render(request, "registration/signup.html", {"form": form}, status=429)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}! Pick a song to get started.")
            return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


class ThrottledLoginView(auth_views.LoginView):
    """Django's sign-in behind accounts.ratelimit's rules, for the site's login page and the admin's.

    A refused attempt is answered with the form and one message, and its password is not checked;
    a wrong password gets only the form's own error. The page never shows both.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        refusal = ratelimit.login_refusal(request, username)
        if refusal is not None:
            form = _form_refused(
                self.get_form_class(), refusal.message, request=request, data={"username": username[:150]}
            )
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(refusal.retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        ratelimit.login_failed(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        ratelimit.device_remember(self.request, response, form.get_user().get_username())
        return response


@method_decorator(login_not_required, name="dispatch")
class LoginView(ThrottledLoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        username = self.request.POST.get("username", "")[:150] if self.request.method == "POST" else ""
        if ratelimit.login_link_offered(self.request, username):
            context["login_link_username"] = username
        return context


# --- Sign-in links by e-mail ----------------------------------------------------------------------


@login_not_required
@require_POST
def login_link(request: HttpRequest) -> HttpResponse:
    """Mail a sign-in link for the username typed (offered while the account is under attack).
    Every name gets the same answer and the same work: the worker looks the account up."""
    username = request.POST.get("username", "")[:150]
    for scope, subject in (("login_link", None), ("login_link_username", f"name:{username.lower()}")):
        usage = ratelimit.throttle_take(scope, request, subject=subject)
        if not usage.allowed:
            return ratelimit.refuse(request, usage)
    if username:
        services.login_link_request(
            username=username, domain=get_current_site(request).domain, use_https=request.is_secure()
        )
    return redirect("accounts:login_link_sent")


@login_not_required
def login_link_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "registration/login_link_sent.html", {"minutes": settings.LOGIN_LINK_MAX_AGE // 60}
    )


@login_not_required
def login_link_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the mail. A GET only shows a button (mail scanners open links, and must not
    use them up); the POST signs in and remembers this browser for the account."""
    user = (
        services.login_link_redeem(token=token)
        if request.method == "POST"
        else services.login_link_user(token=token)
    )
    if user is None:
        return render(request, "registration/login_link_invalid.html", status=400)
    if request.method != "POST":
        return render(request, "registration/login_link_confirm.html", {"link_user": user})
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    response = redirect(settings.LOGIN_REDIRECT_URL)
    ratelimit.device_remember(request, response, user.get_username())
    return response


@method_decorator(login_not_required, name="dispatch")
class AdminLoginView(ThrottledLoginView):
    """The admin's sign-in page (its template and staff-only form) behind the same rules."""

    authentication_form = AdminAuthenticationForm
    template_name = "admin/login.html"

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if admin.site.has_permission(request):
            return redirect(self.get_success_url())
        return super().get(request, *args, **kwargs)

    def get_redirect_url(self) -> str:
        return super().get_redirect_url() or reverse("admin:index")

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            admin.site.each_context(self.request),
            title="Log in",
            subtitle=None,
            app_path=self.request.get_full_path(),
            username=self.request.user.get_username(),
        )
        context.setdefault(REDIRECT_FIELD_NAME, reverse("admin:index"))
        return context


def _tokens_revoked_message(request: HttpRequest, revoked: int) -> None:
    if revoked:
        messages.info(
            request,
            f"Your {revoked} API token{'s were' if revoked > 1 else ' was'} revoked with the old password: "
            "create new ones on the API tokens page for the scripts that still need one.",
        )


class PasswordChangeView(auth_views.PasswordChangeView):
    """A new password also revokes the user's API tokens (issue 28.5): whoever took the old
    password may have made one."""

    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        _tokens_revoked_message(self.request, services.api_tokens_revoke_all(user=form.user))
        return response

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        usage = ratelimit.throttle_take("password_change", request)
        if not usage.allowed:
            message = f"Too many password changes. Try again in {ratelimit.wait_phrase(usage.retry_after)}."
            form = _form_refused(self.get_form_class(), message, user=request.user, data=request.POST)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Reset by e-mail, limited per client address and per e-mail address (no mail-bombing).
    The answer is the same whether or not an account has the address."""

    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        email = request.POST.get("email", "").strip().lower()[:254]
        for scope, subject in (("password_reset", None), ("password_reset_email", email)):
            usage = ratelimit.throttle_take(scope, request, subject=subject)
            if not usage.allowed:
                message = f"Too many reset requests. Try again in {ratelimit.wait_phrase(usage.retry_after)}."
                form = _form_refused(self.get_form_class(), message, data=request.POST)
                return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # Django's view looks the address up and sends the mail here, so known addresses took
        # longer: the worker does both (services.password_reset_request).
        services.password_reset_request(
            email=form.cleaned_data["email"],
            domain=get_current_site(self.request).domain,
            use_https=self.request.is_secure(),
        )
        return HttpResponseRedirect(self.get_success_url())


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a password from a reset link revokes the user's API tokens, as a change does."""

    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        _tokens_revoked_message(self.request, services.api_tokens_revoke_all(user=form.user))
        return response


# --- API tokens -----------------------------------------------------------------------------------


def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except services.TokenLimitReached as exc:
            form.add_error(None, str(exc))
            status = 409
        else:
            # Rendered, not redirected: the secret must never be stored, not even in the session.
            return render(request, "accounts/token_created.html", {"token": token, "secret": secret})
    tokens = selectors.api_token_list_for_user(user=request.user)
    context = {"tokens": tokens, "form": form, "limit": services.TOKENS_PER_USER}
    return render(request, "accounts/token_list.html", context, status=status)


def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "POST":
        services.api_token_revoke(token=token)
        messages.success(request, f"Token “{token.name}” revoked: scripts using it are refused from now on.")
        return redirect("accounts:token_list")
    return render(request, "accounts/token_confirm_revoke.html", {"token": token})

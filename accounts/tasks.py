"""Celery tasks of accounts: the password reset mail and the sign-in link, sent off the request path."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(
    name=services.PASSWORD_RESET_TASK,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),  # the mail server is away or refused for now
    retry_backoff=True,
    max_retries=3,
)
def password_reset_send_task(email: str, domain: str, use_https: bool) -> None:
    services.password_reset_send(email=email, domain=domain, use_https=use_https)


@shared_task(
    name=services.LOGIN_LINK_TASK,
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=3,
)
def login_link_send_task(username: str, domain: str, use_https: bool) -> None:
    services.login_link_send(username=username, domain=domain, use_https=use_https)

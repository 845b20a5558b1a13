"""The demo mailbox (demo.mail): e-mails the site sends in the demo are listed on a page the banner
links to, instead of only in the web server's log (issue 26.8)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from demo.mail import mailbox_list

# The reset mail is sent by a task (accounts.tasks): run it at once, as the demo's worker would.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sent_tasks")]


@pytest.fixture
def demo_mail(settings, tmp_path):
    settings.DEMO_MODE = True
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "demo.mail.MailboxBackend"
    return settings


def test_the_demo_environment_selects_the_mailbox(tmp_path):
    from demo import config

    assert config.environment(tmp_path)["EMAIL_BACKEND"] == "demo.mail.MailboxBackend"


def test_sent_messages_are_kept_and_listed_newest_first(demo_mail, capsys):
    mail.send_mail("First", "Hello https://example.org/a/", "site@example.com", ["ada@example.com"])
    mail.send_mail("Second", "Again", "site@example.com", ["bob@example.com"])

    first, second = reversed(mailbox_list())
    assert (second.subject, second.to, second.body.strip()) == ("Second", "bob@example.com", "Again")
    assert (first.subject, first.sender) == ("First", "site@example.com")
    assert second.sent_at >= first.sent_at
    assert "demo mail: “Second” to bob@example.com" in capsys.readouterr().out


def test_a_password_reset_arrives_in_the_mailbox_with_a_working_link(demo_mail, client, user):
    user.email = "ada@example.com"
    user.save()

    done = client.post(reverse("accounts:password_reset"), {"email": "ada@example.com"}, follow=True)

    assert "demo mailbox" in done.content.decode()
    page = client.get(reverse("demo:mailbox")).content.decode()
    link = re.search(r'href="(https?://[^"]+/accounts/password/reset/[^"]+/)"', page)
    assert link is not None, page
    assert client.get(link.group(1), follow=True).status_code == 200


def test_the_banner_links_to_the_mailbox(demo_mail, client):
    assert reverse("demo:mailbox") in client.get("/accounts/login/").content.decode()


def test_the_mailbox_is_a_404_outside_the_demo(client, settings):
    settings.DEMO_MODE = False
    assert client.get(reverse("demo:mailbox")).status_code == 404


def test_an_empty_mailbox_says_how_to_fill_it(demo_mail, client):
    assert "No e-mail yet" in client.get(reverse("demo:mailbox")).content.decode()

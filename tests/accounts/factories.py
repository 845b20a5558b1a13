from __future__ import annotations

import factory

from accounts.models import User
from tests.factories import ModelFactory


class UserFactory(ModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("a-long-pass-123")

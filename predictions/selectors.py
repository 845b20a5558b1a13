"""Reads for predictions: what a user may see, and what training may use."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import Prediction


def prediction_get_for_user(
    *,
    user: User,
    pk: int,
    status: str | None = None,
    staff_sees_all: bool = False,
    only: Sequence[str] = (),
    defer: Sequence[str] = (),
) -> Prediction:
    """The user's own prediction (with `status`, when given), or Http404: other users' predictions
    do not exist for them, so the answer is never 403. With `staff_sees_all`, staff who may view
    predictions in the admin may read anyone's (the admin reviews them; staff status alone is not
    enough). `only` limits the columns read, for a view polled every second; `defer` leaves some
    out (a page never shows the backbone output)."""
    predictions = Prediction.objects.only(*only) if only else Prediction.objects.defer(*defer)
    if not (staff_sees_all and user.is_staff and user.has_perm("predictions.view_prediction")):
        predictions = predictions.filter(owner=user)
    if status is not None:
        predictions = predictions.filter(status=status)
    return get_object_or_404(predictions, pk=pk)


def prediction_list_for_user(
    *, user: User, genre: str = "", status: str = "", search: str = ""
) -> QuerySet[Prediction]:
    # A list never shows the backbone output (hundreds of numbers a row): not read, not decoded.
    predictions = Prediction.objects.filter(owner=user).defer("backbone_output")
    for word in search.split()[:8]:
        # Every word must appear in the title, the artist or the album (an upload's title is its file name).
        predictions = predictions.filter(
            Q(title__icontains=word) | Q(artist__icontains=word) | Q(album__icontains=word)
        )
    if genre:
        predictions = predictions.filter(top_genre=genre)
    if status:
        predictions = predictions.filter(status=status)
    return predictions


def prediction_genre_labelled_list() -> QuerySet[Prediction]:
    """Predictions with a genre label, from an admin's review or the user's own correction: the
    training data for the next model (predictions.labels says which label wins)."""
    return (
        Prediction.objects.filter(~Q(reviewed_genre="") | ~Q(user_genre=""))
        .select_related("owner", "reviewed_by")
        .order_by("pk")
    )

"""What the predictions app tells the apps above it. They subscribe; predictions imports none of them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once a prediction's job is done and its analysis is stored, with `prediction_id`.
# Sent outside any transaction: receivers may enqueue work right away.
prediction_done = Signal()

# Sent when the user corrects (or resets) the tempo, key or genre of a done prediction, with
# `prediction_id` and `fields` (the names that changed: "tempo", "key", "genre"). Sent inside the
# correction's transaction, so receivers' writes commit with it; they enqueue work on commit.
prediction_corrected = Signal()

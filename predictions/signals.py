"""What the predictions app tells the apps above it. They subscribe; predictions imports none of them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once a prediction's job is done and its analysis is stored, with `prediction_id`.
# Sent outside any transaction: receivers may enqueue work right away.
prediction_done = Signal()

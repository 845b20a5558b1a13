"""Steps the samples browser tests share."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from tests.conftest import running_worker


def play_with_the_song(page: Page, sound: Locator) -> Locator:
    """Press a sound's "Play with the song" while a real worker runs, and wait until the render is
    done or has failed; returns the sound's conform status (its `data-kind` says which)."""
    with running_worker():
        sound.get_by_role("button", name="Play with the song").click()
        status = sound.locator("[data-conform-status]")
        page.wait_for_function(
            "s => s.dataset.kind === 'done' || s.dataset.kind === 'error'",
            arg=status.element_handle(),
            timeout=60_000,
        )
    return status

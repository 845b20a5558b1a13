"""Samples in the song's tempo and key: the song's grid and the cached renders (`conforming`), the
Rubber Band audio work (`rendering`, no Django) and the player's and downloads' views (`views`)."""

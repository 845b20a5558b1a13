"""Local HTTP servers that speak the documented JSON of Spotify, Deezer, iTunes and Freesound.

They listen on real sockets on 127.0.0.1 (free ports), so the real clients talk to them unchanged.
Each can be told to misbehave: 429 with Retry-After, 5xx, slow answers, malformed JSON, and
Deezer's "HTTP 200 with an error body". Fixtures live in fakeapis.plugin; the demo (`make demo`) serves them too.
"""

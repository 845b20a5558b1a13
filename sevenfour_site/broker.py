"""kombu's Redis and filesystem transports, with two fixes the queue topology relies on.

Registered under kombu's own URL schemes (`redis://`, `rediss://`, `filesystem://`) by `install()`,
which sevenfour_site.celery calls before the app makes any connection, so the settings, the
Procfiles and the tests keep their URLs.

1. Queue order for the filesystem broker. A worker consumes its queues in the order given to
   `--queues` when the transport option `queue_order_strategy` is "priority": the user's songs
   (`ml`) before the background audio index (`ml-background`). kombu's Redis transport reads that
   option (kombu.transport.redis.Channel, kombu.utils.scheduling.priority_cycle); its filesystem
   transport ignores it and always takes the queues in turn (virtual.Channel uses FairCycle), so
   here it is honoured the same way.

2. A Redis restart under a busy worker. When the connection drops, Celery's consumer calls
   Connection.collect(), which detaches the transport from its connection (`transport.client =
   None`), and then closes the connection; closing the channel restores its unacknowledged
   messages (a running acks_late job's) and needs the connection's address, finds None, and raises
   AttributeError, which the consumer does not treat as a connection error: the worker exits
   ("Unrecoverable error: AttributeError: 'NoneType' object has no attribute 'hostname'"). The
   same happens when the running job is acknowledged after the reconnect. Here a channel keeps the
   connection it was opened on and uses it when the transport has let go: the restore then fails
   as the connection error it is (ignored), and the late acknowledgement reaches Redis once it is
   back (tests/sevenfour_site/test_broker_restart.py).
"""

from __future__ import annotations

from queue import Empty
from typing import Any

from kombu import transport as kombu_transport
from kombu.transport import filesystem, redis
from kombu.utils.scheduling import FairCycle

PRIORITY = "priority"


class _InOrderCycle(FairCycle):
    """FairCycle that starts from the first queue on every poll: the first non-empty queue wins."""

    def get(self, callback: Any, **kwargs: Any) -> Any:
        self.pos = 0
        return super().get(callback, **kwargs)


class FilesystemChannel(filesystem.Channel):
    def _reset_cycle(self) -> None:
        if self.transport_options.get("queue_order_strategy") == PRIORITY:
            self._cycle = _InOrderCycle(self._get_and_deliver, self._active_queues, Empty)
        else:
            super()._reset_cycle()


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel


class RedisChannel(redis.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._opened_on = args[0].client if args else kwargs["connection"].client
        super().__init__(*args, **kwargs)

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport.client is not None:
            return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # private, not in the stubs
        transport.client = self._opened_on  # only for this call: the worker's loop is one thread
        try:
            return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # private, not in the stubs
        finally:
            transport.client = None


class RedisTransport(redis.Transport):
    Channel = RedisChannel


_ALIASES = {
    "redis": f"{__name__}:RedisTransport",
    "rediss": f"{__name__}:RedisTransport",
    "filesystem": f"{__name__}:FilesystemTransport",
}


def install() -> None:
    """Serve kombu's redis, rediss and filesystem URLs with the transports above."""
    for scheme, path in _ALIASES.items():
        kombu_transport.TRANSPORT_ALIASES[scheme] = path
        # In case a connection resolved the scheme already (none has, when celery.py calls this).
        kombu_transport._transport_cache.pop(scheme, None)  # type: ignore[attr-defined]  # private, not in the stubs

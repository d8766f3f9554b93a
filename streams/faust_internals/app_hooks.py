"""9. The app's own hooks into Faust (tests/streams/faust_internals/test_app_hooks.py).

`TunedApp` is `faust.App` with the transport of 1-4 (Faust builds it in the private
`_new_transport`), and a way to start its web server before table recovery: Faust starts it
only once recovery has finished, so an orchestrator would see a refused connection rather
than the 503 of "not ready yet" for as long as recovery takes. Starting it again later is a
no-op in Faust.
"""

from __future__ import annotations

from typing import Any

import faust

from antifraud.streams.faust_internals.transport import make_transport


class TunedApp(faust.App):
    # Set by the subclass from the settings (streams/app.py); Faust's own wait by default.
    fetch_max_wait_ms: int = 1500

    def _new_transport(self) -> Any:
        transport_class = make_transport(self.fetch_max_wait_ms)
        return transport_class(self.conf.broker_consumer, self)

    async def start_web_server_now(self) -> None:
        await self.on_started_init_web_server()

"""``cytonet serve``: the JSON API and the browser explorer on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from cytonet.cli._console import console

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    host: Annotated[str, typer.Option(help="address to bind; anything but loopback exposes the server to the network")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="simulations run at once")] = 2,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
    open_browser: Annotated[bool, typer.Option("--open", help="open the explorer in the default browser once serving")] = False,
) -> None:
    """Serve the cytokine network explorer and its JSON API (OpenAPI at /openapi.json)."""
    import dataclasses

    import uvicorn

    from cytonet.web import create_app
    from cytonet.web.limits import DEFAULT_LIMITS

    if host not in LOOPBACK:
        console().print(f"[yellow]warning: binding {host}: anyone who can reach this address can run simulations[/]")
    app = create_app(dataclasses.replace(DEFAULT_LIMITS, sim_workers=workers))
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    console().print(f"cytonet explorer on {url}  (API schema: /openapi.json; Ctrl+C stops)")
    if open_browser:
        _open_when_started(server, url)
    server.run()


def _open_when_started(server: object, url: str) -> None:
    """Open ``url`` in the default browser once uvicorn reports it is accepting connections."""
    import threading
    import time
    import webbrowser

    def wait_and_open() -> None:
        for _ in range(600):
            if getattr(server, "started", False):
                webbrowser.open(url)
                return
            time.sleep(0.1)

    threading.Thread(target=wait_and_open, daemon=True, name="cytonet-open-browser").start()

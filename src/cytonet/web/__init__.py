"""``cytonet serve``: the JSON API and the browser explorer (FastAPI; see :func:`create_app`)."""

from cytonet.web.app import create_app

__all__ = ["create_app"]

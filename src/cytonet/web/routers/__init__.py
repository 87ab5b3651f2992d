"""One router per part of the API, composed in :mod:`cytonet.web.app`."""

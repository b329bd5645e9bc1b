"""Web chat: an embeddable widget on the customer's site, visitor sessions, and a resumable WebSocket.

Read top-down: models.py (widgets, visitors, the visitor's event stream), service.py (use cases),
api.py (HTTP, CORS, the WebSocket, widget.js), then the pure modules: tokens.py, frames.py.
"""

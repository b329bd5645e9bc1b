"""Digital channels on the wire: WhatsApp, Telegram and Twilio SMS adapters, webhook ingest and the outbox.

Read top-down: `models.py` (tables), `service.py` (channel configuration), `ingest.py` (webhooks in),
`outbox.py` (messages out), `api.py` (routes); pure logic in `status.py`, `retry.py`, `keywords.py` and
`providers/`.
"""

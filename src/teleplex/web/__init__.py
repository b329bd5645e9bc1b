"""The web interface served by Teleplex itself: the agent console, the supervisor's wallboard, administration.

Read pages.py (the routes), i18n.py and catalogue.py (every string, English and Spanish), admin_resources.py
(what the administration screens edit), then templates/ and static/console/ (small plain JavaScript modules,
no build step). static/widget.js is the customers' web chat and static/phone.js the browser phone.
"""

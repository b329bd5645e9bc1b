"""One module per provider: verify, parse (pure) and send (async HTTP); `base.py` holds the shared shapes."""

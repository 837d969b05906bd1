"""Front ends at the edge: the terminal, the JSON-lines protocol and (later) Telegram."""

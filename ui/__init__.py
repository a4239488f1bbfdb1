"""The web UI: pages render the store and call its actions; no database, no network."""

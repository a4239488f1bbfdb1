"""The dashboard's side of the runner protocol: HTTP commands and the WebSocket event feed."""

"""The runner: supervises real llama-server processes and serves commands and an event feed.

Public surface: `runner.embedded.start_embedded_runner` (inside the dashboard) and
`python -m runner` (standalone). Modules, one idea each: process (one server's lifecycle),
supervisor (all of them, commands, events), events (numbered fan-out), metrics and host (live
figures), logs (output lines), lifeline and keeper (servers die with the runner), binary (which
llama-server), server (HTTP and WebSocket), embedded and __main__ (ways to run it). The wire
format is in protocol/messages.py and docs/protocol.md. Imports nothing of ModelDeck except
protocol/.
"""

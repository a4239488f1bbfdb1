"""Every page of ModelDeck: a NiceGUI page that outlasts a short absence of its browser.

A phone locks its screen, a person switches apps to copy a path, the Wi-Fi drops for a moment, a busy machine
answers a heartbeat late: the page's socket goes and comes back. NiceGUI forgets a page 3 s after its socket
went unless told otherwise, and the browser then reloads it: what was typed in an open form is lost. A page here is
kept for RECONNECT_S, and NiceGUI's socket, coming back within it, carries on the same page (the messages it missed
are sent again); ui/pwa.py reloads a page whose server answers but will not take its socket back.
"""

from __future__ import annotations

from nicegui import ui

RECONNECT_S = 30.0
# NiceGUI times its heartbeat from the app's reconnect timeout (a ping every 0.8 of it, an answer due within 0.4):
# from 10 s, a ping every 8 s with 4 s to answer, so a busy phone or machine does not lose its socket over one slow
# answer (with NiceGUI's 3 s, 2 s to answer, a loaded CI machine did), and a dead connection shows within 12 s.
HEARTBEAT_BASIS_S = 10.0


def page(path: str) -> ui.page:
    return ui.page(path, reconnect_timeout=RECONNECT_S)

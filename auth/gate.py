"""The sign-in gate: who this browser's session belongs to, signing in and out.

A session (NiceGUI's app.storage.user, tied to a cookie signed with the session secret) holds
the account name and key; the account cache decides at every request whether it still counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from nicegui import app

from auth.accounts import Account, Accounts
from auth.api_keys import ApiKeys
from auth.first_start import SetupToken
from auth.rate_limit import RateLimiter
from auth.renewal import SessionRenewals
from store.actor import LOCAL_ADMIN, Actor
from store.errors import StoreError

SESSION_KEY = "modeldeck.session"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def write_session(name: str, key: str) -> None:
    app.storage.user[SESSION_KEY] = {"name": name, "key": key}


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@dataclass
class Gate:
    open: bool  # loopback-only and open there: everyone is the local admin, no sign-in
    accounts: Accounts = field(default_factory=Accounts)
    keys: ApiKeys = field(default_factory=ApiKeys)  # for apps: the gateway (and the management API)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    setup_token: SetupToken | None = None  # while no account exists
    renewals: SessionRenewals = field(default_factory=SessionRenewals)

    def session_actor(self) -> Actor | None:
        """The actor of the current request's session; None when nobody (valid) is signed in."""
        if self.open:
            return LOCAL_ADMIN
        session = app.storage.user.get(SESSION_KEY)
        if not isinstance(session, dict):
            return None
        account = self.accounts.get(str(session.get("name")))
        if account is None or session.get("key") != account.key:
            return None  # deleted, or signed in with a password that has changed since
        return account.actor

    def actor(self) -> Actor:
        """Like session_actor, for store actions: an ended session is refused with a clear message."""
        actor = self.session_actor()
        if actor is None:
            raise StoreError("your session has ended: sign in again")
        return actor

    def sign_in_path(self, account: Account, then: str) -> str:
        """Where to send the browser to sign in with a fresh session id (auth/renewal.py), then go on."""
        carried = {key: value for key, value in app.storage.user.items() if key != SESSION_KEY}
        token = self.renewals.issue(account.name, account.key, str(app.storage.browser["id"]), carried)
        return f"/login/renew?{urlencode({'pass': token, 'next': then})}"

    @staticmethod
    def sign_in(account: Account) -> None:
        """Sign this session in as it is (after a password change: the new key keeps it signed in)."""
        write_session(account.name, account.key)

    @staticmethod
    def sign_out() -> None:
        app.storage.user.pop(SESSION_KEY, None)

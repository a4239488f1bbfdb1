"""Who may use ModelDeck: accounts, passwords, sessions, the sign-in gate and the first start.

Bound to loopback (and open there, the default) everyone on this machine is the local admin;
bound to any other address every page, route and socket needs a signed-in session.
"""

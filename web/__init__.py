"""The managers' web panel: server-rendered pages over storage, with accounts, roles, scopes and CSRF."""

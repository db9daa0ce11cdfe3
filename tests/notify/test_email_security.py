"""SMTP over STARTTLS and implicit TLS with a login; a refused login is retried, its password never recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from fixtures.smtp import FakeSmtpServer, self_signed
from notify.outbox import flush
from storage.models import OutboxStatus


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login_delivers_and_a_wrong_password_is_retried(
    security: str,
    tmp_path: Path,
    sqlite_url: str,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
    secrets: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, password = secrets
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # the client trusts the test certificate, and only it
    engine = create_engine(sqlite_url)
    routes = [{"name": "now", "email": ["ops@brand.example"]}]
    with FakeSmtpServer(tls=security, cert=cert, credentials=("pricewatch", password)) as server:
        wrong = make_config(
            routes,
            smtp_port=server.port,
            smtp_security=security,
            smtp_user="pricewatch",
            smtp_password="not-the-password-0042",
        )
        queue(engine, wrong)
        assert flush(engine, wrong).retried == 1  # a login refused (535) is the admin's to fix: not dead
        (row,) = outbox_rows(engine)
        assert row.status == OutboxStatus.PENDING
        assert "535" in (row.last_error or "")
        assert "not-the-password-0042" not in (row.last_error or "")

        right = make_config(routes, smtp_port=server.port, smtp_security=security, smtp_user="pricewatch")
        assert flush(engine, right, now=outbox_rows(engine)[0].next_attempt_at).sent == 1
        (received,) = server.received
        assert received.login == "pricewatch"
        assert received.rcpt_tos == ["ops@brand.example"]
    engine.dispose()

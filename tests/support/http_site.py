"""A small real HTTP site on 127.0.0.1 for crawl tests: answers computed per path, every request logged."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (path, how many times it was asked so far, this time included) → (status, headers, body)
Answer = Callable[[str, int], tuple[int, dict[str, str], bytes]]


class HttpSite:
    """`with HttpSite(answer) as site: site.url …; site.hits["/path"]` (monotonic times of each request)."""

    def __init__(self, answer: Answer) -> None:
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site.lock:
                    site.hits[self.path].append(time.monotonic())
                    count = len(site.hits[self.path])
                status, headers, body = answer(self.path, count)
                self.send_response(status)
                for key, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # The crawler may drop a download it does not want (too large).
                with contextlib.suppress(ConnectionError):
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> HttpSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

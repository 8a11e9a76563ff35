"""A read-only key for browsing the store: tiled's web UI, or a colleague's client.

The local server runs tiled in single-user mode (one key, every right). Beside that
key, the store keeps a second one, `browse_key` (a file readable by its owner only).
A request carrying the browse key — `?api_key=`, `Authorization: Apikey ...` or the UI's
cookie — may only read (GET, HEAD, OPTIONS; anything else is refused with 403); it is
passed on to tiled with the store's key, which never reaches the browser.
"""

from __future__ import annotations

import json
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "tiled_api_key"  # the cookie tiled's web UI authenticates with

Scope = dict[str, Any]


class BrowseKeyMiddleware:
    """ASGI middleware: the browse key reads with `api_key`'s rights, and only reads."""

    def __init__(self, app: Any, api_key: str, browse_key: str) -> None:
        self.app = app
        self._api_key = api_key
        self._browse_key = browse_key

    def _is_browse(self, key: str | None) -> bool:
        return key is not None and secrets.compare_digest(key, self._browse_key)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
        headers = dict(scope["headers"])
        from_query = self._is_browse(dict(query).get("api_key"))
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        from_header = self._is_browse(authorization.removeprefix("Apikey ").strip() or None)
        cookies = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        from_cookie = COOKIE in cookies and self._is_browse(cookies[COOKIE].value)
        if not (from_query or from_header or from_cookie):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in READ_METHODS:
            await _refuse(send, scope["method"])
            return
        await self.app(_as_owner(scope, query, cookies, self._api_key), receive,
                       _setting_cookie(send, self._browse_key) if from_query else send)  # fmt: skip


def _as_owner(scope: Scope, query: list[tuple[str, str]], cookies: SimpleCookie, key: str) -> Scope:
    """The request without the browse key, authenticated by the store's key."""
    kept = [(k, v) for k, v in query if k != "api_key"]
    cookies.pop(COOKIE, None)
    cookie = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"authorization", b"cookie")]
    headers.append((b"authorization", f"Apikey {key}".encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    return {**scope, "headers": headers, "query_string": urlencode(kept).encode("latin-1")}


def _setting_cookie(send: Any, browse_key: str) -> Any:
    """Give the browser the browse key as tiled's cookie (as tiled does with its own key)."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{COOKIE}={browse_key}; Path=/; HttpOnly; SameSite=Lax"
            message = {
                **message,
                "headers": [*message["headers"], (b"set-cookie", cookie.encode())],
            }
        await send(message)

    return wrapped


async def _refuse(send: Any, method: str) -> None:
    body = json.dumps({"detail": f"the browse key is read-only: {method} refused"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["COOKIE", "READ_METHODS", "BrowseKeyMiddleware"]

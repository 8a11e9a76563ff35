"""Resolve the tiled app's FastAPI dependency overrides once, at build time.

tiled's `build_app` overrides one dependency (`get_settings`). While an app has any
override, FastAPI re-analyses the signature of every dependency of every request to
look for overridden ones (`get_dependant` for each node of the tree): measured on this
project's server, that was most of its CPU time — about 80 ms a request, 0.9 s of
server CPU a one-frame run, so a burst of short runs fell tens of seconds behind.

`bake_dependency_overrides` puts each override's callable into the routes' dependency
trees in place of the overridden one, then leaves the app's override mapping empty
(FastAPI takes its fast path) while lookups of the baked keys still answer, as tiled's
own start-up and shutdown hooks read `app.dependency_overrides[get_settings]`.
Only overrides without parameters are baked (then the analysed trees stay exact);
any other override is left to FastAPI, which keeps the slow path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any


class BakedOverrides(dict):
    """Empty to FastAPI (no per-request resolution), yet `[key]` still finds the
    baked overrides."""

    def __init__(self, baked: dict[Callable[..., Any], Callable[..., Any]]) -> None:
        super().__init__()
        self.baked = dict(baked)

    def __missing__(self, key: Callable[..., Any]) -> Callable[..., Any]:
        return self.baked[key]


def _dependants(app: Any) -> Iterator[Any]:
    """Every dependency node of every route (depth first)."""
    stack = [route.dependant for route in app.routes if getattr(route, "dependant", None)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.dependencies)


def bake_dependency_overrides(app: Any) -> int:
    """Replace overridden dependencies in the routes by their overrides; returns how
    many nodes were changed. A no-op when an override takes parameters."""
    overrides = dict(app.dependency_overrides)
    if not overrides or any(inspect.signature(f).parameters for f in overrides.values()):
        return 0
    changed = 0
    for node in _dependants(app):
        if node.call in overrides:
            node.call = overrides[node.call]
            changed += 1
    app.dependency_overrides = BakedOverrides(overrides)
    return changed

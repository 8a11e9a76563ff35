"""Plans with the microscope already given, for the queueserver.

The microscope is a container of devices, not a device, so the queueserver cannot
put it into a queued plan's parameters by name. The worker's namespace holds every
plan bound to its microscope instead: `acquire_image(beam="ion")` there is
`plans.acquire_image(microscope, beam="ion")`, with the same parameters otherwise
(the queueserver reads them, their types and defaults from the signature).

`catalogue_plans` adds the napari widgets' catalogue (`plans.catalogue`) under its
names: the JSON forms (`run_milling` with stages as dicts, `move_absolute` with the
pose's fields, `read_status`, ...) replace the plans of the same name, and each keeps
its return value (JSON) for `plan_result`, since the queue's history has none.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from bluesky.utils import MsgGenerator, is_plan

from fibsem_ophyd.devices.microscope import Microscope


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    try:  # real types (the modules use `from __future__ import annotations`)
        return inspect.signature(func, eval_str=True)
    except (NameError, TypeError, SyntaxError):
        return inspect.signature(func)


def bind_microscope(plan_func: Callable[..., Any], microscope: Microscope) -> Callable[..., Any]:
    """`plan_func` with its first parameter `microscope` given; other plans unchanged."""
    sig = _signature(plan_func)
    params = list(sig.parameters.values())
    if not params or params[0].name != "microscope":
        return plan_func

    @functools.wraps(plan_func)
    def bound(*args: Any, **kwargs: Any) -> MsgGenerator[Any]:
        return (yield from plan_func(microscope, *args, **kwargs))

    bound.__signature__ = sig.replace(parameters=params[1:])  # type: ignore[attr-defined]
    return bound


def bound_plans(
    namespaces: Iterable[dict[str, Any]], microscope: Microscope
) -> dict[str, Callable[..., Any]]:
    """Every plan of `namespaces` (later ones win), bound to `microscope`."""
    found: dict[str, Callable[..., Any]] = {}
    for namespace in namespaces:
        for name, obj in namespace.items():
            if not name.startswith("_") and callable(obj) and is_plan(obj):
                found[name] = bind_microscope(obj, microscope)
    return found


def catalogue_plans(
    microscope: Microscope, results: dict[str, Any], catalogue: dict[str, Any] | None = None
) -> dict[str, Callable[..., Any]]:
    """Every entry of the catalogue as a plan bound to `microscope` under its name; the
    value it returns is kept, in its JSON form, in `results[name]`."""
    from plans.catalogue import CATALOGUE

    from .documents import to_json

    def bound(name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
        sig = _signature(factory)
        params = list(sig.parameters.values())[1:]  # the microscope

        def run(*args: Any, **kwargs: Any) -> MsgGenerator[Any]:
            value = yield from factory(microscope, *args, **kwargs)
            results[name] = to_json(value)
            return value

        run.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        run.__name__ = run.__qualname__ = name
        run.__doc__ = factory.__doc__ if factory.__name__ == name else f"The widgets' {name}."
        return run

    return {name: bound(name, f) for name, f in (catalogue or CATALOGUE).items()}


__all__ = ["bind_microscope", "bound_plans", "catalogue_plans"]

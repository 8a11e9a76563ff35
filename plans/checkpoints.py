"""Checkpoints at run boundaries, so that a pause lands safely anywhere in a multi-run plan.

On resume, bluesky replays every message since the last checkpoint, except `open_run`
and `close_run` (never cached). A plan of several runs with no checkpoint between them
would replay the tail of a run already closed (`create` with no open run:
IllegalMessageSequence) or a run's readings into the next one. A checkpoint right after
each `open_run` and each `close_run` keeps every replay inside one run. It also
re-enables rewinding after a `clear_checkpoint` (milling), so a later pause still works.
"""

from __future__ import annotations

import bluesky.preprocessors as bpp
from bluesky.utils import Msg, MsgGenerator, single_gen

_BOUNDARIES = ("open_run", "close_run")


def _checkpoint_after_boundary(msg: Msg):
    if msg.command in _BOUNDARIES:
        return single_gen(msg), single_gen(Msg("checkpoint"))
    return None, None


def checkpoint_each_run(plan: MsgGenerator) -> MsgGenerator:
    """`plan` with a checkpoint after every open_run and close_run it yields."""
    return (yield from bpp.plan_mutator(plan, _checkpoint_after_boundary))

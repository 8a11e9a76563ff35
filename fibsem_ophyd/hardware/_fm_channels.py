"""Our fluorescence channels (a name, excitation and emission in metres) as fibsem's
filter settings (excitation line in nanometres; emission None for reflection, else a
line in nanometres or a mode name such as "Fluorescence").

A configured excitation is put on the nearest line the system offers, and refused if
that line is more than `WAVELENGTH_TOLERANCE_M` away (the configuration then describes
another instrument). Reading back, fibsem reports a line and whether the emission path
is reflection; the channel is the configured one with that line and that kind.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..config import FluorescenceChannel

NM_PER_M = 1e9
WAVELENGTH_TOLERANCE_M = 50e-9  # farthest a configured line may be from the system's


@dataclass(frozen=True)
class FilterChoice:
    """What fibsem is told for one channel."""

    excitation_nm: float
    emission: float | str | None  # None: reflection

    @property
    def reflection(self) -> bool:
        return self.emission is None


def _nearest(target_nm: float, lines_nm: Sequence[float], what: str, name: str) -> float:
    if not lines_nm:
        raise ValueError(f"fluorescence channel {name!r}: fibsem offers no {what} lines")
    nearest = min(lines_nm, key=lambda line: abs(line - target_nm))
    if abs(nearest - target_nm) > WAVELENGTH_TOLERANCE_M * NM_PER_M:
        raise ValueError(
            f"fluorescence channel {name!r}: {what} {target_nm:g} nm is more than "
            f"{WAVELENGTH_TOLERANCE_M * NM_PER_M:g} nm from every line the system offers "
            f"({', '.join(f'{line:g}' for line in lines_nm)} nm)"
        )
    return float(nearest)


def _numeric(values: Sequence[object]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def filter_choice(
    channel: FluorescenceChannel,
    excitations_nm: Sequence[object],
    emissions: Sequence[object],
) -> FilterChoice:
    """fibsem's filter settings for `channel`, given the lines fibsem reports."""
    excitation = _nearest(
        channel.excitation_wavelength_m * NM_PER_M,
        _numeric(excitations_nm),
        "excitation",
        channel.name,
    )
    if channel.emission_wavelength_m is None:
        if None not in emissions:
            raise ValueError(
                f"fluorescence channel {channel.name!r}: reflection asked, but fibsem offers "
                f"no reflection path (emissions {list(emissions)})"
            )
        return FilterChoice(excitation, None)
    lines = _numeric(emissions)
    if lines:
        emission: float | str = _nearest(
            channel.emission_wavelength_m * NM_PER_M, lines, "emission", channel.name
        )
        return FilterChoice(excitation, emission)
    modes = [e for e in emissions if isinstance(e, str)]
    if not modes:
        raise ValueError(
            f"fluorescence channel {channel.name!r}: fibsem offers no fluorescence emission "
            f"path (emissions {list(emissions)})"
        )
    return FilterChoice(excitation, modes[0])


def channel_named(channels: Sequence[FluorescenceChannel], name: object) -> FluorescenceChannel:
    """The configured channel called `name`, or a ValueError listing them."""
    for channel in channels:
        if channel.name == name:
            return channel
    raise ValueError(
        f"fluorescence.channel: {name!r} is not a configured channel; "
        f"allowed: {[c.name for c in channels]}"
    )


def channel_reported(
    channels: Sequence[FluorescenceChannel],
    excitations_nm: Sequence[object],
    emissions: Sequence[object],
    excitation_nm: float,
    reflection: bool,
    preferred: str | None,
) -> str:
    """The configured channel fibsem's present filters correspond to (`preferred`, the
    one last set, where several do); a description of the filters where none does."""
    lines = _numeric(excitations_nm)
    line = min(lines, key=lambda v: abs(v - excitation_nm)) if lines else excitation_nm
    matches: list[str] = []
    for channel in channels:
        try:
            choice = filter_choice(channel, excitations_nm, emissions)
        except ValueError:
            continue
        if math.isclose(choice.excitation_nm, line) and choice.reflection == reflection:
            matches.append(channel.name)
    if preferred in matches:
        return str(preferred)
    if matches:
        return matches[0]
    kind = "reflection" if reflection else "fluorescence"
    return f"unconfigured ({excitation_nm:g} nm, {kind})"

"""On connecting, the microscope's fingerprint is compared with the configuration: a
mismatch is refused with the differences listed, unless accepted; the decision is in
every run's start document."""

from __future__ import annotations

import pytest

from fibsem_ophyd.config import FingerprintMismatchError
from plans.deposition import sputter_coat

from ._images import collect
from ._scope import scope

TWIN = {"model": "Digital Twin FIB-SEM", "serial_number": "TWIN-0001"}  # TwinParameters


def _start(RE, m) -> dict:
    _, docs = collect(RE, sputter_coat(m, 1.0))
    return next(d for n, d in docs if n == "start")


def test_the_expected_microscope_connects_and_says_so(RE, frames_dir):
    m = scope(frames_dir, {"info": {"expected_fingerprint": TWIN}})
    check = _start(RE, m)["fingerprint_check"]
    assert check == {"status": "matched", "differences": [], "expected": TWIN}


def test_another_microscope_is_refused_with_the_differences(RE, frames_dir):
    expected = {"serial_number": "FIB-1234", "software_version": "4.8.1"}
    with pytest.raises(FingerprintMismatchError) as info:
        scope(frames_dir, {"info": {"expected_fingerprint": expected}})
    msg = str(info.value)
    assert "2 difference(s)" in msg
    assert "serial_number: configuration expects 'FIB-1234'" in msg
    assert "the microscope reports 'TWIN-0001'" in msg
    assert "software_version: configuration expects '4.8.1'" in msg
    assert "accept_fingerprint_mismatch=True" in msg


def test_an_accepted_mismatch_is_recorded_in_every_run(RE, frames_dir):
    sections = {"info": {"expected_fingerprint": {"serial_number": "FIB-1234"}}}
    m = scope(frames_dir, sections, accept_fingerprint_mismatch=True)
    check = _start(RE, m)["fingerprint_check"]
    assert check["status"] == "mismatch accepted"
    assert check["expected"] == {"serial_number": "FIB-1234"}
    assert len(check["differences"]) == 1 and "'TWIN-0001'" in check["differences"][0]


def test_the_comparison_uses_what_the_backend_reports(RE, frames_dir):
    # The twin's identity is its own setting (advanced.Demo): now it is that machine.
    sections = {
        "info": {"expected_fingerprint": {"serial_number": "FIB-1234"}},
        "advanced": {"Demo": {"serial_number": "FIB-1234"}},
    }
    m = scope(frames_dir, sections)
    assert m.run_metadata()["fingerprint_check"]["status"] == "matched"


def test_capabilities_beyond_the_hardware_are_a_mismatch_too(RE, frames_dir):
    wide = {"electron": {"hfw_max_m": 5e-3}}  # the twin reports 3 mm at most
    with pytest.raises(FingerprintMismatchError, match=r"electron\.hfw_m: configured range"):
        scope(frames_dir, wide)
    m = scope(frames_dir, wide, accept_fingerprint_mismatch=True)
    assert m.run_metadata()["fingerprint_check"]["differences"][0].startswith("electron.hfw_m")

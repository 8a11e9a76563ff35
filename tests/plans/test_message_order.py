"""Message order of reference_images, checked without running anything
(bluesky's RunEngineSimulator): hfw set before each image, images inside one run,
the saved hfw restored after the run closes."""

from __future__ import annotations

from bluesky.simulators import RunEngineSimulator

from plans.imaging import reference_images


def test_reference_images_message_order(microscope):
    m = microscope
    sim = RunEngineSimulator()
    for signal, value in ((m.electron_beam.hfw_m, 150e-6), (m.ion_beam.hfw_m, 120e-6)):
        # bps.rd locates a signal: answer with the "saved" hfw.
        sim.add_handler("locate", lambda _, v=value: {"readback": v, "setpoint": v}, signal.name)
    msgs = sim.simulate_plan(reference_images(m, (80e-6, 400e-6)))
    cmds = [msg.command for msg in msgs]
    assert cmds.count("open_run") == 1 and cmds.count("close_run") == 1
    opened, closed = cmds.index("open_run"), cmds.index("close_run")
    sets = [(i, msg.obj, msg.args[0]) for i, msg in enumerate(msgs) if msg.command == "set"]
    inside = [(obj, v) for i, obj, v in sets if opened < i < closed]
    assert inside == [
        (m.electron_beam.hfw_m, 80e-6), (m.ion_beam.hfw_m, 80e-6),
        (m.electron_beam.hfw_m, 400e-6), (m.ion_beam.hfw_m, 400e-6),
    ]  # fmt: skip
    after = {(obj, v) for i, obj, v in sets if i > closed}
    assert after == {(m.electron_beam.hfw_m, 150e-6), (m.ion_beam.hfw_m, 120e-6)}
    # Each image: trigger of the detector, then an event in its beam's stream.
    streams = [msg.kwargs.get("name") for msg in msgs if msg.command == "create"]
    assert streams == ["electron", "ion", "electron", "ion"]
    triggered = [msg.obj for msg in msgs if msg.command == "trigger"]
    assert triggered == [m.sem, m.fib, m.sem, m.fib]
    assert cmds.index("stage") < opened and cmds.index("unstage") > closed

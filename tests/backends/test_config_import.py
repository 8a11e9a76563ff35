"""`fibsem-ophyd config import`: fibsem's own shipped configuration file, as ours."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fibsem_ophyd.config import load_config
from profiles.cli import main
from profiles.config_import import import_fibsem_config

fibsem = pytest.importorskip("fibsem")
FIBSEM_CONFIG_DIR = Path(fibsem.__file__).parent / "config"


def _their(name: str) -> dict:
    return yaml.safe_load((FIBSEM_CONFIG_DIR / name).read_text())


def test_default_configuration_imports_and_loads(tmp_path: Path, capsys):
    source = tmp_path / "lab.yaml"
    data = _their("microscope-configuration.yaml")
    data["info"]["manufacturer"] = "ThermoFisher"
    data["ion"]["column_tilt"] = 54  # a lab's value, not our default
    source.write_text(yaml.safe_dump(data))
    out = tmp_path / "ours.yaml"
    assert main(["config", "import", str(source), "-o", str(out)]) == 0
    cfg = load_config(out)
    assert cfg.info.manufacturer == "Thermo"
    assert cfg.info.ip_address == "192.168.0.1"
    assert cfg.ion.column_tilt_deg == 54.0
    assert cfg.electron.eucentric_height_m == pytest.approx(7.0e-3)
    assert cfg.stage.shuttle_pre_tilt_deg == 35.0
    assert cfg.ion.imaging.current_a == pytest.approx(20e-12)  # added to ion.currents_a
    assert 20e-12 in cfg.ion.currents_a
    assert cfg.sputter_coater.enabled is False
    assert cfg.chamber.cryo_enabled is False
    printed = capsys.readouterr().out
    for unmapped in ("ion.plasma", "milling.milling_current", "imaging.autocontrast", "sim.sem"):
        assert unmapped in printed
    assert "ion.column_tilt" not in printed.split("not imported")[1]
    assert main(["config", "import", str(source), "-o", str(out)]) == 2  # no overwrite


@pytest.mark.parametrize(
    ("name", "manufacturer"),
    [("tfs-hydra-configuration.yaml", "Thermo"), ("tescan-configuration.yaml", "Tescan")],
)
def test_vendor_configurations_import(name, manufacturer):
    result = import_fibsem_config(_their(name))
    assert result.config["info"]["manufacturer"] == manufacturer


def test_unknown_manufacturer_is_listed_not_guessed():
    result = import_fibsem_config({"info": {"manufacturer": "Zeiss", "name": "x"}})
    assert "info.manufacturer: 'Zeiss' (no such backend)" in result.unmapped
    assert "manufacturer" not in result.config.get("info", {})

"""Start bluesky-queueserver's RE manager with the project's profile:
`fibsem-ophyd queueserver` (or `python -m profiles.remote.manager`).

The worker runs `profiles/queueserver/startup/` (a session: RunEngine, microscope,
store, every plan), the user groups of `profiles/queueserver/user_group_permissions.yaml`
apply, and the manager's control, information and console sockets bind 127.0.0.1.
Redis must be running at `redis_addr` (Debian: `redis-server`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

PROFILE_DIR = Path(__file__).resolve().parent.parent / "queueserver"
STARTUP_DIR = PROFILE_DIR / "startup"
PERMISSIONS_FILE = PROFILE_DIR / "user_group_permissions.yaml"
HOST = "127.0.0.1"


class ManagerSettings(BaseModel):
    """Where the manager listens and what its worker opens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    redis_addr: str = Field(f"{HOST}:6379", description="host:port of Redis")
    redis_name_prefix: str = Field("fibsem_ophyd", description="keeps our queue apart")
    control_port: int = Field(60615, ge=1, le=65535, description="0MQ control (the API)")
    info_port: int = Field(60625, ge=1, le=65535, description="0MQ console output")
    host: str = HOST
    data_dir: Path | None = Field(None, description="store folder (default: as a session)")
    config: Path | None = Field(None, description="microscope YAML (default: the twin)")
    state_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("TMPDIR", "/tmp")) / "fibsem-ophyd-qs",
        description="where the manager writes its list of plans and devices",
    )

    @property
    def control_addr(self) -> str:
        return f"tcp://{self.host}:{self.control_port}"

    @property
    def info_addr(self) -> str:
        return f"tcp://{self.host}:{self.info_port}"


def manager_argv(settings: ManagerSettings) -> list[str]:
    """The `start-re-manager` arguments for `settings`."""
    return [
        "start-re-manager",
        "--startup-dir", str(STARTUP_DIR),
        "--user-group-permissions", str(PERMISSIONS_FILE),
        "--existing-plans-devices", str(settings.state_dir / "existing_plans_and_devices.yaml"),
        "--redis-addr", settings.redis_addr,
        "--redis-name-prefix", settings.redis_name_prefix,
        "--zmq-control-addr", settings.control_addr,
        "--zmq-info-addr", settings.info_addr,
        "--zmq-publish-console", "ON",
        "--keep-re",
    ]  # fmt: skip


def run_manager(settings: ManagerSettings) -> int:
    """Run the manager in this process until it is stopped (Ctrl-C, or `manager_stop`)."""
    from bluesky_queueserver.manager.start_manager import start_manager

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    # The worker is a child process: it reads these when it opens the environment.
    if settings.data_dir is not None:
        os.environ["FIBSEM_OPHYD_DATA"] = str(settings.data_dir)
    if settings.config is not None:
        os.environ["FIBSEM_OPHYD_CONFIG"] = str(settings.config)
    # The worker imports the project from the folder this runs in, as this process does.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")) if p
    )
    sys.argv = manager_argv(settings)
    return int(start_manager() or 0)


__all__ = ["HOST", "ManagerSettings", "manager_argv", "run_manager"]

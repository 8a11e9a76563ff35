"""The `fibsem-ophyd` console command: ipython, demo, serve, log, queueserver."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def profile_dir() -> Path:
    """A user-writable IPython profile whose startup is the shipped one (IPython writes
    history and logs into its profile folder, so the package folder is not used)."""
    import shutil

    from platformdirs import user_config_dir

    folder = Path(user_config_dir("fibsem-ophyd")) / "ipython"
    startup = folder / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    for script in (Path(__file__).parent / "ipython" / "startup").glob("*.py"):
        shutil.copyfile(script, startup / script.name)
    return folder


def _cmd_ipython(args: argparse.Namespace) -> int:
    import IPython

    if args.config:
        os.environ["FIBSEM_OPHYD_CONFIG"] = str(args.config)
    argv = ["--profile-dir", str(profile_dir()), "--no-banner"]
    if args.command:
        argv += ["-c", args.command]
    IPython.start_ipython(argv=argv)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(out=Path(args.out), data_dir=args.data_dir, config=args.config)


def _cmd_serve(args: argparse.Namespace) -> int:
    from fibsem_ophyd.storage import EmbeddedStore, StorageSettings

    settings = StorageSettings(data_dir=Path(args.data_dir)) if args.data_dir else None
    with EmbeddedStore(settings) as store:
        print(f"tiled serving {store.uri}")
        print(f"API key in {store.settings.api_key_path} (readable only by you)")
        print(f"web UI (read-only key): {store.web_ui_url()}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_log(args: argparse.Namespace) -> int:
    from fibsem_ophyd.storage import EmbeddedStore, StorageSettings, format_runs, recent_runs

    settings = StorageSettings(data_dir=Path(args.data_dir)) if args.data_dir else None
    with EmbeddedStore(settings) as store:
        print(format_runs(recent_runs(store.client(), limit=args.limit)))
    return 0


def _cmd_queueserver(args: argparse.Namespace) -> int:
    from .remote.manager import ManagerSettings, run_manager

    fields = {
        "redis_addr": args.redis_addr,
        "control_port": args.control_port,
        "info_port": args.info_port,
        "data_dir": args.data_dir,
        "config": args.config,
        "state_dir": args.state_dir,
    }
    return run_manager(ManagerSettings(**{k: v for k, v in fields.items() if v is not None}))


def _cmd_config_import(args: argparse.Namespace) -> int:
    import yaml

    from .config_import import import_fibsem_config

    source = Path(args.file)
    out = Path(args.output) if args.output else Path(f"{source.stem}-fibsem-ophyd.yaml")
    if out.exists() and not args.force:
        print(f"refused: {out} exists (use --force to overwrite)", file=sys.stderr)
        return 2
    result = import_fibsem_config(yaml.safe_load(source.read_text()) or {})
    header = [f"# fibsem-ophyd configuration imported from {source.name}"]
    header += [f"# note: {n}" for n in result.notes]
    header += [f"# not imported: {u}" for u in result.unmapped]
    out.write_text("\n".join(header) + "\n" + yaml.safe_dump(result.config, sort_keys=False))
    print(f"wrote {out}")
    for note in result.notes:
        print(f"  note: {note}")
    print(f"not imported ({len(result.unmapped)}):")
    for line in result.unmapped:
        print(f"  {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fibsem-ophyd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ipython", help="an IPython Bluesky session on the configured microscope")
    p.add_argument("--config", help="microscope configuration YAML (default: the twin)")
    p.add_argument("-c", "--command", help="run this code in the session, then exit")
    p.set_defaults(func=_cmd_ipython)
    p = sub.add_parser("demo", help="the demo job on the digital twin")
    p.add_argument("--out", default="demo-output", help="folder for the summary and figures")
    p.add_argument("--data-dir", default=None, help="store folder (default: user data dir)")
    p.add_argument("--config", default=None)
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("serve", help="serve the embedded tiled catalog until Ctrl-C")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("log", help="recent runs and what they did")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=_cmd_log)
    p = sub.add_parser("queueserver", help="the bluesky-queueserver RE manager on this profile")
    p.add_argument("--redis-addr", default=None, help="host:port (default 127.0.0.1:6379)")
    p.add_argument("--control-port", type=int, default=None, help="0MQ control (60615)")
    p.add_argument("--info-port", type=int, default=None, help="0MQ console output (60625)")
    p.add_argument("--data-dir", default=None, help="store folder (default: user data dir)")
    p.add_argument("--config", default=None, help="microscope YAML (default: the twin)")
    p.add_argument("--state-dir", default=None, help="folder for the manager's plan list")
    p.set_defaults(func=_cmd_queueserver)
    p = sub.add_parser("config", help="microscope configuration files")
    config_sub = p.add_subparsers(dest="config_command", required=True)
    p = config_sub.add_parser("import", help="an OpenFIBSEM microscope configuration as ours")
    p.add_argument("file", help="OpenFIBSEM microscope-configuration YAML")
    p.add_argument("-o", "--output", help="our YAML (default: FILE's stem-fibsem-ophyd.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    p.set_defaults(func=_cmd_config_import)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

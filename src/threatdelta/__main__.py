from threatdelta.cli import run

raise SystemExit(run())

"""Command line: `python -m wanllmdb sync DIR [--base-url URL] [--api-key KEY]`."""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .settings import DEFAULT_BASE_URL
from .sync import sync


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wanllmdb")
    sub = parser.add_subparsers(dest="command", required=True)
    p_sync = sub.add_parser("sync", help="upload spooled runs (offline runs, or output kept during an outage)")
    p_sync.add_argument("dir", help="a spool directory (WANLLMDB_DIR) or one run's directory in it")
    p_sync.add_argument("--base-url", default=os.environ.get("WANLLMDB_BASE_URL") or DEFAULT_BASE_URL)
    p_sync.add_argument("--api-key", default=os.environ.get("WANLLMDB_API_KEY") or None)
    args = parser.parse_args(argv)
    if args.command == "sync":
        report = sync(args.dir, args.base_url.rstrip("/"), args.api_key, sys.stdout)
        for err in report.errors:
            print("wanllmdb sync: " + err, file=sys.stderr)
        print(f"synced {report.runs} run(s), {report.lines_sent} lines uploaded")
        return 1 if report.errors else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

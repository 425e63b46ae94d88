"""`moot view RUN_DIR [--port P]`: browse a run's conversations in a local web page (a comparison's too)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from moot.cli_args import between


def register(sub: argparse._SubParsersAction) -> dict:
    """Add the command to the CLI; return its handler by name."""
    view = sub.add_parser(
        "view", help="serve a run's (or a comparison's) page on 127.0.0.1 to browse its conversations (Ctrl-C stops)"
    )
    view.add_argument("run_dir", type=Path)
    view.add_argument(
        "--port", type=between(0, 65535), default=None, help="port on 127.0.0.1 (default 8765; 0 picks a free one)"
    )
    return {"view": cmd_view}


def cmd_view(args: argparse.Namespace) -> int:
    """`moot view`."""
    from moot.errors import UserError
    from moot.report.server import DEFAULT_PORT, open_viewer

    port = DEFAULT_PORT if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be between 0 and 65535 (got {port})")
    server = open_viewer(args.run_dir, port)
    total = server.conversations()
    # Ctrl-C must stop the server even when the shell started it with SIGINT ignored (a background job);
    # SIGTERM stops it the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"moot view: {total} conversations of {args.run_dir} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("moot view: stopped", flush=True)
    finally:
        server.server_close()
    return 0

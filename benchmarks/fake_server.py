"""Run the tests' fake OpenAI-compatible server until stdin closes; print its base URL first.

python benchmarks/fake_server.py --latency 0.05
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakes import llm_server  # needs the tests folder on the path

# The handler writes the headers and the body in two sends; with Nagle's algorithm on, the body
# waits for the client's delayed ACK (about 40 ms), which would swamp a "0 ms" latency.
llm_server._Handler.disable_nagle_algorithm = True


def main() -> None:
    """Serve with the given latency; stop when the parent closes our stdin."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each model request is held")
    args = parser.parse_args()
    with llm_server.FakeLLMServer(latency=args.latency) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()

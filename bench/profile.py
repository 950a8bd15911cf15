"""Profile a webhook's hot path in-process (no server, no worker):

    .venv/bin/python -m bench.profile [--channel sms|telegram] [--conversations 20] --plain
    .venv/bin/python -m bench.profile [--channel ...] --pyinstrument
    .venv/bin/python -m bench.profile --sort tottime --top 40          # cProfile

Plays whole conversations through the Flask app with its test client, signed as Twilio
signs (or with Telegram's secret header), on a throwaway SQLite database, and prints the
CPU per message with no profiler (--plain), or where the time goes: a call tree with
pyinstrument (the `bench` extra), else cProfile's table. To see the server as deployed,
run `py-spy record --gil -p PID` against `rj-frontdoor serve` during `bench/run`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from bench.scripts import SmsPeople, TelegramPeople
from bench.servers import Secrets, service_env


def main() -> None:
    """Run and print the profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--pyinstrument", action="store_true", help="a call tree instead")
    parser.add_argument("--channel", choices=("sms", "telegram"), default="sms")
    parser.add_argument("--plain", action="store_true", help="no profiler: CPU ms per message")
    args = parser.parse_args()
    from webhooks.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="rj-profile-"))
    stubs = {"twilio": "http://127.0.0.1:9", "telegram": "http://127.0.0.1:9"}
    env = service_env(folder, f"sqlite:///{folder / 'p.db'}", Secrets.fresh(), stubs, 8000)
    client = create_app(env).test_client()
    people = SmsPeople("http://127.0.0.1:8000") if args.channel == "sms" else TelegramPeople()
    everyone = range(1, args.conversations + 1)
    requests = [people.request(p, t) for p in everyone for t in people.turns]
    tree = _Tree() if args.pyinstrument else None
    profiler = None if args.plain else tree or cProfile.Profile()
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    for request in requests:
        answer = client.post(request.path, data=request.body, headers=request.headers)
        assert answer.status_code == 200, answer.status_code
    if profiler is not None:
        profiler.disable()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{len(requests)} messages in {seconds:.2f} s: {1000 * seconds / len(requests):.2f} ms "
          f"each, {1000 * cpu / len(requests):.2f} ms CPU"
          + ("" if args.plain else " (profiled)"))  # fmt: skip
    if args.plain:
        return
    if tree is not None:
        print(tree.text())
    else:
        assert isinstance(profiler, cProfile.Profile)  # neither --plain nor --pyinstrument
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


class _Tree:
    """pyinstrument behind cProfile's enable/disable."""

    def __init__(self) -> None:
        """A sampling profiler at 1 ms."""
        from pyinstrument import Profiler

        self.profiler = Profiler(interval=0.001)

    def enable(self) -> None:
        """Start sampling."""
        self.profiler.start()

    def disable(self) -> None:
        """Stop sampling."""
        self.profiler.stop()

    def text(self) -> str:
        """The call tree."""
        return str(self.profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MPL-2.0
"""python3 -m lab.internet up|down|list: the lab internet for a person.

    python3 -m lab.internet up --resolvers 2     # foreground; Ctrl-C ends it
    python3 -m lab.internet up --detach          # leave it running ...
    python3 -m lab.internet down                 # ... and remove it

Run from the source tree as root, with Debian's python (/usr/bin/python3).
"""

import argparse
import signal
import sys
import time

from lab.netns import cleanup, lab_namespaces

from . import Internet


def main():
    ap = argparse.ArgumentParser(prog="python3 -m lab.internet",
                                 description="The lab's small internet.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="bring it up (foreground until Ctrl-C)")
    up.add_argument("--resolvers", type=int, default=1,
                    help="standalone resolver nodes (named), default 1")
    up.add_argument("--seed", type=int, default=1)
    up.add_argument("--domains", type=int, default=400)
    up.add_argument("--workdir", help="keep configs and logs here")
    up.add_argument("--detach", action="store_true",
                    help="leave it running; 'down' removes it")
    down = sub.add_parser("down", help="remove internets (and labs) whose owner is gone")
    down.add_argument("--id", help="only this one")
    sub.add_parser("list", help="the lab namespaces now present")
    a = ap.parse_args()
    if a.cmd == "down":
        removed = cleanup(run_id=a.id, detached=True)
        print(f"removed {len(removed)}" if removed else "nothing to remove")
        return 0
    if a.cmd == "list":
        print("\n".join(lab_namespaces()) or "none")
        return 0
    net = Internet(seed=a.seed, domains=a.domains, resolvers=a.resolvers,
                   workdir=a.workdir, log=lambda m: print(m, flush=True))
    try:
        net.up()
        print(net.describe(), flush=True)
        if a.detach:
            net.detach()
            print("detached: 'python3 -m lab.internet down' removes it")
            return 0
        print("Ctrl-C to take it down", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        net.down()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())

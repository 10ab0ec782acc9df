# SPDX-License-Identifier: MPL-2.0
"""The fleet lab from the shell (lab/fleet.py):

    python3 -m lab up --nodes 3     # in the foreground until Ctrl-C
    python3 -m lab up --internet    # the nodes resolving through lab/internet
    python3 -m lab up --detach      # ... or left running
    python3 -m lab down [ID]        # remove it (and any lab whose owner died)
    python3 -m lab list             # labs and their namespaces

Run as root from the source tree (or with it in PYTHONPATH), with the
build done.
"""

import argparse
import os
import signal
import sys
import time

from .fleet import Lab, describe
from .netns import cleanup, lab_namespaces, owner_alive, records
from .router import ROUTERS

PROG = "python3 -m lab"


def main():
    ap = argparse.ArgumentParser(prog=PROG,
                                 description="The anycast lab in network namespaces.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="bring a lab up (foreground until Ctrl-C)")
    up.add_argument("--nodes", type=int, default=2)
    up.add_argument("--workdir", help="keep configs and logs here")
    up.add_argument("--detach", action="store_true",
                    help="leave it running; 'down' removes it")
    up.add_argument("--exabgp-mode", choices=("systemd", "daemon-user"),
                    default="systemd")
    up.add_argument("--router", choices=ROUTERS, default="bird",
                    help="the router's BGP speaker (default bird)")
    up.add_argument("--bfd", action="store_true",
                    help="BFD between the router and the nodes (BIRD router only)")
    up.add_argument("--internet", action="store_true",
                    help="the nodes resolve through the lab internet "
                         "(lab/internet/) instead of each its upstream")
    down = sub.add_parser("down", help="remove labs left running or crashed")
    down.add_argument("id", nargs="?", help="only this lab")
    down.add_argument("--force", action="store_true",
                      help="also labs whose owner is still running")
    sub.add_parser("list", help="labs and their namespaces")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit(f"{PROG}: must run as root (network namespaces)")

    if args.cmd == "down":
        if not cleanup(args.id, detached=True, force=args.force):
            print("nothing to remove")
        return 0
    if args.cmd == "list":
        for s in records():
            state = "detached" if s.get("detached") else \
                "running" if owner_alive(s) else "owner gone"
            print(f"{s['id']}  {state}  {s['workdir']}")
        for ns in lab_namespaces():
            print(f"  {ns}")
        return 0

    # Ctrl-C tears down even when a shell started us in the background,
    # where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    lab = Lab(nodes=args.nodes, workdir=args.workdir, exabgp_mode=args.exabgp_mode,
              router=args.router, bfd=args.bfd, internet=args.internet,
              log=lambda m: print(m, flush=True))
    with lab:
        print(describe(lab), flush=True)
        if lab.internet is not None:
            print(lab.internet.describe(), flush=True)
        if args.detach:
            lab.detach()
            print(f"detached; remove with: {PROG} down {lab.id}")
            return 0
        print("up; Ctrl-C to tear down", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\ntearing down", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

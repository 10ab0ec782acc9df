# SPDX-License-Identifier: MPL-2.0
"""A run of the lab: the fleet (fleet.py, Lab) or the internet
(internet/, Internet).  Both share this life cycle, on the same
attributes (id, dir, own_workdir, keep, save_to, stack, namespaces,
detached, _old_sigterm): the id in every namespace's name, the record
in /run/ahlab naming the owner, the work directory, teardown on exit,
exceptions, Ctrl-C and SIGTERM, detach().  So the cleanup of crashed
runs (netns.cleanup) treats both alike.  A subclass brings up().
"""

import os
import shutil
import signal
import time

from . import netns
from .netns import PREFIX, kill_netns
from .proc import proc_start_time


class Run:
    """The life cycle; see the module."""

    def netns_name(self, role):
        return f"{PREFIX}{self.id}-{role}"

    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def _sigterm(self, signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    def _register(self, detached):
        me = os.getpid()
        netns.register(self.id, {
            "id": self.id, "owner_pid": me, "owner_start": proc_start_time(me),
            "detached": detached, "workdir": str(self.dir),
            "own_workdir": self.own_workdir and not self.keep,
            "namespaces": self.namespaces})

    def _teardown(self):
        if self.detached:
            return
        if self._old_sigterm is not None:
            # A second SIGTERM must not cut the teardown short.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if self.stack is not None:
            procs = list(self.stack.procs)
            for p in procs:             # all at once: each may take a while
                p.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 5
            for p in procs:
                p.stop(timeout=max(0.1, deadline - time.monotonic()))
            self.stack.procs.clear()
        for ns in list(self.namespaces):
            kill_netns(ns)
            self.namespaces.remove(ns)
        if self.save_to is not None and self.dir.is_dir():
            shutil.copytree(self.dir, self.save_to, dirs_exist_ok=True,
                            ignore=lambda d, names: [
                                n for n in names if os.path.exists(os.path.join(d, n))
                                and not os.path.isdir(os.path.join(d, n))
                                and not os.path.isfile(os.path.join(d, n))])
            self.save_to = None
        netns.unregister(self.id)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None
        self.stack = None

    def down(self):
        self._teardown()

    def detach(self):
        self._detach()

    def _detach(self):
        self._register(detached=True)
        self.detached = True
        self.stack.procs.clear()
        self.namespaces.clear()
        self.stack = None


def threading_main():
    import threading
    return threading.current_thread() is threading.main_thread()

"""python_registry_rlock: an RLock kept as an attribute of a module-level object, held at os.fork().

What it does: a module-level `registry` object guards its dict with `self.guard`, a
threading.RLock. A 'keeper' thread takes the guard and keeps it for 30 s (slow work under the
lock), a 'ticker' thread prints a line every 50 ms all along (a program is never quiet), and the
main thread calls os.fork() while the keeper is inside. The child registers itself, which takes
the guard: its copy of the RLock records the keeper's ident as owner with a count of 1, the
child's only thread is not the keeper, so acquire() waits on the lock underneath for ever. The
parent waits for the child with os.waitpid.

How it was measured, outside forklore (Debian 12, Python 3.11.2 from /usr/bin/python3,
2026-12-06): `timeout 10 env PYTHONUNBUFFERED=0 /usr/bin/python3 python_registry_rlock.py; echo $?`
3 times -> 124 (killed by timeout), the child's last line "child: registering", the RLock's repr
in the child naming as owner (owner=N count=1) the ident the parent printed for the keeper; the
ticker printed 198 lines in those 10 s.
forklore must say: deadlocked (no_waker), naming the lock as registry.guard, an RLock whose
recorded owner is the thread 'keeper', which the child does not have.
"""
import os
import sys
import threading
import time


class Registry:
    def __init__(self):
        self.guard = threading.RLock()
        self.entries = {}

    def register(self, name, value):
        with self.guard:  # the child waits here for ever
            self.entries[name] = value


registry = Registry()
inside = threading.Event()


def keep():
    with registry.guard:
        inside.set()
        time.sleep(30)  # slow work under the lock


def tick():
    line = 0
    while True:
        print(f"ticker: line {line}", flush=True)
        line += 1
        time.sleep(0.05)


keeper = threading.Thread(target=keep, name="keeper", daemon=True)
keeper.start()
threading.Thread(target=tick, name="ticker", daemon=True).start()
inside.wait()
print(f"parent: the keeper's ident is {keeper.ident}, the guard is {registry.guard!r}", flush=True)
pid = os.fork()
if pid == 0:
    print(f"child: registering, the guard is {registry.guard!r}", flush=True)
    registry.register("child", os.getpid())
    print("child: registered", flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent: the child exited", flush=True)
sys.exit(0)

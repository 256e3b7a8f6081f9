# A threading.RLock is held when the main thread starts a process, and the child takes it.
# Run by scenario 275 (scenarios/275_python_rlock_at_fork.cpp).
#
# usage: python3 rlock_at_fork.py START_METHOD HOLDER [reinit]
#   START_METHOD  fork, spawn or forkserver
#   HOLDER        thread: another thread is inside `with registry_lock` at the instant of fork
#                 forker: the main thread itself, the one that starts the child, is inside it
#   reinit        register an os.register_at_fork hook that gives the child a fresh RLock
#
# A threading.RLock (the C _thread.RLock in Python 3.11) records its owner as the thread ident
# (pthread_self()) of the thread that holds it, a count, and a plain lock underneath. Nothing
# resets it at fork (threading re-creates only its own internal locks). In a forked child:
# - held by another thread: the owner's ident is not the child's thread, so acquire() waits on
#   the lock underneath, which nobody in the child will ever release.
# - held by the forking thread: the child's only thread is the forking thread's copy, and
#   pthread_self() keeps its value across fork, so the child IS the owner: acquire() just
#   counts one more level, and the child can release down to the level it inherited. (A
#   recursive pthread mutex records the kernel thread id instead, which fork changes: the same
#   program in C hangs; see scenario 12's recursive_held_by_forker.)
import multiprocessing
import os
import sys
import threading

# Module level, as a registry guarded by a re-entrant lock usually is.
registry_lock = threading.RLock()
registry = {}


def reinit_registry_lock():
    # Runs in the child right after fork: a new, free RLock owned by nobody.
    global registry_lock
    registry_lock = threading.RLock()


def register(name, value):
    with registry_lock:  # SYNC: fork, held by another thread: waits for ever
        with registry_lock:  # re-entrant: the same thread may take it again
            registry[name] = value


def worker():
    print(f"worker: thread ident {threading.get_ident()}, taking {registry_lock!r}", flush=True)
    register("worker", os.getpid())
    print("worker: registered", flush=True)


def holder(lock_held, release):
    with registry_lock:  # SYNC: the holder is inside the lock ...
        lock_held.set()
        release.wait()  # SYNC: ... until the child has been started


if __name__ == "__main__":
    method, holder_kind = sys.argv[1:3]
    if "reinit" in sys.argv[3:]:
        os.register_at_fork(after_in_child=reinit_registry_lock)
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, the lock is held by "
          f"the {holder_kind}", flush=True)
    child = context.Process(target=worker, name="worker")
    if holder_kind == "thread":
        lock_held, release = threading.Event(), threading.Event()
        holding = threading.Thread(target=holder, args=(lock_held, release), name="holder")
        holding.start()
        lock_held.wait()  # SYNC: from here on the holder thread holds registry_lock
        print(f"main: starting the worker while the holder thread holds {registry_lock!r}",
              flush=True)
        child.start()
        release.set()  # the parent's lock is released; the child's copy never will be
        holding.join()
    else:
        with registry_lock:  # SYNC: the forking thread itself holds the lock at fork
            print(f"main: starting the worker while holding {registry_lock!r}", flush=True)
            child.start()
    child.join()  # SYNC: waits for ever if the child is stuck
    print(f"main: the worker exited with code {child.exitcode}", flush=True)
    sys.exit(child.exitcode)

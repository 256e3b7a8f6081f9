# A threading.Lock is held by another thread when the main thread starts a process, and the
# child takes it. Run by scenario 210 (scenarios/210_python_lock_at_fork.cpp).
#
# usage: python3 lock_at_fork.py START_METHOD [reinit]
#   START_METHOD  fork, spawn or forkserver
#   reinit        register an os.register_at_fork hook that gives the child a fresh lock
#
# The interleaving is forced with threading.Event: the holder thread is inside `with
# cache_lock` at the instant the child is made, every time. With fork the child's copy of the
# lock is locked and its holder did not come along: acquire() waits for ever (a threading.Lock
# is a semaphore underneath, with no owner recorded anywhere). With spawn and forkserver the
# child imports this module afresh and gets a new, free lock.
import multiprocessing
import os
import sys
import threading

# Module level: a forked child finds it at the same place, in the state it had at fork; a
# spawned child re-creates it when it imports this file as __mp_main__.
cache_lock = threading.Lock()
cache = {}


def reinit_cache_lock():
    # Runs in the child right after fork (the pattern CPython's own logging module uses).
    global cache_lock
    cache_lock = threading.Lock()


def worker():
    print("worker: taking cache_lock", flush=True)
    with cache_lock:  # SYNC: fork: held by a thread that stayed in the parent
        cache["worker"] = os.getpid()
    print("worker: got cache_lock and updated the cache", flush=True)


def holder(lock_held, release):
    with cache_lock:  # SYNC: the holder is inside the lock ...
        lock_held.set()
        release.wait()  # SYNC: ... until the child has been started


if __name__ == "__main__":
    method = sys.argv[1]
    if "reinit" in sys.argv[2:]:
        os.register_at_fork(after_in_child=reinit_cache_lock)
    multiprocessing.set_start_method(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}", flush=True)
    lock_held, release = threading.Event(), threading.Event()
    holding = threading.Thread(target=holder, args=(lock_held, release), name="holder")
    holding.start()
    lock_held.wait()  # SYNC: from here on the holder thread holds cache_lock
    print("main: starting the worker while the holder thread holds cache_lock", flush=True)
    child = multiprocessing.Process(target=worker, name="worker")
    child.start()
    release.set()  # the parent's lock is released; the child's copy never will be
    holding.join()
    child.join()  # SYNC: waits for ever if the child is stuck
    print(f"main: the worker exited with code {child.exitcode}", flush=True)
    sys.exit(child.exitcode)

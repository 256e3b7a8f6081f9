"""python_lock_at_fork: a worker that ends, then a threading.Lock held by another thread at fork.

What it does: the main thread first starts a multiprocessing.Process ('fork' start method) that
sleeps 0.2 s and exits with code 3; the main thread sleeps 0.5 s before joining it, so the
worker stays a zombie for about 0.3 s (its exit status can be read from /proc). Then a holder
thread enters `with cache_lock` (forced with threading.Event) and the main thread forks a second
worker that takes the same lock: the child's copy of the lock is locked and its holder stayed in
the parent, so acquire() waits for ever (a threading.Lock is a semaphore underneath: no owner is
recorded). The main thread lets the holder wait inside the lock for 0.2 s before it forks (the
holder waits on an Event there); then it waits for the stuck child in join() for ever. No thread names itself (no prctl):
to the kernel every thread is 'python3', as in most Python programs.

How it was measured, outside forklore (Debian 12, Python 3.11.2 from /usr/bin/python3,
2026-12-03): `timeout 10 env PYTHONUNBUFFERED=0 /usr/bin/python3 python_lock_at_fork.py; echo $?`
3 times -> 124 (killed by timeout), printing "first worker exited with code 3" then "worker:
taking cache_lock" and nothing more; /proc at 2 s: the second child's only thread in
futex_do_wait (syscall 202, futex), the parent's main thread in
do_wait (syscall 61, wait4) on it.
forklore must say: deadlocked (no_waker): the child's thread and the parent's main thread stuck.
"""
import multiprocessing
import sys
import threading
import time

# Module level: the forked child finds it at the same place, in the state it had at fork.
cache_lock = threading.Lock()


def first_worker():
    time.sleep(0.2)
    sys.exit(3)


def worker():
    print("worker: taking cache_lock", flush=True)
    with cache_lock:  # held by a thread that stayed in the parent: waits for ever
        pass
    print("worker: got cache_lock", flush=True)


def holder(lock_held, release):
    with cache_lock:
        lock_held.set()
        release.wait()


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    first = multiprocessing.Process(target=first_worker, name="first")
    first.start()
    time.sleep(0.5)  # the first worker has exited by now: a zombie until join() reaps it
    first.join()
    print(f"first worker exited with code {first.exitcode}", flush=True)
    lock_held, release = threading.Event(), threading.Event()
    holding = threading.Thread(target=holder, args=(lock_held, release), name="holder")
    holding.start()
    lock_held.wait()  # from here on the holder thread holds cache_lock
    time.sleep(0.2)  # the holder waits inside the lock meanwhile
    child = multiprocessing.Process(target=worker, name="worker")
    child.start()
    release.set()  # the parent's lock is released; the child's copy never will be
    holding.join()
    child.join()  # waits for ever: the child is stuck
    sys.exit(child.exitcode)

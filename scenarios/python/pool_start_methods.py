# Pool.map and Pool.starmap while a thread of the parent holds a lock the tasks take, with each
# start method. Run by scenario 290 (scenarios/290_python_pool_start_methods.cpp).
#
# usage: python3 pool_start_methods.py START_METHOD API
#   START_METHOD  default (multiprocessing.Pool(), whatever the platform's default is), fork,
#                 spawn or forkserver
#   API           map:     Pool.map(count_words, lines)
#                 starmap: Pool.starmap(count_words_in, [(line_number, line), ...])
#
# The shape: a module-level metrics table and its threading.Lock; a reporter thread takes the
# lock now and then to publish the counters; every task takes it to add its own. The pool
# makes its worker processes when it is created. Here the reporter is inside the lock at that
# moment (forced with threading.Event, every time):
# - fork: every worker is a copy of the parent with metrics_lock locked and no reporter: each
#   worker's first task waits for ever, and map/starmap with it.
# - spawn: each worker is a fresh interpreter that imports this file as __mp_main__ and makes a
#   new, free lock.
# - forkserver: each worker is forked from a server process started the first time a
#   forkserver pool is made; the server never had a reporter thread, and the worker imports
#   this file afresh, so the lock is new and free.
# - default: Python's default start method: fork on Linux up to Python 3.13 (this machine),
#   forkserver from 3.14; spawn on macOS since 3.8 and on Windows.
import multiprocessing
import sys
import threading

metrics_lock = threading.Lock()  # a worker made by fork inherits it in the state it had
metrics = {"lines": 0, "words": 0}

LINES = ["fork copies the memory", "but only the calling thread", "every lock comes along",
         "in the state it had"]


def add_metrics(words):
    with metrics_lock:  # SYNC: fork: held by the parent's reporter, which the worker lacks
        metrics["lines"] += 1
        metrics["words"] += words


def count_words(line):
    words = len(line.split())
    add_metrics(words)
    return words


def count_words_in(line_number, line):
    return (line_number, count_words(line))


def reporter(lock_held, pool_made):
    with metrics_lock:  # SYNC: the reporter publishes the counters, inside the lock ...
        lock_held.set()
        pool_made.wait()  # SYNC: ... until the pool has made its workers


if __name__ == "__main__":
    method, api = sys.argv[1:3]
    default_method = multiprocessing.get_start_method()  # asked before anything sets it
    context = multiprocessing.get_context(None if method == "default" else method)
    print(f"main: Python {sys.version.split()[0]} on {sys.platform}, default start method "
          f"{default_method}, this pool uses {context.get_start_method()}, api {api}",
          flush=True)
    lock_held, pool_made = threading.Event(), threading.Event()
    reporting = threading.Thread(target=reporter, args=(lock_held, pool_made), name="reporter")
    reporting.start()
    lock_held.wait()  # SYNC: from here on the reporter holds metrics_lock
    with context.Pool(2) as pool:  # the workers are made here
        pool_made.set()  # the parent's lock is released; a forked worker's copy never will be
        reporting.join()
        if api == "map":
            results = pool.map(count_words, LINES)  # SYNC: fork: waits for ever
        else:
            results = pool.starmap(count_words_in, enumerate(LINES))  # SYNC: fork: likewise
    print(f"main: {api} returned {results}", flush=True)

# A task running in a pool worker starts a process of its own.
# Run by scenario 285 (scenarios/285_python_pool_worker_child.cpp).
#
# usage: python3 pool_worker_child.py START_METHOD POOL
#   START_METHOD  fork, spawn or forkserver (for the pool and for the task's own process)
#   POOL          pool:     multiprocessing.Pool(2).map
#                 executor: concurrent.futures.ProcessPoolExecutor(2).map
#
# multiprocessing.Pool makes its workers daemonic (daemon=True: terminated when the pool is),
# and a daemonic process may not have children: Process.start() asserts it and raises
# "AssertionError: daemonic processes are not allowed to have children" inside the task. The
# worker sends that exception back like any other, and Pool.map raises it in the parent: the
# program ends with both tracebacks and exit code 1. ProcessPoolExecutor's workers are not
# daemonic (since Python 3.9), so the same task's process runs there.
import concurrent.futures
import multiprocessing
import os
import sys


def compress(path):
    # The grandchild: stands for a helper the task hands work to.
    print(f"compressor {os.getpid()}: compressing {path}", flush=True)


def archive(task):
    method = sys.argv[1]
    helper = multiprocessing.get_context(method).Process(target=compress, args=(f"part{task}",))
    helper.start()  # Pool: AssertionError, the worker is daemonic
    helper.join()
    return helper.exitcode


if __name__ == "__main__":
    method, pool_kind = sys.argv[1:3]
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, pool {pool_kind}",
          flush=True)
    if pool_kind == "pool":
        with context.Pool(2) as pool:
            # Uncaught on purpose: the worker's AssertionError ends the program here, exit 1.
            exit_codes = pool.map(archive, range(2))
    else:
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
            exit_codes = list(executor.map(archive, range(2)))
    print(f"main: the helpers exited with codes {exit_codes}", flush=True)

# A worker of a process pool is killed by SIGKILL in the middle of a task, as the kernel's OOM
# killer would do. Run by scenario 230 (scenarios/230_python_pool_worker_killed.cpp).
#
# usage: python3 pool_worker_killed.py START_METHOD POOL
#   START_METHOD  fork, spawn or forkserver
#   POOL          pool:     multiprocessing.Pool(3).map
#                 executor: concurrent.futures.ProcessPoolExecutor(3).map
#
# multiprocessing.Pool notices the dead worker and starts a replacement, but the task the dead
# worker had taken is lost: map() waits for its result for ever. ProcessPoolExecutor watches
# its workers' sentinels and, when one dies, fails every pending future with
# BrokenProcessPool. This program catches it, says so on stderr and exits with code 1, as an
# uncaught BrokenProcessPool would (with a traceback).
import concurrent.futures
import multiprocessing
import os
import signal
import sys

VICTIM_TASK = 5


def square(task):
    if task == VICTIM_TASK:
        print(f"worker {os.getpid()}: task {task}: killed by SIGKILL, as the OOM killer would",
              flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # dies here, holding task 5
    return task * task


if __name__ == "__main__":
    method, pool_kind = sys.argv[1:3]
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, pool {pool_kind}",
          flush=True)
    tasks = range(9)
    if pool_kind == "pool":
        with context.Pool(3) as pool:
            results = pool.map(square, tasks)  # SYNC: waits for ever for task 5's result
    else:
        try:
            with concurrent.futures.ProcessPoolExecutor(3, mp_context=context) as executor:
                results = list(executor.map(square, tasks))
        except concurrent.futures.process.BrokenProcessPool as error:
            print(f"main: BrokenProcessPool: {error}", file=sys.stderr, flush=True)
            sys.exit(1)
    print(f"main: results {results}", flush=True)

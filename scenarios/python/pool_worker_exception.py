# A task raises an exception inside a pool worker: how (and whether) it reaches the parent.
# Run by scenario 240 (scenarios/240_python_pool_worker_exception.cpp).
#
# usage: python3 pool_worker_exception.py START_METHOD API
#   START_METHOD  fork, spawn or forkserver
#   API           map:            Pool.map; the worker pickles the exception and map() raises it
#                                 again in the parent, with its type and message
#                 apply_async:    Pool.apply_async, the results are never asked for: the
#                                 exception is kept in an AsyncResult nobody reads, and lost
#                 error_callback: apply_async with an error_callback, which the pool's result
#                                 thread calls with the exception in the parent
import multiprocessing
import sys

BAD_TASK = 3


def parse_record(task):
    if task == BAD_TASK:
        raise ValueError(f"record {task} is corrupt: expected 4 fields, found 3")
    return task * 10


if __name__ == "__main__":
    method, api = sys.argv[1:3]
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, api {api}",
          flush=True)
    with context.Pool(3) as pool:
        if api == "map":
            # Uncaught on purpose: the ValueError raised in the worker ends the program here,
            # with a traceback that names the worker's line and message (exit code 1).
            results = pool.map(parse_record, range(9))
            print(f"main: results {results}", flush=True)
        else:
            errors = []
            callback = errors.append if api == "error_callback" else None
            for task in range(9):
                pool.apply_async(parse_record, (task,), error_callback=callback)
            pool.close()
            pool.join()  # every task has run; only the callback hears of the failure
            if errors:
                print(f"main: a task failed: {type(errors[0]).__name__}: {errors[0]}",
                      file=sys.stderr, flush=True)
                sys.exit(1)
            print("main: all 9 tasks submitted and done, no error seen", flush=True)

# A pool worker raises an exception that pickles but cannot be rebuilt in the parent.
# Run by scenario 280 (scenarios/280_python_unpicklable_exception.cpp).
#
# usage: python3 unpicklable_exception.py START_METHOD POOL EXCEPTION
#   START_METHOD  fork, spawn or forkserver
#   POOL          pool:     multiprocessing.Pool(2).map
#                 executor: concurrent.futures.ProcessPoolExecutor(2).map
#   EXCEPTION     broken: RecordError.__init__(record, reason) passes one message to
#                         Exception.__init__, so self.args holds one value, not two
#                 fixed:  the same class passing (record, reason) to super().__init__
#
# An exception pickles as (its class, self.args): BaseException.__reduce__. The worker pickles
# RecordError("record 3: ...") without complaint, but the parent rebuilds it by calling
# RecordError("record 3: ...") with one argument, and __init__ wants two: TypeError, raised
# while the result is unpickled. multiprocessing.Pool unpickles results in its result-handler
# thread, which has no handler for that: the thread dies (its traceback on stderr, "Exception
# in thread ... _handle_results") and nobody is left to deliver the results. Pool.map waits
# for ever. ProcessPoolExecutor unpickles in its manager thread, which catches the error and
# breaks the executor: map raises BrokenProcessPool, whose message blames a process "terminated
# abruptly" (none was) and whose __cause__ holds the TypeError; this program exits 1.
import concurrent.futures
import multiprocessing
import sys
from concurrent.futures.process import BrokenProcessPool

BAD_RECORD = 3


class RecordError(Exception):
    """The broken shape: __init__ takes two arguments and passes one message to super()."""

    def __init__(self, record, reason):
        super().__init__(f"record {record}: {reason}")  # self.args == ("record 3: ...",)
        self.record = record
        self.reason = reason


class FixedRecordError(Exception):
    """The fix: pass every argument of __init__ to super(), so self.args rebuilds it."""

    def __init__(self, record, reason):
        super().__init__(record, reason)  # self.args == (3, "...")
        self.record = record
        self.reason = reason

    def __str__(self):
        return f"record {self.record}: {self.reason}"


def parse_record(task):
    if task == BAD_RECORD:
        error = RecordError if sys.argv[3] == "broken" else FixedRecordError
        raise error(task, "expected 4 fields, found 3")
    return task * 10


if __name__ == "__main__":
    method, pool_kind, exception = sys.argv[1:4]
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, pool {pool_kind}, "
          f"exception {exception}", flush=True)
    try:
        if pool_kind == "pool":
            with context.Pool(2) as pool:
                results = pool.map(parse_record, range(9))  # SYNC: broken: waits for ever
        else:
            with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as executor:
                results = list(executor.map(parse_record, range(9)))
    except (RecordError, FixedRecordError, BrokenProcessPool) as error:
        print(f"main: map raised {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        if isinstance(error, BrokenProcessPool):  # the real error is the cause's last line
            lines = [line for line in str(error.__cause__).splitlines() if line.strip("'\" ")]
            print(f"main: caused by {lines[-1]}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"main: results {results}", flush=True)

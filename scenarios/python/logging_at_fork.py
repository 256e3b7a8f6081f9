# A thread is inside a logging handler when the main thread starts a process that logs too.
# Run by scenario 220 (scenarios/220_python_logging_at_fork.cpp).
#
# usage: python3 logging_at_fork.py START_METHOD HANDLER PARK
#   START_METHOD  fork, spawn or forkserver
#   HANDLER       stdlib:   logging.StreamHandler; its lock is logging's own
#                 own_lock: a StreamHandler subclass that adds a lock of its own around emit,
#                           as third-party handlers often do
#   PARK          formatter: the logging thread is held in the handler's Formatter at fork,
#                            inside the handler's lock(s), writing to sys.stderr
#                 stream:    the handler writes to a stream built like sys.stderr or a
#                            FileHandler's file (TextIOWrapper over BufferedWriter over a raw
#                            file), and the thread is held inside its raw write at fork
#                 nowhere:   natural timing: the thread logs to sys.stderr in a loop
#
# What CPython does: every logging.Handler registers its lock with os.register_at_fork, and the
# child re-creates those locks right after fork (Lib/logging/__init__.py,
# _after_at_fork_child_reinit_locks). So the stdlib handler's lock is free in the child even
# when a parent thread held it at fork. A lock the handler adds itself is not known to logging
# and stays locked. Below the handler, the stream's BufferedWriter has a lock that nobody
# re-creates: logging repairs its own locks, not the stream's.
import io
import logging
import multiprocessing
import os
import sys
import threading

log = logging.getLogger("app")
parked = threading.Event()  # the logging thread is held where PARK says ...
child_started = threading.Event()  # ... until the child has been started


def park_here(where, park):
    if where == park and threading.current_thread().name == "logger" and \
            not child_started.is_set():
        parked.set()
        child_started.wait()  # SYNC: every lock taken on the way in stays held


class ParkingFormatter(logging.Formatter):
    park = "nowhere"

    def format(self, record):
        park_here("formatter", self.park)
        return super().format(record)


class HoldingRaw(io.RawIOBase):
    """A raw layer writing to fd 2, like FileIO; with PARK=stream the logging thread waits in it."""

    def writable(self):
        return True

    def write(self, data):
        park_here("stream", ParkingFormatter.park)
        return os.write(2, data)


def stream_like_stderr():
    # The layers Python gives sys.stderr for the PYTHONUNBUFFERED in force (open() gives a file
    # the same BufferedWriter in the middle).
    raw = HoldingRaw()
    if isinstance(sys.__stderr__.buffer, io.BufferedWriter):
        return io.TextIOWrapper(io.BufferedWriter(raw), line_buffering=True)
    return io.TextIOWrapper(raw, line_buffering=True, write_through=True)


class OwnLockHandler(logging.StreamHandler):
    def __init__(self, stream):
        super().__init__(stream)
        self.write_lock = threading.Lock()  # logging knows nothing of this lock

    def emit(self, record):
        with self.write_lock:  # SYNC: held while formatting and writing
            super().emit(record)


def configure(handler_kind, park):
    ParkingFormatter.park = park
    stream = stream_like_stderr() if park == "stream" else sys.stderr
    handler = OwnLockHandler(stream) if handler_kind == "own_lock" else logging.StreamHandler(
        stream)
    handler.setFormatter(ParkingFormatter("%(processName)s %(threadName)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def worker(handler_kind, park):
    # A forked child has the parent's logger, handler and locks; a spawned or forkserver child
    # is a fresh interpreter and configures logging itself.
    if not log.handlers:
        configure(handler_kind, park)
    log.info("hello from the worker")  # SYNC: takes the handler's (and the stream's) locks


def logging_thread(park, stop):
    line = 0
    while not stop.is_set():
        log.info("line %d", line)  # PARK=formatter or stream: the first line is held
        line += 1
        if park != "nowhere":
            return


if __name__ == "__main__":
    method, handler_kind, park = sys.argv[1:4]
    multiprocessing.set_start_method(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, handler "
          f"{handler_kind}, parked in {park}, stderr's binary layer is "
          f"{type(sys.stderr.buffer).__name__}", flush=True)
    configure(handler_kind, park)
    stop = threading.Event()
    logging_in = threading.Thread(target=logging_thread, args=(park, stop), name="logger")
    logging_in.start()
    if park != "nowhere":
        parked.wait()  # SYNC: from here on the thread holds the locks on its way in
    child = multiprocessing.Process(target=worker, args=(handler_kind, park), name="worker")
    child.start()
    child_started.set()
    stop.set()
    logging_in.join()
    child.join()  # SYNC: waits for ever if the child is stuck on a lock
    print(f"main: the worker exited with code {child.exitcode}", flush=True)
    sys.exit(child.exitcode)

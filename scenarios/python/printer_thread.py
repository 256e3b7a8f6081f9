# A thread keeps printing to sys.stderr while the main thread starts a multiprocessing.Process
# whose target prints too. Run by scenario 200 (scenarios/200_python_printer_thread.cpp).
#
# usage: python3 printer_thread.py START_METHOD TIMING
#   START_METHOD  fork, spawn or forkserver
#   TIMING        natural: the child is started wherever the printer happens to be
#                 forced:  the printer is held inside stderr's write at the instant of fork
#
# Why it can hang: sys.stderr is a TextIOWrapper over an io.BufferedWriter over a raw FileIO,
# and the BufferedWriter has a lock of its own, held while it hands bytes to the raw layer
# (whose write() releases the GIL). multiprocessing flushes stdout and stderr just before it
# forks (popen_fork.Popen.__init__), which takes and releases that lock; if the printer takes
# it again before os.fork() runs, the child's copy of stderr is locked by a thread that does not
# exist in the child, and the child's first print waits for ever. CPython does not re-create
# that lock at fork. With PYTHONUNBUFFERED set, stderr is a TextIOWrapper straight over the
# FileIO: no BufferedWriter, no lock, and the race has nothing to catch.
#
# Forced timing replaces sys.stderr with a stream built in the same layers, the way Python
# builds it for the PYTHONUNBUFFERED in force, whose raw layer can hold the printer inside its
# write; an os.register_at_fork(before=...) hook, which runs after that flush and right before
# fork, lets the printer in and waits until it is inside the write. So the fork lands inside the
# write every time. (Parking the printer there earlier would block the parent's own flush.)
import io
import multiprocessing
import os
import sys
import threading

may_print = threading.Event()  # forced: the printer's first line waits for the fork ...
inside_write = threading.Event()  # ... then it is inside the raw write ...
child_started = threading.Event()  # ... until the child has been started


class HoldingRaw(io.RawIOBase):
    """A raw layer writing to fd 2, like FileIO; the printer's first write waits inside it."""

    def writable(self):
        return True

    def write(self, data):
        if threading.current_thread().name == "printer" and not child_started.is_set():
            inside_write.set()
            child_started.wait()  # SYNC: holds the BufferedWriter's lock, if there is one
        return os.write(2, data)


def stream_like_stderr():
    raw = HoldingRaw()
    if isinstance(sys.__stderr__.buffer, io.BufferedWriter):  # PYTHONUNBUFFERED unset or 0
        return io.TextIOWrapper(io.BufferedWriter(raw), line_buffering=True)
    return io.TextIOWrapper(raw, line_buffering=True, write_through=True)


def worker():
    # The child's only work: one line on the stderr it inherited (or made, with spawn).
    print("worker: hello from the child process", file=sys.stderr)


def let_printer_in_before_fork():
    # os.fork() calls this in the parent after multiprocessing's flush, right before fork.
    may_print.set()
    inside_write.wait()  # SYNC: the printer holds stderr's buffer lock from here on


def printer(stop):
    may_print.wait()
    line = 0
    while not stop.is_set():
        print(f"printer: line {line}", file=sys.stderr)  # SYNC: takes stderr's buffer lock
        line += 1


if __name__ == "__main__":
    method, timing = sys.argv[1:3]
    multiprocessing.set_start_method(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, timing {timing}, "
          f"stderr's binary layer is {type(sys.stderr.buffer).__name__}", flush=True)
    if timing == "forced":
        sys.stderr = stream_like_stderr()
        os.register_at_fork(before=let_printer_in_before_fork)  # runs only if the parent forks
    else:
        may_print.set()
    stop = threading.Event()
    printing = threading.Thread(target=printer, args=(stop,), name="printer")
    printing.start()
    child = multiprocessing.Process(target=worker, name="worker")
    child.start()  # natural timing: the printer may have retaken the lock after the flush
    may_print.set()  # spawn and forkserver do not fork this process: the hook never ran
    child_started.set()
    stop.set()  # the printer stops, so only a stuck child can keep the program from ending
    printing.join()
    child.join()  # SYNC: waits for ever if the child is stuck on the orphaned lock
    print(f"main: the worker exited with code {child.exitcode}", flush=True)
    sys.exit(child.exitcode)

# A daemonic process tries to start a child of its own.
# Run by scenario 250 (scenarios/250_python_daemon_child.cpp).
#
# usage: python3 daemon_child.py START_METHOD DAEMON
#   START_METHOD  fork, spawn or forkserver
#   DAEMON        daemon:     the outer process is daemonic (Process(daemon=True))
#                 not_daemon: an ordinary process
#
# multiprocessing terminates daemonic processes when their parent exits, and a daemonic process
# could not clean up children of its own, so Process.start() refuses in one:
# "AssertionError: daemonic processes are not allowed to have children". The exception ends the
# daemonic process (exit code 1, traceback on stderr); the parent sees only the exit code.
import multiprocessing
import sys


def grandchild():
    print("grandchild: running", flush=True)


def outer():
    print(f"outer: daemon={multiprocessing.current_process().daemon}, starting a child",
          flush=True)
    inner = multiprocessing.Process(target=grandchild, name="grandchild")
    inner.start()  # raises AssertionError in a daemonic process
    inner.join()
    print("outer: the child finished", flush=True)


if __name__ == "__main__":
    method, daemon = sys.argv[1:3]
    multiprocessing.set_start_method(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, outer process "
          f"{daemon}", flush=True)
    process = multiprocessing.Process(target=outer, name="outer", daemon=daemon == "daemon")
    process.start()
    process.join()
    print(f"main: the outer process exited with code {process.exitcode}", flush=True)
    sys.exit(process.exitcode)

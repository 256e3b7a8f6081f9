# A "warm-up" thread is importing a slow module when the main thread starts a process, and the
# child imports the same module. Run by scenario 270 (scenarios/270_python_import_at_fork.cpp).
#
# usage: python3 import_at_fork.py START_METHOD CHILD_IMPORTS
#   START_METHOD   fork, spawn or forkserver
#   CHILD_IMPORTS  same:  the child imports plugin_registry, the module being imported at fork
#                  other: the child imports a module nobody was importing (decimal)
#
# Since Python 3.3 an import takes two kinds of lock. The global import lock (_imp's, in C) is
# held only for a moment, to find or create the module's own lock; CPython takes it before
# fork (PyOS_BeforeFork) and re-initialises it in the child (_PyImport_ReInitLock), so it is
# never orphaned. The module's own lock, importlib._bootstrap._ModuleLock, is held by the
# importing thread for as long as the module's top-level code runs, and it is plain Python
# data (an owner thread ident, a count, two _thread locks): nothing resets it at fork. A forked
# child finds the half-initialised module in sys.modules (its __spec__._initializing is still
# True), so `import plugin_registry` waits for the module lock's owner to finish; the owner is a
# thread that stayed in the parent, and the wait (on the lock's `wakeup` _thread.lock) never
# ends. Importing any other module works: its lock is new.
#
# The interleaving is forced: the module's top-level code, when run by the warm-up thread, says
# it has started and then waits (standing for slow top-level work: loading a table, scanning
# plugins) until the child has been started.
import multiprocessing
import os
import sys
import threading

SLOW_MODULE = """\
# plugin_registry: written by import_at_fork.py; its top-level code is slow to run.
import sys
import threading

print(f"plugin_registry: top-level code runs in thread {threading.current_thread().name}",
      flush=True)
if threading.current_thread().name == "warm-up":
    main = sys.modules["__main__"]
    main.import_started.set()
    main.child_started.wait()  # SYNC: the warm-up thread holds this module's import lock
PLUGINS = {"csv": "read_csv", "json": "read_json"}
"""

import_started = threading.Event()  # the warm-up thread is inside plugin_registry's code ...
child_started = threading.Event()  # ... until the child has been started


def worker(child_imports):
    if child_imports == "same":
        print("worker: import plugin_registry", flush=True)
        import plugin_registry  # SYNC: fork: waits for its module lock's owner, for ever

        print(f"worker: plugin_registry has {len(plugin_registry.PLUGINS)} plugins", flush=True)
    else:
        print("worker: import decimal", flush=True)
        import decimal  # a module nobody was importing: its lock is new

        print(f"worker: decimal {decimal.__version__}", flush=True)


def warm_up():
    import plugin_registry  # SYNC: holds plugin_registry's module lock while its code runs

    print(f"warm-up: plugin_registry has {len(plugin_registry.PLUGINS)} plugins", flush=True)


if __name__ == "__main__":
    method, child_imports = sys.argv[1:3]
    here = os.path.dirname(os.path.abspath(__file__))  # sys.path[0]: where imports look first
    with open(os.path.join(here, "plugin_registry.py"), "w") as module_file:
        module_file.write(SLOW_MODULE)
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, the child imports "
          f"{child_imports}", flush=True)
    warming = threading.Thread(target=warm_up, name="warm-up")
    warming.start()
    import_started.wait()  # SYNC: from here on plugin_registry is half imported
    print("main: starting the worker while the warm-up thread imports plugin_registry",
          flush=True)
    child = context.Process(target=worker, args=(child_imports,), name="worker")
    child.start()
    child_started.set()  # the parent's import finishes; the child's copy of its lock never will
    warming.join()
    child.join()  # SYNC: waits for ever if the child is stuck
    print(f"main: the worker exited with code {child.exitcode}", flush=True)
    sys.exit(child.exitcode)

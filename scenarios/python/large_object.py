# Moving a large object to pool workers: pickling it, a file path, multiprocessing.shared_memory,
# or inheriting it through fork. Measured. Run by scenario 260
# (scenarios/260_python_large_object.cpp).
#
# usage: python3 large_object.py START_METHOD TRANSFER SIZE_MB
#   START_METHOD  fork, spawn or forkserver
#   TRANSFER      pickle, file, shared_memory, inherit (fork only: a spawned worker raises
#                 RuntimeError) or all (inherit is skipped unless the method is fork)
#   SIZE_MB       the object's size in MiB
#
# Each of 2 workers receives the whole object and returns its CRC-32, which the parent checks.
# The pool is started and warmed up first, so the time is that of moving the data only: from
# the moment the parent starts (pickling, writing the file, copying into shared memory) to the
# moment both checksums are back. One line per transfer on stdout:
#   transfer pickle: 2 workers x 64 MiB in 181.2 ms (crc32 ok)
import multiprocessing
import sys
import time
import zlib
from multiprocessing import resource_tracker, shared_memory

WORKERS = 2
PAYLOAD_FILE = "payload.bin"  # in the sandbox's private working directory
inherited = None  # set before the pool starts: forked workers see it without any copy


def crc_of_bytes(data):
    return zlib.crc32(data)


def crc_of_file(path):
    with open(path, "rb") as payload:
        return zlib.crc32(payload.read())


def crc_of_shared_memory(name):
    segment = shared_memory.SharedMemory(name=name)  # maps the parent's pages: no copy
    try:
        return zlib.crc32(segment.buf)
    finally:
        segment.close()


def crc_of_inherited(_):
    if inherited is None:
        raise RuntimeError("nothing inherited: this worker did not come from fork")
    return zlib.crc32(inherited)


def transfer(pool, how, data):
    start = time.perf_counter()
    if how == "pickle":
        crcs = pool.map(crc_of_bytes, [data] * WORKERS)  # pickled once per task, through a pipe
    elif how == "file":
        with open(PAYLOAD_FILE, "wb") as payload:
            payload.write(data)
        crcs = pool.map(crc_of_file, [PAYLOAD_FILE] * WORKERS)  # only the path is pickled
    elif how == "shared_memory":
        segment = shared_memory.SharedMemory(create=True, size=len(data))
        try:
            segment.buf[:len(data)] = data  # one copy, into pages every worker can map
            crcs = pool.map(crc_of_shared_memory, [segment.name] * WORKERS)
        finally:
            segment.close()
            segment.unlink()
    else:
        crcs = pool.map(crc_of_inherited, range(WORKERS))  # nothing is sent at all
    elapsed_ms = (time.perf_counter() - start) * 1000
    ok = all(crc == zlib.crc32(data) for crc in crcs)
    print(f"transfer {how}: {WORKERS} workers x {len(data) >> 20} MiB in {elapsed_ms:.1f} ms "
          f"(crc32 {'ok' if ok else 'WRONG'})", flush=True)
    return ok


if __name__ == "__main__":
    method, how, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    context = multiprocessing.get_context(method)
    print(f"main: Python {sys.version.split()[0]}, start method {method}, {size_mb} MiB",
          flush=True)
    data = bytes(range(256)) * (size_mb << 12)
    inherited = data
    # Workers that attach a segment register it with the resource tracker; started here, before
    # the pool, every worker shares the parent's tracker instead of starting one of its own that
    # would unlink the segment as "leaked" when the worker exits (fixed in 3.13 by track=False).
    resource_tracker.ensure_running()
    hows = ["pickle", "file", "shared_memory", "inherit"] if how == "all" else [how]
    all_ok = True
    with context.Pool(WORKERS) as pool:
        pool.map(abs, range(WORKERS))  # warm-up: every worker has started
        for each in hows:
            if each == "inherit" and method != "fork" and how == "all":
                print(f"transfer inherit: skipped with {method}: a {method} worker does not "
                      f"share the parent's memory", flush=True)
                continue
            # Asked for on its own with spawn or forkserver, inherit runs and the workers raise
            # RuntimeError: a global set in the parent is simply not there in a fresh interpreter.
            all_ok = transfer(pool, each, data) and all_ok
    sys.exit(0 if all_ok else 1)

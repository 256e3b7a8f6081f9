# numpy multiplies two matrices in the parent, which starts the BLAS library's threads, then
# multiprocessing starts a child that multiplies two matrices too. Run by scenario 088
# (scenarios/088_numpy_openblas_after_fork.cpp, whose header has the measurements).
#
# usage: python3 numpy_openblas.py START_METHOD SIZE
#   START_METHOD  fork, spawn or forkserver
#   SIZE          the matrices are SIZE x SIZE (OpenBLAS uses one thread below about 64 x 64)
#
# numpy's matrix product calls cblas_dgemm from libblas.so.3, which on Debian is whichever BLAS
# the library path finds first: the scenario chooses OpenBLAS's OpenMP build or its pthread
# build with LD_LIBRARY_PATH, and OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set how many threads
# it uses. Each process prints which BLAS files its /proc/self/maps shows, and how many threads
# it has after its product.
import multiprocessing
import os
import sys

import numpy


def blas_files():
    # The BLAS and threading runtime files this process really mapped (the library path, not
    # the name numpy asked for, decides which).
    wanted = ("libblas", "libopenblas", "libgomp", "libcblas")
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if any(name in line for name in wanted)}
    return sorted(path for path in paths if path.startswith("/"))


def threads_now():
    return len(os.listdir("/proc/self/task"))


def product(who, size):
    # Real work through BLAS: c = a @ b calls dgemm, split over BLAS's threads above OpenBLAS's
    # size threshold. Checked entry by entry against an elementwise sum, which uses no BLAS.
    a = numpy.arange(size * size, dtype=numpy.float64).reshape(size, size) / (size * size)
    b = numpy.ones((size, size)) + numpy.eye(size)
    c = a @ b  # SYNC: OpenMP build, forked child: waits for ever for the pool's threads
    right = all(
        numpy.isclose(c[i, j], numpy.sum(a[i, :] * b[:, j]))
        for i, j in ((0, 0), (size // 2, size // 3), (size - 1, size - 1))
    )
    print(
        f"{who}: a {size}x{size} matrix product, {'right' if right else 'WRONG'}; "
        f"the process has {threads_now()} threads now",
        flush=True,
    )
    return right


def child_product(size):
    sys.exit(0 if product("child", size) else 1)


if __name__ == "__main__":
    method, size = sys.argv[1], int(sys.argv[2])
    multiprocessing.set_start_method(method)
    print(f"main: Python {sys.version.split()[0]}, numpy {numpy.__version__}, "
          f"start method {method}", flush=True)
    for path in blas_files():
        print(f"main: mapped {path}", flush=True)
    if not product("main", size):
        sys.exit(1)
    child = multiprocessing.Process(target=child_product, args=(size,), name="child")
    child.start()
    child.join()  # SYNC: waits for ever if the child is stuck
    print(f"main: the child exited with code {child.exitcode}", flush=True)
    sys.exit(child.exitcode)

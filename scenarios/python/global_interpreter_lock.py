# Threads running pure Python, threads whose work releases the GIL (numpy), and processes, each
# doing the same work as one thread alone, measured. Run by scenario 295
# (scenarios/295_python_global_interpreter_lock.cpp).
#
# usage: python3 global_interpreter_lock.py MODE WORKERS [START_METHOD]
#   MODE          pure_python_threads: count primes by trial division in Python, on threads
#                 numpy_threads:       multiply matrices with numpy (dgemm releases the GIL),
#                                      on threads
#                 processes:           the pure Python work, on multiprocessing.Process workers
#   WORKERS       how many threads or processes share the work (1: the baseline against itself)
#   START_METHOD  fork or spawn (processes only)
#
# Every run first does the whole work on one thread (the baseline), then shares it among the
# workers. It prints, for each: the wall time, the CPU time the workers used doing the work
# (time.thread_time in each thread, time.process_time in each process), the speed-up (baseline
# wall / wall) and the parallelism (CPU / wall: how many workers computed at once, on average).
# It checks the results: the prime count against a sieve of Eratosthenes, the products' sums
# against the baseline's.
#
# One claim is robust, and checked (exit 1 when broken): threads running pure Python have a
# parallelism of at most 1.1, because a thread runs bytecode only while it holds the GIL, and
# one thread holds it at a time. A busy machine can only lower it. The speed-ups, and the
# parallelism of numpy threads and of processes (up to the number of free cores), are printed,
# never checked: other programs on the machine decide them.
import multiprocessing
import sys
import threading
import time

PRIME_LIMIT = 60000  # ~0.1 s of trial division in Python 3.11 on one idle core
CHUNKS = 24  # the work is cut into chunks; worker w takes chunks w, w+WORKERS, ...
MATRIX_SIZE = 160  # numpy: each chunk multiplies two 160x160 matrices, a few times
PRODUCTS_PER_CHUNK = 6
PURE_PYTHON_PARALLELISM_CEILING = 1.1  # one GIL: one thread computes at a time


def count_primes_in_chunk(chunk):
    low = chunk * PRIME_LIMIT // CHUNKS
    high = (chunk + 1) * PRIME_LIMIT // CHUNKS
    count = 0
    for n in range(max(low, 2), high):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            count += 1
    return count


def count_primes_by_sieve():
    composite = bytearray(PRIME_LIMIT)
    count = 0
    for n in range(2, PRIME_LIMIT):
        if not composite[n]:
            count += 1
            composite[n * n::n] = b"\x01" * len(range(n * n, PRIME_LIMIT, n))
    return count


def multiply_in_chunk(chunk):
    import numpy  # imported here: spawned workers and the other modes never load it
    generator = numpy.random.default_rng(chunk)
    left = generator.random((MATRIX_SIZE, MATRIX_SIZE))
    right = generator.random((MATRIX_SIZE, MATRIX_SIZE))
    total = 0.0
    for _ in range(PRODUCTS_PER_CHUNK):
        product = left @ right  # dgemm: numpy releases the GIL around it
        total += float(product.sum())
    return total


def work_of_worker(work, worker, workers):
    return [work(chunk) for chunk in range(worker, CHUNKS, workers)]


def thread_worker(work, worker, workers, results, cpu_seconds):
    started = time.thread_time()
    results[worker] = work_of_worker(work, worker, workers)
    cpu_seconds[worker] = time.thread_time() - started


def process_worker(worker, workers, queue):
    started = time.process_time()
    counts = work_of_worker(count_primes_in_chunk, worker, workers)
    queue.put((worker, counts, time.process_time() - started))


def run_threads(work, workers):
    results, cpu_seconds = [None] * workers, [0.0] * workers
    threads = [threading.Thread(target=thread_worker, name=f"worker-{w + 1}",
                                args=(work, w, workers, results, cpu_seconds))
               for w in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, sum(cpu_seconds), time.monotonic() - started


def run_processes(context, workers):
    queue = context.Queue()
    started = time.monotonic()
    processes = [context.Process(target=process_worker, args=(w, workers, queue),
                                 name=f"worker-{w + 1}") for w in range(workers)]
    for process in processes:
        process.start()
    answers = [queue.get() for _ in range(workers)]  # SYNC: each worker sends its counts
    for process in processes:
        process.join()
    wall = time.monotonic() - started
    results = [None] * workers
    for worker, counts, _ in answers:
        results[worker] = counts
    return results, sum(cpu for _, _, cpu in answers), wall


def report(what, cpu, wall, baseline_wall):
    print(f"main: {what}: wall {wall * 1e3:.0f} ms, cpu {cpu * 1e3:.0f} ms, speed-up "
          f"{baseline_wall / wall:.2f}, parallelism {cpu / wall:.2f}", flush=True)
    return cpu / wall


def main():
    mode, workers = sys.argv[1], int(sys.argv[2])
    method = sys.argv[3] if len(sys.argv) > 3 else "fork"
    work = multiply_in_chunk if mode == "numpy_threads" else count_primes_in_chunk
    print(f"main: Python {sys.version.split()[0]}, {mode}, {workers} worker(s)"
          + (f", start method {method}" if mode == "processes" else ""), flush=True)
    if mode == "numpy_threads":
        import numpy
        print(f"main: numpy {numpy.__version__}", flush=True)
        multiply_in_chunk(0)  # warm-up: the first product sets up BLAS, outside the timings

    baseline, baseline_cpu, baseline_wall = run_threads(work, 1)
    report("baseline, 1 thread", baseline_cpu, baseline_wall, baseline_wall)
    if mode == "processes":
        results, cpu, wall = run_processes(multiprocessing.get_context(method), workers)
        kind = f"{method} processes"
    else:
        results, cpu, wall = run_threads(work, workers)
        kind = "threads"
    parallelism = report(f"{workers} {kind}", cpu, wall, baseline_wall)

    by_chunk = {}
    for worker, values in enumerate(results):
        by_chunk.update(zip(range(worker, CHUNKS, workers), values))
    if work is count_primes_in_chunk:
        expected = count_primes_by_sieve()
        found, found_baseline = sum(by_chunk.values()), sum(baseline[0])
        if found != expected or found_baseline != expected:
            print(f"main: WRONG: {found} primes (baseline {found_baseline}), the sieve says "
                  f"{expected}", flush=True)
            return 1
        print(f"main: {found} primes below {PRIME_LIMIT}, as the sieve says", flush=True)
    else:
        if [by_chunk[chunk] for chunk in range(CHUNKS)] != baseline[0]:
            print("main: WRONG: the products' sums differ from the baseline's", flush=True)
            return 1
        print(f"main: {CHUNKS} chunks of products, sums equal to the baseline's", flush=True)

    if mode == "pure_python_threads" and parallelism > PURE_PYTHON_PARALLELISM_CEILING:
        print(f"main: WRONG: pure Python threads computed {parallelism:.2f} at once: more than "
              f"one thread ran bytecode, as if there were no GIL", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

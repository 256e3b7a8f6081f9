"""python_queue_pool: threads and worker processes that block for a while, and all finish.

What it does: a consumer thread ('consumer') blocks in queue.Queue.get() (untimed) for 1 s while
the producer (main) sleeps before putting the items; then a multiprocessing Pool of 2 workers
started with 'spawn' (fresh interpreters: no lock copied by fork) maps a small function that
sleeps 0.1 s over 4 items, and the pool is closed and joined. Every block has a live waker (a
sleeping producer, a working pool). Exits 0 in well under 3 s.

How it was measured, outside forklore (Debian 12, Python 3.11.2 from /usr/bin/python3,
2026-12-03): `timeout 10 env PYTHONUNBUFFERED=0 /usr/bin/python3 python_queue_pool.py; echo $?`
5 times -> 0, `consumer got [0, 1, 2, 3, 4], pool computed [0, 1, 4, 9]`, in 1.64-1.85 s.
forklore must say: completed (exit 0). The spawn context also starts multiprocessing's resource
tracker, a process that may still be running when the first process exits: it is left running
and killed, never a reason for timed_out.
"""
import multiprocessing
import queue
import threading
import time


def square_slowly(n):
    time.sleep(0.1)
    return n * n


def consume(items, results):
    while True:
        item = items.get()  # untimed: the producer sleeps 1 s before the first item
        if item is None:
            return
        results.append(item)


def main():
    items, results = queue.Queue(), []
    consumer = threading.Thread(target=consume, args=(items, results), name="consumer")
    consumer.start()
    time.sleep(1.0)
    for n in range(5):
        items.put(n)
    items.put(None)
    consumer.join()

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        squares = pool.map(square_slowly, range(4))
        pool.close()
        pool.join()
    print(f"consumer got {results}, pool computed {squares}")
    return 0 if results == list(range(5)) and squares == [n * n for n in range(4)] else 1


if __name__ == "__main__":
    raise SystemExit(main())

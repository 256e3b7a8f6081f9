"""python_printer_thread: a printer thread holds sys.stderr's buffer lock at os.fork().

What it does: thread 'printer' prints lines to sys.stderr forever. With buffered stdio
(PYTHONUNBUFFERED unset or 0), sys.stderr is a line-buffered TextIOWrapper over a BufferedWriter,
and the BufferedWriter holds its own lock (a PyThread lock, a semaphore with no owner) while it
flushes a line with write(2). To make the fork land inside that critical section every time, the
script first points fd 2 at a pipe of its own (a log forwarder, as many services have), shrunk to
one page and not yet read: the printer fills it and blocks in write(2, ...) holding the buffer
lock. Main waits until /proc shows the printer in that write (syscall 1, fd 2), then forks. The
parent starts thread 'forwarder', which drains the pipe to the real stderr, so the printer runs
on (a line every 10 ms), and waits for the child with os.waitpid(pid, 0). The child ('child')
writes one line to sys.stderr: the buffer lock was copied locked, nobody in the child will ever
release it, so it waits forever.

Run it as `env PYTHONUNBUFFERED=0 /usr/bin/python3 python_printer_thread.py` (this environment
exports PYTHONUNBUFFERED=1, and then sys.stderr has no BufferedWriter and no buffer lock: the
script says so and exits 3).

How it was measured, outside forklore (Debian 12, Python 3.11.2 from /usr/bin/python3, glibc
2.36-9+deb12u14, kernel 6.18, 2026-12-03): `timeout 10 env PYTHONUNBUFFERED=0 /usr/bin/python3
python_printer_thread.py; echo $?` 3 times -> 124 each time; /proc/PID/task/TID/{stat,wchan,syscall}
at 2 s; `gdb -p PID -batch -ex 'thread apply all bt'` on both processes of run 1; then 10 more
runs with measure_hang.py. 13 of 13 runs hang the same way:
  main       S  wchan do_wait          wait4(child)
  printer    S  wchan hrtimer_nanosleep  a line every 10 ms, forwarded to the real stderr
  forwarder  S  wchan anon_pipe_read   read() on the log pipe, between lines
  child      S  wchan futex_do_wait    futex(sem, FUTEX_WAIT_BITSET|PRIVATE, 0), no timeout
             gdb: do_futex_wait <- __new_sem_wait_slow64 <- PyThread_acquire_lock <- ...
             (a sem_t: the lock word has no owner field; py-spy is not installed here)
With PYTHONUNBUFFERED=1 the script exits 3 at once (checked): no BufferedWriter, no lock.
forklore must say: deadlocked / no_waker (exit 12): the lock is a semaphore with no owner to
name, and no thread of the child (its only one is the waiter) can release it. Stuck: child, main
(waits for a stuck child). Live: printer (sleeps), forwarder (its pipe's writers are live).
"""
import ctypes
import fcntl
import io
import os
import sys
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)


def name_this_thread(name):
    # Python 3.11 does not give threads kernel names; prctl(PR_SET_NAME) does, for /proc and gdb.
    libc.prctl(15, name.encode(), 0, 0, 0)


if not isinstance(getattr(sys.stderr, "buffer", None), io.BufferedWriter):
    print("sys.stderr has no BufferedWriter (PYTHONUNBUFFERED is set): no buffer lock to hold",
          file=sys.__stdout__)
    sys.exit(3)

# fd 2 -> a one-page pipe that nobody reads yet; the real stderr is kept for the forwarder.
sys.stderr.flush()
real_stderr = os.dup(2)
log_read, log_write = os.pipe()
fcntl.fcntl(log_write, fcntl.F_SETPIPE_SZ, 4096)
os.dup2(log_write, 2)
os.close(log_write)

forwarding = threading.Event()


def printer():
    name_this_thread("printer")
    line = 0
    while True:
        print(f"printer: line {line}", file=sys.stderr)  # flushes: the buffer lock, then write(2)
        line += 1
        if forwarding.is_set():
            time.sleep(0.01)


def forwarder():
    name_this_thread("forwarder")
    while True:
        data = os.read(log_read, 65536)
        if not data:
            return
        os.write(real_stderr, data)


def task_named(name):
    # The printer's task directory, found by its name through /proc/self. Not by native_id: in a
    # PID namespace whose /proc was not remounted (forklore's sandbox) native_id is the namespace's
    # tid, and /proc/self/task/<that tid> does not exist; /proc/self still names this process.
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                if f.read().strip() == name:
                    return f"/proc/self/task/{tid}"
        except OSError:
            pass
    return None


def blocked_in_stderr_write(task):
    # /proc/.../syscall: "1 0x2 ..." while the thread is inside write(2, ...).
    try:
        with open(f"{task}/syscall") as f:
            return f.read().startswith("1 0x2 ")
    except OSError as error:
        give_up(f"cannot read {task}/syscall: {error}")


def give_up(message):
    # Never through sys.stderr: its buffer lock is held by the blocked printer.
    os.write(real_stderr, f"python_printer_thread: {message}\n".encode())
    os._exit(2)


name_this_thread("main")
printer_thread = threading.Thread(target=printer, daemon=True)
printer_thread.start()
deadline = time.monotonic() + 5
printer_task = None
while printer_task is None or not blocked_in_stderr_write(printer_task):
    if time.monotonic() > deadline:
        give_up("the printer never blocked in write(2): cannot set up the fork")
    printer_task = printer_task or task_named("printer")
    time.sleep(0.001)

pid = os.fork()  # the printer holds the BufferedWriter lock, blocked in write(2, ...)
if pid == 0:
    name_this_thread("child")
    os.close(log_read)
    print("child: hello", file=sys.stderr)  # the buffer lock, copied locked: forever
    os._exit(0)

print(f"parent: forked child {pid} while the printer held the stderr buffer lock",
      file=sys.__stdout__, flush=True)
forwarding.set()
threading.Thread(target=forwarder, daemon=True).start()
os.waitpid(pid, 0)

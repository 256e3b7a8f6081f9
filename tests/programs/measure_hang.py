"""measure_hang: how the hangs in tests/programs were measured outside forklore.

Usage: /usr/bin/python3 measure_hang.py RUNS PROGRAM ARGS...

Runs PROGRAM RUNS times, each in its own session (so a hung child never outlives the run), and
prints one line per run: whether it exited by itself, and every thread of its process tree
(/proc/PID/task/TID/children, then comm, state and wchan of each thread) at 1 s and again at 3 s
("same" if nothing changed). Then the whole session is killed with SIGKILL. A hang is measured as
deterministic when every run shows the same blocked states at both times.
"""
import os
import signal
import subprocess
import sys
import time


def tree(pid):
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    pids += tree(int(child))
    except OSError:
        pass
    return pids


def snapshot(pid):
    threads = []
    for process in tree(pid):
        try:
            for task in sorted(os.listdir(f"/proc/{process}/task"), key=int):
                base = f"/proc/{process}/task/{task}"
                comm = open(f"{base}/comm").read().strip()
                state = open(f"{base}/stat").read().rsplit(")", 1)[1].split()[0]
                wchan = open(f"{base}/wchan").read()
                threads.append(f"{comm}={state}/{wchan}")
        except OSError:
            threads.append(f"[{process} gone]")
    return " ".join(threads)


def main():
    runs, command = int(sys.argv[1]), sys.argv[2:]
    for run in range(1, runs + 1):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(1)
        early = snapshot(proc.pid)
        time.sleep(2)
        late = snapshot(proc.pid)
        exited = proc.poll()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print(f"run {run}: exited={exited} | 1s: {early} | 3s: {'same' if late == early else late}",
              flush=True)


if __name__ == "__main__":
    main()

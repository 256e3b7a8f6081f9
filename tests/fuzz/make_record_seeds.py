#!/usr/bin/env python3
# How tests/fuzz/corpus/record was made: real records cut down (few events, snapshots, frames),
# truncated ones, deep nesting and fields of the wrong type or range. Run it in a directory
# holding the records of
#   forklore run file-read-under-lock --variant fork --out fork.json
#   forklore run file-read-under-lock --variant spawn --out spawn.json
#   forklore exec --out exec.json -- build/bin/orphaned_mutex
#   forklore run moving-data-to-workers --out move.json
#   forklore exec --out python.json -- env PYTHONUNBUFFERED=0 /usr/bin/python3 tests/programs/python_lock_at_fork.py
# as: python3 tests/fuzz/make_record_seeds.py tests/fuzz/corpus/record
import json, sys, os
out = sys.argv[1]
def trim(path, events=24, snapshots=2, frames=4):
    r = json.load(open(path))
    ev = r['events']
    # keep the first events and the last few (the exit, the orphaned wait)
    r['events'] = ev[:events - 4] + ev[-4:] if len(ev) > events else ev
    r['snapshots'] = r['snapshots'][:1] + r['snapshots'][-(snapshots - 1):] if len(r['snapshots']) > snapshots else r['snapshots']
    for s in r['stacks']:
        s['frames'] = s['frames'][:frames]
    r['stdout'] = r['stdout'][:200]
    r['stderr'] = r['stderr'][:200]
    for p in r['processes']:
        p['output'] = p['output'][:100]
    return r
def write(name, text):
    with open(os.path.join(out, name), 'w', encoding='utf-8', newline='') as f:
        f.write(text)
records = {'deadlocked-fork': trim('fork.json'), 'completed-spawn': trim('spawn.json'),
           'exec-orphaned-mutex': trim('exec.json'), 'measurements': trim('move.json', events=40),
           # the timeline's sampled lanes: a process history (fork, exit 3, fork) and waits
           'exec-python-lock-at-fork': trim('python.json', snapshots=12)}
move = json.load(open('move.json'))
records['measurements']['events'] = [e for e in move['events'] if e['kind'] in ('measurement', 'process_start', 'process_exit')][:30]
for name, r in records.items():
    write(name + '.json', json.dumps(r, separators=(',', ':'), ensure_ascii=False))
fork = json.dumps(records['deadlocked-fork'], separators=(',', ':'))
write('truncated-half.json', fork[:len(fork) // 2])
write('truncated-in-string.json', fork[:fork.index('"explanation"') + 30])
minimal = {"format": "forklore-run", "version": 1, "verdict": "completed"}
write('minimal.json', json.dumps(minimal))
for key in ['events', 'snapshots', 'processes', 'stacks', 'wait_for']:
    write('deep-%s.json' % key, json.dumps(minimal)[:-1] + ',"%s":%s%s}' % (key, '[' * 40, ']' * 40))
bad = dict(records['deadlocked-fork'])
def variant(name, change):
    r = json.loads(fork)
    change(r)
    write(name + '.json', json.dumps(r, separators=(',', ':')))
variant('bad-pid-huge', lambda r: r['events'][1].update(pid=10**20))
variant('bad-time-overflow', lambda r: (r.update(start_time_ns=2**63 - 1), r['events'][2].update(t_ns=5)))
variant('bad-state-empty', lambda r: r['snapshots'][0]['processes'][0]['threads'][0].update(state=''))
variant('bad-pc', lambda r: r['stacks'][0]['frames'][0].update(pc='-0x1'))
variant('bad-kind-newline', lambda r: r['events'][0].update(kind='lock\nwait'))
variant('bad-version', lambda r: r.update(version=2))
variant('unicode-names', lambda r: r['events'][0].update(thread='\u00e9' * 12, text='\u2603' * 40))
variant('duplicate-events', lambda r: None)
with open(os.path.join(out, 'duplicate-events.json'), 'w') as f:
    f.write('{"events":[{"kind":"exec"}],' + fork[1:])
write('not-a-record.json', '[1,2,3]')
with open(os.path.join(out, 'garbage.bin'), 'wb') as f:
    f.write(bytes((i * 7919 + 13) % 256 for i in range(512)))
# The seeds above were cut from records of event schema 2, whose events have no location. These
# come from a record of schema 3, whose events say "file" and "line" (made by
#   forklore run file-read-under-lock --variant fork --out located.json):
if os.path.exists('located.json'):
    located = trim('located.json')
    write('located-fork.json', json.dumps(located, separators=(',', ':')))
    located_text = json.dumps(located, separators=(',', ':'))
    def located_variant(name, change):
        r = json.loads(located_text)
        change(r)
        write(name + '.json', json.dumps(r, separators=(',', ':')))
    first_located = lambda r: next(e for e in r['events'] if 'line' in e)
    located_variant('bad-line', lambda r: first_located(r).update(line=-1))
    located_variant('bad-file', lambda r: first_located(r).update(file=['not', 'a', 'path']))

// bench/perf-comm.ts: how the harness attributes `perf` samples to the parts of a sandbox's life.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupOf, parsePerfScript } from '../bench/perf-comm';

// The shape of `perf script -F comm,pid,event,trace` (Linux perf 6.1).
const SCRIPT = [
  '   containerd-shim 27101 sched:sched_process_exec: filename=/usr/bin/containerd-shim-runc-v2 pid=27101 old_pid=27101',
  '   containerd-shim 27101                cpu-clock: ',
  '             runsc 27110                cpu-clock: ', // the runtime's wrapper script, before any exec was seen
  '             runsc 27111 sched:sched_process_exec: filename=/usr/bin/runsc pid=27111 old_pid=27111',
  '             runsc 27111                cpu-clock: ',
  // runsc re-executes itself as the sandbox: its samples are gVisor's, though it was runsc before.
  '             runsc 27112 sched:sched_process_exec: filename=/usr/bin/runsc pid=27112 old_pid=27112',
  '             runsc 27112                cpu-clock: ',
  '               exe 27112 sched:sched_process_exec: filename=/proc/self/exe pid=27112 old_pid=27112',
  '               exe 27112                cpu-clock: ',
  '               exe 27112                cpu-clock: ',
  '               exe 26000                cpu-clock: ', // a sandbox started before the recording
  '           dockerd 27120 sched:sched_process_exec: filename=/proc/1373/exe pid=27120 old_pid=27120',
  '               exe 27120                cpu-clock: ', // dockerd's libnetwork-setkey hook
  '           dockerd  1373                cpu-clock: ',
  '        containerd  1390                cpu-clock: ',
  '              node 19080                cpu-clock: ',
  '          moat-run 27130                cpu-clock: ',
  '            docker 27140                cpu-clock: ',
  '           swapper     0                cpu-clock: ', // idle
  '   kworker/u8:2-fl   611                cpu-clock: ',
  '              perf 27000                cpu-clock: ',
].join('\n');

test('perf samples are counted by the program their process ran, else by its name; idle is not counted', () => {
  assert.deepEqual(parsePerfScript(SCRIPT), {
    gvisorSandboxAndGofer: 3,
    runscCommands: 3,
    containerdShims: 1,
    dockerd: 1,
    dockerdReexec: 1,
    containerd: 1,
    moat: 2,
    dockerCli: 1,
    kernelAndOther: 1,
    profiler: 1,
  });
});

test('output with no samples is an error, not an empty recording', () => {
  assert.throws(
    () => parsePerfScript('   bash 1 sched:sched_process_exec: filename=/usr/bin/bash pid=1 old_pid=1\n'),
    /no cpu-clock samples/,
  );
  assert.throws(() => parsePerfScript(''), /no cpu-clock samples/);
});

test('groups by binary before name', () => {
  assert.equal(groupOf('/var/lib/docker/runtimes/runsc', 'runsc'), 'runscCommands');
  assert.equal(groupOf('/proc/42/exe', 'exe'), 'dockerdReexec');
  assert.equal(groupOf(undefined, 'exe'), 'gvisorSandboxAndGofer');
  assert.equal(groupOf('/usr/bin/python3', 'python3'), 'kernelAndOther');
});

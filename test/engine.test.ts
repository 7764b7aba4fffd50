import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineErrorMessage, findGvisorRuntime } from '../main/sandbox/engine';

test('the gVisor runtime is any runtime whose binary is runsc, whatever its name', () => {
  assert.equal(findGvisorRuntime({ runc: { path: 'runc' }, 'io.containerd.runc.v2': {} }), undefined);
  assert.equal(findGvisorRuntime(undefined), undefined);
  assert.equal(findGvisorRuntime({ runc: { path: 'runc' }, sandboxed: { path: '/usr/local/bin/runsc' } }), 'sandboxed');
  assert.equal(findGvisorRuntime({ gv: { runtimeType: 'io.containerd.runsc.v1' } }), 'gv');
  // With several, the one literally named runsc wins, so the choice is stable.
  assert.equal(findGvisorRuntime({ 'runsc-debug': { path: '/usr/bin/runsc' }, runsc: { path: '/usr/bin/runsc' } }), 'runsc');
});

test('engine errors become one human line, never a stack', () => {
  assert.match(engineErrorMessage(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), /not running/);
  assert.match(engineErrorMessage(Object.assign(new Error('x'), { code: 'EACCES' })), /Permission denied/);
  const msg = engineErrorMessage({ statusCode: 404, json: { message: 'No such image: foo' } });
  assert.equal(msg, 'Docker engine: No such image: foo');
  assert.doesNotMatch(engineErrorMessage(new Error('line one\n    at secret (/x.js:1:1)')), /\n|at secret/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerDemuxer, OutputSink } from '../main/sandbox/output';

function frame(stream: 1 | 2, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

test('demuxer splits frames whatever the chunk boundaries', () => {
  const wire = Buffer.concat([frame(1, Buffer.from('hello ')), frame(2, Buffer.from('oops')), frame(1, Buffer.from('world'))]);
  for (let size = 1; size <= wire.length; size++) {
    const got: string[] = [];
    const d = new DockerDemuxer((s, c) => got.push(`${s}:${c.toString()}`));
    for (let i = 0; i < wire.length; i += size) d.push(wire.subarray(i, i + size));
    const joined: Record<string, string> = { stdout: '', stderr: '' };
    for (const g of got) {
      const [s, ...rest] = g.split(':');
      joined[s!] += rest.join(':');
    }
    assert.deepEqual(joined, { stdout: 'hello world', stderr: 'oops' }, `chunk size ${size}`);
  }
});

test('sink decodes UTF-8 split across chunks and keeps streams apart', () => {
  const emitted: string[] = [];
  const sink = new OutputSink({ capBytes: 1000, emit: (s, d) => emitted.push(`${s}:${d}`), onCap: () => assert.fail('no cap') });
  const euro = Buffer.from('€uro', 'utf8');
  sink.write('stdout', euro.subarray(0, 1));
  sink.write('stdout', euro.subarray(1));
  sink.write('stderr', Buffer.from('err'));
  const out = sink.close();
  assert.deepEqual(out.chunks, [
    { stream: 'stdout', data: '€uro' },
    { stream: 'stderr', data: 'err' },
  ]);
  assert.equal(out.stdoutBytes, euro.length);
  assert.equal(out.truncated, false);
  assert.deepEqual(emitted, ['stdout:€uro', 'stderr:err']);
});

test('sink keeps exactly the cap, counts everything, and reports the cap once', () => {
  let caps = 0;
  const sink = new OutputSink({ capBytes: 10, emit: () => {}, onCap: () => caps++ });
  sink.write('stdout', Buffer.from('0123456'));
  sink.write('stderr', Buffer.from('789abc'));
  sink.write('stdout', Buffer.from('more and more'));
  const out = sink.close();
  assert.equal(out.chunks.map((c) => c.data).join(''), '0123456789');
  assert.equal(out.truncated, true);
  assert.equal(out.stdoutBytes, 20);
  assert.equal(out.stderrBytes, 6);
  assert.equal(caps, 1);
});

test('sink keeps the exact bytes (base64) of chunks that are not valid UTF-8, and only of those', () => {
  const sink = new OutputSink({ capBytes: 1000, emit: () => {}, onCap: () => {} });
  sink.write('stdout', Buffer.from('text é\n'));
  sink.write('stderr', Buffer.from([0xff, 0xfe, 0x41]));
  sink.write('stdout', Buffer.from([0xe2, 0x82]));
  sink.write('stdout', Buffer.from([0xac, 0x0a]));
  const out = sink.close();
  assert.deepEqual(out.chunks, [
    { stream: 'stdout', data: 'text é\n' },
    { stream: 'stderr', data: '\ufffd\ufffdA', base64: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') },
    { stream: 'stdout', data: '€\n' },
  ]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RuleSetContent } from '../main/firewall/model';
import { intervalsOf, intervalsToCidrs, subtractIntervals } from '../main/firewall/net';
import { checkLimits, parseAllow, protocolPortsProblem, validateCidr, validatePorts } from '../main/firewall/validate';
import { port, rule } from './helpers/memory-firewall';

function cidrOk(text: string): string {
  const r = validateCidr(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
  return r.value.cidr;
}

function cidrError(text: string): string {
  const r = validateCidr(text);
  assert.ok(!r.ok, `${text} should be refused`);
  return r.error;
}

test('CIDRs: a bare address is one host, IPv4 and IPv6 forms are normalized', () => {
  assert.equal(cidrOk('1.2.3.4'), '1.2.3.4/32');
  assert.equal(cidrOk(' 10.0.0.0/8 '), '10.0.0.0/8');
  assert.equal(cidrOk('0.0.0.0/0'), '0.0.0.0/0');
  assert.equal(cidrOk('2001:db8::1'), '2001:db8::1/128');
  assert.equal(cidrOk('2001:DB8:0:0:0:0:0:1'), '2001:db8::1/128');
  assert.equal(cidrOk('2001:db8::/32'), '2001:db8::/32');
  assert.equal(cidrOk('::/0'), '::/0');
  assert.equal(cidrOk('::ffff:192.0.2.1'), '::ffff:c000:201/128');
  assert.equal(cidrOk('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1/128', 'the longest zero run is the one compressed');
});

test('CIDRs: host bits set are refused, naming the network that was probably meant', () => {
  const e = cidrError('10.0.0.5/24');
  assert.match(e, /host bits/);
  assert.match(e, /did you mean 10\.0\.0\.0\/24\?/);
  assert.match(cidrError('2001:db8::1/64'), /did you mean 2001:db8::\/64\?/);
  // Positive control: the same network without host bits is fine.
  assert.equal(cidrOk('10.0.0.0/24'), '10.0.0.0/24');
});

test('CIDRs: garbage, bad prefixes and zones are refused with a sentence', () => {
  for (const bad of ['', 'example.com', '1.2.3', '256.1.1.1', '1.2.3.4/', '1.2.3.4/-1', '1.2.3.4/08', 'gggg::1', '1.2.3.4/24/1', 'me']) {
    const e = cidrError(bad);
    assert.match(e, /\.$|\)$/, `"${bad}": ${e}`);
  }
  assert.match(cidrError('1.2.3.4/33'), /prefix length.*0 to 32/);
  assert.match(cidrError('2001:db8::/129'), /prefix length.*0 to 128/);
  assert.match(cidrError('fe80::1%eth0'), /zone/);
});

test('ports: single ports and ranges in 1..65535, lower first', () => {
  assert.deepEqual(validatePorts('22'), { ok: true, value: { from: 22, to: 22 } });
  assert.deepEqual(validatePorts('8000-8100'), { ok: true, value: { from: 8000, to: 8100 } });
  assert.deepEqual(validatePorts('1-65535'), { ok: true, value: { from: 1, to: 65535 } });
  const bad: [string, RegExp][] = [
    ['0', /Port 0/],
    ['65536', /out of range/],
    ['80-22', /backwards.*22-80/],
    ['080', /not a port number/],
    ['22.5', /not a port number/],
    ['-1', /not a port number/],
    ['abc', /not a port number/],
    ['1-70000', /out of range/],
  ];
  for (const [text, re] of bad) {
    const r = validatePorts(text);
    assert.ok(!r.ok, text);
    assert.match(r.error, re, text);
  }
});

test('protocol and ports: ICMP takes none; TCP ports must be in range', () => {
  assert.match(protocolPortsProblem('icmp', port(22))!, /ICMP.*no ports/);
  assert.equal(protocolPortsProblem('icmp', null), null);
  assert.equal(protocolPortsProblem('tcp', port(22)), null);
  assert.match(protocolPortsProblem('tcp', port(0))!, /out of range/);
  assert.match(protocolPortsProblem('udp', [{ from: 90, to: 80 }])!, /backwards/);
});

const ME = { ipv4: '203.0.113.7', ipv6: '2001:db8::7' };

test('--allow/--from: presets, ports, ranges, udp, icmp, per-item sources, me', () => {
  const r = parseAllow('ssh,8000,udp:60000-61000,8000@10.0.0.0/8,icmp,jupyter@me', 'me,198.51.100.0/24', ME);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  assert.deepEqual(
    r.value.map((a) => [a.protocol, a.ports, a.ipv4, a.ipv6, a.label]),
    [
      ['tcp', port(22), ['203.0.113.7/32', '198.51.100.0/24'], ['2001:db8::7/128'], 'moat-ssh'],
      // 8000 from --from, and 8000@10.0.0.0/8 merge into one allow.
      ['tcp', port(8000), ['203.0.113.7/32', '198.51.100.0/24', '10.0.0.0/8'], ['2001:db8::7/128'], 'moat-tcp-8000'],
      ['udp', port(60000, 61000), ['203.0.113.7/32', '198.51.100.0/24'], ['2001:db8::7/128'], 'moat-udp-60000-61000'],
      ['icmp', null, ['203.0.113.7/32', '198.51.100.0/24'], ['2001:db8::7/128'], 'moat-icmp'],
      ['tcp', port(8888), ['203.0.113.7/32'], ['2001:db8::7/128'], 'moat-jupyter'],
    ],
  );
});

test('--allow: an IPv6 source after @ (colons and all)', () => {
  const r = parseAllow('22@2001:db8::/32,udp:53@2001:db8::53', undefined, ME);
  assert.ok(r.ok);
  assert.deepEqual(
    r.value.map((a) => [a.protocol, a.ports, a.ipv4, a.ipv6]),
    [
      ['tcp', port(22), [], ['2001:db8::/32']],
      ['udp', port(53), [], ['2001:db8::53/128']],
    ],
  );
});

test('--allow without --from means from me; me with only IPv4 gives only IPv4', () => {
  const r = parseAllow('api', undefined, { ipv4: '203.0.113.7' });
  assert.ok(r.ok);
  assert.deepEqual(r.value, [{ protocol: 'tcp', ports: port(8000), ipv4: ['203.0.113.7/32'], ipv6: [], label: 'moat-api' }]);
});

test('--allow/--from: every error is reported, each a sentence', () => {
  const r = parseAllow('ssh,telnet,0,80-22,icmp:5,8000@10.0.0.5/8,,', 'me,1.2.3.4/40', {});
  assert.ok(!r.ok);
  const all = r.errors.join('\n');
  assert.match(all, /could not find your public address/);
  assert.match(all, /"telnet" is not a preset or a port/);
  assert.match(all, /Port 0/);
  assert.match(all, /backwards/);
  assert.match(all, /ICMP.*no ports/);
  assert.match(all, /host bits set; did you mean 10\.0\.0\.0\/8\?/);
  assert.match(all, /empty/);
  for (const e of r.errors) assert.match(e, /[.)?]$/, e);
  assert.ok(!parseAllow('', 'me', ME).ok);
  assert.ok(!parseAllow('ssh', '', ME).ok);
});

const content = (rules: RuleSetContent['rules']): RuleSetContent => ({ inboundPolicy: 'deny', outboundPolicy: 'allow', rules });

test('limits, Lambda: counted after splitting per port range per source; IPv4 and allow only', () => {
  const sources = Array.from({ length: 10 }, (_, i) => `198.51.100.${i}/32`);
  // 2 port ranges x 10 sources = 20 rules: exactly the limit.
  assert.deepEqual(checkLimits('lambda', content([rule({ ports: [...port(22), ...port(8000)], ipv4: sources })])), []);
  const over = checkLimits(
    'lambda',
    content([rule({ ports: [...port(22), ...port(8000)], ipv4: sources }), rule({ ports: port(1), ipv4: sources.slice(0, 1) })]),
  );
  assert.equal(over.length, 1);
  assert.match(over[0]!.message, /at most 20 rules.*needs 21/);
  assert.match(checkLimits('lambda', content([rule({ ports: port(22), ipv4: ['1.2.3.4/32'], ipv6: ['::/0'] })]))[0]!.message, /IPv4 only/);
  assert.match(checkLimits('lambda', content([rule({ action: 'deny', ports: port(22), ipv4: ['1.2.3.4/32'] })]))[0]!.message, /only allow/);
  assert.ok(checkLimits('lambda', { ...content([]), inboundPolicy: 'allow' }).some((p) => /policies/.test(p.message)));
  assert.ok(
    checkLimits('lambda', content([rule({ protocol: 'icmp', ports: port(1), ipv4: ['1.2.3.4/32'] })])).some((p) => /ICMP/.test(p.message)),
  );
});

test('limits, Linode: 25 rules, 255 addresses and 15 port pieces per rule', () => {
  const ok = rule({ ports: port(22), ipv4: ['1.2.3.4/32'], label: 'moat-ssh' });
  assert.deepEqual(checkLimits('linode', content(Array(25).fill(ok))), []);
  assert.match(checkLimits('linode', content(Array(26).fill(ok)))[0]!.message, /at most 25 rules/);
  const many = Array.from({ length: 256 }, (_, i) => `10.0.${i >> 8}.${i & 255}/32`);
  assert.match(checkLimits('linode', content([rule({ ports: port(22), ipv4: many })]))[0]!.message, /255 addresses.*256/);
  assert.deepEqual(
    checkLimits(
      'linode',
      content([rule({ ports: port(22), ipv4: many.slice(0, 200), ipv6: many.slice(0, 55).map((_, i) => `2001:db8::${i + 1}/128`) })]),
    ),
    [],
  );
  const pieces = Array.from({ length: 8 }, (_, i) => ({ from: 1000 + i * 10, to: 1001 + i * 10 }));
  assert.match(checkLimits('linode', content([rule({ ports: pieces, ipv4: ['1.2.3.4/32'] })]))[0]!.message, /15 port pieces.*16/);
  assert.match(checkLimits('linode', content([rule({ ports: port(22) })]))[0]!.message, /at least one address/);
});

test('net: exact difference written back as the fewest CIDRs', () => {
  const rest = subtractIntervals(intervalsOf(['0.0.0.0/0']), intervalsOf(['10.0.0.0/8']));
  assert.deepEqual(intervalsToCidrs(4, rest), [
    '0.0.0.0/5',
    '8.0.0.0/7',
    '11.0.0.0/8',
    '12.0.0.0/6',
    '16.0.0.0/4',
    '32.0.0.0/3',
    '64.0.0.0/2',
    '128.0.0.0/1',
  ]);
  assert.deepEqual(intervalsToCidrs(4, intervalsOf(['10.0.0.0/25', '10.0.0.128/25'])), ['10.0.0.0/24']);
  assert.deepEqual(intervalsToCidrs(6, intervalsOf(['::/1', '8000::/1'])), ['::/0']);
});

test('limits, Linode: a rule for every protocol counts as the rules Linode writes for it', () => {
  const every = rule({ protocol: 'all', ipv4: ['1.2.3.4/32'] });
  const withPorts = rule({ protocol: 'all', ports: port(22), ipv4: ['1.2.3.4/32'] });
  const one = rule({ ports: port(22), ipv4: ['1.2.3.4/32'] });
  // 4 + 2 + 19 = 25: exactly the limit.
  assert.deepEqual(checkLimits('linode', content([every, withPorts, ...Array(19).fill(one)])), []);
  assert.match(
    checkLimits('linode', content([every, withPorts, ...Array(20).fill(one)]))[0]!.message,
    /at most 25 rules, and this needs 26/,
  );
  assert.match(
    checkLimits('linode', content([rule({ protocol: 'all', nativeProtocol: 'IPENCAP', ports: port(1), ipv4: ['1.2.3.4/32'] })]))[0]!
      .message,
    /IPENCAP has no ports/,
  );
});

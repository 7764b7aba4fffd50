// The firewall mapping, without a network: round trips both ways for Lambda and Linode over a
// table of rule sets (the providers' defaults, IPv6, port lists and ranges, ICMP, deny rules),
// every limit each provider enforces (each with an accepted neighbour beside it, so a check that
// refused everything would fail), and CIDR and port normalization.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, isWorld, normalizeCidr, normalizePorts, normalizeRule, parseCidr } from '../main/firewall/cidr';
import { checkLambdaRules, lambdaRulesToModel, lambdaVersion, modelToLambdaRules, splitForLambda } from '../main/firewall/lambda';
import { checkLinodeRules, formatPorts, linodeRulesToModel, modelToLinodeRules, parsePorts, splitForLinode } from '../main/firewall/linode';
import { FirewallLimitError, type Rule, type RuleSetContent } from '../main/firewall/model';
import type { LambdaRuleBody } from '../main/providers/lambda/client';
import { firewallRules as linodeRulesSchema } from '../main/providers/linode/schemas';

const rule = (r: Partial<Rule>): Rule => ({
  direction: 'inbound',
  action: 'allow',
  protocol: 'tcp',
  ports: null,
  ipv4: [],
  ipv6: [],
  label: '',
  ...r,
});
const lambdaSet = (rules: Rule[]): RuleSetContent => ({ inboundPolicy: 'deny', outboundPolicy: 'allow', rules });
const p = (from: number, to = from) => ({ from, to });

// --- Lambda -------------------------------------------------------------------------------------

const LAMBDA_DEFAULTS: LambdaRuleBody[] = [
  { protocol: 'tcp', port_range: [22, 22], source_network: '0.0.0.0/0', description: 'Allow SSH from anywhere' },
  { protocol: 'icmp', source_network: '0.0.0.0/0', description: 'Allow ICMP from anywhere' },
];

const LAMBDA_TABLE: [string, Rule[]][] = [
  ['Lambda defaults', lambdaRulesToModel(LAMBDA_DEFAULTS)],
  ['SSH from one host', [rule({ ports: [p(22)], ipv4: ['203.0.113.7/32'], label: 'ssh from me' })]],
  [
    'a port list and a range from two networks',
    [rule({ ports: [p(80), p(443), p(8000, 8100)], ipv4: ['198.51.100.0/24', '203.0.113.0/24'], label: 'web' })],
  ],
  [
    'UDP every port, ICMP, all',
    [
      rule({ protocol: 'udp', ipv4: ['10.0.0.0/8'] }),
      rule({ protocol: 'icmp', ipv4: ['0.0.0.0/0'] }),
      rule({ protocol: 'all', ipv4: ['192.0.2.0/24'] }),
    ],
  ],
  ['all on a range', [rule({ protocol: 'all', ports: [p(1000, 2000)], ipv4: ['192.0.2.1/32'] })]],
  ['nothing allowed', []],
];

test('Lambda: model → Lambda → model gives the rules split one per port range × source, nothing else changed', () => {
  for (const [name, rules] of LAMBDA_TABLE) {
    const written = modelToLambdaRules(lambdaSet(rules));
    const read = lambdaRulesToModel(written);
    assert.deepEqual(read, rules.flatMap(splitForLambda), name);
    assert.ok(read.length >= rules.length, name);
  }
  // The splitting is real: 3 port ranges × 2 sources are 6 Lambda rules.
  assert.equal(modelToLambdaRules(lambdaSet(LAMBDA_TABLE[2]![1])).length, 6);
});

test('Lambda: Lambda → model → Lambda is exact, and every-port rules come back as [1, 65535]', () => {
  const lists: LambdaRuleBody[][] = [
    LAMBDA_DEFAULTS,
    [
      { protocol: 'udp', port_range: [1, 65535], source_network: '10.0.0.0/8', description: '' },
      { protocol: 'all', port_range: [1, 65535], source_network: '192.0.2.0/24', description: 'all' },
      { protocol: 'tcp', port_range: [8000, 8100], source_network: '203.0.113.7/32', description: 'x'.repeat(128) },
    ],
  ];
  for (const list of lists) assert.deepEqual(modelToLambdaRules(lambdaSet(lambdaRulesToModel(list))), list);
});

test('Lambda: what is read is normalized (bare IP → /32, host bits cleared), and an unknown protocol is kept, not dropped', () => {
  const read = lambdaRulesToModel([
    { protocol: 'tcp', port_range: [22, 22], source_network: '1.2.3.4', description: '' },
    { protocol: 'tcp', port_range: [22, 22], source_network: '1.2.3.4/24', description: '' },
    { protocol: 'sctp', port_range: [9, 9], source_network: '0.0.0.0/0', description: '' },
  ]);
  assert.deepEqual(
    read.map((r) => r.ipv4[0]),
    ['1.2.3.4/32', '1.2.3.0/24', '0.0.0.0/0'],
  );
  assert.equal(read[2]!.protocol, 'all');
  assert.equal(read[2]!.nativeProtocol, 'sctp');
  assert.equal(modelToLambdaRules(lambdaSet(read))[2]!.protocol, 'sctp');
});

test('Lambda version: stable across order, changes with content', () => {
  const a = lambdaRulesToModel(LAMBDA_DEFAULTS);
  assert.equal(lambdaVersion(a), lambdaVersion([...a].reverse()));
  assert.notEqual(lambdaVersion(a), lambdaVersion(a.slice(0, 1)));
  assert.notEqual(lambdaVersion(a), lambdaVersion([{ ...a[0]!, ports: [p(23)] }, a[1]!]));
});

/** The problems for one rule set; asserts the error is FirewallLimitError for lambda when any. */
function lambdaProblems(rules: Rule[], policies: Partial<RuleSetContent> = {}): string[] {
  const content = { ...lambdaSet(rules), ...policies };
  const problems = checkLambdaRules(content);
  if (problems.length > 0)
    assert.throws(
      () => modelToLambdaRules(content),
      (e: unknown) => e instanceof FirewallLimitError && e.provider === 'lambda',
    );
  return problems.map((x) => `${x.rule}: ${x.message}`);
}

test('Lambda limits: each refusal names the rule, and its neighbour within the limit passes', () => {
  const ssh = (n: number) => rule({ ports: [p(n)], ipv4: ['0.0.0.0/0'] });
  assert.deepEqual(lambdaProblems(Array.from({ length: 20 }, (_, i) => ssh(1000 + i))), []);
  assert.match(lambdaProblems(Array.from({ length: 21 }, (_, i) => ssh(1000 + i)))[0]!, /^null: .*21 Lambda rules.*20/);
  // 21 by splitting: 3 ports × 7 sources.
  const wide = rule({ ports: [p(1), p(3), p(5)], ipv4: Array.from({ length: 7 }, (_, i) => `10.0.0.${i}/32`) });
  assert.match(lambdaProblems([wide])[0]!, /21 Lambda rules/);
  const cases: [string, Rule, RegExp][] = [
    ['IPv6', rule({ ports: [p(22)], ipv6: ['2001:db8::/32'] }), /IPv4 only/],
    ['IPv6 beside IPv4', rule({ ports: [p(22)], ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] }), /IPv4 only/],
    ['deny', rule({ action: 'deny', ports: [p(22)], ipv4: ['0.0.0.0/0'] }), /only allow/],
    ['outbound', rule({ direction: 'outbound', ports: [p(22)], ipv4: ['0.0.0.0/0'] }), /inbound only/],
    ['port on ICMP', rule({ protocol: 'icmp', ports: [p(8)], ipv4: ['0.0.0.0/0'] }), /ICMP has no ports/],
    ['bad port', rule({ ports: [p(0, 22)], ipv4: ['0.0.0.0/0'] }), /1-65535/],
    ['reversed range', rule({ ports: [p(90, 80)], ipv4: ['0.0.0.0/0'] }), /low to high/],
    ['bad CIDR', rule({ ports: [p(22)], ipv4: ['300.1.1.1/32'] }), /not an IPv4/],
    ['no source', rule({ ports: [p(22)] }), /at least one IPv4/],
    ['description too long', rule({ ports: [p(22)], ipv4: ['0.0.0.0/0'], label: 'd'.repeat(129) }), /129 characters.*128/],
    ['Linode protocol', rule({ protocol: 'all', nativeProtocol: 'IPENCAP', ipv4: ['0.0.0.0/0'] }), /no protocol IPENCAP/],
  ];
  for (const [name, r, re] of cases) {
    const got = lambdaProblems([ssh(80), r]);
    assert.ok(
      got.some((m) => m.startsWith('1: ') && re.test(m)),
      `${name}: ${JSON.stringify(got)}`,
    );
    assert.ok(!got.some((m) => m.startsWith('0: ')), `${name}: the good rule beside it is not blamed`);
  }
  assert.deepEqual(lambdaProblems([rule({ ports: [p(22)], ipv4: ['0.0.0.0/0'], label: 'd'.repeat(128) })]), []);
  assert.match(lambdaProblems([], { inboundPolicy: 'allow' })[0]!, /^null: .*inbound policy/);
  assert.match(lambdaProblems([], { outboundPolicy: 'deny' })[0]!, /^null: .*outbound/);
});

// --- Linode -------------------------------------------------------------------------------------

const linodeSet = (rules: Rule[], inbound: 'allow' | 'deny' = 'deny', outbound: 'allow' | 'deny' = 'allow'): RuleSetContent => ({
  inboundPolicy: inbound,
  outboundPolicy: outbound,
  rules,
});

/** What Linode would answer after being sent `body`: the same rules, with a version. */
function echo(body: ReturnType<typeof modelToLinodeRules>) {
  return linodeRulesSchema.parse({ ...structuredClone(body), version: 2, fingerprint: 'cddbc8f5' });
}

const LINODE_TABLE: [string, RuleSetContent][] = [
  [
    'Linode "public" template: SSH and ICMP from anywhere, v4 and v6',
    linodeSet([
      rule({ ports: [p(22)], ipv4: ['0.0.0.0/0'], ipv6: ['::/0'], label: 'accept-inbound-ssh' }),
      rule({ protocol: 'icmp', ipv4: ['0.0.0.0/0'], ipv6: ['::/0'], label: 'accept-inbound-icmp' }),
    ]),
  ],
  [
    'ports, ranges, IPv6 only, deny rules first, outbound rules',
    linodeSet(
      [
        rule({ action: 'deny', ports: [p(22)], ipv4: ['198.51.100.0/24'] }),
        rule({ ports: [p(80), p(443), p(8000, 8100)], ipv6: ['2001:db8::/32', '2001:db8:1::1/128'], label: 'web' }),
        rule({ protocol: 'udp', ports: [p(51820)], ipv4: ['0.0.0.0/0'] }),
        rule({
          direction: 'outbound',
          action: 'deny',
          protocol: 'tcp',
          ports: [p(25)],
          ipv4: ['0.0.0.0/0'],
          ipv6: ['::/0'],
          label: 'no-smtp',
        }),
      ],
      'deny',
      'allow',
    ),
  ],
  ['open policies, no rules', linodeSet([], 'allow', 'allow')],
  ['all protocols from one network', linodeSet([rule({ protocol: 'all', ipv4: ['10.0.0.0/8'], label: 'lan' })])],
  ['all on ports', linodeSet([rule({ protocol: 'all', ports: [p(53)], ipv4: ['10.0.0.0/8'] })])],
  ['IPENCAP as read', linodeSet([rule({ protocol: 'all', nativeProtocol: 'IPENCAP', ipv4: ['192.0.2.0/24'] })])],
];

test('Linode: model → Linode → model gives the rules (with "all" split per protocol), inbound first, policies kept', () => {
  for (const [name, content] of LINODE_TABLE) {
    const read = linodeRulesToModel(echo(modelToLinodeRules(content)));
    const expected = content.rules.flatMap(splitForLinode).map(normalizeRule);
    const byDirection = [...expected.filter((r) => r.direction === 'inbound'), ...expected.filter((r) => r.direction === 'outbound')];
    assert.deepEqual(read.rules, byDirection, name);
    assert.equal(read.inboundPolicy, content.inboundPolicy, name);
    assert.equal(read.outboundPolicy, content.outboundPolicy, name);
    assert.equal(read.version, '2:cddbc8f5');
  }
  // "all" is really four rules on Linode, and two when it names ports.
  assert.deepEqual(
    modelToLinodeRules(LINODE_TABLE[3]![1]).inbound.map((r) => r.protocol),
    ['TCP', 'UDP', 'ICMP', 'IPENCAP'],
  );
  assert.deepEqual(
    modelToLinodeRules(LINODE_TABLE[4]![1]).inbound.map((r) => [r.protocol, r.ports]),
    [
      ['TCP', '53'],
      ['UDP', '53'],
    ],
  );
});

test('Linode: Linode → model → Linode is exact for the recorded firewalls (IPENCAP and omitted ports included)', () => {
  const recorded = {
    inbound: [
      {
        action: 'ACCEPT',
        protocol: 'TCP',
        ports: '22,443',
        addresses: { ipv4: ['172.234.160.4/30'], ipv6: ['2001:db8::1/128'] },
        label: 'accept-inbound-tcp',
      },
      { action: 'DROP', protocol: 'ICMP', addresses: { ipv4: ['0.0.0.0/0'] }, label: 'linodego-fwrule-test' },
      { action: 'ACCEPT', protocol: 'IPENCAP', addresses: { ipv4: ['192.0.2.0/24'] } },
      { action: 'ACCEPT', protocol: 'UDP', ports: '1-1000,2000', addresses: { ipv6: ['::/0'] } },
    ],
    inbound_policy: 'DROP' as const,
    outbound: [{ action: 'DROP', protocol: 'TCP', ports: '25', addresses: { ipv4: ['0.0.0.0/0'] } }],
    outbound_policy: 'ACCEPT' as const,
  };
  const read = linodeRulesToModel(linodeRulesSchema.parse({ ...recorded, version: 1, fingerprint: '1f57ba72' }));
  assert.equal(read.rules[2]!.protocol, 'all');
  assert.equal(read.rules[2]!.nativeProtocol, 'IPENCAP');
  assert.deepEqual(modelToLinodeRules(read), recorded);
  // `outbound: null`, as recorded, reads as no rules.
  const nul = linodeRulesSchema.parse({
    inbound: [],
    inbound_policy: 'ACCEPT',
    outbound: null,
    outbound_policy: 'ACCEPT',
    version: 2,
    fingerprint: 'x',
  });
  assert.deepEqual(linodeRulesToModel(nul).rules, []);
});

function linodeProblems(rules: Rule[]): string[] {
  const content = linodeSet(rules);
  const problems = checkLinodeRules(content);
  if (problems.length > 0)
    assert.throws(
      () => modelToLinodeRules(content),
      (e: unknown) => e instanceof FirewallLimitError && e.provider === 'linode',
    );
  return problems.map((x) => `${x.rule}: ${x.message}`);
}

test('Linode limits: each refusal names the rule, and its neighbour within the limit passes', () => {
  const r = (n: number) => rule({ ports: [p(n)], ipv4: ['0.0.0.0/0'] });
  assert.deepEqual(linodeProblems(Array.from({ length: 25 }, (_, i) => r(1000 + i))), []);
  assert.match(linodeProblems(Array.from({ length: 26 }, (_, i) => r(1000 + i)))[0]!, /^null: .*26 Linode rules.*25/);
  // 26 by splitting: 22 rules and one 'all' (4).
  assert.match(
    linodeProblems([...Array.from({ length: 22 }, (_, i) => r(1000 + i)), rule({ protocol: 'all', ipv4: ['0.0.0.0/0'] })])[0]!,
    /26 Linode rules/,
  );
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32`);
  assert.deepEqual(linodeProblems([rule({ ports: [p(22)], ipv4: hosts(255) })]), []);
  const cases: [string, Rule, RegExp][] = [
    [
      '256 addresses',
      rule({ ports: [p(22)], ipv4: hosts(200), ipv6: Array.from({ length: 56 }, (_, i) => `2001:db8::${i + 1}/128`) }),
      /256 addresses.*255/,
    ],
    ['no addresses', rule({ ports: [p(22)] }), /at least one address/],
    ['port on ICMP', rule({ protocol: 'icmp', ports: [p(8)], ipv4: ['0.0.0.0/0'] }), /ICMP takes no ports/],
    ['port on IPENCAP', rule({ protocol: 'all', nativeProtocol: 'IPENCAP', ports: [p(8)], ipv4: ['0.0.0.0/0'] }), /IPENCAP takes no ports/],
    ['bad port', rule({ ports: [p(70000)], ipv4: ['0.0.0.0/0'] }), /1-65535/],
    ['empty port list', rule({ ports: [], ipv4: ['0.0.0.0/0'] }), /no ports/],
    ['16 pieces', rule({ ports: Array.from({ length: 16 }, (_, i) => p(100 + 2 * i)), ipv4: ['0.0.0.0/0'] }), /16 pieces.*15/],
    ['IPv6 in the IPv4 list', rule({ ports: [p(22)], ipv4: ['2001:db8::/32'] }), /not an IPv4/],
    ['bad IPv6', rule({ ports: [p(22)], ipv6: ['2001:db8::g/64'] }), /not an IPv6/],
    ['label too short', rule({ ports: [p(22)], ipv4: ['0.0.0.0/0'], label: 'ab' }), /3 to 32/],
    ['label too long', rule({ ports: [p(22)], ipv4: ['0.0.0.0/0'], label: 'l'.repeat(33) }), /3 to 32/],
    ['Lambda protocol', rule({ protocol: 'all', nativeProtocol: 'sctp', ipv4: ['0.0.0.0/0'] }), /no protocol sctp/],
  ];
  for (const [name, bad, re] of cases) {
    const got = linodeProblems([r(80), bad]);
    assert.ok(
      got.some((m) => m.startsWith('1: ') && re.test(m)),
      `${name}: ${JSON.stringify(got)}`,
    );
    assert.ok(!got.some((m) => m.startsWith('0: ')), `${name}: the good rule beside it is not blamed`);
  }
  // 15 pieces pass; a label of 32 passes.
  assert.deepEqual(
    linodeProblems([rule({ ports: Array.from({ length: 15 }, (_, i) => p(100 + 2 * i)), ipv4: ['0.0.0.0/0'], label: 'l'.repeat(32) })]),
    [],
  );
});

test('Linode ports: parse and format', () => {
  assert.deepEqual(parsePorts('22'), [p(22)]);
  assert.deepEqual(parsePorts('22-24, 80, 443'), [p(22, 24), p(80), p(443)]);
  assert.equal(parsePorts('0'), null);
  assert.equal(parsePorts('80-'), null);
  assert.equal(parsePorts('65536'), null);
  assert.equal(formatPorts([p(22), p(80, 90)]), '22,80-90');
  // Every port is null, both ways.
  assert.equal(
    linodeRulesToModel(
      echo({
        ...modelToLinodeRules(linodeSet([])),
        inbound: [{ action: 'ACCEPT', protocol: 'TCP', ports: '1-65535', addresses: { ipv4: ['0.0.0.0/0'] } }],
      }),
    ).rules[0]!.ports,
    null,
  );
});

// --- CIDRs and ports ----------------------------------------------------------------------------

test('CIDR normalization: host bits zero, prefixes written, IPv6 compressed and lowercase', () => {
  const cases: [string, string | null][] = [
    ['1.2.3.4', '1.2.3.4/32'],
    ['1.2.3.4/24', '1.2.3.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329/128'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['::/0', '::/0'],
    ['::1', '::1/128'],
    ['1.2.3', null],
    ['1.2.3.4/33', null],
    ['256.0.0.0/8', null],
    ['2001:db8::/129', null],
    ['fe80::1%eth0', null],
    ['', null],
  ];
  for (const [input, want] of cases) assert.equal(normalizeCidr(input), want, input);
  assert.ok(cidrContains('10.0.0.0/8', '10.200.3.4'));
  assert.ok(!cidrContains('10.0.0.0/8', '11.0.0.0/32'));
  assert.ok(!cidrContains('10.0.0.0/24', '10.0.0.0/16'));
  assert.ok(!cidrContains('0.0.0.0/0', '::1'));
  assert.ok(cidrContains('2001:db8::/32', '2001:db8:ffff::1'));
  assert.ok(isWorld('0.0.0.0/0') && isWorld('::/0'));
  assert.ok(!isWorld('0.0.0.0/1') && !isWorld('nope'));
  assert.deepEqual(parseCidr('192.0.2.9/31'), { family: 4, network: 0xc0000208n, prefix: 31 });
});

test('port normalization: sorted, overlapping and adjacent ranges merged, every port is null', () => {
  assert.deepEqual(normalizePorts([p(443), p(22), p(23, 30), p(25, 26)]), [p(22, 30), p(443)]);
  assert.deepEqual(normalizePorts([p(80), p(80)]), [p(80)]);
  assert.equal(normalizePorts([p(1, 100), p(101, 65535)]), null);
  assert.equal(normalizePorts(null), null);
  const r = normalizeRule(rule({ ports: [p(443), p(80)], ipv4: ['10.0.0.5/8', '1.2.3.4', '10.0.0.0/8'], ipv6: ['2001:DB8::1'] }));
  assert.deepEqual(r.ports, [p(80), p(443)]);
  assert.deepEqual(r.ipv4, ['1.2.3.4/32', '10.0.0.0/8']);
  assert.deepEqual(r.ipv6, ['2001:db8::1/128']);
});

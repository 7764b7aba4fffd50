import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import { computeExposure, everything, unreachableFrom } from '../main/firewall/exposure';
import type { RuleSet } from '../main/firewall/model';
import { computePosture, SEVERITIES, type FindingId, type PostureInput, type PostureLevel } from '../main/firewall/posture';
import { LAMBDA_DEFAULT_RULES, lambdaGlobal, lambdaRuleset, linodeFirewall, port, rule } from './helpers/memory-firewall';

const LAMBDA = { id: 'i1', provider: 'lambda' as const, region: 'us-east-1' };
const LINODE = { id: 'L1', provider: 'linode' as const, region: 'us-east' };
const ME = '203.0.113.7/32';

interface Case {
  name: string;
  input: PostureInput;
  level: PostureLevel;
  /** Exactly these finding ids, in this order (sorted by severity). */
  findings: FindingId[];
}

const cases: Case[] = [
  {
    name: "Lambda's defaults: TCP 22 and ICMP from anywhere",
    input: { instance: LAMBDA, ruleSets: [lambdaGlobal()] },
    level: 'exposed',
    findings: ['ssh-world', 'icmp-world', 'outbound-open'],
  },
  {
    name: 'Lambda global rules with SSH from one address only',
    input: { instance: LAMBDA, ruleSets: [lambdaGlobal([rule({ ports: port(22), ipv4: [ME] })])] },
    level: 'locked',
    findings: ['outbound-open'],
  },
  {
    name: 'Lambda: a narrow global rule but an attached ruleset opens 8000 to the world (union)',
    input: {
      instance: LAMBDA,
      ruleSets: [
        lambdaGlobal([rule({ ports: port(22), ipv4: [ME] })]),
        lambdaRuleset('rs1', [rule({ ports: port(8000), ipv4: ['0.0.0.0/0'] })], ['i1']),
      ],
    },
    level: 'exposed',
    findings: ['service-world', 'outbound-open'],
  },
  {
    name: 'Lambda: a ruleset attached to another instance does not count',
    input: {
      instance: LAMBDA,
      ruleSets: [
        lambdaGlobal([rule({ ports: port(22), ipv4: [ME] })]),
        lambdaRuleset('rs1', [rule({ ports: port(8000), ipv4: ['0.0.0.0/0'] })], ['other']),
      ],
    },
    level: 'locked',
    findings: ['outbound-open'],
  },
  {
    name: 'Lambda in us-south-1: rules are not enforced',
    input: { instance: { ...LAMBDA, region: 'us-south-1' }, ruleSets: [lambdaGlobal([rule({ ports: port(22), ipv4: [ME] })])] },
    level: 'unknown',
    findings: ['region-unenforced', 'outbound-open'],
  },
  {
    name: 'Lambda: protocol all from anywhere',
    input: { instance: LAMBDA, ruleSets: [lambdaGlobal([rule({ protocol: 'all', ipv4: ['0.0.0.0/0'] })])] },
    level: 'exposed',
    findings: ['all-ports-world', 'all-ports-world', 'icmp-world', 'outbound-open'],
  },
  {
    name: 'Linode with no firewall',
    input: { instance: LINODE, ruleSets: [linodeFirewall('9', { appliesTo: ['other'] })] },
    level: 'exposed',
    findings: ['no-firewall', 'outbound-open'],
  },
  {
    name: 'Linode with a disabled firewall',
    input: { instance: LINODE, ruleSets: [linodeFirewall('7', { enabled: false, rules: [rule({ ports: port(22), ipv4: [ME] })] })] },
    level: 'exposed',
    findings: ['firewall-disabled', 'outbound-open'],
  },
  {
    name: 'Linode firewall DROP with 22 from a /32',
    input: { instance: LINODE, ruleSets: [linodeFirewall('7', { rules: [rule({ ports: port(22), ipv4: [ME] })] })] },
    level: 'locked',
    findings: ['outbound-open'],
  },
  {
    name: 'Linode firewall DROP with outbound DROP too: outbound restricted',
    input: {
      instance: LINODE,
      ruleSets: [linodeFirewall('7', { outboundPolicy: 'deny', rules: [rule({ ports: port(22), ipv4: [ME] })] })],
    },
    level: 'locked',
    findings: [],
  },
  {
    name: 'Linode firewall with an ACCEPT inbound policy',
    input: {
      instance: LINODE,
      ruleSets: [linodeFirewall('7', { inboundPolicy: 'allow', rules: [rule({ ports: port(22), ipv4: [ME] })] })],
    },
    level: 'exposed',
    findings: ['all-ports-world', 'all-ports-world', 'icmp-world', 'outbound-open'],
  },
  {
    name: 'Linode: a deny for the world before an accept for the world shadows it',
    input: {
      instance: LINODE,
      ruleSets: [
        linodeFirewall('7', {
          rules: [
            rule({ action: 'deny', ports: port(8000), ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] }),
            rule({ ports: port(8000), ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] }),
          ],
        }),
      ],
    },
    level: 'locked',
    findings: ['outbound-open'],
  },
  {
    name: 'Linode: an accept before the same deny wins (first match)',
    input: {
      instance: LINODE,
      ruleSets: [
        linodeFirewall('7', {
          rules: [rule({ ports: port(8000), ipv4: ['0.0.0.0/0'] }), rule({ action: 'deny', ports: port(8000), ipv4: ['0.0.0.0/0'] })],
        }),
      ],
    },
    level: 'exposed',
    findings: ['service-world', 'outbound-open'],
  },
  {
    name: 'Linode: IPv6 ::/0 alone is the world',
    input: { instance: LINODE, ruleSets: [linodeFirewall('7', { rules: [rule({ ports: port(22), ipv6: ['::/0'] })] })] },
    level: 'exposed',
    findings: ['ssh-world', 'outbound-open'],
  },
  {
    name: 'Linode: two halves of the IPv4 space are the world too',
    input: {
      instance: LINODE,
      ruleSets: [linodeFirewall('7', { rules: [rule({ ports: port(3000), ipv4: ['0.0.0.0/1', '128.0.0.0/1'] })] })],
    },
    level: 'exposed',
    findings: ['service-world', 'outbound-open'],
  },
  {
    name: 'Linode: a /8 is a named source; a /12 is broad but still locked',
    input: {
      instance: LINODE,
      ruleSets: [
        linodeFirewall('7', {
          rules: [rule({ ports: port(22), ipv4: ['10.0.0.0/8'] }), rule({ ports: port(8000), ipv4: ['172.16.0.0/12'] })],
        }),
      ],
    },
    level: 'locked',
    findings: ['broad-source', 'broad-source', 'outbound-open'],
  },
  {
    name: 'Linode: a private /8 plus my address is not the world (private space is not counted), only broad',
    input: {
      instance: LINODE,
      ruleSets: [linodeFirewall('7', { rules: [rule({ ports: port(3000), ipv4: ['10.0.0.0/8', ME] })] })],
    },
    level: 'locked',
    findings: ['broad-source', 'outbound-open'],
  },
  {
    name: 'Linode: the world minus the private ranges is still the world',
    input: {
      instance: LINODE,
      ruleSets: [linodeFirewall('7', { rules: [rule({ ports: port(3000), ipv4: ['0.0.0.0/1', '128.0.0.0/1'] })] })],
    },
    level: 'exposed',
    findings: ['service-world', 'outbound-open'],
  },
  {
    name: 'Linode: ICMP from anywhere alone is low and does not make it exposed',
    input: { instance: LINODE, ruleSets: [linodeFirewall('7', { rules: [rule({ protocol: 'icmp', ipv4: ['0.0.0.0/0'] })] })] },
    level: 'locked',
    findings: ['icmp-world', 'outbound-open'],
  },
  {
    name: 'Linode: two enabled firewalls attached',
    input: { instance: LINODE, ruleSets: [linodeFirewall('7'), linodeFirewall('8')] },
    level: 'unknown',
    findings: ['several-firewalls', 'outbound-open'],
  },
  {
    name: 'rules could not be read',
    input: { instance: LINODE, ruleSets: [], readError: 'HTTP 401 Invalid Token' },
    level: 'unknown',
    findings: ['rules-unreadable'],
  },
];

for (const c of cases)
  test(`posture: ${c.name} -> ${c.level} [${c.findings.join(', ')}]`, () => {
    const p = computePosture(c.input);
    assert.equal(p.level, c.level);
    assert.deepEqual(
      p.findings.map((f) => f.id),
      c.findings,
    );
    for (const f of p.findings) {
      assert.match(f.message, /[.]$/, f.message);
      assert.match(f.fix, /[.]$/, f.fix);
    }
  });

test('findings are sorted by severity; ports and services are named', () => {
  const p = computePosture({
    instance: LINODE,
    ruleSets: [
      linodeFirewall('7', {
        rules: [
          rule({ protocol: 'icmp', ipv4: ['0.0.0.0/0'] }),
          rule({ ports: [{ from: 20, to: 8888 }, ...port(9000, 9100)], ipv4: ['0.0.0.0/0'] }),
        ],
      }),
    ],
  });
  const ranks = p.findings.map((f) => SEVERITIES.indexOf(f.severity));
  assert.deepEqual(
    ranks,
    [...ranks].sort((a, b) => a - b),
  );
  const byPort = (n: number) => p.findings.find((f) => f.port === n)!;
  assert.equal(byPort(22).id, 'ssh-world');
  assert.match(byPort(3000).message, /Open WebUI/);
  assert.equal(byPort(3000).severity, 'critical');
  assert.match(byPort(8000).message, /vLLM/);
  assert.match(byPort(8888).message, /Jupyter/);
  assert.equal(byPort(80).severity, 'medium');
  // The other ports of the range, in one finding.
  const rest = p.findings.find((f) => f.id === 'service-world' && f.port === 20)!;
  assert.match(rest.message, /TCP ports 20-21, 23-79, 81-442, 444-2999, 3001-7999, 8001-8887 and 9000-9100 are open/);
  assert.deepEqual(p.findings.find((f) => f.id === 'ssh-world')!.ruleSet, {
    provider: 'linode',
    account: 'acct',
    kind: 'linode-firewall',
    id: '7',
  });
});

test('a finding points at the rule set that opens the port (Lambda union)', () => {
  const rs = lambdaRuleset('rs1', [rule({ ports: port(8000), ipv4: ['0.0.0.0/0'] })], ['i1']);
  const p = computePosture({ instance: LAMBDA, ruleSets: [lambdaGlobal([rule({ ports: port(22), ipv4: [ME] })]), rs] });
  assert.equal(p.findings.find((f) => f.port === 8000)!.ruleSet!.id, 'rs1');
  const q = computePosture({ instance: LAMBDA, ruleSets: [lambdaGlobal(), rs] });
  assert.equal(q.findings.find((f) => f.id === 'ssh-world')!.ruleSet!.id, 'global');
});

test('drift: reported for changed rule sets that apply to the instance only', () => {
  const fw = linodeFirewall('7', { rules: [rule({ ports: port(22), ipv4: [ME] })] });
  const other = linodeFirewall('8', { appliesTo: ['L2'] });
  const ref = (rs: RuleSet) => ({ provider: rs.provider, account: rs.account, kind: rs.kind, id: rs.id });
  const p = computePosture({ instance: LINODE, ruleSets: [fw, other], drifted: [{ ref: ref(fw) }, ref(other)] });
  assert.deepEqual(
    p.findings.filter((f) => f.id === 'drift').map((f) => f.ruleSet!.id),
    ['7'],
  );
  assert.equal(p.level, 'locked', 'drift alone does not change the level');
  assert.ok(!computePosture({ instance: LINODE, ruleSets: [fw, other] }).findings.some((f) => f.id === 'drift'));
});

test('lambda-account-wide: medium while the global rules open something, info once they do not; names the others', () => {
  const accountInstances = [
    { id: 'i1', name: 'me' },
    { id: 'i2', name: 'trainer' },
    { id: 'i3', name: 'notebook' },
  ];
  const open = computePosture({ instance: LAMBDA, ruleSets: [lambdaGlobal(LAMBDA_DEFAULT_RULES)], accountInstances });
  const f = open.findings.find((x) => x.id === 'lambda-account-wide')!;
  assert.equal(f.severity, 'medium');
  assert.match(f.message, /2 other instances \(trainer, notebook\)/);
  const locked = computePosture({ instance: LAMBDA, ruleSets: [lambdaGlobal([rule({ ports: port(22), ipv4: [ME] })])], accountInstances });
  assert.equal(locked.findings.find((x) => x.id === 'lambda-account-wide')!.severity, 'info');
  // Without the caller's list, the global rules' appliesTo says who else there is.
  const fromAppliesTo = computePosture({ instance: LAMBDA, ruleSets: [lambdaGlobal(LAMBDA_DEFAULT_RULES, ['i1', 'i9'])] });
  assert.match(fromAppliesTo.findings.find((x) => x.id === 'lambda-account-wide')!.message, /1 other instance \(i9\)/);
  // Alone on the account: no finding.
  assert.ok(
    !computePosture({ instance: LAMBDA, ruleSets: [lambdaGlobal()], accountInstances: [accountInstances[0]!] }).findings.some(
      (x) => x.id === 'lambda-account-wide',
    ),
  );
});

test('exposure: a deny removes exactly its sources and ports from a later accept', () => {
  const fw = linodeFirewall('7', {
    rules: [rule({ action: 'deny', ports: port(22), ipv4: ['10.0.0.0/8'] }), rule({ ports: [{ from: 20, to: 30 }], ipv4: ['10.0.0.0/7'] })],
  });
  const e = computeExposure(LINODE, [fw]);
  assert.ok(e.known);
  assert.deepEqual(e.entries, [
    {
      protocol: 'tcp',
      ports: [
        { from: 20, to: 21 },
        { from: 23, to: 30 },
      ],
      ipv4: ['10.0.0.0/7'],
      ipv6: [],
    },
    { protocol: 'tcp', ports: port(22), ipv4: ['11.0.0.0/8'], ipv6: [] },
  ]);
});

test('exposure: canonical, so the same traffic written two ways compares equal', () => {
  const a = linodeFirewall('7', {
    rules: [rule({ ports: port(22), ipv4: ['10.0.0.0/25', '10.0.0.128/25'] }), rule({ ports: port(23), ipv4: ['10.0.0.0/24'] })],
  });
  const b = linodeFirewall('7', { rules: [rule({ ports: port(22, 23), ipv4: ['10.0.0.0/24'] })] });
  assert.deepEqual(computeExposure(LINODE, [a]).entries, computeExposure(LINODE, [b]).entries);
});

test("exposure: an 'all' rule with ports is assumed to let ICMP in, but not to keep it out", () => {
  const allow = linodeFirewall('7', { rules: [rule({ protocol: 'all', ports: port(22), ipv4: [ME] })] });
  assert.ok(computeExposure(LINODE, [allow]).entries.some((e) => e.protocol === 'icmp'));
  const deny = linodeFirewall('7', {
    rules: [rule({ action: 'deny', protocol: 'all', ports: port(22), ipv4: [ME] }), rule({ protocol: 'icmp', ipv4: [ME] })],
  });
  assert.ok(computeExposure(LINODE, [deny]).entries.some((e) => e.protocol === 'icmp'));
});

test('exposure: no firewall and unknown both mean everything', () => {
  assert.deepEqual(computeExposure(LINODE, []).entries, everything());
  const u = computeExposure({ ...LAMBDA, region: 'us-south-1' }, [lambdaGlobal([])]);
  assert.equal(u.known, false);
  assert.deepEqual(u.entries, everything());
  // Positive control: an empty global rule list is known and lets nothing in.
  assert.deepEqual(computeExposure(LAMBDA, [lambdaGlobal([])]).entries, []);
});

test("exposure: Linode's IPENCAP (protocol 'all' with nativeProtocol) lets no TCP, UDP or ICMP in; an unknown protocol is assumed to", () => {
  const fw = (nativeProtocol?: string) =>
    linodeFirewall('7', { rules: [rule({ protocol: 'all', ipv4: ['0.0.0.0/0'], ...(nativeProtocol ? { nativeProtocol } : {}) })] });
  assert.equal(computePosture({ instance: LINODE, ruleSets: [fw('IPENCAP')] }).level, 'locked');
  assert.deepEqual(computeExposure(LINODE, [fw('IPENCAP')]).entries, []);
  assert.equal(computePosture({ instance: LINODE, ruleSets: [fw('GRE')] }).level, 'exposed');
  assert.equal(computePosture({ instance: LINODE, ruleSets: [fw()] }).level, 'exposed');
  // A deny for an unknown protocol does not hide a later allow.
  const shadow = linodeFirewall('7', {
    rules: [
      rule({ action: 'deny', protocol: 'all', nativeProtocol: 'GRE', ipv4: ['0.0.0.0/0'] }),
      rule({ ports: port(22), ipv4: ['0.0.0.0/0'] }),
    ],
  });
  assert.ok(computePosture({ instance: LINODE, ruleSets: [shadow] }).findings.some((f) => f.id === 'ssh-world'));
});

test('exposure agrees with first-match-wins evaluated packet by packet (random rule lists, seeded)', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const V4 = ['0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/16', '11.0.0.0/8', '128.0.0.0/1', '10.1.2.3/32'];
  const V6 = ['::/0', '2001:db8::/32', '2001:db8::1/128'];
  const PROTOS = ['tcp', 'udp', 'icmp', 'all'] as const;
  const probesV4 = ['10.1.2.3', '10.1.9.9', '10.200.0.1', '11.5.5.5', '200.1.1.1', '9.9.9.9'];
  const probesV6 = ['2001:db8::1', '2001:db8::2', '2001:db9::1'];
  // The oracle: Node's own address matching, not Moat's.
  const within = (addr: string, cidr: string) => {
    const [net, prefix] = cidr.split('/');
    const type = addr.includes(':') ? 'ipv6' : 'ipv4';
    const list = new BlockList();
    list.addSubnet(net!, Number(prefix), type);
    return list.check(addr, type);
  };
  for (let t = 0; t < 150; t++) {
    const rules = Array.from({ length: 1 + rnd(5) }, () => {
      const protocol = PROTOS[rnd(4)]!;
      const ports = protocol === 'icmp' || protocol === 'all' || rnd(3) === 0 ? null : [{ from: 20 + rnd(5), to: 22 + rnd(5) }];
      return rule({
        action: rnd(2) ? 'allow' : 'deny',
        protocol,
        ports,
        ipv4: Array.from({ length: rnd(3) }, () => V4[rnd(V4.length)]!),
        ipv6: Array.from({ length: rnd(2) }, () => V6[rnd(V6.length)]!),
      });
    });
    const policy = rnd(3) ? 'deny' : 'allow';
    const entries = computeExposure(LINODE, [linodeFirewall('7', { inboundPolicy: policy, rules })]).entries;
    for (const protocol of ['tcp', 'udp', 'icmp'] as const)
      for (const p of protocol === 'icmp' ? [0] : [19, 20, 22, 24, 27]) {
        for (const addr of [...probesV4, ...probesV6]) {
          const hit = rules.find(
            (r) =>
              (r.protocol === 'all' || r.protocol === protocol) &&
              (protocol === 'icmp' || r.ports === null || r.ports.some((x) => x.from <= p && p <= x.to)) &&
              [...r.ipv4, ...r.ipv6].some((c) => c.includes(':') === addr.includes(':') && within(addr, c)),
          );
          const expected = (hit ? hit.action : policy) === 'allow';
          const got = unreachableFrom(entries, protocol, p, [addr]).length === 0;
          assert.equal(got, expected, `${protocol}/${p} from ${addr}, policy ${policy}: ${JSON.stringify(rules)}`);
        }
      }
  }
});

// Format rules: the secrets that announce themselves by their shape (a vendor prefix, a fixed
// length, a checksum) or by the name they are assigned to. Written for Moat from the vendors'
// published token formats; the families follow gitleaks' default config so coverage can be
// compared, but no pattern is copied from it.
//
// Every rule is data. `detect.ts` runs them: keywords first (all rules' keywords found in one
// case-insensitive pass, so most rules never run their regex), then the regex, only within
// `maxLength` of a keyword, then `validate`. Every regex is bounded ({m,n}, never + or * over an
// open class) so `maxLength` is a true bound on a match and a streaming scanner knows how much
// output to hold back. PEM blocks are the one exception (`unbounded`): they are found by their
// BEGIN line and run to their END line.

import type { Severity } from './types';

export interface Rule {
  id: string;
  /** The family a corpus line is labelled with, e.g. "aws", "github", "generic". */
  family: string;
  title: string;
  severity: Severity;
  /** Global flag required; `detect.ts` adds `d` to read the secret group's offsets. */
  pattern: RegExp;
  /**
   * At least one must appear (case-insensitive) within maxLength of a match: the regex runs only
   * around them. Keep them specific: '.', '/', 'sk' and 'ac' are too common to narrow anything
   * (detect.ts runs rules gated only by those over the whole text).
   */
  keywords?: string[];
  /** The capture group that is the secret; the whole match when absent. */
  secretGroup?: number;
  /** Runs on the secret (and the whole match, for rules that judge the name); false drops it. */
  validate?: (secret: string, match: string) => boolean;
  /** Longest possible whole match, in UTF-16 code units. */
  maxLength: number;
  /** PEM blocks: BEGIN..END, not bounded by `maxLength`. */
  unbounded?: boolean;
  /**
   * A keyword is always inside a match, starting at most this many characters after the match
   * starts. A streaming scanner then holds back less: without a keyword near the end, a match
   * still in progress began at most keywordAt + the keyword's length characters ago. Absent: the
   * keyword may be anywhere near the match, and `maxLength` is held back.
   */
  keywordAt?: number;
  /** Generic assignment rules: lose ties to vendor rules. */
  generic?: boolean;
  /** Skip the shared fake-value check (for formats whose real values contain long repeats). */
  allowRepeats?: boolean;
  /**
   * The same rule in a form that is faster to search, used by `detect.ts` instead of `pattern`: it
   * starts at a literal (the secret-sounding name, `://`) and checks what the pattern has before
   * that literal in a lookbehind. It reports the same secret group. With `namePrefix`, the match
   * starts at the name: the detector re-finds the name prefix (up to 30 of [A-Za-z0-9_.-] after a
   * non-alphanumeric) to hand `validate` the whole match.
   */
  scan?: { pattern: RegExp; namePrefix?: boolean };
  /**
   * For rules without a keyword that narrows anything: every match holds `length` (at least 20)
   * consecutive characters of [A-Za-z0-9+/_-] starting `at[0]` to `at[1]` characters after the
   * match starts. `detect.ts` then runs the rule only where such runs are (it finds them anyway,
   * for the entropy detector). With `starts`, a run begins there (after a character not in that
   * class), `starts` characters after the match starts: the rule is tried only at those points;
   * with `after`, only at runs that follow that character.
   */
  tokenRun?: { length: number; at: [number, number]; starts?: number[]; after?: string };
}

// Values that a human wrote to stand for a secret, not a secret: docs examples, placeholders,
// redactions, template variables.
const FAKE_WORDS =
  /example|exmaple|dummy|placeholder|sample|redacted|changeme|change_me|your[_-]?(?:api|secret|token|key|password|pass)|insert|replace|xxxx|\*\*\*|<[^>]*>|\$\{|\{\{|%\(|\.\.\.|…/i;
// $HOME, $API_KEY: an environment reference (upper case only: `$production$` is a Braintree token).
const ENV_REF = /\$[A-Z_]{3,}/;
const REPEATS = /(.)\1{7,}/;
const SEQUENCES = /0123456789|1234567890|abcdefghij|ABCDEFGHIJ/;

// In long key material (a private key's body) letters like "xxxx" or "Sample" occur by chance: only
// placeholders standing alone count there.
const FAKE_IN_LONG =
  /(?:^|[^A-Za-z0-9])(?:example|dummy|placeholder|redacted|changeme)(?:[^A-Za-z0-9]|$)|\*\*\*|\.\.\.|…|<[^>]*>|\$\{|\{\{/i;

export function looksFake(secret: string, allowRepeats = false): boolean {
  if (secret.length > 200) return FAKE_IN_LONG.test(secret) || (!allowRepeats && REPEATS.test(secret));
  if (FAKE_WORDS.test(secret) || ENV_REF.test(secret) || SEQUENCES.test(secret)) return true;
  return !allowRepeats && REPEATS.test(secret);
}

// Boundaries: a token must not be the middle of a longer word.
const B = '(?<![A-Za-z0-9_])';
const E = '(?![A-Za-z0-9_])';

/** A token with a fixed vendor prefix. */
function prefixed(
  id: string,
  family: string,
  title: string,
  severity: Severity,
  body: string,
  max: number,
  extra: Partial<Rule> = {},
): Rule {
  const rule: Rule = {
    id,
    family,
    title,
    severity,
    pattern: new RegExp(`${B}${body}${E}`, 'g'),
    maxLength: max,
    ...extra,
  };
  // Every keyword is the literal start of the token: it starts the match.
  const head = literalHead(body).toLowerCase();
  if (rule.keywords?.length && rule.keywordAt === undefined && rule.keywords.every((k) => head.startsWith(k))) rule.keywordAt = 0;
  return rule;
}

/** The literal characters a regex source starts with (escaped punctuation unescaped). */
export function literalHead(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    let ch: string;
    let next: number;
    if (c === '\\') {
      const d = source[i + 1];
      if (d === undefined || /[A-Za-z0-9]/.test(d)) break;
      ch = d;
      next = i + 2;
    } else if ('[](){}|?*+^$.'.includes(c)) break;
    else {
      ch = c;
      next = i + 1;
    }
    // A quantifier after a character makes it optional or repeated: the literal ends before it.
    const q = source[next];
    if (q !== undefined && '?*+{'.includes(q)) break;
    out += ch;
    i = next;
  }
  return out;
}

// The value labelled on the next line: a Kubernetes env entry (`- name: API_KEY` then
// `  value: ...`), an IPython cell printing a variable (`os.environ["API_KEY"]` then `Out[3]: '...'`).
const NEXT_LINE = `\\s{1,12}(?:-\\s{1,3})?(?:value|Out\\[[0-9]{1,4}\\])\\s{0,2}:\\s{0,3}`;
const NEXT_LINE_MAX = 12 + 4 + 9 + 2 + 1 + 3;

// An assignment: `NAME = value`, `"name": "value"`, `name: value`, `--name value`, `NAME=value`,
// or the value on the next line (NEXT_LINE). `["']?\]?` also takes `os.environ['NAME'] = 'value'`.
const ASSIGN = `[A-Za-z0-9_.-]{0,20}["']?\\]?(?:\\s{0,3}(?:=|:|=>|:=|\\s)\\s{0,3}|${NEXT_LINE})["']?`;
const ASSIGN_MAX = 20 + 1 + 1 + NEXT_LINE_MAX + 1 + 1;

/** A value that is only a secret in the context of a name, e.g. `LINODE_TOKEN=<64 hex>`. */
function named(
  id: string,
  family: string,
  title: string,
  severity: Severity,
  name: string,
  nameMax: number,
  value: string,
  valueMax: number,
  keywords: string[],
  extra: Partial<Rule> = {},
): Rule {
  return {
    id,
    family,
    title,
    severity,
    pattern: new RegExp(`(?:${name})${ASSIGN}(${value})${E}`, 'gi'),
    keywords,
    secretGroup: 1,
    maxLength: nameMax + ASSIGN_MAX + valueMax,
    // The keywords are pieces of the name, which starts the match.
    keywordAt: nameMax,
    ...extra,
  };
}

const HEX32 = '[0-9a-f]{32}';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A JWT's header decodes to JSON with an "alg"; anything else shaped like one is not a JWT. */
export function isJwtHeader(token: string): boolean {
  const head = token.split('.')[0] ?? '';
  try {
    const json = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as unknown;
    return typeof json === 'object' && json !== null && 'alg' in json;
  } catch {
    return false;
  }
}

/** A PEM body has real key material: at least 64 base64 characters between the markers. */
export function pemHasBody(block: string): boolean {
  const body = block
    .replace(/-----(?:BEGIN|END)[^-]{0,60}-----/g, '')
    .replace(/\\n/g, '')
    .replace(/^[A-Za-z-]{1,40}:.*$/gm, '');
  return (body.match(/[A-Za-z0-9+/=]/g)?.length ?? 0) >= 64 && !looksFake(body.replace(/\s/g, ''), true);
}

function pem(id: string, title: string, label: string): Rule {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  return {
    id,
    family: 'private-key',
    title,
    severity: 'critical',
    // To the END line, or to the end of the text when the block is cut short.
    pattern: new RegExp(`${begin}(?:[\\s\\S]*?${end}|[\\s\\S]*$)`, 'g'),
    keywords: [`begin ${label.toLowerCase()}`],
    keywordAt: 5,
    validate: pemHasBody,
    maxLength: 16384,
    unbounded: true,
    allowRepeats: true,
  };
}

const URL_REST = `[^\\s:/@"'<>]{0,64}:([^\\s@/"'<>]{3,128})@[A-Za-z0-9.-]{1,253}`;

/** `scheme://user:password@host`: the password is the secret. */
function urlWithPassword(id: string, family: string, title: string, schemes: string, keywords: string[]): Rule {
  return {
    id,
    family,
    title,
    severity: 'high',
    pattern: new RegExp(`(?<![A-Za-z0-9+.-])(?:${schemes})://${URL_REST}`, 'gi'),
    scan: { pattern: new RegExp(`://(?<=(?<![A-Za-z0-9+.-])(?:${schemes})://)${URL_REST}`, 'gi') },
    keywords,
    // The keywords are the scheme (at most 21 characters) or '://' after it.
    keywordAt: 21,
    secretGroup: 1,
    validate: (s) => !/^(?:password|pass|passwd|pwd|secret|\*+|x+)$/i.test(s),
    maxLength: 24 + 3 + 64 + 1 + 128 + 1 + 253,
  };
}

// Generic assignments: a secret-sounding name bound to a value that is not a placeholder, not
// code (a call, an attribute, an env lookup) and not a plain word or number.
function genericValue(s: string): boolean {
  if (s.length < 8) return false;
  if (/^[=~^<>!]/.test(s)) return false; // `tokenizers==2.20.14`: a comparison, not an assignment
  if (/[()[\]{}$<>]/.test(s)) return false;
  if (/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(s)) return false; // self.token
  if (/^(?:true|false|null|none|nil|undefined|required|optional|string|env|os\.environ)$/i.test(s)) return false;
  if (/^[a-z]+(?:[_-][a-z]+)*$/i.test(s)) return false; // a word or identifier
  if (/^[0-9.,:_-]+$/.test(s)) return false; // a number, a time, a version
  if (/^(?:\/|\.\.?\/|~\/|[A-Za-z]:\\|https?:)/.test(s)) return false; // a path or URL
  if (/^\*+$|^[xX.]+$|^[-_*#.]+$/.test(s)) return false;
  return true;
}

// Names that hold something about a secret, not the secret: `api_key_hash`, `token_count`,
// `password_file`, `secret_name`.
const NOT_A_SECRET_NAME =
  /(?:hash|digest|checksum|fingerprint|sha\d*|md5|_id|count|length|len|limit|max|min|ttl|expir\w*|type|file|path|dir|url|uri|name|env|ref|version|size)["']?\s{0,3}(?:=|:|=>|:=)/i;

/** What follows a generic rule's name: an assignment operator (or NEXT_LINE), then the value. */
export const GENERIC_REST = `[A-Za-z0-9_]{0,10}["']?\\]?(?:\\s{0,3}(?:=|:|=>|:=)\\s{0,3}|${NEXT_LINE})["']?([^\\s"'\`,;]{8,100})`;

function generic(id: string, title: string, names: string, keywords: string[]): Rule {
  return {
    id,
    family: 'generic',
    title,
    severity: 'medium',
    pattern: new RegExp(`(?<![A-Za-z0-9])[A-Za-z0-9_.-]{0,30}(?:${names})${GENERIC_REST}`, 'gi'),
    scan: {
      pattern: new RegExp(`(?:${names})(?<=(?<![A-Za-z0-9])[A-Za-z0-9_.-]{0,30}(?:${names}))${GENERIC_REST}`, 'gi'),
      namePrefix: true,
    },
    keywords,
    // Up to 30 name characters, then the name (the keywords are in its first 24).
    keywordAt: 54,
    secretGroup: 1,
    validate: (secret, match) => genericValue(secret) && !NOT_A_SECRET_NAME.test(match),
    maxLength: 30 + 24 + 10 + 1 + 1 + NEXT_LINE_MAX + 1 + 100,
    generic: true,
  };
}

export const RULES: Rule[] = [
  // ---- Cloud providers
  prefixed('aws-access-key-id', 'aws', 'AWS access key ID', 'critical', '(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}', 20, {
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
  }),
  named(
    'aws-secret-access-key',
    'aws',
    'AWS secret access key',
    'critical',
    'aws[A-Za-z0-9_.-]{0,20}secret|secret[_.-]?access[_.-]?key',
    40,
    '[A-Za-z0-9/+]{40}',
    40,
    ['secret'],
  ),
  named(
    'aws-session-token',
    'aws',
    'AWS session token',
    'critical',
    'aws[A-Za-z0-9_.-]{0,10}session[_.-]?token|x-amz-security-token',
    40,
    '[A-Za-z0-9/+=]{100,1024}',
    1024,
    ['session_token', 'session-token', 'session.token', 'sessiontoken', 'security-token'],
  ),
  prefixed('aws-mws-key', 'aws', 'Amazon MWS auth token', 'high', `amzn\\.mws\\.${UUID}`, 45, { keywords: ['amzn.mws.'] }),
  {
    id: 'gcp-service-account-key',
    family: 'gcp',
    title: 'GCP service account private key (JSON)',
    severity: 'critical',
    pattern:
      /"private_key"\s{0,3}:\s{0,3}"(-----BEGIN PRIVATE KEY-----(?:\\n|[A-Za-z0-9+/=]){64,4000}?-----END PRIVATE KEY-----(?:\\n)?)"/g,
    keywords: ['"private_key"'],
    keywordAt: 0,
    secretGroup: 1,
    maxLength: 4100,
    unbounded: true,
  },
  named('gcp-service-account-key-id', 'gcp', 'GCP service account private key ID', 'high', '"private_key_id"', 16, '[0-9a-f]{40}', 40, [
    'private_key_id',
  ]),
  prefixed('gcp-api-key', 'gcp', 'Google API key', 'high', 'AIza[0-9A-Za-z_-]{35}', 39, { keywords: ['aiza'] }),
  prefixed('gcp-oauth-client-secret', 'gcp', 'Google OAuth client secret', 'critical', 'GOCSPX-[A-Za-z0-9_-]{28}', 35, {
    keywords: ['gocspx-'],
  }),
  prefixed('gcp-oauth-access-token', 'gcp', 'Google OAuth access token', 'high', 'ya29\\.[0-9A-Za-z_-]{30,300}', 305, {
    keywords: ['ya29.'],
  }),
  prefixed(
    'firebase-cloud-messaging-key',
    'gcp',
    'Firebase Cloud Messaging server key',
    'high',
    'AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}',
    152,
    { keywords: [':apa91b'] },
  ),
  {
    id: 'azure-storage-connection-string',
    family: 'azure',
    title: 'Azure storage account key (connection string)',
    severity: 'critical',
    pattern: /AccountKey=([A-Za-z0-9+/]{86}==)/g,
    keywords: ['accountkey='],
    keywordAt: 0,
    secretGroup: 1,
    maxLength: 99,
  },
  named(
    'azure-storage-account-key',
    'azure',
    'Azure storage account key',
    'critical',
    'azure[A-Za-z0-9_.-]{0,20}(?:storage|account)[A-Za-z0-9_.-]{0,10}key',
    60,
    '[A-Za-z0-9+/]{86}==',
    88,
    ['azure'],
  ),
  {
    id: 'azure-service-bus-key',
    family: 'azure',
    title: 'Azure Service Bus / Event Hubs shared access key',
    severity: 'critical',
    pattern: /SharedAccessKey=([A-Za-z0-9+/]{43}=)/g,
    keywords: ['sharedaccesskey='],
    keywordAt: 0,
    secretGroup: 1,
    maxLength: 60,
  },
  {
    id: 'azure-sas-token',
    family: 'azure',
    title: 'Azure shared access signature',
    severity: 'high',
    pattern: /[?&]sv=\d{4}-\d{2}-\d{2}&[^\s"'<>]{0,300}?sig=([A-Za-z0-9%+/=]{40,120})/g,
    keywords: ['sig='],
    // '?sv=' and a date, at most 300 characters, then 'sig='.
    keywordAt: 315,
    secretGroup: 1,
    maxLength: 440,
  },
  prefixed('azure-ad-client-secret', 'azure', 'Azure AD client secret', 'critical', '[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}', 40, {
    keywords: ['q~'],
  }),
  named(
    'azure-devops-pat',
    'azure',
    'Azure DevOps personal access token',
    'high',
    'azure[_.-]?devops|\\bado[_.-]|vsts',
    20,
    '[a-z2-7]{52}',
    52,
    ['devops', 'ado', 'vsts'],
  ),
  named('azure-openai-key', 'azure', 'Azure OpenAI key', 'critical', 'azure[_.-]?openai[A-Za-z0-9_.-]{0,10}key', 30, HEX32, 32, ['openai']),
  prefixed('alibaba-access-key-id', 'alibaba', 'Alibaba Cloud AccessKey ID', 'high', 'LTAI[A-Za-z0-9]{20}', 24, { keywords: ['ltai'] }),
  prefixed('yandex-api-key', 'yandex', 'Yandex Cloud API key', 'high', 'AQVN[A-Za-z0-9_-]{35,38}', 42, { keywords: ['aqvn'] }),
  prefixed('digitalocean-pat', 'digitalocean', 'DigitalOcean personal access token', 'critical', 'dop_v1_[a-f0-9]{64}', 71, {
    keywords: ['dop_v1_'],
  }),
  prefixed('digitalocean-oauth-token', 'digitalocean', 'DigitalOcean OAuth token', 'critical', 'doo_v1_[a-f0-9]{64}', 71, {
    keywords: ['doo_v1_'],
  }),
  prefixed('digitalocean-refresh-token', 'digitalocean', 'DigitalOcean refresh token', 'critical', 'dor_v1_[a-f0-9]{64}', 71, {
    keywords: ['dor_v1_'],
  }),
  prefixed(
    'lambda-cloud-api-key',
    'lambda',
    'Lambda Cloud API key',
    'critical',
    'secret_[a-z0-9-]{1,40}_[0-9a-f]{32,64}(?:\\.[0-9A-Za-z]{32,64})?',
    177,
    {
      keywords: ['secret_'],
    },
  ),
  named('linode-pat', 'linode', 'Linode personal access token', 'critical', 'linode', 20, '[0-9a-f]{64}', 64, ['linode']),
  named('heroku-api-key', 'heroku', 'Heroku API key', 'high', 'heroku', 20, UUID, 36, ['heroku']),
  prefixed('heroku-api-key-v2', 'heroku', 'Heroku API key', 'high', 'HRKU-AA[0-9A-Za-z_-]{58}', 65, { keywords: ['hrku-'] }),
  prefixed('cloudflare-origin-ca-key', 'cloudflare', 'Cloudflare Origin CA key', 'high', 'v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}', 176, {
    keywords: ['v1.0-'],
  }),
  named('cloudflare-api-token', 'cloudflare', 'Cloudflare API token', 'high', 'cloudflare|\\bcf[_.-]api', 20, '[A-Za-z0-9_-]{40}', 40, [
    'cloudflare',
    'cf_api',
    'cf-api',
  ]),
  named(
    'cloudflare-global-api-key',
    'cloudflare',
    'Cloudflare global API key',
    'high',
    'cloudflare|\\bcf[_.-]api',
    20,
    '[a-f0-9]{37}',
    37,
    ['cloudflare', 'cf_api', 'cf-api'],
  ),
  named('fastly-api-token', 'fastly', 'Fastly API token', 'high', 'fastly', 20, '[A-Za-z0-9_-]{32}', 32, ['fastly']),
  named('netlify-access-token', 'netlify', 'Netlify access token', 'high', 'netlify', 20, '[A-Za-z0-9_-]{40,46}', 46, ['netlify']),
  prefixed('netlify-pat', 'netlify', 'Netlify personal access token', 'high', 'nfp_[A-Za-z0-9]{36}', 40, { keywords: ['nfp_'] }),
  named('vercel-token', 'vercel', 'Vercel access token', 'high', 'vercel', 20, '[A-Za-z0-9]{24}', 24, ['vercel']),
  prefixed('supabase-management-token', 'supabase', 'Supabase management API token', 'high', 'sbp_[a-f0-9]{40}', 44, {
    keywords: ['sbp_'],
  }),
  prefixed('supabase-secret-key', 'supabase', 'Supabase secret key', 'critical', 'sb_secret_[A-Za-z0-9_-]{31}', 41, {
    keywords: ['sb_secret_'],
  }),
  prefixed('openshift-token', 'openshift', 'OpenShift user token', 'high', 'sha256~[A-Za-z0-9_-]{43}', 50, { keywords: ['sha256~'] }),
  prefixed('scalingo-token', 'scalingo', 'Scalingo API token', 'high', 'tk-us-[A-Za-z0-9_-]{48}', 54, { keywords: ['tk-us-'] }),
  prefixed(
    'defined-networking-key',
    'defined-networking',
    'Defined Networking API key',
    'high',
    'dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}',
    85,
    { keywords: ['dnkey-'] },
  ),

  // ---- Version control and CI
  prefixed('github-pat', 'github', 'GitHub personal access token', 'critical', 'ghp_[A-Za-z0-9]{36}', 40, { keywords: ['ghp_'] }),
  prefixed('github-oauth-token', 'github', 'GitHub OAuth access token', 'critical', 'gho_[A-Za-z0-9]{36}', 40, { keywords: ['gho_'] }),
  prefixed('github-user-to-server-token', 'github', 'GitHub user-to-server token', 'critical', 'ghu_[A-Za-z0-9]{36}', 40, {
    keywords: ['ghu_'],
  }),
  prefixed('github-server-to-server-token', 'github', 'GitHub server-to-server token', 'critical', 'ghs_[A-Za-z0-9]{36}', 40, {
    keywords: ['ghs_'],
  }),
  prefixed('github-refresh-token', 'github', 'GitHub refresh token', 'critical', 'ghr_[A-Za-z0-9]{36,76}', 80, { keywords: ['ghr_'] }),
  prefixed(
    'github-fine-grained-pat',
    'github',
    'GitHub fine-grained personal access token',
    'critical',
    'github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}',
    93,
    { keywords: ['github_pat_'] },
  ),
  prefixed('gitlab-pat', 'gitlab', 'GitLab personal access token', 'critical', 'glpat-[A-Za-z0-9_-]{20}', 26, { keywords: ['glpat-'] }),
  prefixed('gitlab-pipeline-trigger-token', 'gitlab', 'GitLab pipeline trigger token', 'high', 'glptt-[0-9a-f]{40}', 46, {
    keywords: ['glptt-'],
  }),
  prefixed('gitlab-runner-registration-token', 'gitlab', 'GitLab runner registration token', 'high', 'GR1348941[A-Za-z0-9_-]{20}', 29, {
    keywords: ['gr1348941'],
  }),
  prefixed('gitlab-runner-auth-token', 'gitlab', 'GitLab runner authentication token', 'high', 'glrt-[A-Za-z0-9_-]{20}', 25, {
    keywords: ['glrt-'],
  }),
  prefixed('gitlab-deploy-token', 'gitlab', 'GitLab deploy token', 'high', 'gldt-[A-Za-z0-9_-]{20}', 25, { keywords: ['gldt-'] }),
  prefixed('gitlab-feed-token', 'gitlab', 'GitLab feed token', 'high', 'glft-[A-Za-z0-9_-]{20}', 25, { keywords: ['glft-'] }),
  prefixed('gitlab-agent-token', 'gitlab', 'GitLab Kubernetes agent token', 'high', 'glagent-[A-Za-z0-9_-]{50}', 58, {
    keywords: ['glagent-'],
  }),
  prefixed('gitlab-oauth-app-secret', 'gitlab', 'GitLab OAuth application secret', 'high', 'gloas-[a-z0-9]{64}', 70, {
    keywords: ['gloas-'],
  }),
  prefixed('bitbucket-app-password', 'bitbucket', 'Bitbucket app password', 'critical', 'ATBB[A-Za-z0-9_=.-]{32}', 36, {
    keywords: ['atbb'],
  }),
  named('bitbucket-client-secret', 'bitbucket', 'Bitbucket OAuth client secret', 'high', 'bitbucket', 20, '[A-Za-z0-9=_-]{64}', 64, [
    'bitbucket',
  ]),
  prefixed('sourcegraph-token', 'sourcegraph', 'Sourcegraph access token', 'high', 'sgp_(?:[a-f0-9]{16}_)?[a-f0-9]{40}', 61, {
    keywords: ['sgp_'],
  }),
  prefixed(
    'harness-pat',
    'harness',
    'Harness personal access token',
    'high',
    'pat\\.[A-Za-z0-9_-]{22}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}',
    72,
    { keywords: ['pat.'] },
  ),
  prefixed('octopus-deploy-api-key', 'octopus-deploy', 'Octopus Deploy API key', 'high', 'API-[A-Z0-9]{26}', 30, { keywords: ['api-'] }),
  prefixed('jfrog-api-key', 'jfrog', 'JFrog API key', 'high', 'AKCp[A-Za-z0-9]{69}', 73, { keywords: ['akcp'] }),
  prefixed('jfrog-reference-token', 'jfrog', 'JFrog reference token', 'high', 'cmVmdGtu[A-Za-z0-9]{56}', 64, { keywords: ['cmvmdgtu'] }),

  // ---- Package registries and containers
  prefixed('npm-access-token', 'npm', 'npm access token', 'critical', 'npm_[A-Za-z0-9]{36}', 40, { keywords: ['npm_'] }),
  named('npmrc-auth-token', 'npm', 'npm registry auth token (.npmrc)', 'high', '_authToken', 12, '[A-Za-z0-9_+/=.-]{20,200}', 200, [
    '_authtoken',
  ]),
  prefixed('pypi-upload-token', 'pypi', 'PyPI upload token', 'critical', 'pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,300}', 320, {
    keywords: ['pypi-ageicHlwas5vcmc'.toLowerCase()],
  }),
  prefixed('rubygems-api-key', 'rubygems', 'RubyGems API key', 'high', 'rubygems_[a-f0-9]{48}', 57, { keywords: ['rubygems_'] }),
  prefixed('clojars-token', 'clojars', 'Clojars deploy token', 'high', 'CLOJARS_[a-z0-9]{60}', 68, { keywords: ['clojars_'] }),
  prefixed('nuget-api-key', 'nuget', 'NuGet API key', 'high', 'oy2[a-z0-9]{43}', 46, { keywords: ['oy2'] }),
  prefixed('dockerhub-pat', 'docker', 'Docker Hub personal access token', 'high', 'dckr_pat_[A-Za-z0-9_-]{27}', 36, {
    keywords: ['dckr_pat_'],
  }),
  {
    id: 'docker-config-auth',
    family: 'docker',
    title: 'Docker registry credentials (config.json auth)',
    severity: 'high',
    pattern: /"auth"\s{0,3}:\s{0,3}"([A-Za-z0-9+/]{16,400}={0,2})"/g,
    keywords: ['"auth"'],
    keywordAt: 0,
    secretGroup: 1,
    // base64 of user:password
    validate: (s) => /^[^:\s]{1,100}:\S{1,200}$/.test(Buffer.from(s, 'base64').toString('latin1')),
    maxLength: 420,
  },

  // ---- Chat, email, messaging
  prefixed('slack-bot-token', 'slack', 'Slack bot token', 'high', 'xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}', 57, {
    keywords: ['xoxb-'],
  }),
  prefixed('slack-user-token', 'slack', 'Slack user token', 'high', 'xoxp-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32}', 80, {
    keywords: ['xoxp-'],
  }),
  prefixed('slack-workspace-token', 'slack', 'Slack workspace/refresh token', 'high', 'xox[aros]-[0-9]-[0-9A-Za-z-]{20,200}', 207, {
    keywords: ['xoxa-', 'xoxr-', 'xoxo-', 'xoxs-'],
  }),
  prefixed('slack-app-token', 'slack', 'Slack app-level token', 'high', 'xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-f0-9]{64}', 100, {
    keywords: ['xapp-'],
  }),
  prefixed('slack-config-token', 'slack', 'Slack configuration token', 'high', 'xoxe(?:\\.xox[bp])?-[0-9]-[A-Za-z0-9]{140,200}', 212, {
    keywords: ['xoxe'],
  }),
  prefixed(
    'slack-webhook-url',
    'slack',
    'Slack webhook URL',
    'high',
    'https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,120}',
    160,
    { keywords: ['hooks.slack.com'] },
  ),
  prefixed(
    'discord-bot-token',
    'discord',
    'Discord bot token',
    'high',
    '[MNO][A-Za-z0-9_-]{23,25}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,38}',
    72,
    { keywords: ['.'], tokenRun: { length: 24, at: [0, 0] } },
  ),
  prefixed(
    'discord-webhook-url',
    'discord',
    'Discord webhook URL',
    'high',
    'https://(?:ptb\\.|canary\\.)?discord(?:app)?\\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,70}',
    140,
    { keywords: ['/api/webhooks/'] },
  ),
  prefixed('telegram-bot-token', 'telegram', 'Telegram bot token', 'high', '[0-9]{8,10}:AA[A-Za-z0-9_-]{33}', 46, { keywords: [':aa'] }),
  prefixed('sendgrid-api-key', 'sendgrid', 'SendGrid API key', 'high', 'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}', 69, {
    keywords: ['sg.'],
  }),
  prefixed('mailgun-private-key', 'mailgun', 'Mailgun private API key', 'high', 'key-[0-9a-f]{32}', 36, { keywords: ['key-'] }),
  named(
    'mailgun-signing-key',
    'mailgun',
    'Mailgun webhook signing key',
    'high',
    'mailgun',
    20,
    '[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}',
    50,
    ['mailgun'],
  ),
  prefixed('mailchimp-api-key', 'mailchimp', 'Mailchimp API key', 'high', '[0-9a-f]{32}-us[0-9]{1,2}', 37, { keywords: ['-us'] }),
  prefixed('brevo-api-key', 'brevo', 'Brevo (Sendinblue) API key', 'high', 'xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}', 89, {
    keywords: ['xkeysib-'],
  }),
  prefixed('twilio-api-key', 'twilio', 'Twilio API key SID', 'high', 'SK[0-9a-f]{32}', 34, {
    keywords: ['sk'],
    tokenRun: { length: 34, at: [0, 0] },
  }),
  named('twilio-auth-token', 'twilio', 'Twilio auth token', 'critical', 'twilio[A-Za-z0-9_.-]{0,10}(?:auth|token|secret)', 30, HEX32, 32, [
    'twilio',
  ]),
  prefixed('twilio-account-sid', 'twilio', 'Twilio account SID', 'medium', 'AC[0-9a-f]{32}', 34, {
    keywords: ['ac'],
    tokenRun: { length: 34, at: [0, 0] },
  }),
  named('messagebird-api-key', 'messagebird', 'MessageBird API key', 'high', 'messagebird|message[_.-]bird', 20, '[A-Za-z0-9]{25}', 25, [
    'messagebird',
    'message_bird',
    'message-bird',
  ]),

  // ---- Payments and commerce
  prefixed('stripe-live-secret-key', 'stripe', 'Stripe live secret key', 'critical', '(?:sk|rk)_live_[A-Za-z0-9]{24,99}', 107, {
    keywords: ['_live_'],
  }),
  prefixed('stripe-test-secret-key', 'stripe', 'Stripe test secret key', 'medium', '(?:sk|rk)_test_[A-Za-z0-9]{24,99}', 107, {
    keywords: ['_test_'],
  }),
  prefixed('stripe-webhook-secret', 'stripe', 'Stripe webhook signing secret', 'high', 'whsec_[A-Za-z0-9]{32,64}', 70, {
    keywords: ['whsec_'],
  }),
  prefixed('shopify-access-token', 'shopify', 'Shopify access token', 'critical', 'shpat_[a-fA-F0-9]{32}', 38, { keywords: ['shpat_'] }),
  prefixed('shopify-custom-app-token', 'shopify', 'Shopify custom app access token', 'critical', 'shpca_[a-fA-F0-9]{32}', 38, {
    keywords: ['shpca_'],
  }),
  prefixed('shopify-private-app-token', 'shopify', 'Shopify private app access token', 'critical', 'shppa_[a-fA-F0-9]{32}', 38, {
    keywords: ['shppa_'],
  }),
  prefixed('shopify-shared-secret', 'shopify', 'Shopify shared secret', 'critical', 'shpss_[a-fA-F0-9]{32}', 38, { keywords: ['shpss_'] }),
  prefixed('square-access-token', 'square', 'Square access token', 'critical', '(?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60}', 67, {
    keywords: ['eaaa', 'sq0atp-'],
  }),
  prefixed('square-oauth-secret', 'square', 'Square OAuth secret', 'critical', 'sq0csp-[A-Za-z0-9_-]{43}', 50, { keywords: ['sq0csp-'] }),
  prefixed(
    'braintree-access-token',
    'paypal',
    'PayPal Braintree access token',
    'critical',
    'access_token\\$(?:production|sandbox)\\$[0-9a-z]{16}\\$[0-9a-f]{32}',
    73,
    { keywords: ['access_token$'] },
  ),
  named(
    'paypal-client-secret',
    'paypal',
    'PayPal client secret',
    'critical',
    'paypal[A-Za-z0-9_.-]{0,10}secret',
    30,
    '[A-Za-z0-9_-]{80}',
    80,
    ['paypal'],
  ),
  prefixed('plaid-access-token', 'plaid', 'Plaid access token', 'critical', `access-(?:sandbox|development|production)-${UUID}`, 59, {
    keywords: ['access-sandbox-', 'access-development-', 'access-production-'],
  }),
  prefixed('flutterwave-secret-key', 'flutterwave', 'Flutterwave secret key', 'critical', 'FLWSECK(?:_TEST)?-[a-h0-9]{32}-X', 47, {
    keywords: ['flwseck'],
  }),
  prefixed('duffel-api-token', 'duffel', 'Duffel API token', 'high', 'duffel_(?:test|live)_[A-Za-z0-9_=-]{43}', 55, {
    keywords: ['duffel_'],
  }),
  prefixed('shippo-api-token', 'shippo', 'Shippo API token', 'high', 'shippo_(?:live|test)_[a-f0-9]{40}', 52, { keywords: ['shippo_'] }),
  prefixed('easypost-api-key', 'easypost', 'EasyPost API key', 'high', 'EZ[AT]K[A-Za-z0-9]{54}', 58, { keywords: ['ezak', 'eztk'] }),

  // ---- AI and LLM providers
  prefixed(
    'openai-project-key',
    'openai',
    'OpenAI project/service key',
    'critical',
    'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}',
    212,
    { keywords: ['sk-proj-', 'sk-svcacct-', 'sk-admin-'] },
  ),
  prefixed('openai-api-key', 'openai', 'OpenAI API key', 'critical', 'sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}', 51, {
    keywords: ['t3blbkfj'],
  }),
  prefixed('anthropic-api-key', 'anthropic', 'Anthropic API key', 'critical', 'sk-ant-(?:api|sid|oat)[0-9]{2}-[A-Za-z0-9_-]{80,120}', 135, {
    keywords: ['sk-ant-'],
  }),
  prefixed('anthropic-admin-key', 'anthropic', 'Anthropic admin key', 'critical', 'sk-ant-admin[0-9]{2}-[A-Za-z0-9_-]{80,120}', 137, {
    keywords: ['sk-ant-admin'],
  }),
  prefixed('huggingface-token', 'huggingface', 'Hugging Face access token', 'critical', 'hf_[A-Za-z]{34}', 37, { keywords: ['hf_'] }),
  prefixed('huggingface-org-token', 'huggingface', 'Hugging Face organization token', 'critical', 'api_org_[A-Za-z]{34}', 42, {
    keywords: ['api_org_'],
  }),
  named('cohere-api-key', 'cohere', 'Cohere API key', 'critical', 'cohere|\\bco[_.-]api', 20, '[A-Za-z0-9]{40}', 40, [
    'cohere',
    'co_api',
    'co-api',
  ]),
  prefixed('replicate-api-token', 'replicate', 'Replicate API token', 'critical', 'r8_[A-Za-z0-9]{37}', 40, { keywords: ['r8_'] }),
  prefixed('groq-api-key', 'groq', 'Groq API key', 'critical', 'gsk_[A-Za-z0-9]{52}', 56, { keywords: ['gsk_'] }),
  named('mistral-api-key', 'mistral', 'Mistral API key', 'critical', 'mistral', 20, '[A-Za-z0-9]{32}', 32, ['mistral']),
  prefixed('perplexity-api-key', 'perplexity', 'Perplexity API key', 'critical', 'pplx-[A-Za-z0-9]{48}', 53, { keywords: ['pplx-'] }),
  prefixed('xai-api-key', 'xai', 'xAI API key', 'critical', 'xai-[A-Za-z0-9]{80}', 84, { keywords: ['xai-'] }),
  named('together-api-key', 'together', 'Together AI API key', 'critical', 'together', 20, '[a-f0-9]{64}', 64, ['together']),
  named('deepseek-api-key', 'deepseek', 'DeepSeek API key', 'critical', 'deepseek', 20, 'sk-[a-f0-9]{32}', 35, ['deepseek']),

  // ---- Secret managers and infrastructure
  prefixed('vault-service-token', 'vault', 'HashiCorp Vault service token', 'critical', 'hvs\\.[A-Za-z0-9_-]{90,120}', 124, {
    keywords: ['hvs.'],
  }),
  prefixed('vault-batch-token', 'vault', 'HashiCorp Vault batch token', 'critical', 'hvb\\.[A-Za-z0-9_-]{138,300}', 304, {
    keywords: ['hvb.'],
  }),
  prefixed('doppler-token', 'doppler', 'Doppler token', 'high', 'dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}', 54, {
    keywords: ['dp.'],
  }),
  prefixed(
    'terraform-cloud-token',
    'terraform',
    'Terraform Cloud API token',
    'critical',
    '[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{60,70}',
    93,
    { keywords: ['.atlasv1.'] },
  ),
  prefixed('pulumi-access-token', 'pulumi', 'Pulumi access token', 'high', 'pul-[a-f0-9]{40}', 44, { keywords: ['pul-'] }),
  prefixed(
    'onepassword-service-account-token',
    '1password',
    '1Password service account token',
    'critical',
    'ops_eyJ[A-Za-z0-9+/]{250,1000}={0,3}',
    1010,
    { keywords: ['ops_eyj'] },
  ),
  prefixed(
    'onepassword-secret-key',
    '1password',
    '1Password secret key',
    'critical',
    'A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}',
    40,
    { keywords: ['a3-'] },
  ),
  prefixed('age-secret-key', 'age', 'age secret key', 'critical', 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}', 74, {
    keywords: ['age-secret-key-1'],
  }),
  prefixed('prefect-api-key', 'prefect', 'Prefect API key', 'high', 'pnu_[A-Za-z0-9]{36}', 40, { keywords: ['pnu_'] }),
  prefixed(
    'planetscale-token',
    'planetscale',
    'PlanetScale token or password',
    'high',
    'pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}',
    77,
    { keywords: ['pscale_'] },
  ),
  prefixed('databricks-token', 'databricks', 'Databricks access token', 'high', 'dapi[a-f0-9]{32}(?:-[0-9])?', 38, { keywords: ['dapi'] }),
  prefixed('infracost-api-token', 'infracost', 'Infracost API token', 'high', 'ico-[A-Za-z0-9]{32}', 36, { keywords: ['ico-'] }),
  prefixed('settlemint-token', 'settlemint', 'SettleMint token', 'high', 'sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}', 23, {
    keywords: ['sm_pat_', 'sm_aat_', 'sm_sat_'],
  }),

  // ---- Observability
  named('datadog-api-key', 'datadog', 'Datadog API key', 'high', 'datadog[A-Za-z0-9_.-]{0,10}api|\\bdd[_.-]?api', 25, HEX32, 32, [
    'datadog',
    'dd_api',
    'dd-api',
    'ddapi',
  ]),
  named(
    'datadog-app-key',
    'datadog',
    'Datadog application key',
    'high',
    'datadog[A-Za-z0-9_.-]{0,10}app|\\bdd[_.-]?app',
    25,
    '[a-f0-9]{40}',
    40,
    ['datadog', 'dd_app', 'dd-app', 'ddapp'],
  ),
  prefixed('new-relic-user-api-key', 'new-relic', 'New Relic user API key', 'high', 'NRAK-[A-Z0-9]{27}', 32, { keywords: ['nrak-'] }),
  prefixed('new-relic-insert-key', 'new-relic', 'New Relic insert key', 'high', 'NRII-[A-Za-z0-9_-]{32}', 37, { keywords: ['nrii-'] }),
  prefixed('new-relic-browser-key', 'new-relic', 'New Relic browser API token', 'medium', 'NRJS-[a-f0-9]{19}', 24, { keywords: ['nrjs-'] }),
  prefixed('new-relic-license-key', 'new-relic', 'New Relic license key', 'high', '[a-f0-9]{36}NRAL', 40, { keywords: ['nral'] }),
  {
    id: 'sentry-dsn',
    family: 'sentry',
    title: 'Sentry DSN',
    severity: 'medium',
    pattern: /https:\/\/([0-9a-f]{32})(?::[0-9a-f]{32})?@[A-Za-z0-9.-]{1,100}\/[0-9]{1,12}/g,
    keywords: ['sentry', 'ingest'],
    secretGroup: 1,
    maxLength: 8 + 65 + 1 + 100 + 13,
  },
  prefixed('sentry-org-token', 'sentry', 'Sentry organization auth token', 'high', 'sntrys_eyJ[A-Za-z0-9+/=_]{60,300}', 310, {
    keywords: ['sntrys_'],
  }),
  prefixed('sentry-user-token', 'sentry', 'Sentry user auth token', 'high', 'sntryu_[a-f0-9]{64}', 71, { keywords: ['sntryu_'] }),
  prefixed('grafana-cloud-token', 'grafana', 'Grafana Cloud API token', 'high', 'glc_[A-Za-z0-9+/]{32,400}={0,2}', 406, {
    keywords: ['glc_'],
  }),
  prefixed('grafana-service-account-token', 'grafana', 'Grafana service account token', 'high', 'glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}', 46, {
    keywords: ['glsa_'],
  }),
  prefixed('grafana-api-key', 'grafana', 'Grafana API key (legacy)', 'high', 'eyJrIjoi[A-Za-z0-9]{60,400}={0,2}', 410, {
    keywords: ['eyjrijoi'],
  }),
  prefixed('dynatrace-api-token', 'dynatrace', 'Dynatrace API token', 'high', 'dt0c01\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}', 96, {
    keywords: ['dt0c01.'],
  }),

  // ---- SaaS
  prefixed('atlassian-api-token', 'atlassian', 'Atlassian API token', 'high', 'ATATT3[A-Za-z0-9_=-]{150,220}', 226, {
    keywords: ['atatt3'],
  }),
  named(
    'atlassian-legacy-token',
    'atlassian',
    'Atlassian API token (legacy)',
    'high',
    'atlassian|confluence|jira',
    20,
    '[A-Za-z0-9]{24}',
    24,
    ['atlassian', 'confluence', 'jira'],
  ),
  prefixed('notion-integration-token', 'notion', 'Notion integration token', 'high', 'ntn_[0-9]{11}[A-Za-z0-9]{35}', 50, {
    keywords: ['ntn_'],
  }),
  prefixed('notion-secret', 'notion', 'Notion integration secret (legacy)', 'high', 'secret_[A-Za-z0-9]{43}', 50, {
    keywords: ['secret_'],
  }),
  prefixed('linear-api-key', 'linear', 'Linear API key', 'high', 'lin_api_[A-Za-z0-9]{40}', 48, { keywords: ['lin_api_'] }),
  named('okta-api-token', 'okta', 'Okta API token', 'high', 'okta', 20, '00[A-Za-z0-9_-]{40}', 42, ['okta']),
  prefixed('postman-api-key', 'postman', 'Postman API key', 'high', 'PMAK-[a-f0-9]{24}-[a-f0-9]{34}', 64, { keywords: ['pmak-'] }),
  prefixed('dropbox-short-lived-token', 'dropbox', 'Dropbox access token', 'high', 'sl\\.[A-Za-z0-9_-]{130,160}', 163, {
    keywords: ['sl.'],
  }),
  named('dropbox-api-secret', 'dropbox', 'Dropbox app secret', 'high', 'dropbox', 20, '[a-z0-9]{15}', 15, ['dropbox']),
  prefixed('facebook-access-token', 'facebook', 'Facebook access token', 'high', 'EAA[BCGM][A-Za-z0-9]{100,250}', 254, {
    keywords: ['eaab', 'eaac', 'eaag', 'eaam'],
  }),
  named('facebook-app-secret', 'facebook', 'Facebook app secret', 'high', 'facebook|\\bfb[_.-]', 20, HEX32, 32, [
    'facebook',
    'fb_',
    'fb-',
    'fb.',
  ]),
  prefixed('instagram-access-token', 'facebook', 'Instagram access token', 'high', 'IGQV[A-Za-z0-9_-]{100,250}', 254, {
    keywords: ['igqv'],
  }),
  prefixed('twitter-bearer-token', 'twitter', 'Twitter/X bearer token', 'high', 'AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,120}', 141, {
    keywords: ['aaaaaaaaaaaaaaaaaaaaa'],
    allowRepeats: true,
  }),
  named(
    'twitter-api-secret',
    'twitter',
    'Twitter/X API secret',
    'high',
    'twitter[A-Za-z0-9_.-]{0,10}secret|\\bx[_.-]api[_.-]secret',
    30,
    '[A-Za-z0-9]{50}',
    50,
    ['twitter', 'x_api', 'x-api'],
  ),
  prefixed('airtable-pat', 'airtable', 'Airtable personal access token', 'high', 'pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}', 82, {
    keywords: ['pat'],
  }),
  named('algolia-api-key', 'algolia', 'Algolia admin API key', 'high', 'algolia', 20, HEX32, 32, ['algolia']),
  prefixed('contentful-pat', 'contentful', 'Contentful personal access token', 'high', 'CFPAT-[A-Za-z0-9_-]{43}', 49, {
    keywords: ['cfpat-'],
  }),
  named('contentful-delivery-token', 'contentful', 'Contentful delivery token', 'medium', 'contentful', 20, '[A-Za-z0-9_-]{43}', 43, [
    'contentful',
  ]),
  prefixed('mapbox-secret-token', 'mapbox', 'Mapbox secret token', 'high', 'sk\\.eyJ1Ijoi[A-Za-z0-9_-]{50,120}\\.[A-Za-z0-9_-]{22}', 160, {
    keywords: ['sk.eyj1ijoi'],
  }),
  prefixed('hubspot-private-app-token', 'hubspot', 'HubSpot private app token', 'high', `pat-(?:na|eu|ap)[0-9]-${UUID}`, 44, {
    keywords: ['pat-na', 'pat-eu', 'pat-ap'],
  }),
  prefixed('asana-pat', 'asana', 'Asana personal access token', 'high', '[0-9]/[0-9]{16}(?:/[0-9]{16})?:[0-9a-f]{32}', 69, {
    keywords: ['/'],
    // The 32 hex digits after the ':'.
    tokenRun: { length: 32, at: [19, 36], starts: [19, 36], after: ':' },
  }),
  named('snyk-api-token', 'snyk', 'Snyk API token', 'high', 'snyk', 20, UUID, 36, ['snyk']),
  prefixed('typeform-pat', 'typeform', 'Typeform personal access token', 'high', 'tfp_[A-Za-z0-9_.=-]{59}', 63, { keywords: ['tfp_'] }),
  prefixed('readme-api-key', 'readme', 'ReadMe API key', 'high', 'rdme_[a-z0-9]{70}', 75, { keywords: ['rdme_'] }),
  prefixed('frameio-api-token', 'frameio', 'Frame.io API token', 'high', 'fio-u-[A-Za-z0-9_=-]{64}', 70, { keywords: ['fio-u-'] }),
  prefixed('intra42-client-secret', 'intra42', '42 Intra client secret', 'high', 's-s4t2(?:ud|af)-[a-f0-9]{64}', 75, {
    keywords: ['s-s4t2'],
  }),
  named('zendesk-api-token', 'zendesk', 'Zendesk API token', 'high', 'zendesk', 20, '[A-Za-z0-9]{40}', 40, ['zendesk']),
  named(
    'launchdarkly-access-token',
    'launchdarkly',
    'LaunchDarkly access token',
    'high',
    'launchdarkly|\\bld[_.-]',
    20,
    `api-${UUID}`,
    40,
    ['launchdarkly', 'ld_', 'ld-', 'ld.'],
  ),
  named('sumologic-access-key', 'sumologic', 'Sumo Logic access key', 'high', 'sumo', 20, '[A-Za-z0-9]{64}', 64, ['sumo']),
  named('travisci-token', 'travisci', 'Travis CI access token', 'high', 'travis', 20, '[A-Za-z0-9]{22}', 22, ['travis']),
  named('codecov-token', 'codecov', 'Codecov upload token', 'medium', 'codecov', 20, UUID, 36, ['codecov']),

  // ---- Private keys
  pem('rsa-private-key', 'RSA private key', 'RSA PRIVATE KEY'),
  pem('ec-private-key', 'EC private key', 'EC PRIVATE KEY'),
  pem('dsa-private-key', 'DSA private key', 'DSA PRIVATE KEY'),
  pem('openssh-private-key', 'OpenSSH private key', 'OPENSSH PRIVATE KEY'),
  pem('pgp-private-key', 'PGP private key block', 'PGP PRIVATE KEY BLOCK'),
  pem('encrypted-private-key', 'Encrypted private key', 'ENCRYPTED PRIVATE KEY'),
  pem('private-key', 'Private key (PKCS#8)', 'PRIVATE KEY'),
  {
    id: 'putty-private-key',
    family: 'private-key',
    title: 'PuTTY private key',
    severity: 'critical',
    pattern: /PuTTY-User-Key-File-[0-9]: [a-z0-9-]{3,40}/g,
    keywords: ['putty-user-key-file-'],
    keywordAt: 0,
    maxLength: 64,
  },

  // ---- Tokens with context, and URLs with passwords
  {
    id: 'jwt',
    family: 'jwt',
    title: 'JSON Web Token',
    severity: 'low',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,400}\.eyJ[A-Za-z0-9_-]{10,1600}\.[A-Za-z0-9_-]{16,700}(?![A-Za-z0-9_-])/g,
    keywords: ['eyj'],
    keywordAt: 0,
    validate: isJwtHeader,
    maxLength: 2708,
  },
  {
    id: 'authorization-bearer',
    family: 'http-auth',
    title: 'Bearer token in an Authorization header (or GitHub-style "token")',
    severity: 'medium',
    pattern: /authorization["']?\s{0,3}[:=]\s{0,3}["']?(?:bearer|token)\s{1,3}([A-Za-z0-9._~+/-]{20,2700}={0,2})/gi,
    keywords: ['authorization'],
    keywordAt: 0,
    secretGroup: 1,
    maxLength: 2750,
  },
  {
    id: 'authorization-basic',
    family: 'http-auth',
    title: 'Basic credentials in an Authorization header',
    severity: 'high',
    pattern: /authorization["']?\s{0,3}[:=]\s{0,3}["']?basic\s{1,3}([A-Za-z0-9+/]{8,300}={0,2})/gi,
    keywords: ['basic'],
    keywordAt: 22,
    secretGroup: 1,
    validate: (s) => Buffer.from(s, 'base64').toString('latin1').includes(':'),
    maxLength: 332,
  },
  {
    id: 'netrc-password',
    family: 'netrc',
    title: 'Password in a .netrc entry',
    severity: 'high',
    pattern: /machine\s{1,3}\S{1,253}\s{1,3}login\s{1,3}\S{1,100}\s{1,3}password\s{1,3}(\S{3,128})/g,
    keywords: ['machine'],
    keywordAt: 0,
    secretGroup: 1,
    validate: (s) => !looksFake(s),
    maxLength: 520,
  },
  {
    id: 'pgpass-password',
    family: 'pgpass',
    title: 'Password in a .pgpass line',
    severity: 'high',
    // host:port:database:user:password, the port a number or '*'; '\:' and '\\' are escapes.
    pattern:
      /(?<![^\s'"=])[A-Za-z0-9*][A-Za-z0-9.*_-]{0,252}:(?:[0-9]{1,5}|\*):[^\s:]{1,63}:[^\s:]{1,63}:((?:\\[\s\S]|[^\s:\\]){6,128})(?![^\s'"])/g,
    // Named near the line (`cat ~/.pgpass`), or PostgreSQL's default port in it.
    keywords: ['pgpass', ':5432:'],
    secretGroup: 1,
    validate: (s) => !looksFake(s),
    maxLength: 253 + 1 + 5 + 1 + 63 + 1 + 63 + 1 + 256,
  },
  urlWithPassword('postgres-url', 'database-url', 'PostgreSQL URL with password', 'postgres|postgresql|postgis|pgsql', [
    'postgres',
    'pgsql',
    'postgis',
  ]),
  urlWithPassword('mysql-url', 'database-url', 'MySQL URL with password', 'mysql|mysql\\+[a-z]{2,12}|mariadb', ['mysql', 'mariadb']),
  urlWithPassword('mongodb-url', 'database-url', 'MongoDB URL with password', 'mongodb|mongodb\\+srv', ['mongodb']),
  urlWithPassword('redis-url', 'database-url', 'Redis URL with password', 'rediss?', ['redis']),
  urlWithPassword('amqp-url', 'database-url', 'AMQP URL with password', 'amqps?', ['amqp']),
  urlWithPassword('mssql-url', 'database-url', 'SQL Server URL with password', 'mssql|sqlserver|jdbc:sqlserver', ['mssql', 'sqlserver']),
  urlWithPassword('url-credentials', 'url-credentials', 'Password in a URL', '[a-z][a-z0-9+.-]{1,20}', ['://']),

  // ---- Generic assignments: last, so every vendor rule wins a tie
  generic('generic-password', 'Password assignment', 'password|passwd|\\bpwd|\\bpass', ['pass', 'pwd']),
  generic('generic-client-secret', 'Client secret assignment', 'client[_.-]?secret|consumer[_.-]?secret|app[_.-]?secret', ['secret']),
  generic('generic-secret', 'Secret assignment', 'secret|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key', [
    'secret',
    'private',
    'signing',
    'encryption',
  ]),
  generic('generic-api-key', 'API key assignment', 'api[_.-]?key|apikey|access[_.-]?key|x-api-key', ['api', 'access']),
  generic('generic-token', 'Token assignment', 'token|auth|credential', ['token', 'auth', 'credential']),
];

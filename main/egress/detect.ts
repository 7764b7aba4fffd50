// Runs the detectors over a piece of text, merges what they find, and redacts it.
//
// Merging: matches that overlap are one finding. The finding spans the union of the overlapping
// matches (so every character any detector flagged is redacted) and takes its label from the
// strongest: most severe first, then format over context over entropy, then a vendor rule over a
// generic assignment, then the longest, then the rule listed first in RULES.

import { findHighEntropy, MAX_TOKEN } from './entropy';
import { looksFake, RULES, type Rule } from './rules';
import type { Detector, DetectorKind, Match, Severity } from './types';

/**
 * The longest match any bounded rule can produce (a Bearer header carrying a maximal JWT). A
 * streaming scanner holding back this many characters cannot miss a secret split across chunks,
 * PEM blocks excepted: those are found by their BEGIN line and redacted through their END line.
 */
export const MAX_MATCH_LENGTH = Math.max(MAX_TOKEN, ...RULES.filter((r) => !r.unbounded).map((r) => r.maxLength));

const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 };
const KIND_RANK: Record<DetectorKind, number> = { format: 3, context: 2, entropy: 1 };

interface Compiled {
  rule: Rule;
  index: number;
  re: RegExp;
}

function compile(rules: Rule[]): Compiled[] {
  return rules.map((rule, index) => {
    const flags = new Set(rule.pattern.flags.split(''));
    flags.add('g');
    flags.add('d');
    return { rule, index, re: new RegExp(rule.pattern.source, [...flags].join('')) };
  });
}

const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
const genericRules = new Set(RULES.filter((r) => r.generic).map((r) => r.id));

export function formatDetector(rules: Rule[] = RULES): Detector {
  const compiled = compile(rules);
  return {
    kind: 'format',
    maxMatchLength: Math.max(...rules.filter((r) => !r.unbounded).map((r) => r.maxLength)),
    find(text: string): Match[] {
      const lower = text.toLowerCase();
      const out: Match[] = [];
      for (const { rule, re } of compiled) {
        if (rule.keywords?.length && !rule.keywords.some((k) => lower.includes(k))) continue;
        re.lastIndex = 0;
        for (const m of text.matchAll(re)) {
          const g = rule.secretGroup ?? 0;
          const span = m.indices?.[g];
          const secret = m[g];
          if (!span || secret === undefined) continue;
          if (looksFake(secret, rule.allowRepeats)) continue;
          if (rule.validate && !rule.validate(secret, m[0])) continue;
          out.push({
            detector: 'format',
            rule: rule.id,
            title: rule.title,
            severity: rule.severity,
            start: span[0],
            end: span[1],
          });
        }
      }
      return out;
    },
  };
}

export function entropyDetector(): Detector {
  return {
    kind: 'entropy',
    maxMatchLength: MAX_TOKEN,
    find(text: string): Match[] {
      return findHighEntropy(text).map((h) => ({
        detector: 'entropy',
        rule: 'entropy',
        title: 'High-entropy string',
        severity: h.severity,
        start: h.start,
        end: h.end,
      }));
    },
  };
}

/** Positive when `a` should label a merged finding over `b`. */
function stronger(a: Match, b: Match): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    KIND_RANK[a.detector] - KIND_RANK[b.detector] ||
    Number(genericRules.has(b.rule)) - Number(genericRules.has(a.rule)) ||
    a.end - a.start - (b.end - b.start) ||
    (ruleIndex.get(b.rule) ?? Infinity) - (ruleIndex.get(a.rule) ?? Infinity)
  );
}

/** Every detector's matches, overlaps merged, sorted by start. */
export function detectAll(text: string, detectors: Detector[]): Match[] {
  const all = detectors.flatMap((d) => d.find(text)).filter((m) => m.end > m.start);
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Match[] = [];
  for (const m of all) {
    const last = merged[merged.length - 1];
    if (last && m.start < last.end) {
      const label = stronger(m, last) > 0 ? m : last;
      merged[merged.length - 1] = { ...label, start: last.start, end: Math.max(last.end, m.end) };
    } else {
      merged.push({ ...m });
    }
  }
  return merged;
}

/** `text` with each match replaced by `[REDACTED:<rule>]`. Matches must not overlap (detectAll's output). */
export function redact(text: string, matches: Match[]): string {
  const sorted = [...matches].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const m of sorted) {
    if (m.start < at) continue;
    out += text.slice(at, m.start) + `[REDACTED:${m.rule}]`;
    at = m.end;
  }
  return out + text.slice(at);
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkBundle } from '../../../policies/bundle.ts';
import { formatDecimal, spentPercent } from '../../../workspace-ui/src/app/format.ts';
import { pageOfSeq, windowOf } from '../../../workspace-ui/src/audit/paging.ts';
import { waitsForOfficers } from '../../../workspace-ui/src/editor/run-waits.ts';
import { decisionOf, domainsOf, levelOf } from '../../../workspace-ui/src/officer/inbox.ts';
import { markerRange, paramProblemPath } from '../../../workspace-ui/src/policy/markers.ts';
import { changedPaths, setAt } from '../../../workspace-ui/src/policy/params.ts';

const CEDAR = readFileSync(new URL('../../../policies/default.cedar', import.meta.url), 'utf8');
const PARAMS = JSON.parse(readFileSync(new URL('../../../policies/disclosure.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('policy problems in the editor', () => {
  it('puts the marker of a real Cedar problem on the word the server names', () => {
    const lines = CEDAR.split('\n');
    const at = lines.findIndex((l, i) => i > 20 && l.startsWith('permit'));
    const broken = lines.map((l, i) => (i === at ? l.replace('permit', 'permitt') : l));
    const r = checkBundle(broken.join('\n'), PARAMS);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const p = r.problems[0];
    if (!p) throw new Error('no problem');
    const range = markerRange(p, broken);
    expect(range).toEqual({ startLineNumber: at + 1, startColumn: 1, endLineNumber: at + 1, endColumn: 1 + 'permitt'.length });
  });

  it('spans an attribute path, a string, or one character; clamps past the text; ignores problems without a line', () => {
    const lines = ['when { resource.ownr == principal };', 'permit (principal == Lab::User::"x", action, resource);'];
    expect(markerRange({ line: 1, column: 8 }, lines)).toMatchObject({ startColumn: 8, endColumn: 16 }); // resource
    expect(markerRange({ line: 2, column: 22 }, lines)).toMatchObject({ startColumn: 22, endColumn: 31 }); // Lab::User (of Lab::User::"x")
    expect(markerRange({ line: 2, column: 33 }, lines)).toMatchObject({ startColumn: 33, endColumn: 36 }); // "x"
    expect(markerRange({ line: 2, column: 19 }, lines)).toMatchObject({ startColumn: 19, endColumn: 20 }); // one character of ==
    expect(markerRange({ line: 2, column: 18 }, lines)).toMatchObject({ startColumn: 18, endColumn: 19 }); // a space: one column
    expect(markerRange({ line: 9, column: 99 }, lines)).toMatchObject({ startLineNumber: 2, endLineNumber: 2 });
    expect(markerRange({ line: null, column: null }, lines)).toBeUndefined();
  });

  it('reads the field of a parameters problem as the server words it', () => {
    const bad = setAt(PARAMS, ['staff', 'threshold'], 1);
    const r = checkBundle(CEDAR, bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const p = r.problems.find((x) => x.line === null);
    expect(p && paramProblemPath(p.message)?.path).toEqual(['staff', 'threshold']);
    expect(paramProblemPath('failed to parse policies')).toBeUndefined();
  });

  it('updates parameters without touching the rest and lists what changed', () => {
    const next = setAt(PARAMS, ['approvals', 'validHours'], 48);
    expect(PARAMS['approvals']).toEqual({ validHours: 72 });
    expect(next['staff']).toBe(PARAMS['staff']);
    expect(changedPaths(PARAMS, next)).toEqual(['approvals.validHours']);
    expect(changedPaths(PARAMS, PARAMS)).toEqual([]);
  });
});

describe('audit paging, newest first', () => {
  it('covers every seq once from the head down to 1', () => {
    const seen: number[] = [];
    for (let page = 1; ; page++) {
      const w = windowOf(123, page, 50);
      if (!w) break;
      for (let s = w.from + w.limit - 1; s >= w.from; s--) seen.push(s);
    }
    expect(seen).toEqual(Array.from({ length: 123 }, (_, i) => 123 - i));
    expect(windowOf(123, 1, 50)).toEqual({ from: 74, limit: 50 });
    expect(windowOf(123, 3, 50)).toEqual({ from: 1, limit: 23 });
    expect(windowOf(0, 1, 50)).toBeUndefined();
  });

  it('finds the page of an entry', () => {
    for (const seq of [1, 23, 24, 73, 74, 123]) {
      const w = windowOf(123, pageOfSeq(123, seq, 50), 50);
      expect(w && seq >= w.from && seq < w.from + w.limit, String(seq)).toBe(true);
    }
  });
});

describe('inbox, budgets and run states', () => {
  it('reads the inbox item loosely typed by the API', () => {
    expect([1, 2, 3, 4, null].map(levelOf)).toEqual(['L1', 'L2', 'L3', 'L4', 'L4']);
    expect(domainsOf({ domains: ['registry', 3, 'health'] })).toEqual(['registry', 'health']);
    expect(domainsOf({ domains: null })).toEqual([]);
    expect(decisionOf({ decision: { decision: 'needs-approval', approvalsRequired: 1, policyVersion: 2, policies: ['researcher-run'] } })?.policies).toEqual(['researcher-run']);
    expect(decisionOf({ decision: 'allow' })).toBeUndefined();
  });

  it('shows exact decimals without trailing zeros and the spent share', () => {
    expect(['1.000000', '0.500000', '3', '10.250', '0.000000'].map(formatDecimal)).toEqual(['1', '0.5', '3', '10.25', '0']);
    expect(spentPercent({ total: '3.000000', spent: '1.000000' })).toBe(33.3);
    expect(spentPercent({ total: '0', spent: '0' })).toBe(0);
    expect(spentPercent({ total: '1', spent: '2' })).toBe(100);
  });

  it('asks for the job only while people are awaited', () => {
    expect(waitsForOfficers({ jobState: 'awaiting_approval', reviewState: null })).toBe(true);
    expect(waitsForOfficers({ jobState: 'succeeded', reviewState: 'pending' })).toBe(true);
    expect(waitsForOfficers({ jobState: 'succeeded', reviewState: 'released' })).toBe(false);
    expect(waitsForOfficers({ jobState: 'running', reviewState: null })).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { z } from 'zod';
import { LabError, t } from '../sandbox/errors/index.ts';

/**
 * A policy bundle: the Cedar policies and the disclosure-rule parameters (thresholds, rounding,
 * ε defaults, approval validity). Both are policy, versioned together in the control database
 * (DESIGN §5: "defaults are policy, editable by officers, versioned and audited").
 */
export interface PolicyBundle {
  readonly cedar: string;
  readonly params: DisclosureParams;
}

const guardParams = z.object({
  threshold: z.number().int().min(3).max(100),
  rounding: z.number().int().min(1).max(100),
  pPercent: z.number().min(0).max(1),
  nkK: z.number().gt(0).max(1),
  maxLevels: z.number().int().min(2).max(1000),
  cellKeyNoise: z.object({ d: z.number().int().min(1).max(10) }).strict().optional(),
}).strict();

/** ε as an exact decimal string (e.g. "0.5"), so budgets add up without floating-point drift. */
const epsilon = z.string().regex(/^(0|[1-9]\d{0,2})(\.\d{1,6})?$/, 'a decimal such as "0.5" (at most 6 decimals)')
  .refine((s) => Number(s) > 0 && Number(s) <= 100, 'between 0 (exclusive) and 100');

export const DisclosureParamsSchema = z.object({
  staff: guardParams,
  researcher: guardParams,
  dp: z.object({
    defaultEpsilon: epsilon,
    maxEpsilonPerJob: epsilon,
    defaultProjectBudget: epsilon,
    mechanism: z.enum(['discrete-laplace', 'discrete-gaussian']),
  }).strict(),
  approvals: z.object({ validHours: z.number().int().min(1).max(24 * 90) }).strict(),
}).strict();
export type DisclosureParams = z.infer<typeof DisclosureParamsSchema>;

const here = new URL('.', import.meta.url);
export const SCHEMA_TEXT = readFileSync(new URL('lab.cedarschema', here), 'utf8');

/** The default bundle shipped in policies/ (the first version a new lab stores). */
export function defaultBundle(): PolicyBundle {
  const params = DisclosureParamsSchema.parse(JSON.parse(readFileSync(new URL('disclosure.json', here), 'utf8')));
  return { cedar: readFileSync(new URL('default.cedar', here), 'utf8'), params };
}

/** One problem in a policy text, where it is. */
export interface PolicyProblem {
  readonly message: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly policyId: string | null;
  readonly help: string | null;
}

/** Line and column (1-based) of a byte offset: Cedar reports offsets into the UTF-8 text. */
function position(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

/** `offsets`: where each policy starts in `text` (bytes), when error locations are relative to one policy. */
function problems(text: string, errors: readonly { policyId?: string; error: cedar.DetailedError }[], offsets?: ReadonlyMap<string, number>): PolicyProblem[] {
  return errors.map(({ policyId, error }) => {
    const loc = error.sourceLocations?.[0] ?? error.related?.flatMap((r) => r.sourceLocations ?? [])[0];
    const base = policyId !== undefined ? (offsets?.get(policyId) ?? 0) : 0;
    const pos = loc ? position(text, base + loc.start) : null;
    return { message: error.message, line: pos?.line ?? null, column: pos?.column ?? null, policyId: policyId ?? null, help: error.help };
  });
}

export type BundleCheck =
  | { readonly ok: true; readonly bundle: PolicyBundle; readonly policyIds: readonly string[] }
  | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

/**
 * Parses, validates against the schema (strict mode) and formats a policy text, and checks the
 * disclosure parameters. Every policy must carry an `@id("…")` annotation: decisions name them.
 */
export function checkBundle(cedarText: string, rawParams: unknown): BundleCheck {
  if (cedarText.length > 200_000) return { ok: false, problems: [{ message: 'policy text longer than 200 000 characters', line: null, column: null, policyId: null, help: null }] };
  const params = DisclosureParamsSchema.safeParse(rawParams);
  if (!params.success) {
    return { ok: false, problems: params.error.issues.map((i) => ({ message: `params.${i.path.join('.')}: ${i.message}`, line: null, column: null, policyId: null, help: null })) };
  }
  const parsed = cedar.checkParsePolicySet({ staticPolicies: cedarText });
  if (parsed.type === 'failure') return { ok: false, problems: problems(cedarText, parsed.errors.map((error) => ({ error }))) };
  const parts = cedar.policySetTextToParts(cedarText);
  if (parts.type === 'failure') return { ok: false, problems: problems(cedarText, parts.errors.map((error) => ({ error }))) };
  const ids: string[] = [];
  const missing: PolicyProblem[] = [];
  for (const policy of parts.policies) {
    const json = cedar.policyToJson(policy);
    const id = json.type === 'success' ? json.json.annotations?.['id'] : undefined;
    if (!id) {
      const firstLine = policy.split('\n').find((l) => l.trim() && !l.trim().startsWith('//')) ?? policy;
      const offset = cedarText.indexOf(firstLine.trim());
      const pos = offset >= 0 ? position(cedarText, Buffer.byteLength(cedarText.slice(0, offset))) : null;
      missing.push({ message: 'every policy needs an @id("…") annotation', line: pos?.line ?? null, column: pos?.column ?? null, policyId: null, help: 'add @id("a-short-name") above the policy' });
    } else if (ids.includes(id)) {
      missing.push({ message: `duplicate @id("${id}")`, line: null, column: null, policyId: id, help: null });
    } else ids.push(id);
  }
  if ((parts.policy_templates).length > 0) missing.push({ message: 'templates are not supported; write static policies', line: null, column: null, policyId: null, help: null });
  if (missing.length > 0) return { ok: false, problems: missing };
  const byId = policiesById(cedarText);
  const offsets = new Map<string, number>();
  for (const [id, policy] of Object.entries(byId)) {
    const at = cedarText.indexOf(policy);
    if (at >= 0) offsets.set(id, Buffer.byteLength(cedarText.slice(0, at)));
  }
  const validation = cedar.validate({ schema: SCHEMA_TEXT, policies: { staticPolicies: byId }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') return { ok: false, problems: problems(cedarText, validation.errors.map((error) => ({ error }))) };
  if (validation.validationErrors.length > 0) return { ok: false, problems: problems(cedarText, validation.validationErrors, offsets) };
  const formatted = cedar.formatPolicies({ policyText: cedarText, lineWidth: 100, indentWidth: 2 });
  const text = formatted.type === 'success' ? formatted.formatted_policy : cedarText;
  return { ok: true, bundle: { cedar: text, params: params.data }, policyIds: ids };
}

/** The policies of a checked text keyed by their @id (so decisions and errors name them). */
export function policiesById(cedarText: string): Record<string, string> {
  const parts = cedar.policySetTextToParts(cedarText);
  if (parts.type === 'failure') throw new Error('policy text does not parse');
  const out: Record<string, string> = {};
  for (const policy of parts.policies) {
    const json = cedar.policyToJson(policy);
    const id = json.type === 'success' ? json.json.annotations?.['id'] : undefined;
    if (!id) throw new Error('a policy without @id');
    out[id] = policy;
  }
  return out;
}

/** `checkBundle` that throws LAB-E130 naming the first problem with its line and column. */
export function requireValidBundle(cedarText: string, rawParams: unknown): PolicyBundle {
  const check = checkBundle(cedarText, rawParams);
  if (check.ok) return check.bundle;
  const first = check.problems[0];
  const where = first?.line ? ` (line ${first.line}, column ${first.column ?? 1})` : '';
  throw new LabError('LAB-E130', {
    detail: t(`${first?.message ?? '策略无效'}${where}`, `${first?.message ?? 'invalid policy'}${where}`),
    field: first?.line ? `cedar:${first.line}:${first.column ?? 1}` : (first?.message.startsWith('params.') ? first.message.split(':')[0] : 'cedar'),
  });
}

import type { Rel } from '../ir/rel.ts';
import { compileExpression } from './expr.compile.ts';
import { ident } from './identifiers.ts';
import { SqlParams } from './sql-params.ts';

export interface CompiledQuery {
  readonly sql: string;
  readonly parameters: readonly (string | number | boolean)[];
}

/** Names of the guard-support columns of an aggregate query. They never leave the domain. */
export const GROUPING_COLUMN = '__grouping';
export const UNITS_COLUMN = '__units';
export const top1Column = (measure: string) => `__top1_${measure}`;
export const top2Column = (measure: string) => `__top2_${measure}`;
/** Number of privacy units whose contribution to a sum or mean is not zero (the guard's threshold applies to it). */
export const nonzeroColumn = (measure: string) => `__nz_${measure}`;
/** Fingerprint of a cell's contributor set: the sum of keyed 64-bit hashes of its distinct units. */
export const FINGERPRINT_COLUMN = '__fp';

export interface CompileOptions {
  /** The domain's secret hash key (a bigint as text); with it, aggregates carry `__fp`. */
  readonly fingerprintKey?: string;
  /**
   * Differentially private releases: each person's contribution to a sum or mean measure (by
   * measure name) is rounded to a whole number and clamped to [lower, upper] before it is added,
   * so one person moves a sum by at most max(|lower|, |upper|).
   */
  readonly clampPerUnit?: Readonly<Record<string, readonly [number, number]>>;
  /** The running job: `member` nodes read the members its protocol steps wrote (lab_psi_member). */
  readonly jobId?: string;
}

/**
 * How a key becomes a protocol item, the same on both sides of a step and in `member` nodes:
 * text, trimmed, upper case (an ID number's check digit X, an address key's letters). With further
 * columns (a join's `alsoKeys`, e.g. a district code) the item is `KEY|DISTRICT`, each part
 * normalised the same way: neither an ID number nor a geography code contains `|`.
 */
export const protocolItemSql = (column: string, also: readonly string[] = []) =>
  [column, ...also].map((c) => `upper(btrim(${c}::text))`).join(` || '|' || `);

/**
 * Compiles a relational plan into one parameterised SELECT (a CTE per plan node). Identifiers come
 * only from the catalog or the planner and pass through `ident`; values only as `$n` parameters.
 *
 * An aggregate yields its keys, `__grouping` (GROUPING() bitmask over the keys: bit set = the key is
 * rolled up in that row), `__units` (distinct privacy units in the cell), each measure, and for sums
 * and means the two largest per-unit contributions (`__top1_<m>`, `__top2_<m>`) for dominance rules
 * and the number of units contributing a non-zero amount (`__nz_<m>`: a sum of a 0/1 indicator is a
 * count, and the count threshold applies to it).
 * Sums and means first add up per privacy unit (person), then across units. With a fingerprint key,
 * also `__fp`: the sum (as text) of hashtextextended(unit, key) over the cell's distinct units, equal
 * for equal contributor sets (the release ledger compares cells across jobs with it).
 */
export function compileRel(root: Rel, asOf: string, options: CompileOptions = {}): CompiledQuery {
  const params = new SqlParams();
  const ctes: string[] = [];
  const names = new Map<Rel, { name: string; columns: readonly string[] }>();

  const emit = (columns: readonly string[], body: string) => {
    const name = `n${ctes.length}`;
    ctes.push(`${ident(name)} AS (${body})`);
    return { name, columns };
  };
  const list = (cols: readonly string[], prefix?: string) => cols.map((c) => (prefix ? `${prefix}.${ident(c)}` : ident(c))).join(', ');

  const visit = (r: Rel): { name: string; columns: readonly string[] } => {
    const known = names.get(r);
    if (known) return known;
    let out: { name: string; columns: readonly string[] };
    switch (r.kind) {
      case 'scan':
        out = emit(r.columns, `SELECT ${list(r.columns)} FROM ${ident(r.table)}`);
        break;
      case 'filter': {
        const input = visit(r.input);
        const where = compileExpression(r.predicate, { params, column: ident, asOf });
        out = emit(input.columns, `SELECT ${list(input.columns)} FROM ${ident(input.name)} WHERE ${where}`);
        break;
      }
      case 'derive': {
        // One level per derived column, so a later column may use an earlier one.
        let cur = visit(r.input);
        for (const d of r.columns) {
          const expr = compileExpression(d.expr, { params, column: ident, asOf });
          cur = emit([...cur.columns, d.name], `SELECT ${list(cur.columns)}, ${expr} AS ${ident(d.name)} FROM ${ident(cur.name)}`);
        }
        out = cur;
        break;
      }
      case 'exists': {
        const input = visit(r.input);
        const pred = r.predicate ? ` AND ${compileExpression(r.predicate, { params, column: (c) => `t.${ident(c)}`, asOf })}` : '';
        out = emit([...input.columns, r.name],
          `SELECT ${list(input.columns, 's')}, EXISTS (SELECT 1 FROM ${ident(r.table)} t WHERE t.${ident(r.tableUnitColumn)} = s.${ident(r.unitColumn)}${pred}) AS ${ident(r.name)} FROM ${ident(input.name)} s`);
        break;
      }
      case 'join': {
        const l = visit(r.left);
        const rt = visit(r.right);
        const on = [`l.${ident(r.leftKey)} = r.${ident(r.rightKey)}`, ...(r.alsoKeys ?? []).map((a) => `l.${ident(a.left)} = r.${ident(a.right)}`)].join(' AND ');
        if (r.joinType === 'semi' || r.joinType === 'anti') {
          out = emit(l.columns, `SELECT ${list(l.columns, 'l')} FROM ${ident(l.name)} l WHERE ${r.joinType === 'anti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${ident(rt.name)} r WHERE ${on})`);
        } else {
          const extra = r.rightColumns.map((c) => `r.${ident(c.from)} AS ${ident(c.as)}`);
          out = emit([...l.columns, ...r.rightColumns.map((c) => c.as)],
            `SELECT ${[list(l.columns, 'l'), ...extra].join(', ')} FROM ${ident(l.name)} l ${r.joinType === 'left' ? 'LEFT JOIN' : 'JOIN'} ${ident(rt.name)} r ON ${on}`);
        }
        break;
      }
      case 'aggregate':
        out = aggregate(r, visit(r.input));
        break;
      case 'tag': {
        // Each input row meets every tag as one VALUES row (tag id bound as a parameter, rule
        // compiled against the input row); the rows whose rule holds are kept.
        const input = visit(r.input);
        const values = r.tags.map((x) => `(${params.add(x.id, 'text')}, ${compileExpression(x.rule, { params, column: (c) => `s.${ident(c)}`, asOf })})`);
        out = emit([...input.columns, r.column],
          `SELECT ${list(input.columns, 's')}, t.${ident(r.column)} FROM ${ident(input.name)} s CROSS JOIN LATERAL (VALUES ${values.join(', ')}) AS t(${ident(r.column)}, ${ident('__hit')}) WHERE t.${ident('__hit')}`);
        break;
      }
      case 'member': {
        const input = visit(r.input);
        if (options.jobId === undefined) throw new Error('a member node compiled without its job');
        const job = params.add(options.jobId, 'text');
        const step = params.add(r.stepId, 'text');
        out = emit(input.columns,
          `SELECT ${list(input.columns, 's')} FROM ${ident(input.name)} s WHERE ${r.negate ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${ident('lab_psi_member')} m WHERE m.${ident('job_id')} = ${job} AND m.${ident('step_id')} = ${step} AND m.${ident('item')} = ${protocolItemSql(`s.${ident(r.key)}`, (r.alsoKeys ?? []).map((c) => `s.${ident(c)}`))})`);
        break;
      }
      case 'face': {
        // LEFT JOIN: a visit the step did not compare (no template, another model) is 'unusable'.
        const input = visit(r.input);
        if (options.jobId === undefined) throw new Error('a face node compiled without its job');
        const job = params.add(options.jobId, 'text');
        const step = params.add(r.stepId, 'text');
        const kept = input.columns.filter((c) => c !== r.face.template);
        out = emit([...kept, r.column],
          `SELECT ${list(kept, 's')}, COALESCE(o.${ident('outcome')}, ${params.add('unusable', 'text')}) AS ${ident(r.column)} FROM ${ident(input.name)} s LEFT JOIN ${ident('lab_face_outcome')} o ON o.${ident('job_id')} = ${job} AND o.${ident('step_id')} = ${step} AND o.${ident('visit_key')} = s.${ident(r.face.key)}::text`);
        break;
      }
      case 'union': {
        const parts = r.inputs.map((x) => `SELECT ${list(r.columns)} FROM ${ident(visit(x).name)}`);
        out = emit(r.columns, parts.join(' UNION ALL '));
        break;
      }
    }
    names.set(r, out);
    return out;
  };

  const aggregate = (r: Extract<Rel, { kind: 'aggregate' }>, input: { name: string; columns: readonly string[] }) => {
    const keys = r.keys;
    const sets = r.groupingSets.map((s) => `(${list(s)})`).join(', ');
    const grouping = keys.length ? `GROUPING(${list(keys)})` : '0';
    const groupBy = keys.length || r.groupingSets.length > 1 ? ` GROUP BY GROUPING SETS (${sets})` : '';
    const additive = r.measures.filter((m) => m.kind === 'sum' || m.kind === 'mean');
    const countUnits = r.unitUnique ? 'count(*)' : `count(DISTINCT ${ident(r.unitColumn)})`;
    const fpKey = options.fingerprintKey === undefined ? undefined : params.add(options.fingerprintKey, 'int');
    const fingerprint = (unique: boolean) => (fpKey === undefined ? [] :
      [`sum(${unique ? '' : 'DISTINCT '}hashtextextended(${ident(r.unitColumn)}::text, ${fpKey}))::text AS ${ident(FINGERPRINT_COLUMN)}`]);
    const fpColumns = fpKey === undefined ? [] : [FINGERPRINT_COLUMN];
    if (additive.length === 0) {
      const cols = r.measures.map((m) => {
        if (m.kind === 'count_persons') return `${countUnits} AS ${ident(m.name)}`;
        return `count(DISTINCT ${ident(m.column ?? '')}) AS ${ident(m.name)}`;
      });
      const select = [...keys.map((k) => ident(k)), `${grouping} AS ${ident(GROUPING_COLUMN)}`, `${countUnits} AS ${ident(UNITS_COLUMN)}`, ...fingerprint(r.unitUnique), ...cols];
      return emit([...keys, GROUPING_COLUMN, UNITS_COLUMN, ...fpColumns, ...r.measures.map((m) => m.name)], `SELECT ${select.join(', ')} FROM ${ident(input.name)}${groupBy}`);
    }
    // Per-unit contributions first (the privacy unit is the person), then the grouping sets.
    const perUnitCols = [...keys, r.unitColumn];
    // (count_distinct is not combined with sums in one node: resolveMeasures refuses it.)
    const perUnit = emit([...perUnitCols, ...additive.map((m) => `v_${m.name}`)],
      `SELECT ${list(perUnitCols)}, ${additive.map((m) => {
        const clamp = options.clampPerUnit?.[m.name];
        const total = `sum(${ident(m.column ?? '')})`;
        const value = clamp ? `LEAST(GREATEST(round(${total}), ${params.add(clamp[0], 'int')}), ${params.add(clamp[1], 'int')})` : total;
        return `${value} AS ${ident(`v_${m.name}`)}`;
      }).join(', ')} FROM ${ident(input.name)} GROUP BY ${list(perUnitCols)}`);
    const cols = r.measures.flatMap((m): string[] => {
      switch (m.kind) {
        case 'count_persons': return [`count(*) AS ${ident(m.name)}`];
        case 'count_distinct': throw new Error('count_distinct with sums in one aggregate');
        case 'sum': case 'mean': {
          const v = ident(`v_${m.name}`);
          const value = m.kind === 'sum' ? `sum(${v})` : `(sum(${v})::numeric / NULLIF(count(*), 0))`;
          return [`${value} AS ${ident(m.name)}`,
            `(array_agg(${v} ORDER BY ${v} DESC NULLS LAST))[1] AS ${ident(top1Column(m.name))}`,
            `(array_agg(${v} ORDER BY ${v} DESC NULLS LAST))[2] AS ${ident(top2Column(m.name))}`,
            `count(*) FILTER (WHERE ${v} <> 0) AS ${ident(nonzeroColumn(m.name))}`];
        }
      }
    });
    const outCols = r.measures.flatMap((m) => (m.kind === 'sum' || m.kind === 'mean' ? [m.name, top1Column(m.name), top2Column(m.name), nonzeroColumn(m.name)] : [m.name]));
    const select = [...keys.map((k) => ident(k)), `${grouping} AS ${ident(GROUPING_COLUMN)}`, `count(*) AS ${ident(UNITS_COLUMN)}`, ...fingerprint(true), ...cols];
    return emit([...keys, GROUPING_COLUMN, UNITS_COLUMN, ...fpColumns, ...outCols], `SELECT ${select.join(', ')} FROM ${ident(perUnit.name)}${groupBy}`);
  };

  const top = visit(root);
  return { sql: `WITH ${ctes.join(',\n')}\nSELECT ${list(top.columns)} FROM ${ident(top.name)}`, parameters: params.values };
}

/**
 * The distinct protocol items of a relation's key column, non-null, in a stable order: one side's
 * input to a PSI step (it never leaves the domain; only blinded points do).
 */
export function compileProtocolItems(root: Rel, key: string, asOf: string, options: CompileOptions = {}, also: readonly string[] = []): CompiledQuery {
  const inner = compileRel(root, asOf, options);
  const item = protocolItemSql(ident(key), also.map((c) => ident(c)));
  const notNull = [key, ...also].map((c) => `${ident(c)} IS NOT NULL`).join(' AND ');
  return { sql: `SELECT DISTINCT ${item} AS ${ident('item')} FROM (${inner.sql}) q WHERE ${notNull} ORDER BY 1`, parameters: inner.parameters };
}

/** The distinct privacy units of a relation (a follow-up list's rows), as text, sorted. */
export function compileUnits(root: Rel, unitColumn: string, asOf: string, options: CompileOptions = {}): CompiledQuery {
  const inner = compileRel(root, asOf, options);
  return { sql: `SELECT DISTINCT ${ident(unitColumn)}::text AS ${ident('unit')} FROM (${inner.sql}) q WHERE ${ident(unitColumn)} IS NOT NULL ORDER BY 1`, parameters: inner.parameters };
}

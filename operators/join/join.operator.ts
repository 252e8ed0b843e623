import { z } from 'zod';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { unify } from '../../sandbox/expr/functions.ts';
import { TYPE_LABELS, type ExprType } from '../../sandbox/expr/types.ts';
import { rel } from '../../sandbox/ir/rel.ts';
import type { RelColumn, RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { defineOperator } from '../define-operator.ts';
import { columnNameRegex, rowsInput } from '../operator-helpers.ts';

export const JOIN_TYPES = ['inner', 'left', 'semi', 'anti'] as const;
export type JoinType = (typeof JOIN_TYPES)[number];

/** At most this many right-hand columns are brought along. */
export const MAX_JOIN_COLUMNS = 20;

const params = z.object({
  /** inner: matching pairs; left: every left row, right columns empty when nothing matches; semi: left rows that match; anti: left rows that do not. */
  type: z.enum(JOIN_TYPES).default('inner'),
  leftKey: z.string().min(1).max(63),
  rightKey: z.string().min(1).max(63),
  /** Right-hand columns to bring along (inner and left joins only), optionally renamed. */
  columns: z.array(z.object({
    column: z.string().min(1).max(63),
    as: z.string().regex(columnNameRegex, 'lower-case letters, digits and _; starts with a letter; at most 40').optional(),
  }).strict()).max(MAX_JOIN_COLUMNS).default([]),
  /**
   * Further column pairs that must be equal as well (`left = right`), e.g. a district code beside the
   * ID number: "this person, registered in this district". Across departments each pair must be a
   * geography code on both sides and becomes part of the protocol item (ID number ‖ district).
   */
  alsoMatch: z.array(z.object({ left: z.string().min(1).max(63), right: z.string().min(1).max(63) }).strict()).max(2).optional(),
}).strict();

type JoinParams = z.infer<typeof params>;

const side = (port: 'left' | 'right') => (port === 'left' ? t('左侧', 'left') : t('右侧', 'right'));

function keyOf(nodeId: string, input: RowsRelation, port: 'left' | 'right', name: string, at?: string): { col: RelColumn; type: ExprType } {
  const field = at ?? (port === 'left' ? 'params.leftKey' : 'params.rightKey');
  const c = input.columns.find((x) => x.name === name);
  if (!c) {
    throw new LabError('LAB-E052', { detail: t(`${side(port).zh}输入中没有列 ${name}`, `the ${side(port).en} input has no column ${name}`), nodeId, field });
  }
  if (c.type === 'bytes') {
    throw new LabError('LAB-E085', { detail: t(`列 ${name} 是二进制数据，不能作为连接键`, `column ${name} holds binary data and cannot be a join key`), nodeId, field });
  }
  return { col: c, type: c.type };
}

/**
 * Checks the parameters against both inputs and gives the output relation and the right-hand
 * columns to bring along. Shared by `infer` and `plan` so both see the same checks.
 */
function resolveJoin(nodeId: string, left: RowsRelation, right: RowsRelation, p: JoinParams): { rows: RowsRelation; bring: { from: string; as: string }[] } {
  const lk = keyOf(nodeId, left, 'left', p.leftKey);
  const rk = keyOf(nodeId, right, 'right', p.rightKey);
  (p.alsoMatch ?? []).forEach((a, i) => {
    const al = keyOf(nodeId, left, 'left', a.left, `params.alsoMatch.${i}.left`);
    const ar = keyOf(nodeId, right, 'right', a.right, `params.alsoMatch.${i}.right`);
    if (al.type === 'null' || ar.type === 'null' || unify([al.type, ar.type]) === undefined) {
      throw new LabError('LAB-E085', {
        detail: t(`附加匹配列 ${a.left}（${TYPE_LABELS[al.type].zh}）与 ${a.right}（${TYPE_LABELS[ar.type].zh}）类型不一致`, `the extra match columns ${a.left} (${TYPE_LABELS[al.type].en}) and ${a.right} (${TYPE_LABELS[ar.type].en}) have different types`),
        nodeId, field: `params.alsoMatch.${i}.right`,
      });
    }
  });
  if (lk.type === 'null' || rk.type === 'null' || unify([lk.type, rk.type]) === undefined) {
    const lt = TYPE_LABELS[lk.type];
    const rt = TYPE_LABELS[rk.type];
    throw new LabError('LAB-E085', {
      detail: t(`左键 ${lk.col.name}（${lt.zh}）与右键 ${rk.col.name}（${rt.zh}）类型不一致`, `left key ${lk.col.name} (${lt.en}) and right key ${rk.col.name} (${rt.en}) have different types`),
      hint: t('请选择类型相同的两列，如身份号码对身份号码、房屋编号对房屋编号', 'Pick two columns of the same type, e.g. ID number to ID number, house number to house number'),
      nodeId, field: 'params.rightKey',
    });
  }
  if ((p.type === 'semi' || p.type === 'anti') && p.columns.length > 0) {
    throw new LabError('LAB-E003', {
      detail: t('“存在匹配”/“不存在匹配”只保留左侧的行，不能带出右侧列', 'semi and anti joins keep only the left rows; they bring no right-hand columns'),
      nodeId, field: 'params.columns',
    });
  }
  const names = new Set(left.columns.map((c) => c.name));
  const bring: { from: string; as: string }[] = [];
  const added: RelColumn[] = [];
  p.columns.forEach((c, i) => {
    const at = `params.columns.${i}`;
    const col = right.columns.find((x) => x.name === c.column);
    if (!col) throw new LabError('LAB-E052', { detail: t(`右侧输入中没有列 ${c.column}`, `the right input has no column ${c.column}`), nodeId, field: `${at}.column` });
    const as = c.as ?? c.column;
    if (names.has(as)) {
      throw new LabError('LAB-E064', {
        detail: t(`输出中已有列 ${as}`, `the output already has a column named ${as}`),
        hint: t('用“改名为”给右侧列换一个名字', 'Give the right-hand column another name with "as"'),
        nodeId, field: c.as !== undefined ? `${at}.as` : `${at}.column`,
      });
    }
    names.add(as);
    bring.push({ from: col.name, as });
    // Classification travels with the column (I3): an identifier brought along stays one.
    added.push({ ...col, name: as, nullable: col.nullable || p.type === 'left' });
  });
  // Does a left row appear at most once in the output? Semi and anti joins never repeat it; inner
  // and left joins keep it unique only when the right key is the right side's unique unit column.
  const rightKeyUnique = right.unit.unique === true && right.unit.column === rk.col.name;
  const unique = left.unit.unique === true && (p.type === 'semi' || p.type === 'anti' || rightKeyUnique);
  // A right-hand column has one value per left person only when it is a function of a left key
  // with one value per person (tenancy → house district is not: a tenant may rent several houses).
  const perUnit = rightKeyUnique && lk.col.perUnit === true;
  for (let i = 0; i < added.length; i++) {
    const { perUnit: _p, ...rest } = added[i] as RelColumn;
    added[i] = perUnit ? { ...rest, perUnit: true } : rest;
  }
  const rows: RowsRelation = {
    kind: 'rows',
    // Two domains here: the planner makes a semi/anti join on identifiers a PSI step (the left rows stay in their domain) and refuses anything else.
    domain: left.domain,
    unit: { column: left.unit.column, kind: left.unit.kind, ...(unique ? { unique: true } : {}) },
    columns: [...left.columns, ...added],
    datasets: [...new Set([...left.datasets, ...right.datasets])],
  };
  return { rows, bring };
}

export const join = defineOperator({
  id: 'join', version: 1,
  label: { zh: '关联', en: 'Join' },
  help: {
    zh: '按键列关联两份明细数据，如租住登记按房屋编号关联出租屋以取得房屋所在区。类型：内连接、左连接、存在匹配（semi）、不存在匹配（anti）。身份号码等标识信息可作为连接键，但仍不能分组或输出；一人多行时统计仍按不同人计数。跨部门（数据碰撞）只能做存在匹配/不存在匹配，键须为身份号码或标准地址编码：通过加密协议（PSI）完成，明细不出域。',
    en: 'Join two row sets on a key column, e.g. tenancies to rental houses by house number to get the house district. Types: inner, left, semi (rows that match), anti (rows that do not). Identifiers such as the ID number may be join keys but still never be grouped on or output; when a person gets several rows, counts still count distinct persons. Across departments (data collision) only semi and anti joins on ID numbers or normalised address keys, through an encrypted protocol (PSI): no row leaves its department.',
  },
  category: 'transform',
  params,
  ui: {
    leftKey: { widget: 'column', port: 'left' },
    rightKey: { widget: 'column', port: 'right' },
  },
  inputs: { left: 'rows', right: 'rows' },
  outputs: { rows: 'rows' },
  policyAction: 'transform',
  infer: ({ nodeId, params: p, inputs }) => {
    const left = rowsInput(nodeId, inputs, 'left');
    const right = rowsInput(nodeId, inputs, 'right');
    return { rows: resolveJoin(nodeId, left, right, p).rows };
  },
  plan: ({ nodeId, params: p, inputs, inferredInputs }) => {
    const left = rowsInput(nodeId, inferredInputs, 'left');
    const right = rowsInput(nodeId, inferredInputs, 'right');
    const l = inputs['left'];
    const r = inputs['right'];
    if (!l || !r) throw new Error('join planned without inputs');
    const { bring } = resolveJoin(nodeId, left, right, p);
    return { rows: rel.join(p.type, l, r, p.leftKey, p.rightKey, bring, p.alsoMatch ?? []) };
  },
});

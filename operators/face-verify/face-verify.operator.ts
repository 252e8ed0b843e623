import { z } from 'zod';
import { SYNTHETIC_DIMENSION, SYNTHETIC_MODEL_ID, SYNTHETIC_THRESHOLD } from '../../sandbox/crypto/face-match/templates.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import { rel, type FaceCompareSpec } from '../../sandbox/ir/rel.ts';
import type { RelColumn, RowsRelation } from '../../sandbox/pipeline/relation.ts';
import { defineOperator } from '../define-operator.ts';
import { rowsInput } from '../operator-helpers.ts';

/** The column face-verify adds. */
export const FACE_OUTCOME_COLUMN = 'face_outcome';
export const FACE_OUTCOMES = ['pass', 'fail', 'unusable'] as const;
/** The dataset the reference holder (the registry) reads its templates from. */
export const REFERENCE_DATASET = 'registry.reference_photo';

/** The visit columns the comparison reads: the visit's own key, the lookup key, the template and its model, why none was made. */
const NEEDED = { key: 'visit_id', lookup: 'id_number', template: 'face_template', modelColumn: 'face_model_id', unusableColumn: 'face_unusable' } as const;

/** Dimensions of the models the lab knows by name; any other model names its dimension. */
const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = { [SYNTHETIC_MODEL_ID]: SYNTHETIC_DIMENSION };

const params = z.object({
  /** Only templates of this model are compared; a visit whose template is of another model is 'unusable'. */
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/).default(SYNTHETIC_MODEL_ID),
  /** Pass when the cosine is at least this; default: the model's own threshold (synthetic-128: 0.5). */
  threshold: z.number().min(0.05).max(0.99).optional(),
  /** Template length of a model the lab does not know by name. */
  dimension: z.number().int().min(64).max(4096).optional(),
}).strict();

type Params = z.infer<typeof params>;

/** The comparison a node asks for: the columns, the model, its dimension and threshold (LAB-E146, LAB-E147). */
export function faceCompareSpec(nodeId: string, p: Params, input: RowsRelation): FaceCompareSpec {
  const missing = Object.values(NEEDED).filter((n) => !input.columns.some((c) => c.name === n));
  const template = input.columns.find((c) => c.name === NEEDED.template);
  const lookup = input.columns.find((c) => c.name === NEEDED.lookup);
  if (missing.length > 0 || template?.semantic !== 'face_template' || lookup?.semantic !== 'id_number') {
    throw new LabError('LAB-E146', {
      detail: t(`输入缺少列：${missing.join('、') || NEEDED.template}（须是网格走访记录 grid.visit）`, `the input lacks ${missing.join(', ') || NEEDED.template} (it must be grid visits, grid.visit)`),
      hint: t('把人证核验接在“网格走访”数据源（可先按时段筛选）之后', 'Connect face verification to the grid visits source (filtered to the period first, if needed)'),
      nodeId, field: 'inputs.rows',
    });
  }
  const model = p.model ?? SYNTHETIC_MODEL_ID;
  const dimension = p.dimension ?? KNOWN_DIMENSIONS[model];
  if (dimension === undefined || dimension % 64 !== 0) {
    throw new LabError('LAB-E147', {
      detail: t(`模型 ${model} 的特征维数未知或不是 64 的倍数`, `the template length of model ${model} is unknown or not a multiple of 64`),
      hint: t('填写 dimension（该模型特征模板的维数）', 'Set dimension (the length of the model\u2019s templates)'), nodeId, field: 'params.dimension',
    });
  }
  if (p.dimension !== undefined && KNOWN_DIMENSIONS[model] !== undefined && KNOWN_DIMENSIONS[model] !== p.dimension) {
    throw new LabError('LAB-E147', { detail: t(`模型 ${model} 的维数是 ${KNOWN_DIMENSIONS[model]}`, `model ${model} has ${KNOWN_DIMENSIONS[model]} values per template`), nodeId, field: 'params.dimension' });
  }
  const threshold = p.threshold ?? (model === SYNTHETIC_MODEL_ID ? SYNTHETIC_THRESHOLD : undefined);
  if (threshold === undefined) {
    throw new LabError('LAB-E147', { detail: t(`模型 ${model} 没有默认阈值`, `model ${model} has no default threshold`), hint: t('填写 threshold（余弦相似度阈值）', 'Set threshold (the cosine similarity threshold)'), nodeId, field: 'params.threshold' });
  }
  return { ...NEEDED, modelId: model, dimension, threshold };
}

const outcomeColumn: RelColumn = {
  name: FACE_OUTCOME_COLUMN, type: 'text', semantic: 'category', level: 'L2', identifierOrigins: [], nullable: false,
  label: { zh: '核验结果', en: 'Verification outcome' },
  values: {
    pass: { zh: '通过（人证一致）', en: 'Pass (same person)' },
    fail: { zh: '不通过（人证不一致）', en: 'Fail (not the card holder)' },
    unusable: { zh: '无法核验', en: 'Unusable' },
  },
};

/**
 * Face verification (人证核验, S5): each grid visit's field template is compared with the registry's
 * reference template of the visit's ID number by an encrypted protocol step (CKKS: the grid domain
 * holds the keys and learns pass / fail, the registry multiplies under encryption and learns only
 * the ID numbers asked about; docs/protocols.md). Output: the visits with `face_outcome`
 * ('pass' | 'fail' | 'unusable': no usable template, another model, or no reference of that model).
 * The template column is dropped (L4: never output, never grouped). Counts by district go through
 * the disclosure guard; the fails can feed a follow-up list kept in the grid domain (I6).
 */
export const faceVerify = defineOperator({
  id: 'face-verify', version: 1,
  label: { zh: '人证核验', en: 'Face verification' },
  help: {
    zh: '把走访现场照片的人脸特征与人口库中该身份证号的证件照特征做加密比对（特征不出域，人口库看不到结果），每条走访得到核验结果：通过、不通过或无法核验（无可用照片、模型不同或无证件照）。可按区统计各结果的人数；不通过的可生成随访名单，留在网格部门内。',
    en: 'Compare each visit\u2019s field-photo face template with the registry\u2019s reference template of the same ID number under encryption (templates never leave their department; the registry never sees an outcome). Each visit gets an outcome: pass, fail, or unusable (no usable photo, another model, or no reference). Count outcomes by district; send the fails to a follow-up list kept in the grid department.',
  },
  category: 'transform',
  params,
  ui: { model: { widget: 'text' } },
  inputs: { rows: 'rows' },
  outputs: { rows: 'rows' },
  policyAction: 'transform',
  infer: ({ nodeId, params: p, inputs }) => {
    const input = rowsInput(nodeId, inputs, 'rows');
    const spec = faceCompareSpec(nodeId, p, input);
    if (input.columns.some((c) => c.name === FACE_OUTCOME_COLUMN)) {
      throw new LabError('LAB-E146', { detail: t('输入已经核验过（已有 face_outcome 列）', 'the input is verified already (it has face_outcome)'), nodeId, field: 'inputs.rows' });
    }
    return {
      rows: {
        ...input,
        columns: [...input.columns.filter((c) => c.name !== spec.template), outcomeColumn],
        datasets: [...new Set([...input.datasets, REFERENCE_DATASET])].sort(),
      },
    };
  },
  plan: ({ nodeId, params: p, inputs, inferredInputs }) => {
    const input = rowsInput(nodeId, inferredInputs, 'rows');
    const r = inputs['rows'];
    if (!r) throw new Error('face-verify planned without input');
    return { rows: rel.face(r, faceStepId(nodeId), faceCompareSpec(nodeId, p, input), FACE_OUTCOME_COLUMN) };
  },
});

/** The protocol step of a face-verify node (`~` never occurs in a node id). */
export const faceStepId = (nodeId: string) => `face~${nodeId}`;

import type { Classification, SemanticType } from './types.ts';

/**
 * Derivations of an identifier that the catalog declares safe to output or group by (I3): the
 * result no longer identifies a person. Everything else derived from an identifier stays an
 * identifier (`substr(id_number, 1, 6)` is still the ID's classification; `region_of_id(id_number)`
 * is declared here). Changing this list is a policy decision: review it like a policy.
 */
export interface SafeDerivation {
  readonly fn: string;
  readonly from: SemanticType;
  readonly semantic: SemanticType;
  readonly level: Classification;
  readonly why: { readonly zh: string; readonly en: string };
}

export const SAFE_DERIVATIONS: readonly SafeDerivation[] = [
  { fn: 'region_of_id', from: 'id_number', semantic: 'category', level: 'L2', why: { zh: '身份号码前 6 位为户籍地行政区划代码，数万人共享', en: 'the first six digits are the region of origin, shared by tens of thousands' } },
  { fn: 'province_of_id', from: 'id_number', semantic: 'category', level: 'L2', why: { zh: '前 2 位为省级代码', en: 'the first two digits are the province' } },
  { fn: 'sex_from_id', from: 'id_number', semantic: 'category', level: 'L2', why: { zh: '第 17 位奇偶为性别', en: 'the parity of digit 17 is the sex' } },
  { fn: 'age_from_id', from: 'id_number', semantic: 'measure', level: 'L3', why: { zh: '由出生日期算出的周岁，与出生日期同级', en: 'age in full years from the embedded birth date; as sensitive as a birth date' } },
  { fn: 'birth_date_from_id', from: 'id_number', semantic: 'date', level: 'L3', why: { zh: '出生日期（L3），与人口库出生日期同级', en: 'the birth date (L3), as sensitive as the registry birth date' } },
];

export const safeDerivation = (fn: string, from: SemanticType): SafeDerivation | undefined =>
  SAFE_DERIVATIONS.find((d) => d.fn === fn && d.from === from);

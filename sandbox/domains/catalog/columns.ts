import type { Bilingual, Classification, ColumnSpec, ColumnType, SemanticType } from './types.ts';

/** Small builders so each dataset reads as a table of columns. */
const col = (
  name: string, type: ColumnType, semantic: SemanticType, level: Classification, zh: string, en: string,
  extra: Partial<ColumnSpec> = {},
): ColumnSpec => ({ name, type, semantic, level, label: { zh, en }, ...extra });

export const c = {
  idNumber: (name = 'id_number', zh = '公民身份号码', en = 'Citizen ID number') => col(name, 'text', 'id_number', 'L4', zh, en),
  recordId: (name: string, zh: string, en: string) => col(name, 'bigint', 'record_id', 'L2', zh, en),
  personName: () => col('name', 'text', 'name', 'L3', '姓名', 'Name'),
  phone: () => col('phone', 'text', 'phone', 'L3', '联系电话', 'Phone', { nullable: true }),
  address: (name = 'address', zh = '详细地址', en = 'Detailed address') => col(name, 'text', 'address', 'L3', zh, en),
  addressKey: () => col('address_key', 'text', 'address', 'L3', '标准地址编码', 'Normalised address key'),
  date: (name: string, zh: string, en: string, level: Classification = 'L2', nullable = false) =>
    col(name, 'date', 'date', level, zh, en, { nullable }),
  category: (name: string, zh: string, en: string, values: Record<string, Bilingual>, level: Classification = 'L2', nullable = false) =>
    col(name, 'text', 'category', level, zh, en, { values, nullable }),
  measure: (name: string, type: 'int' | 'numeric', zh: string, en: string, bounds: readonly [number, number], level: Classification = 'L2') =>
    col(name, type, 'measure', level, zh, en, { bounds }),
  flag: (name: string, zh: string, en: string, level: Classification = 'L2') => col(name, 'boolean', 'flag', level, zh, en),
  text: (name: string, zh: string, en: string, level: Classification = 'L2', nullable = false) => col(name, 'text', 'text', level, zh, en, { nullable }),
  /** An int8 face template (bytea): an identifier, L4 — never output, never grouped on (I3). */
  faceTemplate: (name: string) => col(name, 'bytea', 'face_template', 'L4', '人脸特征模板', 'Face template', { nullable: true }),
  photo: (name = 'photo_ref') => col(name, 'text', 'photo', 'L4', '照片', 'Photo reference', { nullable: true }),
  /** The four geography columns of a located row (district → street → community → grid). */
  geo: (prefix = '', zhPrefix = '', enPrefix = ''): ColumnSpec[] => [
    col(`${prefix}district_code`, 'text', 'geo_code', 'L1', `${zhPrefix}区`, `${enPrefix}district`.trim(), { geoLevel: 'district' }),
    col(`${prefix}street_code`, 'text', 'geo_code', 'L1', `${zhPrefix}街道（镇）`, `${enPrefix}street / town`.trim(), { geoLevel: 'street' }),
    col(`${prefix}community_code`, 'text', 'geo_code', 'L1', `${zhPrefix}社区（村）`, `${enPrefix}community / village`.trim(), { geoLevel: 'community' }),
    col(`${prefix}grid_code`, 'text', 'geo_code', 'L1', `${zhPrefix}网格`, `${enPrefix}grid`.trim(), { geoLevel: 'grid' }),
  ],
};

export const SEX = { M: { zh: '男', en: 'Male' }, F: { zh: '女', en: 'Female' } } as const;
export const HOUSEHOLD_TYPE = { local: { zh: '户籍', en: 'Registered (hukou)' }, floating: { zh: '流动', en: 'Floating' } } as const;

import { c, SEX } from './columns.ts';
import type { DatasetSpec } from './types.ts';

export const CHRONIC_CONDITIONS = {
  hypertension: { zh: '高血压', en: 'Hypertension' }, diabetes: { zh: '糖尿病', en: 'Diabetes' },
  copd: { zh: '慢阻肺', en: 'COPD' }, heart_disease: { zh: '冠心病', en: 'Coronary heart disease' },
  stroke: { zh: '脑卒中', en: 'Stroke' }, severe_mental: { zh: '严重精神障碍', en: 'Severe mental disorder' },
} as const;

export const healthDatasets: DatasetSpec[] = [
  {
    id: 'health.chronic_condition', domain: 'health', table: 'chronic_condition',
    label: { zh: '慢病管理', en: 'Chronic conditions' },
    description: { zh: '基层慢病管理档案：病种、确诊与最近随访日期、管理社区', en: 'Primary-care chronic disease register: condition, diagnosis and last follow-up dates, managing community' },
    unit: { column: 'id_number', kind: 'person', placePerUnit: true },
    columns: [
      c.recordId('record_id', '档案编号', 'Record number'),
      c.idNumber(),
      c.category('condition', '病种', 'Condition', CHRONIC_CONDITIONS, 'L3'),
      c.date('diagnosed_on', '确诊日期', 'Diagnosed on', 'L3'),
      c.date('last_visit_on', '最近随访日期', 'Last follow-up on', 'L3'),
      ...c.geo(),
    ],
  },
  {
    id: 'health.pregnancy', domain: 'health', table: 'pregnancy',
    label: { zh: '孕产妇登记', en: 'Pregnancies' },
    description: { zh: '孕产妇建册登记', en: 'Maternal health registrations' },
    unit: { column: 'id_number', kind: 'person', placePerUnit: true },
    columns: [
      c.recordId('pregnancy_id', '登记编号', 'Registration number'),
      c.idNumber(),
      c.date('registered_on', '建册日期', 'Registered on', 'L3'),
      c.date('expected_delivery', '预产期', 'Expected delivery', 'L3'),
      c.category('status', '状态', 'Status', {
        ongoing: { zh: '孕期', en: 'Ongoing' }, delivered: { zh: '已分娩', en: 'Delivered' }, ended: { zh: '终止', en: 'Ended' },
      }, 'L3'),
      ...c.geo(),
    ],
  },
  {
    id: 'health.birth', domain: 'health', table: 'birth',
    label: { zh: '出生医学证明', en: 'Births' },
    description: { zh: '出生登记（母亲身份号码、出生日期、性别、出生地区）', en: 'Birth records (mother ID number, date, sex, district of birth)' },
    unit: { column: 'mother_id_number', kind: 'person' },
    columns: [
      c.recordId('birth_id', '出生证编号', 'Birth certificate number'),
      c.idNumber('mother_id_number', '母亲身份号码', 'Mother ID number'),
      c.date('birth_date', '出生日期', 'Date of birth'),
      c.category('sex', '性别', 'Sex', SEX),
      c.text('district_code', '出生地区', 'District of birth', 'L1'),
    ],
  },
];

import { c } from './columns.ts';
import type { DatasetSpec } from './types.ts';

export const civilDatasets: DatasetSpec[] = [
  {
    id: 'civil.elderly_alone', domain: 'civil', table: 'elderly_alone',
    label: { zh: '独居（孤寡）老人', en: 'Elderly living alone' },
    description: { zh: '民政排查认定的独居、孤寡老人', en: 'Elderly people living alone as identified by civil-affairs surveys' },
    unit: { column: 'id_number', kind: 'person', placePerUnit: true },
    columns: [
      c.idNumber(),
      c.category('kind', '类别', 'Kind', { alone: { zh: '独居', en: 'Living alone' }, childless: { zh: '孤寡', en: 'Childless and alone' } }),
      c.date('since', '认定日期', 'Since'),
      ...c.geo(),
    ],
  },
  {
    id: 'civil.disability', domain: 'civil', table: 'disability',
    label: { zh: '残疾人证', en: 'Disability certificates' },
    description: { zh: '残疾类别与等级', en: 'Disability type and grade' },
    unit: { column: 'id_number', kind: 'person', placePerUnit: true },
    columns: [
      c.idNumber(),
      c.category('disability_type', '残疾类别', 'Disability type', {
        visual: { zh: '视力', en: 'Visual' }, hearing: { zh: '听力', en: 'Hearing' }, speech: { zh: '言语', en: 'Speech' },
        physical: { zh: '肢体', en: 'Physical' }, intellectual: { zh: '智力', en: 'Intellectual' }, mental: { zh: '精神', en: 'Mental' },
      }, 'L3'),
      c.category('grade', '等级', 'Grade', { '1': { zh: '一级', en: 'Grade 1' }, '2': { zh: '二级', en: 'Grade 2' }, '3': { zh: '三级', en: 'Grade 3' }, '4': { zh: '四级', en: 'Grade 4' } }, 'L3'),
      c.date('certified_on', '发证日期', 'Certified on'),
      ...c.geo(),
    ],
  },
  {
    id: 'civil.subsidy', domain: 'civil', table: 'subsidy',
    label: { zh: '社会救助与补贴', en: 'Assistance and allowances' },
    description: { zh: '低保、特困供养、高龄津贴、残疾人两项补贴', en: 'Minimum living allowance, extreme-poverty support, old-age allowance, disability allowances' },
    unit: { column: 'id_number', kind: 'person', placePerUnit: true },
    columns: [
      c.recordId('subsidy_id', '救助编号', 'Assistance record number'),
      c.idNumber(),
      c.category('subsidy_type', '救助类型', 'Assistance type', {
        dibao: { zh: '低保', en: 'Minimum living allowance (dibao)' }, tekun: { zh: '特困供养', en: 'Extreme-poverty support' },
        old_age: { zh: '高龄津贴', en: 'Old-age allowance' }, disability_care: { zh: '残疾人补贴', en: 'Disability allowance' },
      }, 'L3'),
      c.measure('monthly_amount', 'int', '月发放金额（元）', 'Monthly amount (CNY)', [0, 5_000], 'L3'),
      c.date('since', '起始日期', 'Since'),
      c.date('until', '终止日期', 'Until', 'L2', true),
      ...c.geo(),
    ],
  },
  {
    id: 'civil.death', domain: 'civil', table: 'death',
    label: { zh: '死亡登记', en: 'Deaths' },
    description: { zh: '殡葬与死亡医学证明登记', en: 'Death registrations (funeral and medical certificates)' },
    unit: { column: 'id_number', kind: 'person' },
    columns: [
      c.idNumber(),
      c.date('death_date', '死亡日期', 'Date of death'),
      c.text('district_code', '登记区', 'District of registration', 'L1'),
    ],
  },
];

import { c } from './columns.ts';
import type { DatasetSpec } from './types.ts';

export const socialDatasets: DatasetSpec[] = [
  {
    id: 'social.employment', domain: 'social', table: 'employment',
    label: { zh: '就业登记', en: 'Employment records' },
    description: { zh: '用工备案：单位所在区与起止日期', en: 'Employment filings: employer district and start/end dates' },
    unit: { column: 'id_number', kind: 'person' },
    columns: [
      c.recordId('employment_id', '就业登记编号', 'Employment record number'),
      c.idNumber(),
      c.category('industry', '行业', 'Industry', {
        manufacturing: { zh: '制造业', en: 'Manufacturing' }, construction: { zh: '建筑业', en: 'Construction' },
        retail: { zh: '批发零售', en: 'Wholesale & retail' }, logistics: { zh: '交通物流', en: 'Transport & logistics' },
        hospitality: { zh: '住宿餐饮', en: 'Hospitality' }, it: { zh: '信息技术', en: 'Information technology' },
        services: { zh: '居民服务', en: 'Resident services' }, public: { zh: '公共管理', en: 'Public administration' },
      }),
      ...c.geo('work_', '工作地', 'Workplace '),
      c.date('start_date', '入职日期', 'Start date'),
      c.date('end_date', '离职日期', 'End date', 'L2', true),
      c.measure('monthly_wage', 'int', '月工资（元）', 'Monthly wage (CNY)', [0, 100_000], 'L3'),
    ],
  },
  {
    id: 'social.insurance', domain: 'social', table: 'insurance',
    label: { zh: '社保参保', en: 'Social insurance' },
    description: { zh: '参保险种、缴费基数、首次与最近缴费月份', en: 'Insurance type, contribution base, first and latest paid month' },
    unit: { column: 'id_number', kind: 'person' },
    columns: [
      c.idNumber(),
      c.category('insurance_type', '险种', 'Insurance type', {
        pension: { zh: '养老保险', en: 'Pension' }, medical: { zh: '医疗保险', en: 'Medical' },
        unemployment: { zh: '失业保险', en: 'Unemployment' },
      }),
      c.measure('contribution_base', 'int', '缴费基数（元）', 'Contribution base (CNY)', [0, 40_000], 'L3'),
      c.date('first_paid_month', '首次缴费月份', 'First paid month'),
      c.date('last_paid_month', '最近缴费月份', 'Latest paid month'),
    ],
  },
];

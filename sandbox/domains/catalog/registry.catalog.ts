import { c, HOUSEHOLD_TYPE, SEX } from './columns.ts';
import type { DatasetSpec } from './types.ts';

export const registryDatasets: DatasetSpec[] = [
  {
    id: 'registry.household', domain: 'registry', table: 'household',
    label: { zh: '户', en: 'Households' },
    description: { zh: '户籍户与流动人口居住登记户，含户所在网格', en: 'Registered (hukou) households and floating-population residence households, with their grid' },
    unit: { column: 'household_id', kind: 'event', placePerUnit: true },
    columns: [
      c.recordId('household_id', '户编号', 'Household number'),
      c.category('household_type', '户类型', 'Household type', HOUSEHOLD_TYPE),
      c.address(),
      ...c.geo(),
      c.date('created_on', '立户日期', 'Created on'),
    ],
  },
  {
    id: 'registry.person', domain: 'registry', table: 'person',
    label: { zh: '人口基础信息', en: 'Persons' },
    description: {
      zh: '户籍人口与登记的流动人口；地理编码为现居住登记地',
      en: 'Registered residents and registered floating people; geography is the registered place of residence',
    },
    unit: { column: 'id_number', kind: 'person', unique: true },
    columns: [
      c.recordId('person_id', '人员编号（本域）', 'Person number (domain-local)'),
      c.idNumber(),
      c.personName(),
      c.category('sex', '性别', 'Sex', SEX),
      c.date('birth_date', '出生日期', 'Date of birth', 'L3'),
      c.phone(),
      c.recordId('household_id', '户编号', 'Household number'),
      c.category('household_type', '户口类型', 'Household type', HOUSEHOLD_TYPE),
      c.text('native_region_code', '户籍地行政区划代码', 'Region code of origin (hukou)', 'L2'),
      ...c.geo(),
      c.address(),
      c.date('registered_on', '登记日期', 'Registered on'),
      c.category('status', '登记状态', 'Registration status', {
        active: { zh: '有效', en: 'Active' }, deregistered: { zh: '已注销', en: 'Deregistered' },
      }),
      c.date('deregistered_on', '注销日期', 'Deregistered on', 'L2', true),
    ],
  },
  {
    id: 'registry.reference_photo', domain: 'registry', table: 'reference_photo',
    label: { zh: '证件照', en: 'Reference photos' },
    description: { zh: '身份证制证照片（人证核验比对底库）', en: 'ID-card reference photos (the face-verification gallery)' },
    unit: { column: 'id_number', kind: 'person' },
    columns: [
      c.idNumber(),
      c.photo('photo_ref'),
      c.date('captured_on', '采集日期', 'Captured on'),
      c.text('model_id', '人脸特征模型', 'Face template model', 'L2', true),
      c.faceTemplate('template'),
    ],
  },
];

import { c } from './columns.ts';
import type { DatasetSpec } from './types.ts';

export const housingDatasets: DatasetSpec[] = [
  {
    id: 'housing.rental_house', domain: 'housing', table: 'rental_house',
    label: { zh: '出租屋', en: 'Rental houses' },
    description: { zh: '出租屋基础信息（含城中村），标准地址编码用于跨部门碰撞', en: 'Rental houses (including urban villages); the normalised address key is used for cross-department matching' },
    unit: { column: 'house_id', kind: 'house', unique: true },
    columns: [
      c.recordId('house_id', '房屋编号', 'House number'),
      c.address(),
      c.addressKey(),
      c.idNumber('owner_id_number', '房东身份号码', 'Owner ID number'),
      ...c.geo(),
      c.flag('urban_village', '是否城中村', 'In an urban village', 'L1'),
      c.measure('rooms', 'int', '间数', 'Rooms', [1, 60]),
      c.measure('area_m2', 'int', '面积（平方米）', 'Area (m²)', [5, 2_000]),
      c.date('registered_on', '登记日期', 'Registered on'),
    ],
  },
  {
    id: 'housing.tenancy', domain: 'housing', table: 'tenancy',
    label: { zh: '租住登记', en: 'Tenancies' },
    description: { zh: '承租人、房屋与起止日期', en: 'Tenant, house and start/end dates' },
    unit: { column: 'tenant_id_number', kind: 'person' },
    columns: [
      c.recordId('tenancy_id', '租住编号', 'Tenancy number'),
      c.recordId('house_id', '房屋编号', 'House number'),
      c.idNumber('tenant_id_number', '承租人身份号码', 'Tenant ID number'),
      c.date('start_date', '起租日期', 'Start date'),
      c.date('end_date', '退租日期', 'End date', 'L2', true),
    ],
  },
  {
    id: 'housing.self_declaration', domain: 'housing', table: 'self_declaration',
    label: { zh: '出租屋自主申报', en: 'Landlord self-declarations' },
    description: { zh: '房东通过自主申报渠道登记的出租信息', en: 'Rental declarations filed by landlords themselves' },
    unit: { column: 'house_id', kind: 'house' },
    columns: [
      c.recordId('declaration_id', '申报编号', 'Declaration number'),
      c.recordId('house_id', '房屋编号', 'House number'),
      c.date('declared_on', '申报日期', 'Declared on'),
    ],
  },
];

import { c } from './columns.ts';
import type { DatasetSpec } from './types.ts';

export const gridDatasets: DatasetSpec[] = [
  {
    id: 'grid.visit', domain: 'grid', table: 'visit',
    label: { zh: '网格员走访', en: 'Grid-worker visits' },
    description: { zh: '网格员入户走访采集：人员、住址、现场照片（人证核验用）', en: 'Grid-worker household visits: person seen, address, field photo (for face verification)' },
    unit: { column: 'id_number', kind: 'person' },
    columns: [
      c.recordId('visit_id', '走访编号', 'Visit number'),
      c.idNumber(),
      c.addressKey(),
      ...c.geo(),
      c.date('visited_on', '走访日期', 'Visited on'),
      c.text('worker_id', '网格员工号', 'Grid worker number', 'L2'),
      c.category('purpose', '走访事由', 'Purpose', {
        routine: { zh: '日常巡查', en: 'Routine' }, registration: { zh: '信息采集', en: 'Data collection' },
        care: { zh: '关爱走访', en: 'Care visit' }, verification: { zh: '核查', en: 'Verification' },
      }),
      c.photo('photo_ref'),
      c.text('face_model_id', '人脸特征模型', 'Face template model', 'L2', true),
      c.faceTemplate('face_template'),
      c.category('face_unusable', '人脸不可用原因', 'Why the face capture is unusable', {
        'no-photo': { zh: '无照片', en: 'No photo' }, 'no-face': { zh: '未检测到人脸', en: 'No face' },
        'several-faces': { zh: '多张人脸', en: 'Several faces' }, 'too-small': { zh: '人脸过小', en: 'Face too small' },
        'not-frontal': { zh: '非正脸', en: 'Not frontal' }, blurred: { zh: '模糊', en: 'Blurred' },
      }, 'L2', true),
    ],
  },
  {
    id: 'grid.incident', domain: 'grid', table: 'incident',
    label: { zh: '事件上报', en: 'Incident reports' },
    description: { zh: '网格事件上报（治安、消防隐患、纠纷等）', en: 'Incident reports from the grid (public order, fire hazards, disputes …)' },
    unit: { column: 'incident_id', kind: 'event', unique: true },
    columns: [
      c.recordId('incident_id', '事件编号', 'Incident number'),
      c.addressKey(),
      ...c.geo(),
      c.date('reported_on', '上报日期', 'Reported on'),
      c.category('category', '事件类型', 'Category', {
        public_order: { zh: '治安', en: 'Public order' }, fire_hazard: { zh: '消防隐患', en: 'Fire hazard' },
        dispute: { zh: '矛盾纠纷', en: 'Dispute' }, illegal_alteration: { zh: '违规改建', en: 'Illegal alteration' },
        sanitation: { zh: '环境卫生', en: 'Sanitation' },
      }),
    ],
  },
];

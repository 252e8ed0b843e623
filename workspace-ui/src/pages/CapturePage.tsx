import { CameraOutlined, CheckCircleOutlined, UploadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Cascader, DatePicker, Form, Input, Radio, Select, Space, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, request } from '../api/client.ts';
import { useGeography } from '../api/resources.ts';
import type { GeoUnit } from '../api/types.ts';
import { isValidIdNumber, type GateResult } from '../capture/gate-rules.ts';
import { useLang } from '../i18n/index.ts';
import '../capture/capture.css';

/**
 * 现场采集 (S5): a grid worker's field photo. Camera (getUserMedia) or a file; the face-quality
 * gate (MediaPipe FaceDetector, in this browser) says what to fix before anything is sent; the ID
 * number read from the card is checked (GB 11643) here; the visit's grid comes from the catalog
 * geography. The server hands the photo to the grid domain's worker, which checks it again and
 * stores it there. The page shows accepted, or unusable with the reason — never a template or a
 * score.
 */

const MAX_BYTES = 5 * 1024 * 1024;
type Source = 'camera' | 'file';
type Gate = { state: 'idle' } | { state: 'checking' } | { state: 'done'; result: GateResult } | { state: 'error'; key: 'unreadable' | 'tooLarge' | 'gateFailed' | 'cameraFailed' };
type Answer = { outcome: 'accepted'; visitId: string } | { outcome: 'unusable' | 'refused'; code: string; message: string; field?: string | undefined };

interface VisitForm { idNumber: string; grid: string[]; visitedOn: Dayjs; purpose: string }
interface CascaderOption { value: string; label: string; children?: CascaderOption[] }

const UNUSABLE_CODES = new Set(['LAB-E140', 'LAB-E141', 'LAB-E151', 'LAB-E152']);

function geographyOptions(units: readonly GeoUnit[], pick: (b: GeoUnit['name']) => string): CascaderOption[] {
  const byParent = new Map<string | null, GeoUnit[]>();
  for (const u of units) {
    const list = byParent.get(u.parentCode) ?? [];
    list.push(u);
    byParent.set(u.parentCode, list);
  }
  const build = (parent: string | null): CascaderOption[] => (byParent.get(parent) ?? []).map((u) => {
    const children = u.level === 'grid' ? [] : build(u.code);
    return { value: u.code, label: pick(u.name), ...(children.length ? { children } : {}) };
  });
  return build(null);
}

function toBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(blob);
  });
}

export default function CapturePage() {
  const { t } = useTranslation();
  const { pick } = useLang();
  const geography = useGeography();
  const options = useMemo(() => geographyOptions(geography.data?.units ?? [], pick), [geography.data, pick]);
  const [form] = Form.useForm<VisitForm>();
  const [source, setSource] = useState<Source>('file');
  const [photo, setPhoto] = useState<Blob | undefined>();
  const [gate, setGate] = useState<Gate>({ state: 'idle' });
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [sending, setSending] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | undefined>(undefined);

  const stopCamera = () => {
    stream.current?.getTracks().forEach((tr) => tr.stop());
    stream.current = undefined;
    setStreaming(false);
  };
  useEffect(() => stopCamera, []);

  /** Draws the picture into the preview canvas and runs the gate on it. */
  const examine = async (picture: CanvasImageSource & { width: number; height: number }, blob: Blob) => {
    const c = canvas.current;
    if (!c) return;
    c.width = picture.width;
    c.height = picture.height;
    c.getContext('2d')?.drawImage(picture, 0, 0);
    setPhoto(blob);
    setAnswer(undefined);
    setGate({ state: 'checking' });
    try {
      const { checkFace } = await import('../capture/face-gate.ts');
      setGate({ state: 'done', result: await checkFace(c) });
    } catch {
      setGate({ state: 'error', key: 'gateFailed' });
    }
  };

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > MAX_BYTES) { setPhoto(undefined); setGate({ state: 'error', key: 'tooLarge' }); return; }
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      setPhoto(undefined);
      setGate({ state: 'error', key: 'unreadable' });
      return;
    }
    await examine(bitmap, file);
    bitmap.close();
  };

  const openCamera = async () => {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 } }, audio: false });
      stream.current = s;
      if (video.current) { video.current.srcObject = s; await video.current.play(); }
      setStreaming(true);
    } catch {
      setGate({ state: 'error', key: 'cameraFailed' });
    }
  };

  const takePicture = async () => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const frame = document.createElement('canvas');
    frame.width = v.videoWidth;
    frame.height = v.videoHeight;
    frame.getContext('2d')?.drawImage(v, 0, 0);
    const blob = await new Promise<Blob | null>((resolve) => frame.toBlob(resolve, 'image/jpeg', 0.92));
    if (!blob) { setGate({ state: 'error', key: 'unreadable' }); return; }
    await examine(frame, blob);
  };

  const submit = async (values: VisitForm) => {
    if (!photo || gate.state !== 'done' || !gate.result.ok) return;
    setSending(true);
    setAnswer(undefined);
    try {
      const body = {
        photo: await toBase64(photo),
        idNumber: values.idNumber.trim().toUpperCase(),
        visit: { gridCode: values.grid[values.grid.length - 1] ?? '', visitedOn: values.visitedOn.format('YYYY-MM-DD'), purpose: values.purpose },
      };
      const r = await request<{ outcome: 'accepted'; visitId: string }>('POST', '/api/domains/grid/photos', body);
      setAnswer({ outcome: 'accepted', visitId: r.visitId });
    } catch (e) {
      if (e instanceof ApiError && e.status !== 0) {
        setAnswer({ outcome: UNUSABLE_CODES.has(e.body.code) ? 'unusable' : 'refused', code: e.body.code, message: `${e.body.message}${e.body.hint ? ` — ${e.body.hint}` : ''}`, field: e.body.field });
        if (e.body.field === 'idNumber') form.setFields([{ name: 'idNumber', errors: [e.body.message] }]);
      } else {
        setAnswer({ outcome: 'refused', code: 'NETWORK', message: t('common.networkError') });
      }
    } finally {
      setSending(false);
    }
  };

  const gateOk = gate.state === 'done' && gate.result.ok;
  const gateAlert = (() => {
    if (gate.state === 'checking') return <Alert type="info" showIcon message={t('capture.gate.checking')} />;
    if (gate.state === 'error') return <Alert type="error" showIcon message={t(`capture.gate.${gate.key}`)} />;
    if (gate.state !== 'done') return <Alert type="info" showIcon message={t('capture.gate.idle')} />;
    if (gate.result.ok) return <Alert type="success" showIcon icon={<CheckCircleOutlined />} message={t('capture.gate.ok')} />;
    return <Alert type="warning" showIcon message={t(`capture.gate.${gate.result.problem}`)} description={t('capture.gate.fix')} />;
  })();

  return (
    <div className="lab-page" data-testid="capture-page">
      <div className="lab-page-head">
        <Typography.Title level={4}>{t('capture.title')}</Typography.Title>
        <Typography.Text type="secondary">{t('capture.intro')}</Typography.Text>
      </div>
      <div className="lab-capture">
        <Card size="small" title={t('capture.photo')} className="lab-capture-photo">
          <Space direction="vertical" className="lab-capture-stack">
            <Radio.Group value={source} onChange={(e) => { const next = e.target.value as Source; if (next === 'file') stopCamera(); setSource(next); }} optionType="button"
              options={[{ value: 'file', label: <><UploadOutlined /> {t('capture.fromFile')}</> }, { value: 'camera', label: <><CameraOutlined /> {t('capture.fromCamera')}</> }]} />
            {source === 'file' && (
              <label className="lab-capture-file">
                <span>{t('capture.chooseFile')}</span>
                <input type="file" accept="image/jpeg,image/png,image/webp" data-testid="capture-file" onChange={(e) => { void onFile(e.target.files?.[0]); e.target.value = ''; }} />
              </label>
            )}
            {source === 'camera' && (
              <Space direction="vertical" className="lab-capture-stack">
                <video ref={video} className={streaming ? 'lab-capture-video' : 'lab-capture-hidden'} muted playsInline />
                <Space>
                  {!streaming && <Button icon={<CameraOutlined />} onClick={() => { void openCamera(); }}>{t('capture.openCamera')}</Button>}
                  {streaming && <Button type="primary" onClick={() => { void takePicture(); }}>{t('capture.takePicture')}</Button>}
                  {streaming && <Button onClick={stopCamera}>{t('capture.closeCamera')}</Button>}
                </Space>
              </Space>
            )}
            <canvas ref={canvas} className={photo ? 'lab-capture-preview' : 'lab-capture-hidden'} data-testid="capture-preview" aria-label={t('capture.preview')} />
            <div data-testid="capture-gate" data-state={gate.state === 'done' ? (gate.result.ok ? 'ok' : gate.result.problem) : gate.state === 'error' ? gate.key : gate.state}
              data-measured={gate.state === 'done' ? JSON.stringify(gate.result.ok ? { eyeDistance: gate.result.eyeDistance, yaw: gate.result.yaw, roll: gate.result.roll, sharpness: gate.result.sharpness } : gate.result.measured ?? {}) : undefined}>{gateAlert}</div>
          </Space>
        </Card>
        <Card size="small" title={t('capture.visit')} className="lab-capture-form">
          <Form<VisitForm> form={form} layout="vertical" onFinish={(v) => { void submit(v); }} initialValues={{ visitedOn: dayjs(), purpose: 'verification', grid: [] }}>
            <Form.Item name="idNumber" label={t('capture.idNumber')} extra={t('capture.idNumberHelp')}
              rules={[{ required: true, message: t('capture.idNumberRequired') }, { validator: async (_r, v: string | undefined) => { if (v && !isValidIdNumber(v.trim().toUpperCase())) throw new Error(t('capture.idNumberInvalid')); } }]}>
              <Input maxLength={18} autoComplete="off" data-testid="capture-id-number" />
            </Form.Item>
            <Form.Item name="grid" label={t('capture.grid')} rules={[{ required: true, type: 'array', len: 4, message: t('capture.gridRequired') }]}>
              <Cascader options={options} showSearch placeholder={t('capture.gridPlaceholder')} loading={!geography.data} data-testid="capture-grid" />
            </Form.Item>
            <Form.Item name="visitedOn" label={t('capture.visitedOn')} rules={[{ required: true, message: t('capture.visitedOnRequired') }]}>
              <DatePicker disabledDate={(d) => d.isAfter(dayjs(), 'day')} allowClear={false} data-testid="capture-date" />
            </Form.Item>
            <Form.Item name="purpose" label={t('capture.purpose')}>
              <Select options={['verification', 'registration', 'routine', 'care'].map((p) => ({ value: p, label: t(`capture.purposes.${p}`) }))} />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={sending} disabled={!gateOk} data-testid="capture-submit">{t('capture.submit')}</Button>
            {!gateOk && <Typography.Paragraph type="secondary" className="lab-capture-note">{t('capture.submitNeedsGate')}</Typography.Paragraph>}
          </Form>
          {answer && (
            <div data-testid="capture-result" data-outcome={answer.outcome} className="lab-capture-result">
              {answer.outcome === 'accepted'
                ? <Alert type="success" showIcon message={t('capture.accepted')} description={t('capture.acceptedDetail', { visitId: answer.visitId })} />
                : <Alert type="error" showIcon message={t(answer.outcome === 'unusable' ? 'capture.unusable' : 'capture.refused')} description={`${answer.code} · ${answer.message}`} />}
            </div>
          )}
        </Card>
      </div>
    </div>
  );
}

import { Alert, Form, Input, Modal } from 'antd';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client.ts';
import { errorText } from '../app/errors.ts';

export interface ReasonModalProps {
  readonly open: boolean;
  readonly title: ReactNode;
  /** The field's label: "reason" (required by the server for rejections) or "note" (optional). */
  readonly label: string;
  /** Marks the field as required. The server decides (422 LAB-E135): its message is shown on the field. */
  readonly required: boolean;
  readonly okText: string;
  readonly danger?: boolean;
  readonly placeholder?: string;
  readonly intro?: ReactNode;
  readonly onSubmit: (text: string) => Promise<void>;
  readonly onClose: () => void;
}

/**
 * A decision that carries a text: approve (optional note), reject / return (reason). The text is
 * sent as typed; a refusal naming the field (LAB-E135, or any error with `field: 'reason'`) is shown
 * on the field, anything else above it.
 */
export function ReasonModal({ open, title, label, required, okText, danger, placeholder, intro, onSubmit, onClose }: ReasonModalProps) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  const reset = () => { setText(''); setFieldError(undefined); setError(undefined); };
  const submit = async () => {
    setBusy(true);
    setFieldError(undefined);
    setError(undefined);
    try {
      await onSubmit(text);
      reset();
      onClose();
    } catch (e) {
      if (e instanceof ApiError && (e.body.code === 'LAB-E135' || e.body.field === 'reason')) setFieldError(`${e.body.code} · ${e.body.message}`);
      else setError(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open} title={title} okText={okText} cancelText={t('common.cancel')} okButtonProps={{ danger: danger ?? false, loading: busy }}
      onOk={() => { void submit(); }} onCancel={() => { reset(); onClose(); }} destroyOnHidden maskClosable={false}
    >
      <div data-testid="reason-modal">
        {intro}
        {error && <Alert type="error" showIcon message={error} className="lab-modal-error" />}
        <Form layout="vertical" onFinish={() => { void submit(); }}>
          <Form.Item label={label} required={required} validateStatus={fieldError ? 'error' : ''} help={fieldError} data-testid="reason-field">
            <Input.TextArea
              value={text} onChange={(e) => { setText(e.target.value); if (fieldError) setFieldError(undefined); }}
              rows={4} maxLength={2000} showCount aria-label={label} placeholder={placeholder}
            />
          </Form.Item>
        </Form>
      </div>
    </Modal>
  );
}

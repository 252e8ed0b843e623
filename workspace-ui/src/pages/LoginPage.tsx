import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client.ts';
import { LanguageSwitch } from '../app/AppLayout.tsx';
import { useAuth } from '../app/auth.tsx';

interface LoginForm { username: string; password: string }

export function LoginPage() {
  const { t } = useTranslation();
  const { signIn } = useAuth();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const submit = async (v: LoginForm) => {
    setBusy(true);
    setError(undefined);
    try {
      await signIn(v.username.trim(), v.password);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError(t('auth.wrong'));
      else if (e instanceof ApiError && e.status === 429) setError(t('auth.locked'));
      else if (e instanceof ApiError && e.body.message) setError(`${e.body.code} ${e.body.message}`);
      else setError(t('common.networkError'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="lab-login">
      <div className="lab-login-lang"><LanguageSwitch /></div>
      <Card className="lab-login-card" variant="outlined">
        <div className="lab-login-head">
          <span className="lab-brand-mark lab-brand-mark-lg" aria-hidden />
          <Typography.Title level={3}>{t('app.title')}</Typography.Title>
          <Typography.Paragraph type="secondary">{t('app.motto')}</Typography.Paragraph>
        </div>
        <Form<LoginForm> layout="vertical" onFinish={(v) => { void submit(v); }} requiredMark={false} disabled={busy}>
          <Form.Item name="username" label={t('auth.username')} rules={[{ required: true, message: t('auth.usernameRequired') }]}>
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, message: t('auth.passwordRequired') }]}>
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          {error && <Alert type="error" showIcon message={error} className="lab-login-error" role="alert" />}
          <Button type="primary" htmlType="submit" block loading={busy}>{t('auth.signIn')}</Button>
        </Form>
        <Typography.Paragraph type="secondary" className="lab-login-hint">{t('auth.demoHint')}</Typography.Paragraph>
      </Card>
    </div>
  );
}

import {
  ApartmentOutlined, AuditOutlined, CameraOutlined, DatabaseOutlined, FileSearchOutlined, FundOutlined, HistoryOutlined, LogoutOutlined, SafetyOutlined, SolutionOutlined,
  TeamOutlined, UnorderedListOutlined, UserOutlined,
} from '@ant-design/icons';
import { Button, Layout, Menu, Segmented, Space, Tag, Tooltip, Typography } from 'antd';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { User } from '../api/types.ts';
import { LANGS, setLanguage, useLang, type Lang } from '../i18n/index.ts';
import { useAuth } from './auth.tsx';
import { MENU_BY_ROLE, pathOf, READY_PAGES, type PageKey } from './menu.ts';
import { navigate } from './router.ts';

export function LanguageSwitch() {
  const { t } = useTranslation();
  const { lang } = useLang();
  return (
    <Segmented<Lang>
      size="small"
      aria-label={t('lang.switch')}
      value={lang}
      onChange={(v) => { setLanguage(v); }}
      options={LANGS.map((l) => ({ value: l, label: t(`lang.${l}`) }))}
    />
  );
}

const ICONS: Readonly<Record<PageKey, ReactNode>> = {
  editor: <ApartmentOutlined />, catalog: <DatabaseOutlined />, jobs: <UnorderedListOutlined />, approvals: <AuditOutlined />,
  review: <FileSearchOutlined />, policies: <SafetyOutlined />, audit: <HistoryOutlined />, budget: <FundOutlined />,
  followups: <SolutionOutlined />, capture: <CameraOutlined />, users: <TeamOutlined />,
};

export function AppLayout({ user, page, children }: { user: User; page: PageKey; children: ReactNode }) {
  const { t } = useTranslation();
  const { signOut } = useAuth();
  // The canvas needs the width: the menu folds to icons there (and unfolds with its toggle).
  const [collapsedByUser, setCollapsed] = useState<boolean | undefined>(undefined);
  const collapsed = collapsedByUser ?? page === 'editor';
  const items = MENU_BY_ROLE[user.role].map((key) => {
    const ready = READY_PAGES.has(key);
    return {
      key,
      icon: ICONS[key],
      disabled: !ready,
      label: ready ? t(`menu.${key}`) : (
        <Tooltip title={t('menu.soon')} placement="right"><span>{t(`menu.${key}`)} <span className="lab-soon">{t('menu.soonShort')}</span></span></Tooltip>
      ),
    };
  });
  return (
    <Layout className="lab-layout">
      <Layout.Header className="lab-header">
        <div className="lab-brand">
          <span className="lab-brand-mark" aria-hidden />
          <Typography.Text strong className="lab-brand-title">{t('app.title')}</Typography.Text>
          <Typography.Text type="secondary" className="lab-brand-sub">{t('app.motto')}</Typography.Text>
        </div>
        <Space size="middle">
          <LanguageSwitch />
          <Space size={4} className="lab-user" data-testid="current-user">
            <UserOutlined />
            <span>{user.displayName}</span>
            <Tag color="blue">{t(`role.${user.role}`)}</Tag>
          </Space>
          <Button size="small" icon={<LogoutOutlined />} onClick={() => { void signOut(); }}>{t('auth.signOut')}</Button>
        </Space>
      </Layout.Header>
      <Layout>
        <Layout.Sider width={188} theme="light" className="lab-sider" collapsible collapsed={collapsed} onCollapse={(c) => { setCollapsed(c); }} collapsedWidth={56}>
          <Menu
            mode="inline"
            selectedKeys={[page]}
            items={items}
            onClick={({ key }) => { navigate(pathOf(key as PageKey)); }}
            aria-label={t('menu.label')}
          />
        </Layout.Sider>
        <Layout.Content className="lab-content">{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}

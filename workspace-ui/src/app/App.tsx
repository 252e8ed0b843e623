import { App as AntApp, ConfigProvider, Spin } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useLang } from '../i18n/index.ts';
import { CatalogPage } from '../pages/CatalogPage.tsx';
import { LoginPage } from '../pages/LoginPage.tsx';
import { AuthProvider, useAuth } from './auth.tsx';
import { AppLayout } from './AppLayout.tsx';
import { homePageOf, mayOpen, pageOfPath, pathOf, type PageKey } from './menu.ts';
import { navigate, usePath } from './router.ts';

// The canvas (React Flow, the inspector, and Monaco behind it) loads when the editor opens; each
// role's own pages load when first opened (the policy editor brings Monaco).
const EditorPage = lazy(() => import('../pages/EditorPage.tsx'));
const ApprovalsPage = lazy(() => import('../pages/ApprovalsPage.tsx'));
const ReviewPage = lazy(() => import('../pages/ReviewPage.tsx'));
const PolicyPage = lazy(() => import('../pages/PolicyPage.tsx'));
const AuditPage = lazy(() => import('../pages/AuditPage.tsx'));
const BudgetPage = lazy(() => import('../pages/BudgetPage.tsx'));
const JobsPage = lazy(() => import('../pages/JobsPage.tsx'));
const FollowUpsPage = lazy(() => import('../pages/FollowUpsPage.tsx'));
const CapturePage = lazy(() => import('../pages/CapturePage.tsx'));

function PageOf({ page }: { page: PageKey }) {
  switch (page) {
    case 'editor': return <EditorPage />;
    case 'approvals': return <ApprovalsPage />;
    case 'review': return <ReviewPage />;
    case 'policies': return <PolicyPage />;
    case 'audit': return <AuditPage />;
    case 'budget': return <BudgetPage />;
    case 'jobs': return <JobsPage />;
    case 'followups': return <FollowUpsPage />;
    case 'capture': return <CapturePage />;
    case 'catalog': case 'users': return <CatalogPage />;
  }
}

export function App() {
  const { lang } = useLang();
  return (
    <ConfigProvider locale={lang === 'en' ? enUS : zhCN} button={{ autoInsertSpace: false }} theme={{ token: { colorPrimary: '#1f6feb', borderRadius: 6 } }}>
      <AntApp className="lab-app">
        <AuthProvider>
          <Shell />
        </AuthProvider>
      </AntApp>
    </ConfigProvider>
  );
}

function Loading() {
  const { t } = useTranslation();
  return <div className="lab-center"><Spin tip={t('common.loading')} size="large"><div className="lab-spin-box" /></Spin></div>;
}

function Shell() {
  const { user } = useAuth();
  const path = usePath();
  const { t } = useTranslation();

  useEffect(() => { document.title = t('app.title'); }, [t]);

  const page: PageKey | undefined = user ? pageOfPath(path) : undefined;
  const target = user && (!page || !mayOpen(user.role, page)) ? pathOf(homePageOf(user.role)) : undefined;
  useEffect(() => {
    if (user === null && path !== '/login') navigate('/login', { replace: true });
    else if (target) navigate(target, { replace: true });
  }, [user, path, target]);

  if (user === undefined) return <Loading />;
  if (user === null) return <LoginPage />;
  if (!page || target) return <Loading />;
  return (
    <AppLayout user={user} page={page}>
      <Suspense fallback={<Loading />}>
        <PageOf page={page} />
      </Suspense>
    </AppLayout>
  );
}

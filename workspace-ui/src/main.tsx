// First: libraries that write <style> elements must find the CSP-safe stand-in in place.
import './styles/install-csp-styles.ts';
import './app/antd-react19.ts';
import './i18n/index.ts';
import './styles/app.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';

const root = document.getElementById('root');
if (root) createRoot(root).render(<StrictMode><App /></StrictMode>);

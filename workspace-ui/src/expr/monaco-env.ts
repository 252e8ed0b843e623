/**
 * Monaco's environment, set before any Monaco module runs (it is imported first by the editor
 * module): its one web worker comes from this bundle (no CDN, no loader), and its HTML goes
 * through a Trusted Types policy that keeps it within the lab's CSP (see styles/csp-styles.ts).
 */
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import { monacoTrustedTypesPolicy } from '../styles/csp-styles.ts';

interface MonacoEnvironment {
  getWorker(workerId: string, label: string): Worker;
  createTrustedTypesPolicy: typeof monacoTrustedTypesPolicy;
}

(globalThis as unknown as { MonacoEnvironment: MonacoEnvironment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
  createTrustedTypesPolicy: monacoTrustedTypesPolicy,
};

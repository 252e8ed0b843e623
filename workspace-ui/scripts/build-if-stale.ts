/**
 * Builds the workspace (workspace-ui/dist) when it is missing or older than its sources, so `npm
 * start` on a fresh clone, or after a pull, serves an up-to-date UI. The sources are what the last
 * build recorded it read (dist/build-sources.json: the UI's files and the shared modules and
 * examples it bundles) plus anything now under workspace-ui/src, public/ and examples/pipelines/.
 *
 * Run directly (`tsx workspace-ui/scripts/build-if-stale.ts`, what `npm start` does first) or call
 * `ensureUiBuilt()` (the browser tests do). Builds by running Vite in a child process; concurrent
 * callers wait for one build instead of writing dist/ twice.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UI = join(REPO_ROOT, 'workspace-ui');
export const DIST = join(UI, 'dist');
const MANIFEST = join(DIST, 'build-sources.json');
const LOCK = join(tmpdir(), `lab-ui-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
const STALE_LOCK_MS = 5 * 60_000;

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function* walk(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Whether dist/ is current, and if not, why (for the one line `npm start` prints). */
export function uiBuildState(): { fresh: true } | { fresh: false; reason: string } {
  const builtAt = mtime(MANIFEST);
  if (builtAt === undefined || mtime(join(DIST, 'index.html')) === undefined) return { fresh: false, reason: 'not built yet' };
  let recorded: string[];
  try {
    recorded = (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { files: string[] }).files;
  } catch {
    return { fresh: false, reason: 'no record of the last build' };
  }
  const candidates = [
    ...recorded.map((f) => join(REPO_ROOT, f)),
    ...walk(join(UI, 'src')), ...walk(join(UI, 'public')), join(UI, 'index.html'),
    ...walk(join(REPO_ROOT, 'examples', 'pipelines')),
  ];
  for (const f of candidates) {
    const m = mtime(f);
    if (m === undefined) return { fresh: false, reason: `${relative(REPO_ROOT, f)} is gone` };
    if (m > builtAt) return { fresh: false, reason: `${relative(REPO_ROOT, f)} changed` };
  }
  return { fresh: true };
}

function runVite(): Promise<void> {
  const vite = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) return Promise.reject(new Error('vite is not installed (npm ci installs it)'));
  return new Promise((resolve, reject) => {
    // Always the production bundle: a caller's NODE_ENV (vitest sets `test`) would otherwise give
    // React's development build, which `npm start` would then find fresh and serve.
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(process.execPath, [vite, 'build', '--config', join(UI, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => { if (code === 0) resolve(); else reject(new Error(`vite build exited with ${code}`)); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function takeLock(): boolean {
  try {
    closeSync(openSync(LOCK, 'wx'));
    return true;
  } catch {
    const age = Date.now() - (mtime(LOCK) ?? Date.now());
    if (age > STALE_LOCK_MS) rmSync(LOCK, { force: true });
    return false;
  }
}

/** Builds the UI unless it is fresh. `log` gets one line when a build starts and one when it ends. */
export async function ensureUiBuilt(log: (line: string) => void = () => {}): Promise<'fresh' | 'built'> {
  for (;;) {
    const state = uiBuildState();
    if (state.fresh) return 'fresh';
    if (!takeLock()) {
      await sleep(500); // another process is building; check again when it is done
      continue;
    }
    try {
      const again = uiBuildState();
      if (again.fresh) return 'fresh';
      log(`Building the workspace UI (${again.reason})…`);
      const started = Date.now();
      await runVite();
      log(`Workspace UI built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      return 'built';
    } finally {
      rmSync(LOCK, { force: true });
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureUiBuilt((line) => { process.stdout.write(`${line}\n`); }).then(
    () => { process.exitCode = 0; },
    (e: unknown) => {
      // The lab still starts (the API works; `/` shows the landing page): say what to run.
      process.stderr.write(`Could not build the workspace UI: ${e instanceof Error ? e.message : String(e)}. Run \`npm run build:ui\` to see why.\n`);
      process.exitCode = 0;
    },
  );
}

import react from '@vitejs/plugin-react';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import { faceDetectorModel } from './scripts/face-detector-model.ts';

const UI_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(UI_DIR, 'dist');

/** Files next to the bundle that the server never serves; `scripts/build-if-stale.ts` reads it. */
export const SOURCES_MANIFEST = 'build-sources.json';

/**
 * Records which repository files went into the bundle (the UI's own and the shared pure modules it
 * imports, e.g. sandbox/expr, examples/pipelines), so `npm start` can tell whether the bundle is
 * older than its sources without guessing the import graph.
 */
function sourcesManifest(): Plugin {
  const files = new Set<string>();
  return {
    name: 'lab-sources-manifest',
    apply: 'build',
    generateBundle() {
      for (const id of this.getModuleIds()) {
        const path = id.split('?')[0] ?? id;
        if (!path.startsWith(REPO) || path.includes(`${sep}node_modules${sep}`)) continue;
        files.add(relative(REPO, path).split(sep).join('/'));
      }
    },
    // Written only after the bundle is on disk: a failed build leaves no record, so it is retried.
    writeBundle() {
      const list = [...files, 'workspace-ui/vite.config.ts', 'workspace-ui/scripts/face-detector-model.ts', 'workspace-ui/tsconfig.app.json', 'package-lock.json'].sort();
      writeFileSync(join(OUT_DIR, SOURCES_MANIFEST), JSON.stringify({ builtAt: new Date().toISOString(), files: [...new Set(list)] }, null, 1) + '\n');
    },
  };
}

/** Gzip copies of text assets beside them; the server sends them to browsers that accept gzip. */
function precompress(): Plugin {
  const gz = promisify(gzip);
  return {
    name: 'lab-precompress',
    apply: 'build',
    async writeBundle(_options, bundle) {
      await Promise.all(Object.keys(bundle).filter((f) => /\.(js|css|html|json|svg|ttf|wasm|tflite)$/.test(f)).map(async (f) => {
        const path = join(OUT_DIR, f);
        const data = await readFile(path);
        if (data.length < 1024) return;
        await writeFile(`${path}.gz`, await gz(data, { level: 9 }));
      }));
    },
  };
}

/**
 * The browser face-quality gate's files, served by the lab itself (never a CDN): tasks-vision's
 * WASM loader and binary from @mediapipe/tasks-vision, and the BlazeFace short-range detector from
 * @mediapipe/face_detection with its TFLite metadata completed (scripts/face-detector-model.ts).
 * Built as `assets/mediapipe/<name>-<hash>.<ext>` (cached like the rest of the bundle); the app
 * reads their URLs from the module `virtual:face-gate-assets`. The development server serves them
 * from memory.
 */
function faceGateAssets(): Plugin {
  const VIRTUAL = 'virtual:face-gate-assets';
  const require = createRequire(import.meta.url);
  const wasmDir = dirname(require.resolve('@mediapipe/tasks-vision/vision_wasm_internal.js'));
  let files: { fileName: string; source: Uint8Array; type: string }[] | undefined;
  const load = () => {
    files ??= [
      { name: 'vision_wasm_internal', ext: 'js', type: 'text/javascript', source: readFileSync(join(wasmDir, 'vision_wasm_internal.js')) },
      { name: 'vision_wasm_internal', ext: 'wasm', type: 'application/wasm', source: readFileSync(join(wasmDir, 'vision_wasm_internal.wasm')) },
      { name: 'face_detection_short_range', ext: 'tflite', type: 'application/octet-stream', source: faceDetectorModel() },
    ].map((f) => ({ fileName: `assets/mediapipe/${f.name}-${createHash('sha256').update(f.source).digest('hex').slice(0, 10)}.${f.ext}`, source: f.source, type: f.type }));
    return files;
  };
  let building = false;
  return {
    name: 'lab-face-gate-assets',
    configResolved(config) { building = config.command === 'build'; },
    resolveId(id) { return id === VIRTUAL ? `\0${VIRTUAL}` : undefined; },
    load(id) {
      if (id !== `\0${VIRTUAL}`) return undefined;
      const [loader, binary, model] = load();
      if (building) for (const f of load()) this.emitFile({ type: 'asset', fileName: f.fileName, source: f.source });
      return `export default ${JSON.stringify({ wasmLoaderPath: `/${loader?.fileName ?? ''}`, wasmBinaryPath: `/${binary?.fileName ?? ''}`, modelAssetPath: `/${model?.fileName ?? ''}` })};`;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const f = load().find((x) => req.url === `/${x.fileName}`);
        if (!f) { next(); return; }
        res.setHeader('content-type', f.type);
        res.end(f.source);
      });
    },
  };
}

export default defineConfig({
  root: UI_DIR,
  base: '/',
  publicDir: join(UI_DIR, 'public'),
  plugins: [react(), faceGateAssets(), sourcesManifest(), precompress()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    // Monaco is one lazy chunk of a few MB; it is loaded only when an expression field opens.
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
    // Never data: URLs (the lab's CSP allows images and fonts from its own origin only).
    assetsInlineLimit: 0,
  },
  worker: { format: 'es' },
  server: {
    // `npx vite --config workspace-ui/vite.config.ts` for development, against a running lab.
    fs: { allow: [REPO] },
    proxy: { '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});

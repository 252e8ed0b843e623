import react from '@vitejs/plugin-react';
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

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
      const list = [...files, 'workspace-ui/vite.config.ts', 'workspace-ui/tsconfig.app.json', 'package-lock.json'].sort();
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
      await Promise.all(Object.keys(bundle).filter((f) => /\.(js|css|html|json|svg|ttf)$/.test(f)).map(async (f) => {
        const path = join(OUT_DIR, f);
        const data = await readFile(path);
        if (data.length < 1024) return;
        await writeFile(`${path}.gz`, await gz(data, { level: 9 }));
      }));
    },
  };
}

export default defineConfig({
  root: UI_DIR,
  base: '/',
  publicDir: join(UI_DIR, 'public'),
  plugins: [react(), sourcesManifest(), precompress()],
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

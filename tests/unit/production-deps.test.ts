import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LockPackage { dev?: boolean; hasInstallScript?: boolean; version?: string }

/**
 * Production dependencies (package-lock.json, not dev) that run an install script, or ship a
 * native binary (`.node`, `binding.gyp`). `npm audit` cannot run here (the registry answers 405 to
 * the audit endpoint), so this is the review list instead: a new entry fails the test until it is
 * looked at and written down here and in docs/deploy.md ("Dependencies"). Run with `--reporter
 * verbose` to print the list.
 */
export function productionRisks(root = ROOT): { installScripts: string[]; nativeBinaries: string[]; productionPackages: number } {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const prod = Object.entries(lock.packages).filter(([k, v]) => k !== '' && !v.dev);
  // Platform packages (one per OS/CPU, only this machine's is installed) under one name.
  const name = (k: string) => k.replace(/^.*node_modules\//, '').replace(/-(linux|darwin|win32|freebsd)-(x64|arm64|arm|ia32)(-gnu|-musl|-msvc)?$/, '-<platform>');
  const hasNative = (dir: string): boolean => {
    if (!existsSync(dir)) return false;
    const stack = [dir];
    let seen = 0;
    while (stack.length && seen < 20_000) {
      const d = stack.pop() ?? '';
      for (const f of readdirSync(d)) {
        seen += 1;
        const p = join(d, f);
        if (f === 'node_modules') continue;
        if (f.endsWith('.node') || f === 'binding.gyp') return true;
        if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) stack.push(p);
      }
    }
    return false;
  };
  return {
    installScripts: prod.filter(([, v]) => v.hasInstallScript).map(([k]) => name(k)).sort(),
    nativeBinaries: prod.filter(([k]) => hasNative(join(root, k))).map(([k]) => name(k)).sort(),
    productionPackages: prod.length,
  };
}

describe('production dependencies with install scripts or native binaries (the npm audit gap)', () => {
  it('are exactly the reviewed ones (docs/deploy.md, "Dependencies")', () => {
    const r = productionRisks();
    console.info(`production packages: ${r.productionPackages}\ninstall scripts: ${r.installScripts.join(', ')}\nnative binaries: ${r.nativeBinaries.join(', ')}`);
    expect(r.installScripts).toEqual(['esbuild', 'msgpackr-extract', 'onnxruntime-node']);
    expect(r.nativeBinaries).toEqual([
      '@img/sharp-<platform>', '@msgpackr-extract/msgpackr-extract-<platform>', '@node-rs/argon2-<platform>',
      'msgpackr-extract', 'onnxruntime-node', 'sharp', 'sodium-native',
    ]);
  });
});

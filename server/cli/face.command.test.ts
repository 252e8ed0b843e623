import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLabError } from '../../sandbox/errors/index.ts';
import { readConfig } from '../../sandbox/store/lab-config.ts';
import { openRegistryDatabase, runFaceCommand } from './face.command.ts';

/**
 * `npm run lab -- face enroll`: the argument and manifest checks (LAB-E030, before any database or
 * engine is opened), and the embedded registry database refused while the lab holds it. Enrollment
 * itself: sandbox/runtime/worker/reference-enroll.test.ts; the command end to end against the
 * registry's own role: tests/integration/server/s5-real-photos.test.ts.
 */
describe('face enroll command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-face-cli-'));
  const cfg = readConfig({ LAB_DATA_DIR: dir });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
  const codeOf = async (argv: string[]) => {
    try {
      await runFaceCommand(argv, cfg, { write: () => true } as unknown as NodeJS.WritableStream);
      return 'ran';
    } catch (e) {
      return isLabError(e) ? `${e.code}${e.field ? `@${e.field}` : ''}` : String(e);
    }
  };

  it('refuses bad arguments and manifests with LAB-E030 before opening anything', async () => {
    writeFileSync(join(dir, 'a.jpg'), 'x');
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    writeFileSync(join(dir, 'shape.json'), JSON.stringify([{ idNumber: '1', photo: 'a.jpg', capturedOn: '1 May' }]));
    writeFileSync(join(dir, 'missing.json'), JSON.stringify([{ idNumber: '1', photo: 'nope.jpg' }]));
    writeFileSync(join(dir, 'empty.json'), '[]');
    expect(await codeOf([])).toBe('LAB-E030');
    expect(await codeOf(['list'])).toBe('LAB-E030');
    expect(await codeOf(['enroll'])).toBe('LAB-E030');
    expect(await codeOf(['enroll', '--colour', 'red'])).toBe('LAB-E030');
    expect(await codeOf(['enroll', '--photo', join(dir, 'a.jpg')])).toBe('LAB-E030@id-number');
    expect(await codeOf(['enroll', '--id-number', '440106198805120112'])).toBe('LAB-E030@photo');
    expect(await codeOf(['enroll', '--id-number', '440106198805120112', '--photo', join(dir, 'nope.jpg')])).toBe('LAB-E030@photo');
    expect(await codeOf(['enroll', '--id-number', '1', '--photo', join(dir, 'a.jpg'), '--manifest', join(dir, 'shape.json')])).toBe('LAB-E030');
    expect(await codeOf(['enroll', '--manifest', join(dir, 'shape.json'), '--captured-on', '2026-05-01'])).toBe('LAB-E030@captured-on');
    expect(await codeOf(['enroll', '--manifest', join(dir, 'none.json')])).toBe('LAB-E030@manifest');
    expect(await codeOf(['enroll', '--manifest', join(dir, 'broken.json')])).toBe('LAB-E030@manifest');
    expect(await codeOf(['enroll', '--manifest', join(dir, 'shape.json')])).toBe('LAB-E030@manifest');
    expect(await codeOf(['enroll', '--manifest', join(dir, 'empty.json')])).toBe('LAB-E030@manifest');
    expect(await codeOf(['enroll', '--manifest', join(dir, 'missing.json')])).toBe('LAB-E030@photo');
    expect(await codeOf(['enroll', '--id-number', '1', '--photo', join(dir, 'a.jpg'), '--by', 'two words'])).toBe('LAB-E030@by');
  });

  it('embedded mode: refuses a registry database that is missing, or open in a running lab (PGlite is one process\u2019s)', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'opened', (e: unknown) => (isLabError(e) ? e.code : String(e)));
    const saved = process.env['LAB_DOMAIN_DATABASE_URL'];
    delete process.env['LAB_DOMAIN_DATABASE_URL'];
    try {
      expect(await code(openRegistryDatabase(cfg))).toBe('LAB-E031');
      const pg = join(dir, 'pglite', 'registry');
      mkdirSync(pg, { recursive: true });
      writeFileSync(join(pg, 'PG_VERSION'), '17\n');
      writeFileSync(join(pg, 'postmaster.pid'), '-42\n');
      expect(await code(openRegistryDatabase(cfg))).toBe('LAB-E031');
    } finally {
      if (saved !== undefined) process.env['LAB_DOMAIN_DATABASE_URL'] = saved;
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIdNumber } from '../../../sandbox/domains/generator/id-number.ts';
import { InlineQueue } from '../../../sandbox/runtime/queue/inline.queue.ts';
import type { LabError } from '../../../sandbox/errors/index.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import type { SessionUser } from '../../../server/services/auth.service.ts';
import { uploadFieldPhoto } from '../../../server/services/photo.service.ts';
import { createUser } from '../../../server/services/user.service.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';

/**
 * The coordinator's side when the grid domain does not answer (no grid worker running): the
 * upload fails with 503 LAB-E155 after its time limit, the delivery carrying the photo is taken
 * off the queue, and the audit entry says it failed — without the image or the ID number.
 */
describe('field photo: the grid domain does not answer', () => {
  let lab: TestLab;
  let user: SessionUser;
  const queue = new InlineQueue();
  const idNumber = makeIdNumber('440106', '19750303', 11);

  beforeAll(async () => {
    lab = await createPgTestLab();
    user = await createUser(lab.control, { username: 'steward.grid', displayName: 'grid steward', role: 'steward', domain: 'grid', password: 'timeout-password-0' });
  }, 60_000);
  afterAll(async () => { await queue.close(); await lab?.drop(); });

  it('answers LAB-E155 after the time limit and leaves nothing on the queue', async () => {
    const started = Date.now();
    const error = await uploadFieldPhoto({ control: lab.control, queue, logger: createLogger('silent') }, user, 'grid', {
      photo: Buffer.from('a photo that nobody will look at').toString('base64'), idNumber, visit: { gridCode: '440104001001001', visitedOn: '2026-06-30', purpose: 'verification' },
    }, { timeoutMs: 300 }).then(() => undefined, (e: unknown) => e as LabError);
    expect(error?.code).toBe('LAB-E155');
    expect(error?.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await queue.depth('grid')).toBe(0);
    const audit = await lab.control.kysely.selectFrom('audit_entry').selectAll().where('action', '=', 'photo.upload').execute();
    expect(audit.map((a) => a.detail)).toEqual([{ outcome: 'failed', code: 'LAB-E155' }]);
    expect(JSON.stringify(audit)).not.toContain(idNumber);
  });
});

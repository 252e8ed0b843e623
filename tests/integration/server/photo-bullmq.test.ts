import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIdNumber } from '../../../sandbox/domains/generator/id-number.ts';
import { BullQueue } from '../../../sandbox/runtime/queue/bullmq.queue.ts';
import { startDomainWorker, type DomainWorker } from '../../../sandbox/runtime/worker/domain-worker.ts';
import type { Database } from '../../../sandbox/store/database.ts';
import { createLogger } from '../../../server/lab/logger.ts';
import type { SessionUser } from '../../../server/services/auth.service.ts';
import { uploadFieldPhoto } from '../../../server/services/photo.service.ts';
import { createUser } from '../../../server/services/user.service.ts';
import { singleFacePhoto } from '../../support/face-photos.ts';
import { createPgTestLab, type TestLab } from '../../support/pg-lab.ts';
import { TEST_REDIS_URL } from '../../support/test-env.ts';

/**
 * Field photos over BullMQ (Postgres mode): the real grid worker on real Redis stores the photo;
 * afterwards Redis holds nothing of it — the delivery that carried the image and the ID number is
 * removed as soon as the answer arrives (BullMQ would keep a finished job's data for an hour).
 */
describe('field photo over BullMQ', () => {
  let lab: TestLab;
  let grid: Database;
  let queue: BullQueue;
  let worker: DomainWorker;
  let user: SessionUser;
  const redis = new Redis(TEST_REDIS_URL);
  const idNumber = makeIdNumber('440106', '19810909', 44);

  beforeAll(async () => {
    lab = await createPgTestLab();
    grid = await lab.domain('grid');
    await grid.exec(`INSERT INTO geo_unit (code, level, parent_code, name_zh, name_en) VALUES
      ('440106', 'district', NULL, '天河区', 'Tianhe'), ('440106001', 'street', '440106', '街道', 'Street'),
      ('440106001001', 'community', '440106001', '社区', 'Community'), ('440106001001001', 'grid', '440106001001', '网格', 'Grid');`);
    queue = new BullQueue(TEST_REDIS_URL, lab.cfg.dbPrefix);
    worker = await startDomainWorker({ domain: 'grid', db: grid, queue, logger: createLogger('silent') });
    user = await createUser(lab.control, { username: 'steward.grid', displayName: 'grid steward', role: 'steward', domain: 'grid', password: 'bullmq-password-0' });
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await queue?.close();
    const keys = await redis.keys(`${lab.cfg.dbPrefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await lab?.drop();
  });

  it('stores the photo in the grid domain and leaves nothing of it in Redis', async () => {
    const photo = (await singleFacePhoto()).toString('base64');
    const answer = await uploadFieldPhoto({ control: lab.control, queue, logger: createLogger('silent') }, user, 'grid', {
      photo, idNumber, visit: { gridCode: '440106001001001', visitedOn: '2026-06-30', purpose: 'verification' },
    });
    expect(answer.outcome).toBe('accepted');
    const stored = await grid.kysely.selectFrom('field_photo' as never).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirst() as { n: string } | undefined;
    expect(Number(stored?.n)).toBe(1);

    const keys = await redis.keys(`${lab.cfg.dbPrefix}:domain:grid:*`);
    const values: string[] = [];
    for (const k of keys) {
      const type = await redis.type(k);
      if (type === 'hash') values.push(JSON.stringify(await redis.hgetall(k)));
      else if (type === 'string') values.push((await redis.get(k)) ?? '');
      else if (type === 'list') values.push((await redis.lrange(k, '0', '-1')).join(' '));
      else if (type === 'zset') values.push((await redis.zrange(k, '0', '-1')).join(' '));
      else if (type === 'stream') values.push(JSON.stringify(await redis.xrange(k, '-', '+')));
    }
    const all = keys.join(' ') + values.join(' ');
    expect(all).not.toContain(idNumber);
    expect(all).not.toContain(photo.slice(0, 64));
    expect(keys.filter((k) => /photo-[0-9a-f-]{36}$/.test(k))).toEqual([]);
  }, 120_000);
});

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runPsiLocally } from '../../sandbox/crypto/psi/psi-local.ts';
import { InlineQueue } from '../../sandbox/runtime/queue/inline.queue.ts';
import type { StepProgress } from '../../server/services/protocol-step.service.ts';
import { startPsiLab } from '../support/psi-lab.ts';

/**
 * A PSI step inside a pipeline, end to end (docs/protocols.md "PSI in pipelines"): the social
 * branch of S4a (employment in W anti-joined with the registry on ID numbers) on a seeded city of
 * `--persons`, through the HTTP API, the coordinator's relay (in-process queue) and the two domain
 * workers on Postgres. Measured from the audit trail: the step (job.step.start → job.step.end) and
 * the whole job (job.run → last stage); then the bare protocol on the same set sizes in one
 * process (`runPsiLocally`, synthetic items, half of the smaller set common) for the integration's
 * overhead (reading keys in SQL, base64 and the queue, writing members).
 *
 *   npm run bench -- psi-step [--persons 100000] [--seed bench-psi-step]
 *
 * The last line is JSON: persons, receiverItems, senderItems, stepSeconds, jobSeconds,
 * localPsiSeconds, overhead (stepSeconds / localPsiSeconds), relayedMiB.
 */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { persons: { type: 'string', default: '100000' }, seed: { type: 'string', default: 'bench-psi-step' } } });
  const persons = Number(values.persons);
  const s4a = JSON.parse(readFileSync(new URL('../../examples/pipelines/s4-suspected-unregistered.json', import.meta.url), 'utf8')) as { nodes: { id: string }[] } & Record<string, unknown>;
  const keep = new Set(['registry', 'employment', 'emp_w', 'emp_unreg', 'emp_by_district', 'out_social', 'list_social']);
  const doc = { ...s4a, name: 'S4a social (bench)', nodes: s4a.nodes.filter((n) => keep.has(n.id)) };

  const seedStart = Date.now();
  const l = await startPsiLab(new InlineQueue(), values.seed, persons);
  process.stdout.write(`seeded ${persons} persons in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);
  try {
    const analyst = await l.signIn('analyst');
    const { id } = await (await analyst.post('/api/pipelines', doc)).json() as { id: string };
    const started = await (await analyst.post(`/api/pipelines/${id}/runs`)).json() as { jobId: string; state: string; approvalsRequired: number };
    if (started.state === 'awaiting_approval') {
      for (const o of ['officer', 'officer2'].slice(0, started.approvalsRequired)) await (await l.signIn(o)).post(`/api/jobs/${started.jobId}/approve`, { note: 'bench' });
    }
    for (;;) {
      const job = await (await analyst.get(`/api/jobs/${started.jobId}`)).json() as { state: string; error: unknown };
      if (job.state === 'succeeded') break;
      if (job.state !== 'queued' && job.state !== 'running' && job.state !== 'awaiting_approval') throw new Error(`job ${job.state}: ${JSON.stringify(job.error)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const audit = await l.lab.control.kysely.selectFrom('audit_entry').select(['action', 'at']).where('resource_id', '=', started.jobId).orderBy('seq').execute();
    const at = (action: string, last = false) => {
      const rows = audit.filter((a) => a.action === action);
      const row = last ? rows[rows.length - 1] : rows[0];
      if (!row) throw new Error(`no ${action}`);
      return new Date(row.at).getTime();
    };
    const stepSeconds = (at('job.step.end') - at('job.step.start')) / 1000;
    const jobSeconds = (at('job.stage.release', true) - at('job.run')) / 1000;
    const step = await l.lab.control.kysely.selectFrom('job_stage').select(['result']).where('job_id', '=', started.jobId).where('stage_id', '=', 'psi~emp_unreg').executeTakeFirstOrThrow();
    const progress = step.result as StepProgress;
    const nr = progress.receiverItems ?? 0;
    const ns = progress.senderItems ?? 0;
    // The bare protocol on the same sizes: synthetic ID-like items, half of the smaller set common.
    const common = Math.floor(Math.min(nr, ns) / 2);
    const item = (i: number) => `44${String(i).padStart(16, '0')}`;
    const rItems = Array.from({ length: nr }, (_, i) => item(i));
    const sItems = Array.from({ length: ns }, (_, i) => item(i < common ? i : nr + i));
    await runPsiLocally(rItems.slice(0, 100), sItems.slice(0, 100), { session: 'warm-up', mode: 'membership' }); // the pool is warm in the step too
    const t0 = process.hrtime.bigint();
    await runPsiLocally(rItems, sItems, { session: 'bench', mode: 'membership' });
    const localPsiSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const relayedMiB = (progress.relayedBytes ?? 0) * 0.75 / 2 ** 20;
    process.stdout.write(`step ${stepSeconds.toFixed(2)} s (receiver ${nr} items, sender ${ns}), job ${jobSeconds.toFixed(2)} s, bare PSI on the same sizes ${localPsiSeconds.toFixed(2)} s, relayed ${relayedMiB.toFixed(1)} MiB\n`);
    process.stdout.write(`${JSON.stringify({ persons, receiverItems: nr, senderItems: ns, stepSeconds, jobSeconds, localPsiSeconds, overhead: stepSeconds / localPsiSeconds, relayedMiB })}\n`);
  } finally {
    await l.close();
  }
}

import type { Logger } from 'pino';
import { LabError, t } from '../../sandbox/errors/index.ts';
import type { LabConfig } from '../../sandbox/store/lab-config.ts';
import { openControl } from '../lab/lab-services.ts';
import { auditKeyPath, readAuditKey } from '../services/audit-key.ts';
import { createAuditTrail, type AuditVerifyReport } from '../services/audit.service.ts';
import { parseCommandArgs } from './args.ts';

/**
 * `npm run lab -- audit verify [--json]` and `npm run lab -- audit checkpoint`.
 *
 * verify reads only (it does not append to the trail it checks); exit code 0 when the trail is
 * intact, 1 when it is broken (the first bad entry and the reason are printed, zh-CN and en).
 * It needs the signing key file (or its public half) to check the signed checkpoints.
 */
export async function runAuditCommand(argv: string[], cfg: LabConfig, logger: Logger, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify' && sub !== 'checkpoint') {
    throw new LabError('LAB-E030', { detail: t('audit 只支持 verify 与 checkpoint', 'audit: only `audit verify` and `audit checkpoint` are supported') });
  }
  const a = parseCommandArgs(`audit ${sub}`, rest, sub === 'verify' ? { json: { type: 'boolean' } } : {});
  const keyFile = auditKeyPath(cfg.dataDir);
  const key = readAuditKey(keyFile);
  const control = await openControl(cfg, logger);
  try {
    const trail = createAuditTrail(control, key ? { key } : {});
    if (sub === 'checkpoint') {
      if (!trail.canSign) {
        throw new LabError('LAB-E092', { detail: t(`没有私钥：${keyFile}`, `no private key at ${keyFile}`), hint: t('启动一次实验室以生成密钥，或设置 LAB_AUDIT_SIGNING_KEY_FILE', 'Start the lab once to create it, or set LAB_AUDIT_SIGNING_KEY_FILE') });
      }
      const c = await trail.checkpoint();
      out.write(c ? `检查点 ${c.id}：第 ${c.seq} 条，${c.headHash}\ncheckpoint ${c.id}: entry ${c.seq}, ${c.headHash}\n` : '审计日志为空，无需检查点\nthe audit trail is empty: no checkpoint\n');
      return 0;
    }
    const report = await trail.verify();
    if ('json' in a && a.json) out.write(JSON.stringify(report) + '\n');
    else out.write(describe(report, key ? undefined : keyFile));
    return report.ok ? 0 : 1;
  } finally {
    await control.close();
  }
}

function describe(r: AuditVerifyReport, missingKey: string | undefined): string {
  const lines: string[] = [];
  if (r.ok) {
    lines.push(`审计日志完好：${r.entries} 条记录，${r.checkpoints} 个签名检查点，链头 #${r.head.seq} ${r.head.hash}`);
    lines.push(`audit trail intact: ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}, ${r.checkpoints} signed checkpoint${r.checkpoints === 1 ? '' : 's'}, head #${r.head.seq} ${r.head.hash}`);
  } else if (r.firstBad) {
    const e = new LabError('LAB-E090', { detail: r.firstBad.message });
    lines.push(`${e.code} ${e.messageIn('zh-CN')}`);
    lines.push(`${e.code} ${e.messageIn('en')}`);
    lines.push(`first bad entry: ${r.firstBad.seq} (${r.firstBad.reason}${r.firstBad.checkpointId !== undefined ? `, checkpoint ${r.firstBad.checkpointId}` : ''}); ${r.entries} entries checked before it`);
  }
  if (missingKey) lines.push(`（未找到签名密钥 ${missingKey}，无法核对检查点）`, `(no signing key at ${missingKey}: checkpoints cannot be checked)`);
  return lines.join('\n') + '\n';
}

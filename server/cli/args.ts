import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LabError, t } from '../../sandbox/errors/index.ts';

/** parseArgs with the lab's error family: unknown or malformed options are LAB-E030. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new LabError('LAB-E030', { detail: t(`${command}：${msg}`, `${command}: ${msg}`), hint: t(`运行 npm run lab -- help 查看用法`, `Run \`npm run lab -- help\` for usage`) });
  }
}

export function requireInt(command: string, name: string, value: string | undefined, min: number, max: number, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new LabError('LAB-E030', { detail: t(`${command}：缺少 --${name}`, `${command}: --${name} is required`), field: name });
  }
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new LabError('LAB-E030', {
      detail: t(`${command}：--${name} 须为 ${min} 到 ${max} 之间的整数（收到 ${JSON.stringify(value)}）`, `${command}: --${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`),
      field: name,
    });
  }
  return n;
}

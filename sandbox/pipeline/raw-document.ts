import { LabError, t } from '../errors/index.ts';
import { MAX_DOCUMENT_DEPTH, MAX_REQUEST_BYTES, PIPELINE_SPEC_VERSION, nodeIdSchema } from './spec.ts';

/** An unpaired UTF-16 surrogate: Postgres cannot store it in text or jsonb. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const pathText = (path: readonly (string | number)[]) => path.map(String).join('.');

/** The id of node `index` of a raw document, when it is a well-formed node id (never echo anything else). */
export function rawNodeId(doc: unknown, index: unknown): string | undefined {
  if (typeof index !== 'number' || doc === null || typeof doc !== 'object') return undefined;
  const nodes = (doc as { nodes?: unknown }).nodes;
  const id = Array.isArray(nodes) ? (nodes[index] as { id?: unknown } | undefined)?.id : undefined;
  return nodeIdSchema.safeParse(id).success ? (id as string) : undefined;
}

/**
 * Checks a pipeline document before any schema runs over it, without recursion (a hostile
 * document cannot overflow the stack): nesting depth, size, text that cannot be stored (NUL,
 * unpaired surrogates), `__proto__` keys (a parser would turn one into a prototype and silently
 * drop it), and the `specVersion`. Returns the first problem, naming the field and node.
 */
export function checkRawDocument(doc: unknown): LabError | undefined {
  const fail = (path: readonly (string | number)[], zh: string, en: string) => {
    const nodeId = path[0] === 'nodes' ? rawNodeId(doc, path[1]) : undefined;
    return new LabError('LAB-E003', { detail: t(`${pathText(path) || '流程'}：${zh}`, `${pathText(path) || 'pipeline'}: ${en}`), field: pathText(path), ...(nodeId ? { nodeId } : {}) });
  };
  let chars = 0;
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: doc, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop() as { value: unknown; path: (string | number)[] };
    if (path.length > MAX_DOCUMENT_DEPTH) {
      return fail(path.slice(0, MAX_DOCUMENT_DEPTH), `嵌套超过 ${MAX_DOCUMENT_DEPTH} 层`, `nested deeper than ${MAX_DOCUMENT_DEPTH} levels`);
    }
    if (typeof value === 'string') {
      chars += value.length + 2;
      if (value.includes('\u0000')) return fail(path, '文本中含有空字符（\\u0000）', 'the text contains a NUL character (\\u0000)');
      if (LONE_SURROGATE.test(value)) return fail(path, '文本中含有不成对的代理字符', 'the text contains an unpaired surrogate');
    } else if (Array.isArray(value)) {
      chars += 2 + value.length;
      value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      chars += 2 + entries.length;
      for (const [k, v] of entries) {
        const at = [...path, k];
        if (k === '__proto__') return fail(at, '不允许的键 __proto__', 'the key __proto__ is not allowed');
        if (k.includes('\u0000') || LONE_SURROGATE.test(k)) {
          // Named with JSON escapes, so the field itself is storable text.
          return fail([...path, JSON.stringify(k).slice(1, -1)], '键名中含有空字符或不成对的代理字符', 'the key contains a NUL character or an unpaired surrogate');
        }
        chars += k.length + 3;
        stack.push({ value: v, path: at });
      }
    } else {
      chars += 16;
    }
    if (chars > MAX_REQUEST_BYTES) {
      return new LabError('LAB-E005', { detail: t(`流程超过 ${MAX_REQUEST_BYTES / 1024} KB`, `pipeline larger than ${MAX_REQUEST_BYTES / 1024} KB`) });
    }
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    const v = (doc as { specVersion?: unknown }).specVersion;
    if (v !== PIPELINE_SPEC_VERSION) {
      const shown = v === undefined ? t('缺少', 'missing') : t(JSON.stringify(v).slice(0, 20), JSON.stringify(v).slice(0, 20));
      return new LabError('LAB-E086', {
        detail: t(`specVersion ${shown.zh}；本系统读取 specVersion ${PIPELINE_SPEC_VERSION}`, `specVersion ${shown.en}; this lab reads specVersion ${PIPELINE_SPEC_VERSION}`),
        hint: t('请用本系统的画布重新保存流程，或把 specVersion 设为 1', 'Save the pipeline again from this lab\'s canvas, or set specVersion to 1'),
        field: 'specVersion',
      });
    }
  }
  return undefined;
}

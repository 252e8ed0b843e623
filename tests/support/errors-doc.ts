import { ERROR_CODES } from '../../sandbox/errors/codes.ts';

/** Renders docs/errors.md from the code list (a test keeps the file in sync). */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, s]) =>
    `| <a id="${code.toLowerCase()}"></a>${code} | ${s.status} | ${s.kind} | ${s.zh} | ${s.en} |`);
  return [
    '# Error codes',
    '',
    'Every error the lab reports carries one of these stable codes. Generated from',
    '`sandbox/errors/codes.ts` (`tests/unit/errors-doc.test.ts` fails when this file is out of date;',
    'regenerate with `npx tsx tests/support/write-errors-doc.ts`).',
    '',
    '| code | HTTP | kind | 中文 | English |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

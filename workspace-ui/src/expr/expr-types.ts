/** What the expression editor knows about a node's input (pure types; the Monaco side is expr-language.ts). */
import type { Bilingual } from '../api/types.ts';
import type { Lang } from '../i18n/lang.ts';

/** A column of the node's input, as the editor knows it (from validation, or from the catalog before that). */
export interface ExprColumn {
  readonly name: string;
  /** Expression type: int, numeric, text, date, boolean, bytes */
  readonly type: string;
  readonly level: string;
  readonly semantic: string;
  readonly identifier: boolean;
  readonly label?: Bilingual;
  readonly values?: Readonly<Record<string, Bilingual>> | null;
}

export interface ExprContext {
  /** undefined: the input is not known yet (the node is not connected); only syntax is checked. */
  readonly columns: readonly ExprColumn[] | undefined;
  readonly lang: Lang;
}

import { z } from 'zod';
import { CLASSIFICATIONS, type Bilingual, type Classification } from '../../sandbox/domains/catalog/types.ts';
import { LabError, t } from '../../sandbox/errors/index.ts';
import raw from './tag-library.json' with { type: 'json' };

/**
 * The tag library (人口标签库): tags defined as data in tag-library.json, not as code. Each tag names
 * the catalog dataset whose rows it tags and a rule in the expression language over that dataset's
 * columns. Curated like a policy: a rule may read identifiers (I3: usable, never visible), because
 * only the tag's id ever reaches a result. The structure is checked here when the module loads;
 * tag-library.test.ts type-checks every rule against its dataset's catalog columns.
 */
export interface TagCategory {
  readonly id: string;
  readonly label: Bilingual;
}

export interface TagDefinition {
  /** Stable snake_case id; it is the value of the `tag` column, so it never changes meaning. */
  readonly id: string;
  readonly label: Bilingual;
  readonly category: string;
  /** The catalog dataset (`<domain>.<table>`) whose rows the rule reads. */
  readonly dataset: string;
  /** Lowest classification of the tag column, whatever the rule reads (membership can be sensitive on its own). */
  readonly level: Classification;
  /** A boolean expression over the dataset's columns, e.g. `subsidy_type = 'dibao' AND since <= as_of()`. */
  readonly rule: string;
}

export interface TagLibrary {
  readonly version: 1;
  readonly categories: readonly TagCategory[];
  readonly tags: readonly TagDefinition[];
}

const snakeId = z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'snake_case, starting with a letter, at most 48');
const bilingual = z.object({ zh: z.string().min(1).max(200), en: z.string().min(1).max(200) }).strict();

const librarySchema = z.object({
  version: z.literal(1),
  categories: z.array(z.object({ id: snakeId, label: bilingual }).strict()).min(1).max(100),
  tags: z.array(z.object({
    id: snakeId,
    label: bilingual,
    category: snakeId,
    dataset: z.string().regex(/^[a-z]+\.[a-z][a-z0-9_]*$/, '<domain>.<table>'),
    level: z.enum(CLASSIFICATIONS),
    rule: z.string().min(1).max(2000),
  }).strict()).min(1).max(1000),
}).strict().superRefine((lib, ctx) => {
  const categories = new Set<string>();
  lib.categories.forEach((c, i) => {
    if (categories.has(c.id)) ctx.addIssue({ code: 'custom', path: ['categories', i, 'id'], message: `category ${c.id} is listed twice` });
    categories.add(c.id);
  });
  const tags = new Set<string>();
  lib.tags.forEach((tag, i) => {
    if (tags.has(tag.id)) ctx.addIssue({ code: 'custom', path: ['tags', i, 'id'], message: `tag ${tag.id} is listed twice` });
    tags.add(tag.id);
    if (!categories.has(tag.category)) ctx.addIssue({ code: 'custom', path: ['tags', i, 'category'], message: `no category ${tag.category}` });
  });
});

/** Checks a tag library document; a broken library is a deployment error (LAB-E083), never a user's. */
export function parseTagLibrary(doc: unknown): TagLibrary {
  const parsed = librarySchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.map(String).join('.') : '';
    throw new LabError('LAB-E083', {
      detail: t(`tag-library.json ${path}：${issue?.message ?? '格式错误'}`, `tag-library.json ${path}: ${issue?.message ?? 'invalid'}`),
      field: path,
    });
  }
  return parsed.data;
}

export const TAG_LIBRARY: TagLibrary = parseTagLibrary(raw);

const byId = new Map(TAG_LIBRARY.tags.map((tag) => [tag.id, tag]));

export const findTag = (id: string): TagDefinition | undefined => byId.get(id);

/** The tags that apply to rows of the given catalog datasets, in library order. */
export const tagsForDatasets = (datasets: readonly string[]): TagDefinition[] =>
  TAG_LIBRARY.tags.filter((tag) => datasets.includes(tag.dataset));

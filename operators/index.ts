/** The one entry point through which sandbox/ and server/ reach operators. */
export { OPERATORS, findOperator } from './registry.ts';
export type { AnyOperator, OperatorSpec, UiHint } from './define-operator.ts';
export { TAG_LIBRARY, findTag, tagsForDatasets, type TagDefinition, type TagCategory, type TagLibrary } from './tag/tag-library.ts';

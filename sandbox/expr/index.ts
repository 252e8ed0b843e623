/** The expression language: pure code, shared by the server and the workspace UI. */
export type { Expr, BinaryOp } from './ast.ts';
export { columnsOf } from './ast.ts';
export { tokenize, MAX_EXPRESSION_LENGTH } from './lexer.ts';
export { parseExpression, depthOf, MAX_EXPRESSION_DEPTH } from './parser.ts';
export { checkExpression, MAX_IN_ITEMS, type Checked } from './check.ts';
export { FUNCTIONS, findFunction, type FunctionSpec } from './functions.ts';
export { exprTypeOfColumn, type ColumnInfo, type ExprInfo, type ExprType } from './types.ts';

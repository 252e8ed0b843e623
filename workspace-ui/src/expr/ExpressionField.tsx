import { Input } from 'antd';
import { lazy, Suspense } from 'react';
import type { MonacoExpressionProps } from './MonacoExpression.tsx';

// Monaco (a few MB) is fetched the first time an expression field is shown, from this server.
const MonacoExpression = lazy(() => import('./MonacoExpression.tsx'));

/** An expression parameter: Monaco with the language's completion and diagnostics; a plain text box while it loads. */
export function ExpressionField(props: MonacoExpressionProps) {
  return (
    <Suspense fallback={<Input.TextArea value={props.value} aria-label={props.ariaLabel} rows={2} readOnly className="lab-expr-loading" />}>
      <MonacoExpression {...props} />
    </Suspense>
  );
}

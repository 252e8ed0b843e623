import { Form, Input, InputNumber, Switch, Tooltip, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { isTree, setAt, type ParamTree } from './params.ts';

export interface ParamsFormProps {
  readonly value: ParamTree;
  readonly onChange: (value: ParamTree) => void;
  /** Problems the server named by path ("staff.threshold" → message). */
  readonly errors: ReadonlyMap<string, string>;
  /** Paths changed since the version in force (marked). */
  readonly changed: ReadonlySet<string>;
  readonly readOnly?: boolean;
}

/** Known keys in reading order (the database keeps objects with sorted keys); unknown ones after them. */
const ORDER = ['staff', 'researcher', 'dp', 'approvals', 'threshold', 'rounding', 'pPercent', 'nkK', 'maxLevels', 'defaultEpsilon', 'maxEpsilonPerJob', 'defaultProjectBudget', 'mechanism', 'validHours'];
const rank = (k: string) => { const i = ORDER.indexOf(k); return i < 0 ? ORDER.length : i; };
const ordered = (tree: ParamTree) => Object.entries(tree).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));

/**
 * The disclosure parameters (thresholds, rounding, ε, approval validity) as a form generated from
 * the object itself: a group per object, a number or text field per value; the server checks them
 * (POST /api/policies/check) and its problems are shown on the field they name.
 */
export function ParamsForm({ value, onChange, errors, changed, readOnly = false }: ParamsFormProps) {
  const { t } = useTranslation();

  const field = (path: readonly string[], v: unknown) => {
    const key = path.join('.');
    const name = path[path.length - 1] ?? key;
    const label = (
      <Tooltip title={<span>{t(`policyParam.help.${name}`, { defaultValue: '' })} <Typography.Text code className="lab-tooltip-code">{key}</Typography.Text></span>}>
        <span className={changed.has(key) ? 'lab-param-changed' : ''}>{t(`policyParam.${name}`, { defaultValue: name })}</span>
      </Tooltip>
    );
    const set = (nv: unknown) => { onChange(setAt(value, path, nv)); };
    let control;
    if (typeof v === 'number') {
      control = <InputNumber value={v} step={Number.isInteger(v) ? 1 : 0.01} onChange={(n) => { set(n); }} disabled={readOnly} aria-label={key} className="lab-param-number" />;
    } else if (typeof v === 'boolean') {
      control = <Switch checked={v} onChange={(c) => { set(c); }} disabled={readOnly} aria-label={key} />;
    } else {
      control = <Input value={typeof v === 'string' ? v : JSON.stringify(v)} onChange={(e) => { set(e.target.value); }} disabled={readOnly} aria-label={key} />;
    }
    const error = errors.get(key);
    return (
      <Form.Item key={key} label={label} validateStatus={error ? 'error' : ''} help={error} data-param-path={key} className="lab-param">
        {control}
      </Form.Item>
    );
  };

  const group = (path: readonly string[], tree: ParamTree) => {
    const key = path.join('.');
    const leaves = ordered(tree).filter(([, v]) => !isTree(v));
    const groups = ordered(tree).filter(([, v]) => isTree(v));
    return (
      <fieldset key={key} className="lab-param-group" data-param-group={key}>
        <legend>{t(`policyParam.group.${path[path.length - 1] ?? key}`, { defaultValue: key })}</legend>
        {leaves.map(([k, v]) => field([...path, k], v))}
        {groups.map(([k, v]) => group([...path, k], v as ParamTree))}
      </fieldset>
    );
  };

  const top = ordered(value);
  return (
    <Form layout="horizontal" size="small" labelCol={{ flex: '150px' }} labelWrap colon={false} className="lab-params" data-testid="params-form">
      {top.filter(([, v]) => !isTree(v)).map(([k, v]) => field([k], v))}
      {top.filter(([, v]) => isTree(v)).map(([k, v]) => group([k], v as ParamTree))}
    </Form>
  );
}

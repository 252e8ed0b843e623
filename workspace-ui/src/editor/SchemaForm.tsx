import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Form, Input, InputNumber, Select, Switch, Tooltip, Typography } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { CatalogDataset, JsonSchema, OperatorRegistry, UiHint } from '../api/types.ts';
import { domainRank, LEVEL_COLOR } from '../catalog/labels.ts';
import type { ExprColumn } from '../expr/expr-types.ts';
import { ExpressionField } from '../expr/ExpressionField.tsx';
import { useLang, type Lang } from '../i18n/index.ts';
import { columnLabel, type InputColumns } from './columns.ts';
import { getAt, hintFor, isObject, pathKey, setAt, startValue, type Path } from './schema.ts';

/**
 * The inspector's form for any operator, generated from its parameter schema (JSON Schema from
 * GET /api/operators) and UI hints: enums become selects, `expression` strings a Monaco editor,
 * `column` a picker of the input's columns, `dataset` the catalog, `tags` the tag library, arrays of
 * objects a list of sub-forms. No operator has a form of its own.
 */
export interface SchemaFormProps {
  readonly nodeId: string;
  readonly schema: JsonSchema;
  readonly value: Readonly<Record<string, unknown>>;
  readonly onChange: (next: Record<string, unknown>, group: string) => void;
  readonly ui: Readonly<Record<string, UiHint>>;
  /** Server messages by parameter path (`columns.0.expr`). */
  readonly errors: ReadonlyMap<string, readonly string[]>;
  readonly inputColumns: (port: string | undefined) => InputColumns;
  readonly catalog: readonly CatalogDataset[];
  readonly tags: OperatorRegistry['tags'];
  /** Dataset ids upstream of the node (tags are offered for those). */
  readonly datasets: readonly string[];
}

interface Ctx extends SchemaFormProps {
  readonly t: TFunction;
  readonly lang: Lang;
  readonly pick: ReturnType<typeof useLang>['pick'];
  readonly set: (path: Path, v: unknown) => void;
}

export function SchemaForm(props: SchemaFormProps) {
  const { t } = useTranslation();
  const { lang, pick } = useLang();
  const set = (path: Path, v: unknown) => {
    const next = setAt(props.value, path, v);
    props.onChange(isObject(next) ? { ...next } : {}, `params:${props.nodeId}:${pathKey(path)}`);
  };
  const ctx: Ctx = { ...props, t, lang, pick, set };
  const properties = Object.entries(props.schema.properties ?? {});
  if (properties.length === 0) return <Typography.Text type="secondary">{t('inspector.noParams')}</Typography.Text>;
  return (
    <Form layout="vertical" size="small" component="div" className="lab-schema-form">
      {properties.map(([name, s]) => <Field key={name} ctx={ctx} path={[name]} schema={s} required={props.schema.required?.includes(name) === true} />)}
    </Form>
  );
}

const lastName = (path: Path): string => [...path].reverse().find((p): p is string => typeof p === 'string') ?? '';

function paramLabel(ctx: Ctx, path: Path, schema: JsonSchema): string {
  if (schema.label) return ctx.pick(schema.label);
  const name = lastName(path);
  return ctx.t(`param.${name}`, { defaultValue: schema.title ?? name });
}

const enumLabel = (t: TFunction, v: unknown): string => {
  const s = String(v);
  return t(`enum.${s === '' ? '_empty' : s}`, { defaultValue: s });
};

function errorsAt(ctx: Ctx, path: Path): readonly string[] {
  return ctx.errors.get(pathKey(path)) ?? [];
}

function Field({ ctx, path, schema, required }: { ctx: Ctx; path: Path; schema: JsonSchema; required: boolean }) {
  const errors = errorsAt(ctx, path);
  const label = paramLabel(ctx, path, schema);
  const isList = schema.type === 'array' && schema.items?.type === 'object';
  const describe = schema.default !== undefined && !isList ? ctx.t('inspector.defaultIs', { value: formatDefault(ctx.t, schema.default) }) : undefined;
  return (
    <Form.Item
      label={label}
      required={required}
      validateStatus={errors.length ? 'error' : undefined}
      help={errors.length ? errors.join('；') : undefined}
      extra={describe}
      data-param={pathKey(path)}
      className={isList ? 'lab-field-list' : undefined}
    >
      <Widget ctx={ctx} path={path} schema={schema} label={label} invalid={errors.length > 0} />
    </Form.Item>
  );
}

function formatDefault(t: TFunction, v: unknown): string {
  if (Array.isArray(v)) return v.length ? JSON.stringify(v) : t('inspector.none');
  if (typeof v === 'string') return enumLabel(t, v);
  return JSON.stringify(v);
}

function columnOptions(ctx: Ctx, columns: readonly ExprColumn[] | undefined) {
  return (columns ?? []).map((c) => ({
    value: c.name,
    label: <span className="lab-col-option"><span>{columnLabel(c, ctx.pick)}</span><span className={`lab-dot lab-dot-${LEVEL_COLOR[c.level as 'L1'] ?? 'grey'}`} title={c.level} />{c.identifier && <span className="lab-id-mark">ID</span>}</span>,
    search: `${c.name} ${c.label?.zh ?? ''} ${c.label?.en ?? ''}`,
    disabled: false,
  }));
}

function columnHelp(ctx: Ctx, cols: InputColumns): string | undefined {
  if (cols.source === 'none') return ctx.t('inspector.connectFirst');
  if (cols.source === 'catalog') return ctx.t('inspector.columnsFromCatalog');
  return undefined;
}

function Widget({ ctx, path, schema, label, invalid }: { ctx: Ctx; path: Path; schema: JsonSchema; label: string; invalid: boolean }) {
  const { t } = ctx;
  const hint = hintFor(ctx.ui, path);
  const raw = getAt(ctx.value, path);
  const value = raw === undefined ? schema.default : raw;
  const set = (v: unknown) => { ctx.set(path, v); };

  if (schema.type === 'string' || (schema.enum && schema.type === undefined)) {
    if (schema.enum) {
      return <Select aria-label={label} value={value as string | undefined} onChange={set} options={schema.enum.map((v) => ({ value: v as string, label: enumLabel(t, v) }))} />;
    }
    const text = typeof value === 'string' ? value : '';
    switch (hint?.widget) {
      case 'expression': {
        const cols = ctx.inputColumns(hint.port);
        return (
          <>
            <ExpressionField value={text} onChange={set} ariaLabel={label} invalid={invalid} placeholder={ctx.pick(hint.placeholder)} context={{ columns: cols.columns, lang: ctx.lang }} />
            {columnHelp(ctx, cols) && <Typography.Text type="secondary" className="lab-field-note">{columnHelp(ctx, cols)}</Typography.Text>}
          </>
        );
      }
      case 'dataset': {
        const domains = [...new Set(ctx.catalog.map((d) => d.domain))].sort((a, b) => domainRank(a) - domainRank(b));
        return (
          <Select
            aria-label={label} showSearch value={text || undefined} placeholder={t('inspector.pickDataset')} onChange={set}
            optionFilterProp="search"
            options={domains.map((domain) => ({
              label: t(`domain.${domain}`, { defaultValue: domain }),
              title: domain,
              options: ctx.catalog.filter((d) => d.domain === domain).map((d) => ({ value: d.id, label: `${ctx.pick(d.label)} · ${d.id}`, search: `${d.id} ${d.label.zh} ${d.label.en}` })),
            }))}
          />
        );
      }
      case 'column': {
        const cols = ctx.inputColumns(hint.port);
        return (
          <>
            <Select aria-label={label} showSearch allowClear value={text || undefined} placeholder={t('inspector.pickColumn')} onChange={(v?: string) => { set(v ?? ''); }} optionFilterProp="search" options={columnOptions(ctx, cols.columns)} notFoundContent={t('inspector.noColumns')} />
            {columnHelp(ctx, cols) && <Typography.Text type="secondary" className="lab-field-note">{columnHelp(ctx, cols)}</Typography.Text>}
          </>
        );
      }
      case 'tags':
      case 'text':
      case undefined:
        return <Input aria-label={label} value={text} maxLength={schema.maxLength} onChange={(e) => { set(e.target.value); }} status={invalid ? 'error' : undefined} />;
    }
  }

  if (schema.type === 'number' || schema.type === 'integer') {
    return <InputNumber aria-label={label} value={typeof value === 'number' ? value : null} min={schema.minimum} max={schema.maximum} precision={schema.type === 'integer' ? 0 : undefined} onChange={(v) => { set(v ?? undefined); }} />;
  }

  if (schema.type === 'boolean') return <Switch aria-label={label} checked={value === true} onChange={set} />;

  if (schema.type === 'array' && schema.items) {
    const list = Array.isArray(value) ? (value as unknown[]) : [];
    const items = schema.items;
    if (items.type === 'object') return <ObjectList ctx={ctx} path={path} schema={schema} items={items} list={list} label={label} />;
    const strings = list.filter((v): v is string => typeof v === 'string');
    if (hint?.widget === 'column') {
      const cols = ctx.inputColumns(hint.port);
      return (
        <>
          <Select aria-label={label} mode="multiple" allowClear value={strings} onChange={set} placeholder={t('inspector.pickColumns')} optionFilterProp="search" options={columnOptions(ctx, cols.columns)} maxCount={schema.maxItems} notFoundContent={t('inspector.noColumns')} />
          {columnHelp(ctx, cols) && <Typography.Text type="secondary" className="lab-field-note">{columnHelp(ctx, cols)}</Typography.Text>}
        </>
      );
    }
    if (hint?.widget === 'tags') {
      const fits = ctx.tags.tags.filter((tag) => ctx.datasets.length === 0 || ctx.datasets.includes(tag.dataset));
      return (
        <Select
          aria-label={label} mode="multiple" allowClear value={strings} onChange={set} placeholder={t('inspector.pickTags')} optionFilterProp="search" maxCount={schema.maxItems}
          options={ctx.tags.categories.map((c) => ({
            label: ctx.pick(c.label), title: c.id,
            options: fits.filter((tag) => tag.category === c.id).map((tag) => ({ value: tag.id, label: ctx.pick(tag.label), search: `${tag.id} ${tag.label.zh} ${tag.label.en}` })),
          })).filter((g) => g.options.length > 0)}
        />
      );
    }
    return <Select aria-label={label} mode="tags" value={strings} onChange={set} maxCount={schema.maxItems} open={false} suffixIcon={null} placeholder={t('inspector.typeValues')} />;
  }

  if (schema.type === 'object' && schema.properties) {
    return (
      <div className="lab-subform">
        {Object.entries(schema.properties).map(([name, s]) => <Field key={name} ctx={ctx} path={[...path, name]} schema={s} required={schema.required?.includes(name) === true} />)}
      </div>
    );
  }

  return <Input.TextArea aria-label={label} value={JSON.stringify(value ?? null)} readOnly rows={3} />;
}

function ObjectList({ ctx, path, schema, items, list, label }: { ctx: Ctx; path: Path; schema: JsonSchema; items: JsonSchema; list: unknown[]; label: string }) {
  const { t } = ctx;
  const max = schema.maxItems ?? Infinity;
  const min = schema.minItems ?? 0;
  return (
    <div className="lab-object-list">
      {list.map((_item, i) => (
        <div key={i} className="lab-object-item" data-item={pathKey([...path, i])}>
          <div className="lab-object-item-head">
            <Typography.Text type="secondary">{t('inspector.item', { label, n: i + 1 })}</Typography.Text>
            <Tooltip title={list.length <= min ? t('inspector.atLeast', { n: min }) : t('inspector.removeItem')}>
              <Button size="small" type="text" danger icon={<DeleteOutlined />} disabled={list.length <= min} aria-label={t('inspector.removeItem')}
                onClick={() => { ctx.set(path, list.filter((_, j) => j !== i)); }} />
            </Tooltip>
          </div>
          {Object.entries(items.properties ?? {}).map(([name, s]) => (
            <Field key={name} ctx={ctx} path={[...path, i, name]} schema={s} required={items.required?.includes(name) === true} />
          ))}
        </div>
      ))}
      <Button size="small" type="dashed" icon={<PlusOutlined />} disabled={list.length >= max} onClick={() => { ctx.set(path, [...list, startValue(items)]); }} block>
        {t('inspector.addItem', { label })}
      </Button>
    </div>
  );
}

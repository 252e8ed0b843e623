/**
 * The lab answers every page with `Content-Security-Policy: default-src 'self'` and no
 * 'unsafe-inline': the browser ignores the text of any `<style>` element. antd (CSS-in-JS) and
 * Monaco write their styles into `<style>` elements they create at run time, so without this module
 * the workspace would render unstyled (and log a violation per element).
 *
 * What this does: `document.createElement('style')` gives a `<lab-style>` element instead — not an
 * HTMLStyleElement, so the CSP never looks at its text. It behaves like a style element for the
 * code that made it (text content, `innerHTML`, `sheet.insertRule`, `tagName === 'STYLE'`, `media`,
 * `type`) and carries its rules in a constructable stylesheet (CSSOM, which the CSP allows). While
 * the element is in the document its sheet is in `document.adoptedStyleSheets`, in document order,
 * so antd's ordering of its style elements still decides the cascade. Adopted sheets apply after
 * the page's stylesheets; antd means its styles to come *before* them (it prepends its elements to
 * <head> so the page's own CSS wins ties), so elements marked as prepended (rc-util's
 * `data-rc-order`) are put in a cascade layer, which unlayered page CSS outranks the same way.
 *
 * Installed once, first thing in main.tsx, before antd or Monaco create anything. Nothing here
 * loosens the policy: no inline style is ever evaluated, and no code is evaluated from text.
 */

import { MOVED_STYLE, moveStyleAttributes } from './style-attributes.ts';

const TAG = 'lab-style';

const live = new Set<LabStyleElement>();
let scheduled = false;

function order(a: Node, b: Node): number {
  const pos = a.compareDocumentPosition(b);
  if (pos & Node.DOCUMENT_POSITION_FOLLOWING) return -1;
  if (pos & Node.DOCUMENT_POSITION_PRECEDING) return 1;
  return 0;
}

/** Rebuilds the adopted sheets: ours in document order, after any sheet someone else adopted. */
function publish(): void {
  scheduled = false;
  const ours = new Set([...live].map((e) => e.sheet));
  const foreign = document.adoptedStyleSheets.filter((s) => !ours.has(s) && !retired.has(s));
  const sorted = [...live].sort(order).map((e) => e.sheet);
  document.adoptedStyleSheets = [...foreign, ...sorted];
  retired.clear();
}

const retired = new Set<CSSStyleSheet>();

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(publish);
}

export class LabStyleElement extends HTMLElement {
  readonly sheet = new CSSStyleSheet();
  /** Kept for code that sets them on a style element (Monaco sets `type` and `media`). */
  type = 'text/css';
  #media = '';
  readonly #observer = new MutationObserver(() => { this.#sync(); });

  constructor() {
    super();
    this.#observer.observe(this, { childList: true, characterData: true, subtree: true });
  }

  /** Code written for style elements checks `node.tagName === 'STYLE'` (rc-util, used by antd). */
  override get tagName(): string {
    return 'STYLE';
  }

  get media(): string {
    return this.#media;
  }

  set media(value: string) {
    this.#media = value;
    this.sheet.media.mediaText = value === 'screen' ? '' : value;
  }

  connectedCallback(): void {
    // Unlike a style element this one is not hidden by the browser's own stylesheet.
    this.style.display = 'none';
    this.#sync();
    live.add(this);
    schedule();
  }

  disconnectedCallback(): void {
    live.delete(this);
    retired.add(this.sheet);
    schedule();
  }

  #sync(): void {
    const text = this.textContent ?? '';
    const prepended = this.getAttribute('data-rc-order')?.startsWith('prepend') === true;
    this.sheet.replaceSync(prepended ? `@layer lab-prepended {\n${text}\n}` : text);
  }
}

let installed = false;

/** Routes every style element the page's libraries create through a constructable stylesheet. */
export function installCspStyles(): void {
  if (installed) return;
  installed = true;
  customElements.define(TAG, LabStyleElement);
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function createElement(this: Document, tagName: string, options?: ElementCreationOptions): HTMLElement {
    if (tagName.toLowerCase() === 'style') return new LabStyleElement();
    return create.call(this, tagName, options);
  } as typeof Document.prototype.createElement;
}

/**
 * Monaco's HTML goes through a Trusted Types policy that Monaco lets the page supply
 * (`MonacoEnvironment.createTrustedTypesPolicy`): this one moves every `style` attribute to
 * `data-lab-style` (style-attributes.ts), and `applyMovedStyles` sets them through CSSOM
 * (`element.style`), which the CSP allows.
 */
interface TrustedPolicyOptions {
  createHTML?: (value: string) => string;
  createScriptURL?: (value: string) => string;
}

export function monacoTrustedTypesPolicy(_name: string, options: TrustedPolicyOptions): TrustedPolicyOptions {
  return {
    createHTML: (value: string) => moveStyleAttributes(options.createHTML ? options.createHTML(value) : value),
    ...(options.createScriptURL ? { createScriptURL: options.createScriptURL } : {}),
  };
}

function applyTo(el: Element): void {
  const css = el.getAttribute(MOVED_STYLE);
  if (css === null || !(el instanceof HTMLElement)) return;
  el.removeAttribute(MOVED_STYLE);
  el.style.cssText = css;
}

/** Applies moved style attributes under `root` now and whenever Monaco renders there. Returns a stop function. */
export function applyMovedStyles(root: HTMLElement): () => void {
  const sweep = (node: Node) => {
    if (!(node instanceof Element)) return;
    applyTo(node);
    for (const el of node.querySelectorAll(`[${MOVED_STYLE}]`)) applyTo(el);
  };
  sweep(root);
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') applyTo(r.target as Element);
      else r.addedNodes.forEach(sweep);
    }
  });
  observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: [MOVED_STYLE] });
  return () => { observer.disconnect(); };
}

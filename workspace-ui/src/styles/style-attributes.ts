/**
 * Monaco renders lines as HTML text with `style="…"` attributes, which the CSP refuses
 * (style-src-attr). This moves every `style` attribute inside a tag to `data-lab-style` (applied
 * through CSSOM by csp-styles.ts). Text never contains a raw `<` (Monaco escapes it), so only
 * attributes match. Pure, so it is tested without a browser.
 */
export const MOVED_STYLE = 'data-lab-style';

export function moveStyleAttributes(html: string): string {
  return html.replace(/(<[a-zA-Z][^<>]*?\s)style="/g, `$1${MOVED_STYLE}="`);
}

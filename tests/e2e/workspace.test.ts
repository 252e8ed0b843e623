import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startE2ELab, type E2ELab } from './e2e-lab.ts';

/**
 * The workspace in Debian's Chromium against the real server (buildApp on a throwaway Postgres lab
 * with a seeded city and the six domain workers): the analyst signs in, reads the catalog, starts
 * from the S1 example, runs it and reads the released table; a wrong connection is refused with its
 * reason; expression problems are named in the editor and by the server on the node and field; the
 * UI is Chinese first and switches to English. Nothing may come from another origin and no CSP
 * rule may be broken on the way.
 *
 * Screenshots: set LAB_E2E_SCREENSHOTS to a folder (e.g. `.scratch/screenshots`).
 */

const SHOTS = process.env['LAB_E2E_SCREENSHOTS'];

describe('workspace UI in the browser', () => {
  let lab: E2ELab;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const violations: string[] = [];
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  const shot = async (name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  beforeAll(async () => {
    lab = await startE2ELab();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => { pageErrors.push(e.message); });
    page.on('console', (m) => { if (m.text().startsWith('CSP-VIOLATION')) violations.push(m.text()); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(lab.url) && !u.startsWith('blob:')) foreignRequests.push(u);
    });
    // Runs in the page (a string: this file is type-checked without the DOM library).
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.log('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 120) : ''));
      });`,
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
  });

  it('opens in Chinese and signs the analyst in, with a menu for the role', async () => {
    await page.goto(lab.url);
    await page.getByRole('button', { name: '登录' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.title()).toBe('数据实验室');
    await shot('login-zh');

    await page.getByLabel('用户名').fill('analyst');
    await page.getByLabel('密码').fill('not-the-password');
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('用户名或密码错误');

    await page.getByLabel('密码').fill(lab.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/editor$/);
    expect(await page.getByTestId('current-user').textContent()).toContain('业务人员');
    const menu = await page.getByRole('menu').first().textContent();
    expect(menu).toContain('流程编辑');
    expect(menu).toContain('数据目录');
  });

  it('browses the catalog: datasets by domain, fields with semantic type and colour-coded level', async () => {
    await page.goto(`${lab.url}/catalog`);
    await page.getByTestId('catalog-columns').waitFor();
    await page.getByRole('menuitem', { name: '人口基础信息' }).click();
    await expect.poll(() => page.getByTestId('dataset-title').textContent()).toBe('人口基础信息');
    const idRow = page.locator('[data-testid=catalog-columns] tr', { hasText: 'id_number' });
    expect(await idRow.textContent()).toContain('身份号码');
    const level = await idRow.locator('.lab-level').getAttribute('data-level');
    expect(['L3', 'L4']).toContain(level);
    // The level tag carries its colour class (antd preset colours: L1 green … L4 red).
    expect(await idRow.locator('.lab-level').getAttribute('class')).toMatch(level === 'L4' ? /ant-tag-red/ : /ant-tag-orange/);
    const levels = await page.locator('[data-testid=catalog-columns] .lab-level').evaluateAll((els) => els.map((e) => e.getAttribute('data-level')));
    expect(new Set(levels).size).toBeGreaterThan(1);
    await shot('catalog-zh');
  });

  it('starts from the S1 example, runs it with progress, and shows the released table with suppressed cells marked', async () => {
    await page.getByRole('menuitem', { name: '流程编辑' }).click();
    await page.getByTestId('canvas').waitFor();
    await page.getByTestId('example-select').locator('.ant-select').click();
    await page.locator('[data-example="s1-population-rollup.json"]').click();
    for (const id of ['persons', 'active', 'bands', 'rollup', 'out']) await page.getByTestId(`node-${id}`).waitFor();
    expect(await page.locator('.react-flow__edge').count()).toBe(4);
    await page.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByTestId('node-rollup').getAttribute('data-status')).toBe('ready');

    // The filter's condition is in Monaco, highlighted by the lab's expression language.
    await page.getByTestId('node-active').click();
    await page.locator('[data-testid=inspector] .lab-expr .monaco-editor').waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('[data-testid=inspector] .view-lines').textContent()).toContain("'active'");
    // Identifier, operator and string are coloured differently (tokenising runs in the background).
    await expect.poll(async () => (await page.locator('[data-testid=inspector] .view-lines span[class^=mtk]').evaluateAll((els) => new Set(els.map((e) => e.className)).size))).toBeGreaterThan(1);
    await shot('editor-s1-zh');

    await page.getByTestId('run-button').click();
    await page.locator('[data-testid=run-panel][data-job-state=succeeded]').waitFor({ timeout: 90_000 });
    const stage = page.getByTestId('stage-out');
    expect(await stage.getAttribute('data-state')).toBe('succeeded');
    expect(await stage.textContent()).toContain('人口库');
    const table = page.getByTestId('result-table');
    await table.waitFor();
    expect(await table.textContent()).toContain('披露审查');
    // Roll-up order: the city total first, every key rolled up.
    const first = await table.locator('tbody tr.ant-table-row').first().textContent();
    expect(first).toContain('合计');
    expect(await table.locator('tbody tr.ant-table-row').count()).toBeGreaterThan(5);
    // Released counts are multiples of the rounding base; suppressed cells show a mark, never a number.
    const numbers = (await table.locator('.lab-num').allTextContents()).map((s) => Number(s.replace(/,/g, '')));
    expect(numbers.length).toBeGreaterThan(0);
    for (const n of numbers) expect(n % 5).toBe(0);
    await table.locator('.ant-segmented-item', { hasText: /^网格$/ }).click();
    expect(await table.locator('[data-suppressed=true]').count()).toBeGreaterThan(0);
    await table.locator('.ant-segmented-item', { hasText: '全部层级' }).click();
    await shot('editor-result-zh');
    await expect.poll(() => page.getByTestId('node-out').getAttribute('data-status')).toBe('done');
  }, 150_000);

  it('drops an operator dragged from the palette, not configured until its dataset is chosen; Delete removes it', async () => {
    await page.getByTestId('palette-source@1').dragTo(page.getByTestId('canvas'), { targetPosition: { x: 60, y: 40 } });
    const dropped = page.getByTestId('node-source_1');
    await dropped.waitFor();
    expect(await dropped.getAttribute('data-status')).toBe('unconfigured');
    expect(await page.getByTestId('inspector').getAttribute('data-node')).toBe('source_1');
    await page.getByRole('combobox', { name: '数据集' }).click();
    await page.keyboard.type('registry.household');
    await page.keyboard.press('Enter');
    await expect.poll(() => dropped.textContent()).toContain('户');
    await dropped.click();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('node-source_1').count()).toBe(0);
  });

  it('refuses a connection between ports of different types and says why', async () => {
    await page.getByTestId('node-active').click();
    await page.getByRole('button', { name: '添加“输出结果”' }).click();
    const added = page.getByTestId('node-output_1');
    await added.waitFor();
    const edges = await page.locator('.react-flow__edge').count();
    const from = await page.locator('[data-testid=node-active] .react-flow__handle.source').boundingBox();
    const to = await added.locator('.react-flow__handle.target').boundingBox();
    if (!from || !to) throw new Error('handles not on screen');
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
    await expect.poll(() => page.getByTestId('connect-hint').textContent()).toContain('端口类型不符');
    await shot('connect-refused-zh');
    await page.mouse.up();
    expect(await page.locator('.react-flow__edge').count()).toBe(edges);
    // Undo takes the added node away again, Delete removes a selected one.
    await page.getByRole('button', { name: '撤销（Ctrl+Z）' }).click();
    await expect.poll(() => page.getByTestId('node-output_1').count()).toBe(0);
    await page.getByRole('button', { name: '重做（Ctrl+Shift+Z）' }).click();
    await page.getByTestId('node-output_1').click();
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('node-output_1').count()).toBe(0);
  });

  it('names a wrong column in the editor as the server does, and the server names node and field', async () => {
    await page.getByTestId('node-active').click();
    const editor = page.locator('[data-testid=inspector] .lab-expr .monaco-editor');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type("statsu = 'active'", { delay: 20 });
    await expect.poll(() => page.locator('[data-testid=inspector] .lab-expr-problem').textContent()).toContain('LAB-E052');
    // The server's validation names the same node and field.
    await page.getByTestId('tab-problems').click();
    const problem = page.locator('[data-testid=problem][data-node=active]');
    await problem.waitFor({ timeout: 20_000 });
    expect(await problem.getAttribute('data-field')).toBe('params.condition');
    expect(await problem.getAttribute('data-code')).toBe('LAB-E052');
    await expect.poll(() => page.getByTestId('node-active').getAttribute('data-status')).toBe('invalid');
    // The field's message (an earlier one may still be fading out: wait for this one, not for the only one).
    await page.locator('[data-testid=inspector] [data-param=condition] .ant-form-item-explain-error', { hasText: 'statsu' }).waitFor({ timeout: 20_000 });
    await shot('expression-error-zh');
    // Undo (from the canvas) restores the valid condition.
    await page.locator('.react-flow__pane').click({ position: { x: 10, y: 10 } });
    await page.keyboard.press('Control+z');
    await page.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
  });

  it('switches the whole workspace to English', async () => {
    await page.locator('.lab-header .ant-segmented-item', { hasText: 'English' }).click();
    await expect.poll(() => page.locator('.lab-brand-title').textContent()).toBe('Data Lab');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByTestId('run-button').textContent()).toContain('Run');
    expect(await page.getByRole('menu').first().textContent()).toContain('Pipeline editor');
    expect(await page.getByTestId('validation-status').textContent()).toBe('Valid');
    // Labels from the API follow too (operator labels are bilingual).
    expect(await page.locator('.lab-palette').textContent()).toContain('Geography roll-up');
    // No Chinese left in the workspace's own text (data such as the pipeline's name or a display name may be).
    const chrome = await page.locator('.lab-palette, .ant-tabs-nav, .lab-validation, [data-testid=run-button], .lab-inspector .ant-form-item-label, .lab-sider').allTextContents();
    expect(chrome.join(' ')).not.toMatch(/[\u4e00-\u9fff]/);
    await shot('editor-en');
  });

  it('loaded nothing from another origin and broke no CSP rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

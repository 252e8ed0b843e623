import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, waitForJob, type ApiClient } from '../support/api-client.ts';
import { launchChromium, startE2ELab, type E2ELab } from './e2e-lab.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../examples/pipelines/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/**
 * More of the workspace in Debian's Chromium against the real server: renaming and deleting
 * pipelines in the pipeline list, the preview of a node on mock rows (模拟数据) with its cells as the
 * guard's primary rules would release them, S7 as a population
 * pyramid, and S4a run by an analyst whose follow-up list the social steward then opens. Nothing
 * from another origin, no CSP violation, no page error.
 *
 * Screenshots: set LAB_E2E_SCREENSHOTS to a folder (docs/screenshots for the README's).
 */

const SHOTS = process.env['LAB_E2E_SCREENSHOTS'];

describe('workspace: manage pipelines, mock preview, pyramid, S4a follow-up list', () => {
  let lab: E2ELab;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let api: ApiClient;
  const violations: string[] = [];
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  const shot = async (name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  };
  const save = async (doc: unknown) => ((await (await api.post('/api/pipelines', doc)).json()) as { id: string }).id;
  const run = async (id: string) => ((await (await api.post(`/api/pipelines/${id}/runs`)).json()) as { jobId: string }).jobId;

  beforeAll(async () => {
    lab = await startE2ELab();
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    page.on('pageerror', (e) => { pageErrors.push(e.message); });
    page.on('console', (m) => { if (m.text().startsWith('CSP-VIOLATION')) violations.push(m.text()); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(lab.url) && !u.startsWith('blob:')) foreignRequests.push(u);
    });
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.log('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI);
      });`,
    });
    api = await signIn(lab.url, 'analyst', lab.password);
    await page.goto(lab.url);
    await page.getByLabel('用户名').fill('analyst');
    await page.getByLabel('密码').fill(lab.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/editor$/);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
  });

  it('previews a node on mock rows, labelled as mock data, and follows the selection', async () => {
    await page.getByTestId('canvas').waitFor();
    await page.getByTestId('example-select').locator('.ant-select').click();
    await page.locator('[data-example="s1-population-rollup.json"]').click();
    await page.getByTestId('node-bands').waitFor();
    await page.getByTestId('node-bands').click();
    const preview = page.getByTestId('mock-preview');
    await preview.waitFor();
    expect(await preview.getByTestId('mock-label').textContent()).toBe('模拟数据');
    await preview.getByTestId('mock-preview-run').click();
    const count = preview.getByTestId('mock-preview-count');
    await count.waitFor({ timeout: 20_000 });
    const rows = Number(await count.getAttribute('data-rows'));
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(200);
    expect(await preview.getByTestId('mock-preview-table').locator('thead').textContent()).toContain('age_band');
    await shot('editor-mock-preview-zh');
    // Another node: once asked, the preview follows the selection — the roll-up's groups of mock rows.
    await page.getByTestId('node-rollup').click();
    await expect.poll(() => page.getByTestId('mock-preview-table').locator('thead').textContent()).toContain('persons');
    // The table node: the mock table as the guard's primary rules would release it, under the policy
    // in force (the disclosure preview's parameters) — small cells marked suppressed, the rest rounded.
    const guard = preview.getByTestId('mock-guard');
    await guard.waitFor({ timeout: 20_000 });
    expect(await guard.getAttribute('data-threshold')).toBe(await page.getByTestId('disclosure-preview').getAttribute('data-threshold'));
    expect(Number(await guard.getAttribute('data-suppressed'))).toBeGreaterThan(0);
    await guard.getByTestId('mock-suppressed').first().waitFor();
    expect(await guard.getByTestId('mock-suppressed').first().textContent()).toBe('已抑制');
    const rounded = Number(await guard.getByTestId('mock-rounded').first().textContent());
    expect(rounded % Number(await guard.getAttribute('data-rounding'))).toBe(0);
    expect(await guard.getByTestId('mock-guard-note').textContent()).toContain('次级抑制');
    await guard.getByTestId('mock-guard-table').scrollIntoViewIfNeeded();
    await shot('editor-mock-guard-zh');
  }, 90_000);

  it('renames and deletes pipelines in the pipeline list', async () => {
    const keep = await save({ ...example('s6-registry-new-inflow'), name: '待改名的流程' });
    const drop = await save({ ...example('s6-registry-new-inflow'), name: '待删除的流程' });
    await page.getByRole('menuitem', { name: '流程与任务' }).click();
    await page.waitForURL(/\/jobs$/);
    await page.getByTestId('tab-pipelines').click();
    const keepRow = page.locator(`[data-testid=pipeline-list] tr[data-pipeline="${keep}"]`);
    await keepRow.waitFor();
    await keepRow.getByTestId('rename-pipeline').click();
    await page.getByTestId('rename-input').fill('新增流入（改名后）');
    await page.getByTestId('confirm-rename-pipeline').click();
    await expect.poll(() => keepRow.textContent()).toContain('新增流入（改名后）');
    const dropRow = page.locator(`[data-testid=pipeline-list] tr[data-pipeline="${drop}"]`);
    await dropRow.getByTestId('delete-pipeline').click();
    await page.getByTestId('confirm-delete-pipeline').click();
    await expect.poll(() => dropRow.count()).toBe(0);
    await shot('pipelines-zh');
    expect((await api.get(`/api/pipelines/${drop}`)).status).toBe(404);
    expect(((await (await api.get(`/api/pipelines/${keep}`)).json()) as { name: string }).name).toBe('新增流入（改名后）');
  }, 60_000);

  it('shows S7 run by staff as a population pyramid, by district', async () => {
    const jobId = await run(await save(example('s7-floating-age-structure')));
    expect(await waitForJob(api, jobId)).toMatchObject({ state: 'succeeded' });
    await page.goto(`${lab.url}/jobs/${jobId}`);
    const detail = page.getByTestId('job-detail');
    await detail.getByTestId('result-table').waitFor({ timeout: 20_000 });
    await detail.getByTestId('view-chart').click();
    const chart = detail.getByTestId('result-chart');
    await chart.waitFor({ timeout: 20_000 });
    expect(await chart.getAttribute('data-mode')).toBe('pyramid');
    expect(Number(await chart.getAttribute('data-categories'))).toBeGreaterThan(5);
    await chart.locator('canvas').first().waitFor();
    await shot('job-pyramid-zh');
    await chart.getByTestId('pyramid-at').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').nth(1).click();
    await expect.poll(() => chart.getAttribute('data-at')).not.toBe('__all__');
    await page.keyboard.press('Escape');
  }, 120_000);

  it('a social steward opens the follow-up list of S4a run by the analyst (English too)', async () => {
    const jobId = await run(await save(example('s4-suspected-unregistered')));
    // It reads ID numbers (L4): two officers approve it first.
    for (const officer of ['officer', 'officer2']) {
      const job = await (await api.get(`/api/jobs/${jobId}`)).json() as { state: string };
      if (job.state !== 'awaiting_approval') break;
      expect((await (await signIn(lab.url, officer, lab.password)).post(`/api/jobs/${jobId}/approve`, { note: 'S4a 核查' })).status).toBe(200);
    }
    expect(await waitForJob(api, jobId, 180_000)).toMatchObject({ state: 'succeeded' });
    await page.goto(`${lab.url}/jobs`);
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByLabel('用户名').fill('steward.social');
    await page.getByLabel('密码').fill(lab.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/followups$/);
    const row = page.locator(`[data-testid=followup-lists] tr[data-list="${jobId}~list_social"]`);
    await row.waitFor({ timeout: 30_000 });
    const count = Number((await row.locator('td').nth(2).textContent())?.replace(/,/g, ''));
    expect(count).toBeGreaterThan(0);
    await row.getByTestId('open-followup').click();
    const drawer = page.getByTestId('followup-drawer');
    const rows = drawer.locator('[data-testid=followup-rows] [data-row]');
    await rows.first().waitFor({ timeout: 30_000 });
    expect(await rows.first().getAttribute('data-row')).toMatch(/^\d{17}[\dX]$/);
    expect(await rows.count()).toBe(Math.min(50, count));
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/followups$/);
    await page.locator('.lab-header .ant-segmented-item', { hasText: 'English' }).click();
    await expect.poll(() => page.locator('[data-testid=followups-page] h4').textContent()).toBe('Follow-up lists');
    const chrome = await page.locator('[data-testid=followups-page] .lab-page-head, [data-testid=followup-lists] thead, .lab-sider').allTextContents();
    expect(chrome.join(' ')).not.toMatch(/[\u4e00-\u9fff]/);
    await shot('followups-en');
    await page.locator('.lab-header .ant-segmented-item', { hasText: '中文' }).click();
  }, 240_000);

  it('loaded nothing from another origin and broke no CSP rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, waitForJob } from '../support/api-client.ts';
import { launchChromium, startE2ELab, type E2ELab } from './e2e-lab.ts';

/**
 * The workspace's lists in Debian's Chromium against the real server: the analyst runs a pipeline,
 * finds the job in the job list and opens it (state, stages, released table), finds the pipeline in
 * the pipeline list, duplicates it and opens it in the editor. Nothing from another origin, no CSP
 * violation, no page error.
 *
 * Screenshots: set LAB_E2E_SCREENSHOTS to a folder.
 */

const SHOTS = process.env['LAB_E2E_SCREENSHOTS'];

describe('workspace lists in the browser', () => {
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
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.log('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI);
      });`,
    });
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

  it('runs S6 from the editor, then finds the job in the job list and opens it with its released table', async () => {
    await page.getByTestId('canvas').waitFor();
    await page.getByTestId('example-select').locator('.ant-select').click();
    await page.locator('[data-example="s6-registry-new-inflow.json"]').click();
    await page.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    await page.getByTestId('run-button').click();
    await page.locator('[data-testid=run-panel][data-job-state=succeeded]').waitFor({ timeout: 90_000 });

    await page.getByRole('menuitem', { name: '流程与任务' }).click();
    await page.waitForURL(/\/jobs$/);
    const row = page.locator('[data-testid=job-list] tr[data-job]').first();
    await row.waitFor();
    expect(await page.locator('[data-testid=job-list] tr[data-job]').count()).toBe(1);
    expect(await row.getByTestId('job-state').getAttribute('data-state')).toBe('succeeded');
    expect(await row.textContent()).toContain('人口库');
    await shot('jobs-zh');

    await row.getByTestId('open-job').click();
    await page.waitForURL(/\/jobs\/[A-Za-z0-9_-]+$/);
    const detail = page.getByTestId('job-detail');
    expect(await detail.getByTestId('detail-job-state').getAttribute('data-state')).toBe('succeeded');
    const table = detail.getByTestId('result-table');
    await table.waitFor({ timeout: 20_000 });
    expect(await table.textContent()).toContain('披露审查');
    await shot('job-detail-zh');
    // The same table as a chart (ECharts, loaded now): bars by district, drawn on a canvas, with the note on suppressed cells.
    await detail.getByTestId('view-chart').click();
    const chart = detail.getByTestId('result-chart');
    await chart.waitFor({ timeout: 20_000 });
    expect(await chart.getAttribute('data-mode')).toBe('bar');
    expect(Number(await chart.getAttribute('data-categories'))).toBeGreaterThan(1);
    await chart.locator('canvas').first().waitFor();
    const suppressed = Number(await chart.getAttribute('data-suppressed'));
    expect(await detail.getByTestId('chart-note').textContent()).toContain(suppressed > 0 ? '不是 0' : '没有被抑制');
    await shot('job-chart-zh');
    await detail.getByTestId('view-table').click();
    await table.waitFor();
    // Export: the browser downloads the server's CSV (UTF-8 with BOM, geography as code and name, the rules' note).
    const [download] = await Promise.all([page.waitForEvent('download'), detail.getByTestId('export-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^data-lab-[A-Za-z0-9_-]{8}\.csv$/);
    const path = await download.path();
    const bytes = readFileSync(path);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = bytes.toString('utf8');
    expect(csv).toContain('区代码,区');
    expect(csv).toContain('披露规则：不超过 7 人的格子抑制');
    const [xlsx] = await Promise.all([page.waitForEvent('download'), detail.getByTestId('export-xlsx').click()]);
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
    expect(readFileSync(await xlsx.path()).subarray(0, 2).toString('latin1')).toBe('PK');
    // The address opens the same job (a link to share or reload).
    await page.reload();
    await page.getByTestId('job-detail').getByTestId('result-table').waitFor({ timeout: 20_000 });
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/jobs$/);
  }, 150_000);

  it('lists the saved pipeline, duplicates it, and opens the copy in the editor', async () => {
    await page.getByTestId('tab-pipelines').click();
    const rows = page.locator('[data-testid=pipeline-list] tr[data-pipeline]');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    const name = (await rows.first().locator('td').first().textContent()) ?? '';
    expect(name.length).toBeGreaterThan(0);
    expect(await rows.first().textContent()).toContain('1');

    await rows.first().getByTestId('duplicate-pipeline').click();
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().locator('td').first().textContent()).toBe(`${name}（副本）`);
    await shot('pipelines-zh');

    // The duplicate button's tooltip stays up while the pointer rests there, and the copy's row now
    // sits under it: move away until no tooltip covers the row's other buttons.
    await page.mouse.move(0, 0);
    await expect.poll(() => page.locator('.ant-tooltip:not(.ant-tooltip-hidden)').count()).toBe(0);
    await rows.first().getByTestId('open-pipeline').click();
    await page.waitForURL(/\/editor\/[A-Za-z0-9_-]+$/);
    await expect.poll(() => page.getByLabel('流程名称').inputValue(), { timeout: 20_000 }).toBe(`${name}（副本）`);
    await page.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    expect(await page.locator('.react-flow__node').count()).toBeGreaterThan(1);
    // The S6 canvas left in the editor earlier was kept as a draft: offered, not forced. Discarded here.
    const offer = page.getByTestId('draft-prompt');
    await offer.waitFor();
    expect(await offer.textContent()).toContain('4 个节点');
    await page.getByTestId('draft-discard').click();
    await expect.poll(() => offer.count()).toBe(0);
    expect(await page.getByLabel('流程名称').inputValue()).toBe(`${name}（副本）`);
  }, 60_000);

  it('copies two nodes with their connection and pastes them with fresh ids; the canvas is offered back after a reload', async () => {
    const edges = await page.locator('.react-flow__edge').count();
    await page.getByTestId('node-inflow').click();
    await page.getByTestId('node-by_district').click({ modifiers: ['Control'] });
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.getByTestId('node-filter_1').waitFor();
    await page.getByTestId('node-aggregate_1').waitFor();
    // The connection between the two copied nodes came along (the one from persons did not).
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(edges + 1);
    expect(await page.getByTestId('node-filter_1').textContent()).toContain('筛选');
    // Pasting again gives other ids; undo takes that paste back.
    await page.getByTestId('paste-button').click();
    await page.getByTestId('node-filter_2').waitFor();
    await page.getByRole('button', { name: '撤销（Ctrl+Z）' }).click();
    await expect.poll(() => page.getByTestId('node-filter_2').count()).toBe(0);
    await shot('editor-pasted-zh');

    // Autosave: the canvas as it is now comes back after a reload, when the user asks for it.
    await page.waitForTimeout(1_000);
    await page.reload();
    const offer = page.getByTestId('draft-prompt');
    await offer.waitFor({ timeout: 20_000 });
    expect(await offer.textContent()).toContain('6 个节点');
    await shot('editor-draft-zh');
    await page.getByTestId('draft-restore').click();
    await page.getByTestId('node-aggregate_1').waitFor();
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(edges + 1);
    expect(await offer.count()).toBe(0);
  }, 60_000);

  it('shows for a table what the guard will do before anything runs: threshold, rounding, keys with totals', async () => {
    await page.getByTestId('example-select').locator('.ant-select').click();
    await page.locator('[data-example="s1-population-rollup.json"]').click();
    await page.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    await page.getByTestId('node-out').click();
    const preview = page.locator('[data-testid=inspector] [data-testid=disclosure-preview]');
    await preview.waitFor({ timeout: 20_000 });
    expect(await preview.getAttribute('data-threshold')).toBe('7');
    expect(await preview.getAttribute('data-rounding')).toBe('5');
    expect(await preview.getByTestId('disclosure-threshold').textContent()).toBe('不超过 7 人的格子将被抑制。');
    const keys = preview.locator('[data-testid=disclosure-keys] [data-key]');
    expect(await keys.count()).toBeGreaterThan(2);
    expect(await keys.first().textContent()).toContain('区');
    expect(await keys.first().getAttribute('data-margin')).toBe('true');
    expect(await preview.textContent()).toContain('二次抑制');
    await shot('editor-disclosure-zh');
    // A source node makes no table: no preview.
    await page.getByTestId('node-persons').click();
    await expect.poll(() => page.locator('[data-testid=inspector][data-node=persons]').count()).toBe(1);
    expect(await page.locator('[data-testid=inspector] [data-testid=disclosure-preview]').count()).toBe(0);
  }, 60_000);

  it('an officer sees the pipeline of a job waiting for approval on a read-only canvas, and every job in the list', async () => {
    // The analyst asks for an L4 run (the ID number in the filter): it waits for two officers.
    const api = await signIn(lab.url, 'analyst', lab.password);
    const l4 = JSON.parse(readFileSync(new URL('../../examples/pipelines/s1-population-rollup.json', import.meta.url), 'utf8')) as { name: string; nodes: { id: string; params: Record<string, unknown> }[] };
    const active = l4.nodes.find((n) => n.id === 'active');
    if (active) active.params['condition'] = "status = 'active' AND NOT ends_with(id_number, 'X')";
    const saved = await (await api.post('/api/pipelines', { ...l4, name: 'L4 逐级汇总' })).json() as { id: string };
    const run = await (await api.post(`/api/pipelines/${saved.id}/runs`)).json() as { jobId: string; state: string };
    expect(run.state).toBe('awaiting_approval');

    await page.getByRole('button', { name: '退出' }).click();
    await page.getByLabel('用户名').fill('officer');
    await page.getByLabel('密码').fill(lab.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/approvals$/);
    const row = page.locator('[data-testid=approvals-table] tr', { has: page.locator(`[data-job="${run.jobId}"]`) });
    await row.getByRole('button', { name: '详情' }).click();
    const drawer = page.locator(`[data-testid=job-drawer][data-job="${run.jobId}"]`);
    const view = drawer.getByTestId('pipeline-view');
    await view.waitFor({ timeout: 20_000 });
    expect(await view.getAttribute('data-nodes')).toBe(String(l4.nodes.length));
    for (const n of l4.nodes) await view.getByTestId(`node-${n.id}`).waitFor();
    expect(await view.locator('.react-flow__edge').count()).toBe(l4.nodes.length - 1);
    // Read-only: a drag moves the view, never a node away from the others; a click shows its parameters (the condition the officer decides on).
    const offset = async () => {
      const a = await view.getByTestId('node-active').boundingBox();
      const b = await view.getByTestId('node-persons').boundingBox();
      if (!a || !b) throw new Error('nodes not on screen');
      return { dx: Math.round(a.x - b.x), dy: Math.round(a.y - b.y), a };
    };
    const before = await offset();
    await view.getByTestId('node-active').click();
    const params = view.getByTestId('pipeline-view-params');
    await params.waitFor();
    expect(await params.textContent()).toContain("ends_with(id_number, 'X')");
    await page.mouse.move(before.a.x + before.a.width / 2, before.a.y + before.a.height / 2);
    await page.mouse.down();
    await page.mouse.move(before.a.x + 150, before.a.y + 80, { steps: 8 });
    await page.mouse.up();
    const after = await offset();
    expect({ dx: after.dx, dy: after.dy }).toEqual({ dx: before.dx, dy: before.dy });
    await shot('officer-drawer-canvas-zh');
    await page.keyboard.press('Escape');

    // The officer's job list holds every job they may read: the analyst's too.
    await page.getByRole('menuitem', { name: '流程与任务' }).click();
    const mine = page.locator(`[data-testid=job-list] tr[data-job="${run.jobId}"]`);
    await mine.waitFor();
    expect(await mine.getByTestId('job-state').getAttribute('data-state')).toBe('awaiting_approval');
    expect(await page.locator('[data-testid=job-list] tr[data-job]').count()).toBe(2);
  }, 90_000);

  it('a registry steward opens the follow-up list that an analyst’s job wrote inside the registry domain', async () => {
    const api = await signIn(lab.url, 'analyst', lab.password);
    const doc = {
      specVersion: 1, name: '已注销人员复核', nodes: [
        { id: 'persons', op: 'source@1', params: { dataset: 'registry.person' } },
        { id: 'gone', op: 'filter@1', inputs: { rows: 'persons' }, params: { condition: "status <> 'active'" } },
        { id: 'list_registry', op: 'follow-up@1', inputs: { rows: 'gone' }, params: { title: '已注销人员复核名单' } },
      ],
    };
    const saved = await (await api.post('/api/pipelines', doc)).json() as { id: string };
    const run = await (await api.post(`/api/pipelines/${saved.id}/runs`)).json() as { jobId: string };
    expect(await waitForJob(api, run.jobId)).toMatchObject({ state: 'succeeded' });

    await page.getByRole('button', { name: '退出' }).click();
    await page.getByLabel('用户名').fill('steward.registry');
    await page.getByLabel('密码').fill(lab.password);
    await page.getByRole('button', { name: '登录' }).click();
    // Stewards land on their domain's follow-up lists.
    await page.waitForURL(/\/followups$/);
    const row = page.locator(`[data-testid=followup-lists] tr[data-list="${run.jobId}~list_registry"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('已注销人员复核名单');
    const count = Number((await row.locator('td').nth(2).textContent())?.replace(/,/g, ''));
    expect(count).toBeGreaterThan(0);
    await shot('followups-zh');
    await row.getByTestId('open-followup').click();
    await page.waitForURL(/\/followups\/[^/]+~list_registry$/);
    const drawer = page.getByTestId('followup-drawer');
    const rows = drawer.locator('[data-testid=followup-rows] [data-row]');
    await rows.first().waitFor({ timeout: 30_000 });
    expect(await drawer.textContent()).toContain(`共 ${count} 个人员`);
    // Rows are the persons' ID numbers (GB 11643: 17 digits and a check character), shown only here.
    expect(await rows.first().getAttribute('data-row')).toMatch(/^\d{17}[\dX]$/);
    expect(await rows.count()).toBe(Math.min(50, count));
    await shot('followup-rows-zh');

    // The same page in English: the workspace's own words translated (list titles are data).
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/followups$/);
    await page.locator('.lab-header .ant-segmented-item', { hasText: 'English' }).click();
    await expect.poll(() => page.locator('[data-testid=followups-page] h4').textContent()).toBe('Follow-up lists');
    const chrome = await page.locator('[data-testid=followups-page] .lab-page-head, [data-testid=followup-lists] thead, [data-testid=open-followup], .lab-sider').allTextContents();
    expect(chrome.join(' ')).not.toMatch(/[\u4e00-\u9fff]/);
    expect(await row.textContent()).toContain('persons');
    await page.locator('.lab-header .ant-segmented-item', { hasText: '中文' }).click();
  }, 90_000);

  it('loaded nothing from another origin and broke no CSP rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

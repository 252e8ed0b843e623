import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumSessions, startE2ELab, type E2ELab } from './e2e-lab.ts';

/**
 * The researcher's study (S7) and the data officer's work, in Debian's Chromium against the real
 * server (buildApp on a throwaway Postgres lab with a seeded city and the six domain workers), two
 * people at two desks at once: the researcher runs S7 and waits for approval; the officer reads the
 * request in the inbox (level, domains, deciding policies), is told a rejection needs a reason, and
 * approves; the job runs; the officer reads the noisy table in output review and releases it; the
 * researcher sees the released table and the budget page shows ε 1 of 3 spent; a second run is
 * rejected and the researcher reads the officer's reason (nothing charged); the officer breaks a
 * policy with a typo and sees the marker on that line, meets another officer's save (409), and the
 * audit page verifies the chain as intact; once the budget is spent, an approved run fails before it
 * runs and the researcher is told what to do (LAB-E136). No CSP rule may be broken and nothing may come from
 * another origin.
 *
 * Screenshots: set LAB_E2E_SCREENSHOTS to a folder (e.g. `.scratch/screenshots`).
 */

const SHOTS = process.env['LAB_E2E_SCREENSHOTS'];

interface Desk { readonly context: BrowserContext; readonly page: Page }

describe('officer and researcher in the browser', () => {
  let lab: E2ELab;
  let browser: Awaited<ReturnType<typeof launchChromiumSessions>>;
  let researcher: Desk;
  let officer: Desk;
  let jobId = '';
  const violations: string[] = [];
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  const shot = async (desk: Desk, name: string) => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await desk.page.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  /** Waits until an element has stopped moving (drawers slide in, form messages unfold). */
  const settled = async (locator: Locator) => {
    let last = '';
    await expect.poll(async () => {
      const box = await locator.boundingBox();
      const now = JSON.stringify(box);
      const still = box !== null && box.height > 0 && now === last;
      last = now;
      return still;
    }, { interval: 100, timeout: 10_000 }).toBe(true);
  };

  const openDesk = async (): Promise<Desk> => {
    const context = await browser.newSession();
    const page = await context.newPage();
    page.on('pageerror', (e) => { pageErrors.push(e.message); });
    page.on('console', (m) => { if (m.text().startsWith('CSP-VIOLATION')) violations.push(m.text()); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(lab.url) && !u.startsWith('blob:')) foreignRequests.push(u);
    });
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.log('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 120) : ''));
      });`,
    });
    return { context, page };
  };

  const signIn = async (desk: Desk, username: string, landing: RegExp) => {
    await desk.page.goto(`${lab.url}/login`);
    await desk.page.getByLabel('用户名').fill(username);
    await desk.page.getByLabel('密码').fill(lab.password);
    await desk.page.getByRole('button', { name: '登录' }).click();
    await desk.page.waitForURL(landing);
  };

  beforeAll(async () => {
    lab = await startE2ELab();
    browser = await launchChromiumSessions();
    researcher = await openDesk();
    officer = await openDesk();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
  });

  it('the researcher runs S7 and is told it waits for a data officer', async () => {
    const { page } = researcher;
    await signIn(researcher, 'researcher', /\/editor$/);
    const menu = await page.getByRole('menu').first().textContent();
    expect(menu).toContain('隐私预算');
    expect(menu).not.toContain('任务审批');
    await page.getByTestId('canvas').waitFor();
    await page.getByTestId('example-select').locator('.ant-select').click();
    await page.locator('[data-example="s7-floating-age-structure.json"]').click();
    await page.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    await page.getByTestId('run-button').click();
    const panel = page.locator('[data-testid=run-panel][data-job-state=awaiting_approval]');
    await panel.waitFor({ timeout: 30_000 });
    jobId = (await panel.getAttribute('data-job-id')) ?? '';
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.getByTestId('job-state').textContent()).toBe('等待数据官审批');
    const outcome = page.locator('[data-testid=run-outcome][data-outcome=awaiting-approval]');
    expect(await outcome.textContent()).toContain('已批准 0 / 1');
    // Nothing runs before the approval: the nodes keep their editing status.
    expect(await page.getByTestId('node-out').getAttribute('data-status')).toBe('ready');
    await shot(researcher, 'researcher-awaiting-approval-zh');
  }, 120_000);

  it('the officer reads the request in the inbox, must give a reason to reject, and approves', async () => {
    const { page } = officer;
    await signIn(officer, 'officer', /\/approvals$/);
    const row = page.locator('[data-testid=approvals-table] tr', { has: page.locator(`[data-job="${jobId}"]`) });
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain('外部研究人员');
    expect(text).toContain('1 名数据官');
    expect(text).toContain('researcher-run');
    expect(text).toContain('人口库');
    // S7 reads birth_date (L3): orange.
    expect(await row.locator('.lab-level').getAttribute('data-level')).toBe('L3');
    expect(await row.locator('.lab-level').getAttribute('class')).toMatch(/ant-tag-orange/);
    await shot(officer, 'officer-inbox-zh');

    // The job in a drawer: its stages per domain and no decision yet.
    await row.getByRole('button', { name: '详情' }).click();
    const drawer = page.locator(`[data-testid=job-drawer][data-job="${jobId}"]`);
    await drawer.getByTestId('drawer-stages').waitFor();
    expect(await drawer.getByTestId('drawer-stages').textContent()).toContain('out');
    expect(await drawer.locator('[data-testid=drawer-job-state]').getAttribute('data-state')).toBe('awaiting_approval');
    expect(await drawer.textContent()).toContain('还没有数据官作出决定');
    await settled(page.locator('.ant-drawer-content-wrapper'));
    await shot(officer, 'officer-job-drawer-zh');
    await page.locator('.ant-drawer-close').click();
    await drawer.waitFor({ state: 'detached' });

    // A rejection without a reason: the server's LAB-E135 on the field; nothing is decided.
    await row.getByTestId('reject-button').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: '拒绝' }).click();
    await expect.poll(() => dialog.getByTestId('reason-field').locator('.ant-form-item-explain-error').textContent(), { timeout: 10_000 }).toContain('LAB-E135');
    await settled(dialog.getByTestId('reason-field').locator('.ant-form-item-explain-error'));
    await shot(officer, 'officer-reject-needs-reason-zh');
    await dialog.getByRole('button', { name: '取消' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await row.getByTestId('approve-button').click();
    // The approval dialog opens with an animation: act on it once it stands still, and wait for it
    // to close (the request answered) before reading the notice.
    const approveDialog = page.getByRole('dialog');
    await settled(approveDialog);
    await approveDialog.getByLabel('备注（可选）').fill('研究目的已核实');
    await approveDialog.getByRole('button', { name: '批准' }).click();
    await approveDialog.waitFor({ state: 'hidden', timeout: 30_000 });
    await expect.poll(() => page.locator('.ant-message').textContent(), { timeout: 15_000 }).toContain('任务开始运行');
    await expect.poll(() => row.count()).toBe(0);
  }, 120_000);

  it('the researcher sees the job run, then wait for output review', async () => {
    const { page } = researcher;
    await page.locator('[data-testid=run-panel][data-job-state=succeeded][data-review-state=pending]').waitFor({ timeout: 90_000 });
    expect(await page.locator('[data-testid=run-outcome]').getAttribute('data-outcome')).toBe('review-pending');
    expect(await page.getByTestId('result-table').count()).toBe(0);
    expect(await page.getByTestId('run-lifecycle').textContent()).toContain('已批准 1 / 1');
    await shot(researcher, 'researcher-review-pending-zh');
  }, 120_000);

  it('the officer reads the noisy table in output review and releases it', async () => {
    const { page } = officer;
    await page.getByRole('menuitem', { name: '结果审核' }).click();
    await page.locator(`[data-testid=review-page] .lab-review-item[data-job="${jobId}"]`).click();
    const review = page.locator(`[data-testid=review-job][data-job="${jobId}"]`);
    const table = review.getByTestId('result-table');
    await table.waitFor({ timeout: 30_000 });
    expect(await review.getByTestId('result-guard').getAttribute('data-rule')).toBe('researcher-dp');
    const dp = review.getByTestId('result-dp');
    expect(await dp.getAttribute('data-epsilon')).toBe('1');
    expect(Number(await dp.getAttribute('data-noisy-cells'))).toBeGreaterThan(0);
    expect(await dp.textContent()).toContain('ε = 1');
    expect(await review.textContent()).toContain('研究目的已核实');
    // One grand total: a NULL value of a noisy cell (e.g. no birth date) is "none", never another "all".
    const allKeysRolledUp = await table.locator('tbody tr.ant-table-row').evaluateAll((rows) => rows.filter((r) => {
      const keys = [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent);
      return keys.every((k) => k === '合计');
    }).length);
    expect(allKeysRolledUp).toBe(1);
    await shot(officer, 'officer-output-review-zh');
    await review.getByTestId('release-button').click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: '发布' }).click();
    await expect.poll(() => review.getAttribute('data-review-state'), { timeout: 15_000 }).toBe('released');
  }, 120_000);

  it('the researcher sees the released table, and the budget page shows ε 1 of 3 spent', async () => {
    const { page } = researcher;
    await page.locator('[data-testid=run-panel][data-review-state=released]').waitFor({ timeout: 30_000 });
    const table = page.getByTestId('result-table');
    await table.waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid=run-outcome]').getAttribute('data-outcome')).toBe('released');
    expect(await table.getByTestId('result-guard').getAttribute('data-rule')).toBe('researcher-dp');
    expect(await table.locator('tbody tr.ant-table-row').count()).toBeGreaterThan(3);
    await shot(researcher, 'researcher-released-zh');

    await page.getByRole('menuitem', { name: '隐私预算' }).click();
    const card = page.locator('[data-testid=budget-card][data-project=demo-floating-age]');
    await card.waitFor();
    expect(await card.getAttribute('data-spent')).toBe('1');
    expect(await card.getAttribute('data-total')).toBe('3');
    expect(await card.getByTestId('budget-summary').textContent()).toBe('已使用 ε 1 / 3');
    expect(await card.textContent()).toContain(jobId);
    await shot(researcher, 'researcher-budget-zh');
  }, 120_000);

  it('a second run rejected by the officer shows the researcher the officer\'s reason', async () => {
    const r = researcher.page;
    await r.getByRole('menuitem', { name: '流程编辑' }).click();
    await r.getByTestId('canvas').waitFor();
    await r.getByTestId('example-select').locator('.ant-select').click();
    await r.locator('[data-example="s7-floating-age-structure.json"]').click();
    await r.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    await r.getByTestId('run-button').click();
    const waiting = r.locator('[data-testid=run-panel][data-job-state=awaiting_approval]');
    await waiting.waitFor({ timeout: 30_000 });
    const second = (await waiting.getAttribute('data-job-id')) ?? '';
    expect(second).not.toBe(jobId);

    const o = officer.page;
    await o.getByRole('menuitem', { name: '任务审批' }).click();
    const row = o.locator('[data-testid=approvals-table] tr', { has: o.locator(`[data-job="${second}"]`) });
    await row.waitFor();
    await row.getByTestId('reject-button').click();
    const reason = '分组过细，请汇总到区一级后再提交';
    const rejectDialog = o.getByRole('dialog');
    await settled(rejectDialog);
    await rejectDialog.getByLabel('理由').fill(reason);
    await rejectDialog.getByRole('button', { name: '拒绝' }).click();
    await rejectDialog.waitFor({ state: 'hidden', timeout: 30_000 });
    await expect.poll(() => row.count()).toBe(0);

    await r.locator('[data-testid=run-panel][data-job-state=rejected]').waitFor({ timeout: 30_000 });
    const outcome = r.locator('[data-testid=run-outcome][data-outcome=rejected]');
    expect(await outcome.getByTestId('run-reason').textContent()).toBe(reason);
    expect(await outcome.textContent()).toContain('数据官（演示）');
    expect(await r.getByTestId('job-state').textContent()).toBe('审批未通过');
    await shot(researcher, 'researcher-rejected-zh');
    // Nothing ran, nothing was charged.
    const budgets = await r.evaluate(async () => ((await (await fetch('/api/budgets')).json()) as { budgets: { spent: string }[] }).budgets);
    expect(Number(budgets[0]?.spent)).toBe(1);
  }, 120_000);

  it('the officer introduces a typo in a policy and sees the marker on its line', async () => {
    const { page } = officer;
    await page.getByRole('menuitem', { name: '策略管理' }).click();
    const editor = page.locator('[data-testid=cedar-editor] .monaco-editor');
    await editor.waitFor({ timeout: 30_000 });
    const cedar = await page.evaluate(async () => ((await (await fetch('/api/policies/current')).json()) as { cedar: string }).cedar);
    const lines = cedar.split('\n');
    // The third policy (past the header comment): its `permit` keyword, well down the text.
    const permits = lines.map((l, i) => (l.startsWith('permit') ? i + 1 : 0)).filter((n) => n > 0);
    const line = permits[2] ?? 0;
    expect(line).toBeGreaterThan(20);

    await page.locator('[data-testid=cedar-editor] .view-lines').click();
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Home');
    for (let i = 0; i < 'permit'.length; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.type('t');
    await page.getByTestId('policy-dirty').waitFor();
    await page.getByTestId('policy-check').click();

    const problem = page.locator('[data-testid=policy-problem]').first();
    await problem.waitFor({ timeout: 20_000 });
    expect(await problem.getAttribute('data-line')).toBe(String(line));
    expect(await problem.textContent()).toContain('permitt');
    expect(await page.getByTestId('policy-check-status').getAttribute('data-state')).toBe('invalid');
    // The squiggle sits on the line holding the typo, whose number in the gutter is that line's.
    const squiggle = page.locator('[data-testid=cedar-editor] .squiggly-error').first();
    await squiggle.waitFor({ timeout: 10_000 });
    const sq = await squiggle.boundingBox();
    const typoLine = page.locator('[data-testid=cedar-editor] .view-line', { hasText: 'permitt' });
    const tl = await typoLine.boundingBox();
    if (!sq || !tl) throw new Error('marker or line not on screen');
    const middle = sq.y + sq.height / 2;
    expect(middle).toBeGreaterThanOrEqual(tl.y);
    expect(middle).toBeLessThanOrEqual(tl.y + tl.height);
    const numbers = await page.locator('[data-testid=cedar-editor] .line-numbers').evaluateAll((els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { n: e.textContent, top: r.top, bottom: r.bottom };
    }));
    expect(numbers.find((n) => middle >= n.top && middle <= n.bottom)?.n).toBe(String(line));
    await shot(officer, 'officer-policy-marker-zh');

    // The typo removed (the check put the cursor at the problem, the start of the line), the check passes.
    await page.keyboard.press('Home');
    for (let i = 0; i < 'permitt'.length; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Backspace');
    await page.getByTestId('policy-check').click();
    await expect.poll(() => page.getByTestId('policy-check-status').getAttribute('data-state'), { timeout: 20_000 }).toBe('valid');
    expect(await page.locator('[data-testid=cedar-editor] .squiggly-error').count()).toBe(0);
  }, 120_000);

  it('is told when another officer saved first (409), and saves on top of the newest version', async () => {
    const { page } = officer;
    const base = Number(await page.getByTestId('policy-page').getAttribute('data-base-version'));
    // Another officer saves a version meanwhile (through the API, in their own session).
    const other = await browser.newSession();
    try {
      const login = await other.request.post(`${lab.url}/api/auth/login`, { data: { username: 'officer2', password: lab.password } });
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const current = (await (await other.request.get(`${lab.url}/api/policies/current`)).json()) as { cedar: string; params: unknown; version: number };
      const saved = await other.request.post(`${lab.url}/api/policies`, { headers: { 'x-csrf-token': csrfToken }, data: { cedar: current.cedar, params: current.params, baseVersion: current.version, comment: 'officer2' } });
      expect(saved.status()).toBe(201);
    } finally {
      await other.close();
    }
    // This officer changes the approval validity and saves on the version loaded.
    const hours = page.locator('[data-param-path="approvals.validHours"] input');
    await hours.fill('48');
    await page.getByRole('textbox', { name: '修改说明' }).fill('审批有效期改为 48 小时');
    await page.getByTestId('policy-save').click();
    const conflict = page.getByTestId('policy-conflict');
    await conflict.waitFor({ timeout: 15_000 });
    expect(await conflict.textContent()).toContain(`v${base}`);
    expect(await conflict.textContent()).toContain('LAB-E131');
    await shot(officer, 'officer-policy-conflict-zh');
    await conflict.getByRole('button', { name: '以最新版本为基础' }).click();
    await expect.poll(() => page.getByTestId('policy-page').getAttribute('data-base-version')).toBe(String(base + 1));
    await page.getByTestId('policy-save').click();
    await expect.poll(() => page.getByTestId('policy-version').textContent(), { timeout: 15_000 }).toBe(`现行版本 v${base + 2}`);
    expect(await page.locator(`[data-testid=policy-versions] [data-version="${base + 2}"]`).textContent()).toContain('48 小时');
  }, 120_000);

  it('the audit page lists the decisions and verifies the chain as intact', async () => {
    const { page } = officer;
    await expect.poll(() => page.locator('.ant-message-notice').count(), { timeout: 10_000 }).toBe(0);
    await page.getByRole('menuitem', { name: '审计日志' }).click();
    const table = page.getByTestId('audit-table');
    await table.locator('tbody tr.ant-table-row').first().waitFor({ timeout: 20_000 });
    const text = await table.textContent();
    for (const action of ['approval.grant', 'review.released', 'budget.charge', 'policy.edit', 'job.run']) expect(text).toContain(action);
    // Newest first.
    const seqs = (await table.locator('tbody tr.ant-table-row td:nth-child(2)').allTextContents()).map(Number);
    expect(seqs.length).toBeGreaterThan(10);
    expect(seqs[0]).toBeGreaterThan(seqs[seqs.length - 1] ?? 0);
    await page.getByTestId('verify-button').click();
    const result = page.getByTestId('verify-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(await result.textContent()).toContain('审计链完整');
    await shot(officer, 'officer-audit-verified-zh');

    // The same page in English.
    await page.locator('.lab-header .ant-segmented-item', { hasText: 'English' }).click();
    await expect.poll(() => page.locator('.lab-page-head h4').textContent()).toBe('Audit trail');
    expect(await page.getByTestId('verify-button').textContent()).toContain('Verify chain');
    expect(await result.textContent()).toContain('The audit chain is intact');
    const chrome = await page.locator('.lab-page-head, .ant-table-thead, .lab-sider, [data-testid=verify-result]').allTextContents();
    expect(chrome.join(' ')).not.toMatch(/[\u4e00-\u9fff]/);
    await shot(officer, 'officer-audit-en');
  }, 120_000);

  it('a run the budget cannot pay fails before it runs, and the researcher is told what to do', async () => {
    // Two more approved runs spend the rest of ε 3 (submitted and approved through the API, by the
    // researcher and a second officer in their own sessions).
    const s7 = readFileSync(new URL('../../examples/pipelines/s7-floating-age-structure.json', import.meta.url), 'utf8');
    const session = async (username: string) => {
      const ctx = await browser.newSession();
      const login = await ctx.request.post(`${lab.url}/api/auth/login`, { data: { username, password: lab.password } });
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      return { ctx, post: (path: string, data?: unknown) => ctx.request.post(`${lab.url}${path}`, { headers: { 'x-csrf-token': csrfToken }, ...(data !== undefined ? { data } : {}) }) };
    };
    const them = await session('researcher');
    const officer2 = await session('officer2');
    try {
      const { id } = (await (await them.post('/api/pipelines', JSON.parse(s7))).json()) as { id: string };
      for (let i = 0; i < 2; i++) {
        const run = (await (await them.post(`/api/pipelines/${id}/runs`)).json()) as { jobId: string; state: string };
        expect(run.state).toBe('awaiting_approval');
        expect((await officer2.post(`/api/jobs/${run.jobId}/approve`, {})).status()).toBe(200);
      }
    } finally {
      await them.ctx.close();
    }
    const r = researcher.page;
    await r.getByRole('menuitem', { name: '隐私预算' }).click();
    await expect.poll(() => r.locator('[data-testid=budget-card]').getAttribute('data-spent')).toBe('3');
    expect(await r.getByTestId('budget-card').textContent()).toContain('预算已用完');
    await shot(researcher, 'researcher-budget-spent-zh');

    // The next run in the editor: approved, then refused for want of budget (LAB-E136), with what to do.
    await r.getByRole('menuitem', { name: '流程编辑' }).click();
    await r.getByTestId('canvas').waitFor();
    await r.getByTestId('example-select').locator('.ant-select').click();
    await r.locator('[data-example="s7-floating-age-structure.json"]').click();
    await r.locator('[data-testid=validation-status][data-status=valid]').waitFor({ timeout: 20_000 });
    await r.getByTestId('run-button').click();
    const waiting = r.locator('[data-testid=run-panel][data-job-state=awaiting_approval]');
    await waiting.waitFor({ timeout: 30_000 });
    const last = (await waiting.getAttribute('data-job-id')) ?? '';
    try {
      expect((await officer2.post(`/api/jobs/${last}/approve`, {})).status()).toBe(200);
    } finally {
      await officer2.ctx.close();
    }
    await r.locator('[data-testid=run-panel][data-job-state=failed]').waitFor({ timeout: 30_000 });
    // The reason comes with the job record, read once the stream says the job ended.
    const outcome = r.locator('[data-testid=run-outcome][data-outcome=failed][data-code="LAB-E136"]');
    await outcome.waitFor({ timeout: 10_000 });
    expect(await outcome.textContent()).toContain('隐私预算已用完');
    expect(await outcome.textContent()).toContain('联系数据官追加预算');
    // Nothing ran: the stage and the nodes do not look busy.
    await expect.poll(() => r.getByTestId('stage-out').getAttribute('data-state')).toBe('cancelled');
    expect(await r.getByTestId('node-out').getAttribute('data-status')).not.toBe('queued');
    await shot(researcher, 'researcher-budget-exhausted-zh');
  }, 120_000);

  it('loaded nothing from another origin and broke no CSP rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

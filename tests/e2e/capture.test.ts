import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIdNumber } from '../../sandbox/domains/generator/id-number.ts';
import { noFacePhoto, singleFacePhoto } from '../support/face-photos.ts';
import { launchChromium, startE2ELab, type E2ELab } from './e2e-lab.ts';

/**
 * The field-capture page (S5) in Chromium, as the grid domain's steward: the face gate
 * (MediaPipe FaceDetector from the lab's own files, CPU) refuses a picture without a face with the
 * zh-CN message and keeps the submit button off; a single-face photo (a crop of a photo shipped in
 * @vladmandic/face-api, made at test time) passes, the ID number is checked in the page, and the
 * submitted photo comes back accepted; then the same through the camera (Chromium's fake camera
 * playing a Motion-JPEG file of that photo). No CSP violation, no request to another origin.
 */
describe('field capture page (browser)', () => {
  let lab: E2ELab;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  let dir = '';
  const violations: string[] = [];
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lab-capture-'));
    writeFileSync(join(dir, 'face.jpg'), await singleFacePhoto());
    writeFileSync(join(dir, 'no-face.jpg'), await noFacePhoto());
    // The fake camera's film: Motion JPEG, i.e. JPEG frames one after another, all 640 × 480.
    const frame = await sharp(await singleFacePhoto()).resize(640, 480, { fit: 'contain', background: { r: 40, g: 40, b: 40 } }).jpeg({ quality: 90 }).toBuffer();
    writeFileSync(join(dir, 'camera.mjpeg'), Buffer.concat(Array.from({ length: 10 }, () => frame)));
    lab = await startE2ELab();
    browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${join(dir, 'camera.mjpeg')}`]);
    page = await browser.context.newPage();
    page.on('pageerror', (e) => { pageErrors.push(e.message); });
    page.on('console', (m) => { if (m.text().startsWith('CSP-VIOLATION')) violations.push(m.text()); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(lab.url) && !u.startsWith('blob:') && !u.startsWith('data:')) foreignRequests.push(u);
    });
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) => {
        console.log('CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI);
      });`,
    });
    await page.goto(lab.url);
    await page.getByLabel('用户名').fill('steward.grid');
    await page.getByLabel('密码').fill(lab.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByTestId('current-user').waitFor();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let firstVisit = '';
  const gateState = () => page.getByTestId('capture-gate').getAttribute('data-state');

  it('refuses a picture without a face, in Chinese, and keeps submit off', async () => {
    await page.getByRole('menuitem', { name: '现场采集' }).click();
    await page.waitForURL(/\/capture$/);
    await page.getByTestId('capture-file').setInputFiles(join(dir, 'no-face.jpg'));
    await expect.poll(gateState, { timeout: 90_000 }).toBe('no-face');
    expect(await page.getByTestId('capture-gate').textContent()).toContain('未检测到人脸：请让被采集人正对镜头');
    expect(await page.getByTestId('capture-submit').isDisabled()).toBe(true);
  }, 120_000);

  it('passes a single-face photo, checks the ID number in the page, and the grid domain accepts it', async () => {
    await page.getByTestId('capture-file').setInputFiles(join(dir, 'face.jpg'));
    await expect.poll(async () => ['no-face', 'checking'].includes(String(await gateState())), { timeout: 90_000 }).toBe(false);
    expect(await gateState(), String(await page.getByTestId('capture-gate').getAttribute('data-measured'))).toBe('ok');
    expect(await page.getByTestId('capture-gate').textContent()).toContain('人脸检查通过');

    const id = makeIdNumber('440106', '19880512', 37);
    await page.getByTestId('capture-id-number').fill(id.slice(0, 17) + (id.endsWith('1') ? '2' : '1'));
    await page.getByTestId('capture-submit').click();
    await expect.poll(() => page.locator('.ant-form-item-explain-error').allTextContents()).toContain('证件号码校验不通过（位数、出生日期或校验位有误），请核对证件');
    expect(await page.getByTestId('capture-result').count()).toBe(0);
    await page.getByTestId('capture-id-number').fill(id);

    // The grid: the first district, street, community and grid of the catalog geography.
    await page.locator('.ant-cascader').click();
    for (let level = 0; level < 4; level++) {
      await page.locator('.ant-cascader-menu').nth(level).locator('.ant-cascader-menu-item').first().click();
    }
    await page.getByTestId('capture-submit').click();
    await expect.poll(() => page.getByTestId('capture-result').getAttribute('data-outcome'), { timeout: 60_000 }).toBe('accepted');
    const text = await page.getByTestId('capture-result').textContent() ?? '';
    expect(text).toContain('已接收：照片已保存在网格数据域');
    firstVisit = /编号 (\d+)/.exec(text)?.[1] ?? '';
    expect(firstVisit).toMatch(/^\d{13}$/);
    // Never a template or a score on the page.
    expect(await page.locator('body').textContent()).not.toMatch(/template|模板|similarity|相似度/i);
  }, 180_000);

  it('takes the photo with the camera, passes the gate and is accepted again', async () => {
    await page.getByText('相机拍摄').click();
    await page.getByRole('button', { name: '打开相机' }).click();
    await page.getByRole('button', { name: '拍照' }).click();
    // The preview now holds the camera's 640 × 480 frame (the file was 520 × 520), and the earlier answer is gone.
    await expect.poll(() => page.getByTestId('capture-preview').evaluate((c: { width: number }) => c.width), { timeout: 30_000 }).toBe(640);
    expect(await page.getByTestId('capture-result').count()).toBe(0);
    await expect.poll(gateState, { timeout: 90_000 }).toBe('ok');
    await page.getByTestId('capture-submit').click();
    await expect.poll(() => page.getByTestId('capture-result').textContent(), { timeout: 60_000 }).toContain('已接收');
    const visit = /编号 (\d+)/.exec(await page.getByTestId('capture-result').textContent() ?? '')?.[1];
    expect(visit).toMatch(/^\d{13}$/);
    expect(visit).not.toBe(firstVisit);
    await page.getByRole('button', { name: '关闭相机' }).click();
  }, 180_000);

  it('loaded nothing from another origin and broke no CSP rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

// The live workspace: describe an app, generate it on the workers, watch the steps and the
// file tree fill from the event stream, reload while its tests run in the sandbox and keep
// following, read a file, download the capsule and check its hash against the header.
import { test, expect } from '@playwright/test';
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { hydrated, signIn } from './session';

const LIBRARY =
  'A library where members borrow books. Books have a title, an author and an ISBN. Members have a name and an email.';

test('an app is generated live, followed across a reload, read and downloaded', async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New app' }).click();
  await expect(page).toHaveURL(/\/new$/);
  await hydrated(page);
  const form = page.getByRole('region', { name: 'New app' });
  // The spec is read back before anything is generated; a description with nothing to keep
  // track of is answered in words.
  const preview = form.getByRole('region', { name: 'Spec preview' });
  await form.getByLabel('Describe your app').fill('hello there');
  await form.getByRole('button', { name: 'Preview spec' }).click();
  await expect(preview.getByRole('alert')).toContainText('keep track of');
  await form.getByLabel('Describe your app').fill(LIBRARY);
  await form.getByRole('button', { name: 'Preview spec' }).click();
  await expect(preview).toContainText('book (books)');
  await expect(preview).toContainText('member (members)');
  await form.getByLabel('Stack').selectOption('python-fastapi');
  await form.getByLabel('Model').selectOption('builtin');
  await expect(form.getByLabel('Run its tests in the sandbox')).toBeChecked();
  await page.screenshot({ path: 'test-results/new-app.png', fullPage: true });
  await form.getByRole('button', { name: 'Generate' }).click();

  await expect(page).toHaveURL(/\/generations\/[^/]+$/);
  await hydrated(page);
  const steps = page.getByRole('region', { name: 'Steps' });
  await expect(steps.getByText('planner', { exact: true })).toBeVisible();
  const files = page.getByRole('region', { name: 'Files' });
  await expect(files.getByRole('button', { name: 'app/main.py' })).toBeVisible();
  // The tests run in the sandbox for several seconds: reload meanwhile.
  await expect(steps.getByText('tester', { exact: true })).toBeVisible({ timeout: 60_000 });
  await page.reload();
  await hydrated(page);
  await expect(steps.getByText('coder:shared', { exact: true })).toBeVisible();
  const head = page.getByRole('region', { name: 'Generation' });
  await expect(head.getByRole('status')).toHaveText('Succeeded', { timeout: 180_000 });
  await expect(steps.locator('.step-succeeded')).toHaveCount(await steps.locator('.step').count());
  await expect(page.getByRole('region', { name: 'Tests' })).toContainText(/\d+ passed, 0 failed/);

  await files.getByRole('button', { name: 'app/main.py' }).click();
  await expect(files.getByRole('button', { name: 'app/main.py' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('region', { name: 'Code' }).locator('code')).toContainText('FastAPI');
  await page.screenshot({ path: 'test-results/generation.png', fullPage: true });

  const link = head.getByRole('link', { name: 'Download capsule' });
  const download = page.waitForEvent('download');
  await link.click();
  const bytes = readFileSync(await (await download).path());
  const href = await link.getAttribute('href');
  const response = await page.request.get(href!);
  expect(response.status()).toBe(200);
  expect(response.headers()['x-ql-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
});

test('the generation view reads at a phone\'s width', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await signIn(page);
  await page.goto('/new');
  await hydrated(page);
  const form = page.getByRole('region', { name: 'New app' });
  await form.getByLabel('Describe your app').fill(LIBRARY);
  await form.getByLabel('Run its tests in the sandbox').uncheck();
  await form.getByRole('button', { name: 'Generate' }).click();
  await expect(page).toHaveURL(/\/generations\/[^/]+$/);
  await expect(page.getByRole('region', { name: 'Generation' }).getByRole('status')).toHaveText('Succeeded', {
    timeout: 60_000,
  });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await page.screenshot({ path: 'test-results/generation-narrow.png', fullPage: true });
});

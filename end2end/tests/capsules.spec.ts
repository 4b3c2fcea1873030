// A project's capsules: generate one from a description through the hydrated form (tests not
// run, to stay quick), see it kept, download the signed archive; a meaningless description is
// answered with a sentence.
import { test, expect } from '@playwright/test';
import { hydrated, signIn } from './session';

test('a capsule is generated for a project, kept and downloaded', async ({ page }) => {
  await signIn(page);
  await page.goto('/projects/new');
  await hydrated(page);
  const name = `Expenses ${Date.now()}`;
  await page.getByLabel('Project name').fill(name);
  await page.getByRole('button', { name: 'Create project' }).click();
  const list = page.getByRole('list', { name: 'Projects' });
  await expect(list.getByRole('heading', { name })).toBeVisible();
  await list.getByRole('link', { name: `Capsules of ${name}` }).click();
  await expect(page).toHaveURL(/\/projects\/[^/]+\/capsules$/);
  await hydrated(page);

  const form = page.getByRole('region', { name: 'Generate' });
  await form.getByLabel('Description').fill('hello there');
  await form.getByRole('button', { name: 'Generate' }).click();
  await expect(form.getByRole('alert')).toContainText('keep track of');

  await form.getByLabel('Description').fill(
    'Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description.',
  );
  await form.getByRole('button', { name: 'Generate' }).click();
  const rows = page.getByRole('table', { name: 'Capsules' }).getByRole('row').filter({ hasText: 'expense_tracker' });
  const row = rows.filter({ hasText: 'python-fastapi' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('not run');

  // The same app in another of the engine's stacks.
  await form.getByLabel('Stack').selectOption('typescript-express');
  await form.getByRole('button', { name: 'Generate' }).click();
  await expect(rows.filter({ hasText: 'typescript-express' })).toHaveCount(1);
  await expect(rows).toHaveCount(2);

  const download = page.waitForEvent('download');
  await row.getByRole('link', { name: 'Download' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^expense_tracker-[0-9a-f]{12}\.zip$/);
  const path = await file.path();
  const fs = await import('fs');
  const bytes = fs.readFileSync(path);
  expect(bytes.subarray(0, 2).toString()).toBe('PK');

  await page.reload();
  await expect(page.getByRole('table', { name: 'Capsules' }).getByRole('row').filter({ hasText: 'expense_tracker' })).toHaveCount(2);
});
